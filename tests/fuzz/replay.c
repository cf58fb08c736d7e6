/* replay.c: runs files through the preset fuzz target without libFuzzer.
 *
 * Usage: fuzz-replay FILE|DIR...; every regular file of each directory is
 * one input. The test suite replays the seed corpus and every input that once
 * made the fuzzer fail (tests/fuzz/regressions/). Fails when no file was found,
 * so a moved directory cannot make the test pass vacuously.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
  GError *error = NULL;
  char *contents;
  gsize size;

  if (!g_file_get_contents(path, &contents, &size, &error)) {
    fprintf(stderr, "fuzz-replay: %s\n", error->message);
    g_error_free(error);
    return -1;
  }
  printf("%s (%zu bytes)\n", path, (size_t)size);
  fflush(stdout);
  LLVMFuzzerTestOneInput((const uint8_t *)contents, size);
  g_free(contents);
  return 1;
}

int
main(int argc, char **argv)
{
  int i, files = 0;

  for (i = 1; i < argc; i++) {
    if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
      GDir *dir = g_dir_open(argv[i], 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name(dir))) {
        char *path = g_build_filename(argv[i], name, NULL);
        int r;

        /* README.md files describe a directory; they are no inputs. */
        if (name[0] == '.' || g_str_has_suffix(name, ".md")
            || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
          g_free(path);
          continue;
        }
        r = replay_file(path);
        g_free(path);
        if (r < 0)
          return 1;
        files += r;
      }
      if (dir)
        g_dir_close(dir);
    } else {
      int r = replay_file(argv[i]);
      if (r < 0)
        return 1;
      files += r;
    }
  }
  printf("%d inputs replayed\n", files);
  return files > 0 ? 0 : 1;
}

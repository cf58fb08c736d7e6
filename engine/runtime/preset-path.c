/* preset-path.c: where a preset argument points to (a path, or a shipped preset's name).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <errno.h>
#include <string.h>

#ifndef MDN_PRESETS_DIR
#error "MDN_PRESETS_DIR must be defined by the build"
#endif

const char *
mdn_preset_dir(void)
{
  return MDN_PRESETS_DIR;
}

/* Tries DIR/NAME then DIR/NAME.mdn; records every candidate in `searched`. */
static char *
find_in_dir(const char *dir, const char *name, gboolean has_suffix, GString *searched)
{
  char *candidate = g_build_filename(dir, name, NULL);

  g_string_append_printf(searched, "\n  %s", candidate);
  if (g_file_test(candidate, G_FILE_TEST_IS_REGULAR))
    return candidate;
  g_free(candidate);
  if (has_suffix)
    return NULL;

  {
    char *with_suffix = g_strconcat(name, ".mdn", NULL);
    candidate = g_build_filename(dir, with_suffix, NULL);
    g_free(with_suffix);
  }
  g_string_append_printf(searched, "\n  %s", candidate);
  if (g_file_test(candidate, G_FILE_TEST_IS_REGULAR))
    return candidate;
  g_free(candidate);
  return NULL;
}

char *
mdn_preset_find(const char *name_or_path, GError **error)
{
  const char *env;
  gboolean has_suffix;
  GString *searched;
  char *found = NULL;

  if (!name_or_path || !*name_or_path) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "empty preset name");
    return NULL;
  }
  /* A path (with a directory part, or naming something that exists) is never
   * looked up elsewhere; whether it can be read is the loader's to say. */
  if (g_file_test(name_or_path, G_FILE_TEST_EXISTS))
    return g_strdup(name_or_path);
  if (strchr(name_or_path, G_DIR_SEPARATOR)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", name_or_path, g_strerror(ENOENT));
    return NULL;
  }

  has_suffix = g_str_has_suffix(name_or_path, ".mdn");
  searched = g_string_new(NULL);
  env = g_getenv("MADDNESS_PRESET_PATH");
  if (env) {
    char **dirs = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    char **d;

    for (d = dirs; *d && !found; d++) {
      if (**d) /* "a::b" has an empty entry: skip it rather than search the cwd */
        found = find_in_dir(*d, name_or_path, has_suffix, searched);
    }
    g_strfreev(dirs);
  }
  if (!found)
    found = find_in_dir(mdn_preset_dir(), name_or_path, has_suffix, searched);

  if (!found)
    g_set_error(
        error, MDN_ERROR, MDN_ERROR_IO,
        "no file or preset \"%s\": not a file here, and not found in (MADDNESS_PRESET_PATH, "
        "then the installed presets):%s",
        name_or_path, searched->str);
  g_string_free(searched, TRUE);
  return found;
}

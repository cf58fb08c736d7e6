/* preset-path.c: where a preset argument points to (a path, or a shipped preset's name).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

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
  if (g_file_test(name_or_path, G_FILE_TEST_IS_REGULAR))
    return g_strdup(name_or_path);
  /* A name with a directory part is a path only: never looked up elsewhere. */
  if (strchr(name_or_path, '/')) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "preset file \"%s\" does not exist", name_or_path);
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
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO,
                "no preset \"%s\": not a file, and not found in (MADDNESS_PRESET_PATH, then the "
                "installed presets):%s",
                name_or_path, searched->str);
  g_string_free(searched, TRUE);
  return found;
}

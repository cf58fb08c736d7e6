/* mdn-test-spawn.c: see mdn-test-spawn.h.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-test-spawn.h"

char **
mdn_test_wrap_argv(const char *const *argv)
{
  const char *wrapper = g_getenv("MESON_EXE_WRAPPER");
  GPtrArray *out = g_ptr_array_new();
  char **wrapper_argv = NULL;
  GError *error = NULL;
  int i;

  if (wrapper != NULL && *wrapper != '\0') {
    if (!g_shell_parse_argv(wrapper, NULL, &wrapper_argv, &error))
      g_error("MESON_EXE_WRAPPER=%s: %s", wrapper, error->message);
    for (i = 0; wrapper_argv[i] != NULL; i++)
      g_ptr_array_add(out, g_strdup(wrapper_argv[i]));
    g_strfreev(wrapper_argv);
  }
  for (i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(out, g_strdup(argv[i]));
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(out, FALSE);
}

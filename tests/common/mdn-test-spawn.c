/* mdn-test-spawn.c: see mdn-test-spawn.h.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-test-spawn.h"

#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define MDN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MDN_TEST_ASAN 1
#endif
#endif

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

typedef struct {
  unsigned seconds;
  gboolean limit_memory;
} Bounds;

static Bounds
bounds_for(unsigned seconds)
{
  const char *wrapper = g_getenv("MESON_EXE_WRAPPER");
  Bounds b = { seconds, wrapper == NULL || *wrapper == '\0' };

#ifdef MDN_TEST_ASAN
  b.limit_memory = FALSE;
#endif
  return b;
}

/* In the child, before it runs what is bounded: async-signal-safe calls only
 * (it may run between fork and exec). */
static void
bound_child(gpointer data)
{
  const Bounds *b = data;

  if (b->limit_memory) {
    struct rlimit limit = { MDN_TEST_CHILD_MAX_BYTES, MDN_TEST_CHILD_MAX_BYTES };
    (void)setrlimit(RLIMIT_AS, &limit);
  }
  alarm(b->seconds);
}

static void
report_status(int wait_status, unsigned seconds)
{
  if (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGALRM)
    g_test_message("the child ran for more than %u s: stopped", seconds);
  else if (WIFSIGNALED(wait_status))
    g_test_message("the child ended by signal %d", WTERMSIG(wait_status));
}

int
mdn_test_spawn_bounded(const char *const *argv, char **envp, unsigned seconds, char **out,
                       char **err)
{
  char **wrapped = mdn_test_wrap_argv(argv);
  Bounds bounds = bounds_for(seconds);
  GError *error = NULL;
  int wait_status = 0;

  if (!g_spawn_sync(NULL, wrapped, envp, G_SPAWN_DEFAULT, bound_child, &bounds, out, err,
                    &wait_status, &error))
    g_error("cannot run %s: %s", argv[0], error->message);
  g_strfreev(wrapped);
  report_status(wait_status, seconds);
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
}

gboolean
mdn_test_fork_bounded(gboolean (*check)(gpointer data), gpointer data, unsigned seconds)
{
  Bounds bounds = bounds_for(seconds);
  int wait_status = 0;
  pid_t pid;

  fflush(stdout);
  fflush(stderr);
  pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    bound_child(&bounds);
    /* _exit: no atexit handlers (the leak checker's among them) in the copy. */
    _exit(check(data) ? 0 : 1);
  }
  g_assert_cmpint(waitpid(pid, &wait_status, 0), ==, pid);
  report_status(wait_status, seconds);
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

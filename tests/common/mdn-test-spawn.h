/* mdn-test-spawn.h: starting other test programs and tools from a test, also
 * in a cross build whose tests run under an emulator (make check-neon).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_TEST_SPAWN_H
#define MDN_TEST_SPAWN_H

#include <glib.h>

G_BEGIN_DECLS

/* argv (NULL-terminated) with the program that runs this build's
 * executables in front: meson test sets MESON_EXE_WRAPPER to the cross
 * file's exe_wrapper (e.g. qemu-aarch64), which the kernel does not apply
 * to a spawned child by itself. A copy of argv when it is unset or empty.
 * Free with g_strfreev(). */
char **mdn_test_wrap_argv(const char *const *argv);

/* Bounds for code that may hang or grow without end (a loader handed a FIFO
 * or /dev/zero): `seconds` of wall time (an alarm: SIGALRM ends the child)
 * and, in builds without AddressSanitizer (it reserves terabytes of address
 * space) and not under an emulator, MDN_TEST_CHILD_MAX_BYTES of address
 * space, so that such a failure fails the test instead of hanging it or
 * exhausting the machine. */
#define MDN_TEST_CHILD_MAX_BYTES ((guint64)4 << 30)

/* Runs argv (through the exe wrapper) within those bounds, with envp (NULL:
 * this environment). *out and *err (may be NULL) get its output. Returns its
 * exit status, or -1 when it did not exit (an alarm, or memory exhausted). */
int mdn_test_spawn_bounded(const char *const *argv, char **envp, unsigned seconds, char **out,
                           char **err);

/* Runs check(data) in a forked child within those bounds: TRUE when the
 * child exited with check's TRUE (g_assert failures abort the child). */
gboolean mdn_test_fork_bounded(gboolean (*check)(gpointer data), gpointer data, unsigned seconds);

G_END_DECLS

#endif /* MDN_TEST_SPAWN_H */

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

G_END_DECLS

#endif /* MDN_TEST_SPAWN_H */

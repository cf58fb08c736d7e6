/* mdn-dft: a double-precision complex DFT, the reference spectra of the tests
 * and the corpus's coverage report. Plain C (no engine, no GLib), so the
 * corpus script can compile it beside its tool.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>

/* In place, radix 2: n complex points interleaved (re, im), n a power of two;
 * sign -1 is the forward transform, +1 the inverse (unscaled). */
void mdn_dft_double(double *z, size_t n, int sign);

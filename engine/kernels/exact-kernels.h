/* exact-kernels.h: the inner loops of the exact path (exact.c), one table
 * per instruction set. exact-kernels-scalar.c is the reference; the SIMD
 * files are compiled with their own flags and reached only through
 * mdn_exact_kernels_get(), which the caller gives an ISA the CPU supports.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_EXACT_KERNELS_H
#define MDN_EXACT_KERNELS_H

#include "mdn-private.h"

G_BEGIN_DECLS

/* Direct form over a block of rows of n_out outputs:
 *   acc[o * acc_stride + t] += sum_{i < cin} sum_{k < taps}
 *                              w[o * w_out_stride + i * w_stride + k] * x[i][offset + t - k*dil]
 * for o < n_out, t < n, summed in that order (i outer, k inner) for every
 * row, so a row's result does not depend on n, n_out or the row's place in
 * the block. x[i][offset + t - k*dil] must be readable for every t < n,
 * k < taps. */
typedef void (*MdnExactFirFunc)(float *acc, size_t acc_stride, int n_out, size_t n, const float *w,
                                size_t w_out_stride, size_t w_stride, int taps, int cin, int dil,
                                const float *const *x, size_t offset);

typedef struct {
  MdnIsa isa;
  MdnExactFirFunc fir;
} MdnExactKernels;

extern const MdnExactKernels mdn_exact_kernels_scalar;
extern const MdnExactKernels mdn_exact_kernels_avx2;   /* when MDN_HAVE_EXACT_AVX2 */
extern const MdnExactKernels mdn_exact_kernels_avx512; /* when MDN_HAVE_EXACT_AVX512 */
extern const MdnExactKernels mdn_exact_kernels_neon;   /* when MDN_HAVE_EXACT_NEON */

/* The table for `isa`, which the CPU must support, or the best one compiled
 * in below it in its family (x86: AVX-512, AVX2, scalar; AArch64: NEON,
 * scalar) (exact.c). Its isa field says which one it is. */
const MdnExactKernels *mdn_exact_kernels_get(MdnIsa isa);

G_END_DECLS

#endif /* MDN_EXACT_KERNELS_H */

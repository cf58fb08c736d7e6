/* exact-kernels.h: the inner loops of the exact path's direct form
 * (runtime/exact.c) and their table. mdn_exact_dsp_init() (scalar/exact.c)
 * fills it with the plain-C reference, then each architecture's init
 * (x86/init.c, arm/init.c) puts in the kernels the CPU flags allow. The FFT
 * path's kernels are the FFT's (fft.h).
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
typedef void MdnExactFirFn(float *acc, size_t acc_stride, int n_out, size_t n, const float *w,
                           size_t w_out_stride, size_t w_stride, int taps, int cin, int dil,
                           const float *const *x, size_t offset);

typedef struct {
  MdnExactFirFn *fir;
  /* The flag (MDN_CPU_FLAG_*, 0: the plain-C reference) of the level the
   * entry comes from: the planner (runtime/exact-plan.c) weighs operations
   * by it. */
  unsigned fir_flag;
} MdnExactDsp;

/* The table the engine uses: mdn_exact_dsp_init_levels(), then the
 * architecture's per-family choice (x86/init.c). */
void mdn_exact_dsp_init(MdnExactDsp *dsp, unsigned flags);
/* The plain-C reference, then each entry from the highest level `flags`
 * allow that has a kernel for it. */
void mdn_exact_dsp_init_levels(MdnExactDsp *dsp, unsigned flags);
void mdn_exact_dsp_init_x86(MdnExactDsp *dsp, unsigned flags);
void mdn_exact_dsp_choose_x86(MdnExactDsp *dsp, unsigned flags);
void mdn_exact_dsp_init_arm(MdnExactDsp *dsp, unsigned flags);

/* The vector kernels (x86/exact-*.c, arm/exact-neon.c), for those inits. */
MdnExactFirFn mdn_exact_fir_avx2, mdn_exact_fir_avx512, mdn_exact_fir_neon;

G_END_DECLS

#endif /* MDN_EXACT_KERNELS_H */

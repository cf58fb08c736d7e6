/* scalar/exact.c: the reference kernels of the exact path, plain C on every
 * architecture (compiled for the baseline ISA: on x86-64 gcc vectorises the
 * blocks of 8 with SSE2), and the table's init. See exact-kernels.h for what
 * each computes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-kernels.h"

#include <string.h>

/* acc[t] += sum_{k < taps} w[k] * x[t - k*dil], t < n. Four taps per pass
 * keep the accumulator traffic down; the sum stays in tap order:
 * ((acc + w0 x0) + w1 x1) + ... The t loops run in blocks of 8 with a
 * constant inner count: gcc -O2 (very-cheap cost model) vectorises those,
 * not a plain loop of unknown count. */
static void
fir_one_input(float *restrict acc, size_t n, const float *restrict w, int taps, int dil,
              const float *restrict x)
{
  int k = 0;
  size_t t, u;
  for (; k + 4 <= taps; k += 4) {
    const float w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3];
    const float *restrict x0 = x - (ptrdiff_t)k * dil;
    const float *restrict x1 = x0 - dil;
    const float *restrict x2 = x1 - dil;
    const float *restrict x3 = x2 - dil;
    for (t = 0; t + 8 <= n; t += 8)
      for (u = 0; u < 8; u++)
        acc[t + u] = acc[t + u] + w0 * x0[t + u] + w1 * x1[t + u] + w2 * x2[t + u] + w3 * x3[t + u];
    for (; t < n; t++)
      acc[t] = acc[t] + w0 * x0[t] + w1 * x1[t] + w2 * x2[t] + w3 * x3[t];
  }
  for (; k < taps; k++) {
    const float w0 = w[k];
    const float *restrict x0 = x - (ptrdiff_t)k * dil;
    for (t = 0; t + 8 <= n; t += 8)
      for (u = 0; u < 8; u++)
        acc[t + u] += w0 * x0[t + u];
    for (; t < n; t++)
      acc[t] += w0 * x0[t];
  }
}

static void
fir_c(float *acc, size_t acc_stride, int n_out, size_t n, const float *w, size_t w_out_stride,
      size_t w_stride, int taps, int cin, int dil, const float *const *x, size_t offset)
{
  int o, i;
  for (o = 0; o < n_out; o++)
    for (i = 0; i < cin; i++)
      fir_one_input(acc + (size_t)o * acc_stride, n, w + (size_t)o * w_out_stride + i * w_stride,
                    taps, dil, x[i] + offset);
}

void
mdn_exact_dsp_init_levels(MdnExactDsp *dsp, unsigned flags)
{
  memset(dsp, 0, sizeof *dsp);
  dsp->fir = fir_c;
  dsp->fir_flag = 0;
#if defined(MDN_KERNELS_X86)
  mdn_exact_dsp_init_x86(dsp, flags);
#elif defined(MDN_KERNELS_ARM)
  mdn_exact_dsp_init_arm(dsp, flags);
#else
  (void)flags;
#endif
}

void
mdn_exact_dsp_init(MdnExactDsp *dsp, unsigned flags)
{
  mdn_exact_dsp_init_levels(dsp, flags);
#if defined(MDN_KERNELS_X86)
  mdn_exact_dsp_choose_x86(dsp, flags);
#endif
}

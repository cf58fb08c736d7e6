/* net.c: the reference kernels of trained models (net-kernels.h), plain C.
 * The frame loops run in blocks of 8 with a constant inner count, which gcc
 * vectorises with the baseline ISA (SSE2 on x86-64); each frame's sum runs
 * over the rows in order, as net-kernels.h says.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-kernels.h"

#include <string.h>

static void
gemm_scalar(float *const *y, const float *const *base, const float *bias, const float *w, int cout,
            int rows, const float *const *x, size_t n)
{
  int o = 0, r;
  size_t t, u;

  for (; o < cout; o++) {
    const float b = bias ? bias[o] : 0.0f;
    const float *wo = w + (size_t)o * rows;
    const float *restrict base_o = base ? base[o] : NULL;
    float *restrict yo = y[o];
    for (t = 0; t + 8 <= n; t += 8) {
      float acc[8];
      for (u = 0; u < 8; u++)
        acc[u] = (base_o ? base_o[t + u] : 0.0f) + b;
      for (r = 0; r < rows; r++) {
        const float wr = wo[r];
        const float *restrict xr = x[r] + t;
        for (u = 0; u < 8; u++)
          acc[u] = acc[u] + wr * xr[u];
      }
      for (u = 0; u < 8; u++)
        yo[t + u] = acc[u];
    }
    for (; t < n; t++) {
      float acc = (base_o ? base_o[t] : 0.0f) + b;
      for (r = 0; r < rows; r++)
        acc = acc + wo[r] * x[r][t];
      yo[t] = acc;
    }
  }
}

static void
tanh_scalar(float *v, size_t n)
{
  size_t t, u;
  for (t = 0; t + 8 <= n; t += 8)
    for (u = 0; u < 8; u++)
      v[t + u] = mdn_net_tanh_ref(v[t + u]);
  for (; t < n; t++)
    v[t] = mdn_net_tanh_ref(v[t]);
}

void
mdn_net_dsp_init(MdnNetDsp *dsp, unsigned flags)
{
  memset(dsp, 0, sizeof *dsp);
  dsp->gemm = gemm_scalar;
  dsp->tanh = tanh_scalar;
#if defined(MDN_KERNELS_X86)
  mdn_net_dsp_init_x86(dsp, flags);
#else
  (void)flags;
#endif
}

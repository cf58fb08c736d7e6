/* arm/exact-neon.c: the exact path's kernels for AArch64 Advanced SIMD
 * (NEON, part of every AArch64 CPU; built only for AArch64 hosts, put in the
 * table by arm/init.c). See exact-kernels.h.
 *
 * Direct form: vectorised over rows, 4 per vector. Each tap's weight is
 * multiplied into unaligned loads of x at t - k*dil with FMAs; blocks of 8
 * vectors (32 rows) keep 8 independent FMA chains in flight. Every row sums
 * in tap order, as the reference does, fused (rows past the last whole
 * vector use fmaf, the same rounding as the lanes), so a row's result does
 * not depend on its block.

 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-kernels.h"

#include <arm_neon.h>

static inline void
fir_rows32(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
           const float *const *x, size_t pos)
{
  float32x4_t a0 = vld1q_f32(acc), a1 = vld1q_f32(acc + 4);
  float32x4_t a2 = vld1q_f32(acc + 8), a3 = vld1q_f32(acc + 12);
  float32x4_t a4 = vld1q_f32(acc + 16), a5 = vld1q_f32(acc + 20);
  float32x4_t a6 = vld1q_f32(acc + 24), a7 = vld1q_f32(acc + 28);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil) {
      const float wk = wi[k];
      a0 = vfmaq_n_f32(a0, vld1q_f32(xk), wk);
      a1 = vfmaq_n_f32(a1, vld1q_f32(xk + 4), wk);
      a2 = vfmaq_n_f32(a2, vld1q_f32(xk + 8), wk);
      a3 = vfmaq_n_f32(a3, vld1q_f32(xk + 12), wk);
      a4 = vfmaq_n_f32(a4, vld1q_f32(xk + 16), wk);
      a5 = vfmaq_n_f32(a5, vld1q_f32(xk + 20), wk);
      a6 = vfmaq_n_f32(a6, vld1q_f32(xk + 24), wk);
      a7 = vfmaq_n_f32(a7, vld1q_f32(xk + 28), wk);
    }
  }
  vst1q_f32(acc, a0);
  vst1q_f32(acc + 4, a1);
  vst1q_f32(acc + 8, a2);
  vst1q_f32(acc + 12, a3);
  vst1q_f32(acc + 16, a4);
  vst1q_f32(acc + 20, a5);
  vst1q_f32(acc + 24, a6);
  vst1q_f32(acc + 28, a7);
}

static inline void
fir_rows4(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
          const float *const *x, size_t pos)
{
  float32x4_t a0 = vld1q_f32(acc);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil)
      a0 = vfmaq_n_f32(a0, vld1q_f32(xk), wi[k]);
  }
  vst1q_f32(acc, a0);
}

/* One row: the same fused steps as a vector lane; nothing past it is read
 * or written. */
static inline void
fir_row1(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
         const float *const *x, size_t pos)
{
  float a = *acc;
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil)
      a = fmaf(*xk, wi[k], a);
  }
  *acc = a;
}

static void
fir_one_output(float *acc, size_t n, const float *w, size_t w_stride, int taps, int cin, int dil,
               const float *const *x, size_t offset)
{
  size_t t = 0;
  for (; t + 32 <= n; t += 32)
    fir_rows32(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
  for (; t + 4 <= n; t += 4)
    fir_rows4(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
  for (; t < n; t++)
    fir_row1(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
}

void
mdn_exact_fir_neon(float *acc, size_t acc_stride, int n_out, size_t n, const float *w,
                   size_t w_out_stride, size_t w_stride, int taps, int cin, int dil,
                   const float *const *x, size_t offset)
{
  int o;
  for (o = 0; o < n_out; o++)
    fir_one_output(acc + (size_t)o * acc_stride, n, w + (size_t)o * w_out_stride, w_stride, taps,
                   cin, dil, x, offset);
}

/* y (real, imaginary) += s h for 4 bins, split. */

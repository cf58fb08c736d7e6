/* x86/exact-avx512.c: the exact path's kernels for AVX-512 F/BW/VL/DQ
 * (compiled with those flags; x86/init.c puts them in the table when the
 * CPU has the AVX-512 level). The same scheme as exact-avx2.c with 16
 * floats per vector: blocks of 8
 * vectors (128 rows) for the direct form, and masked loads and stores for
 * the rest.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-kernels.h"

#include <immintrin.h>

static inline __mmask16
lane_mask(size_t count)
{
  return (__mmask16)(count >= 16 ? 0xffffu : (1u << count) - 1);
}

static inline void
fir_rows128(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
            const float *const *x, size_t pos)
{
  __m512 a0 = _mm512_loadu_ps(acc), a1 = _mm512_loadu_ps(acc + 16);
  __m512 a2 = _mm512_loadu_ps(acc + 32), a3 = _mm512_loadu_ps(acc + 48);
  __m512 a4 = _mm512_loadu_ps(acc + 64), a5 = _mm512_loadu_ps(acc + 80);
  __m512 a6 = _mm512_loadu_ps(acc + 96), a7 = _mm512_loadu_ps(acc + 112);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil) {
      const __m512 wk = _mm512_set1_ps(wi[k]);
      a0 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk), a0);
      a1 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 16), a1);
      a2 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 32), a2);
      a3 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 48), a3);
      a4 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 64), a4);
      a5 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 80), a5);
      a6 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 96), a6);
      a7 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 112), a7);
    }
  }
  _mm512_storeu_ps(acc, a0);
  _mm512_storeu_ps(acc + 16, a1);
  _mm512_storeu_ps(acc + 32, a2);
  _mm512_storeu_ps(acc + 48, a3);
  _mm512_storeu_ps(acc + 64, a4);
  _mm512_storeu_ps(acc + 80, a5);
  _mm512_storeu_ps(acc + 96, a6);
  _mm512_storeu_ps(acc + 112, a7);
}

static inline void
fir_rows64(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
           const float *const *x, size_t pos)
{
  __m512 a0 = _mm512_loadu_ps(acc), a1 = _mm512_loadu_ps(acc + 16);
  __m512 a2 = _mm512_loadu_ps(acc + 32), a3 = _mm512_loadu_ps(acc + 48);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil) {
      const __m512 wk = _mm512_set1_ps(wi[k]);
      a0 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk), a0);
      a1 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 16), a1);
      a2 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 32), a2);
      a3 = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xk + 48), a3);
    }
  }
  _mm512_storeu_ps(acc, a0);
  _mm512_storeu_ps(acc + 16, a1);
  _mm512_storeu_ps(acc + 32, a2);
  _mm512_storeu_ps(acc + 48, a3);
}

/* Up to 16 rows; the rows past `rows` are neither read nor written. */
static inline void
fir_rows16(float *acc, size_t rows, const float *w, size_t w_stride, int taps, int cin, int dil,
           const float *const *x, size_t pos)
{
  const __mmask16 m = lane_mask(rows);
  __m512 a0 = _mm512_maskz_loadu_ps(m, acc);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil)
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(wi[k]), _mm512_maskz_loadu_ps(m, xk), a0);
  }
  _mm512_mask_storeu_ps(acc, m, a0);
}

static void
fir_one_output(float *acc, size_t n, const float *w, size_t w_stride, int taps, int cin, int dil,
               const float *const *x, size_t offset)
{
  size_t t = 0;
  for (; t + 128 <= n; t += 128)
    fir_rows128(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
  for (; t + 64 <= n; t += 64)
    fir_rows64(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
  for (; t < n; t += 16)
    fir_rows16(acc + t, MIN(n - t, 16), w, w_stride, taps, cin, dil, x, offset + t);
}

void
mdn_exact_fir_avx512(float *acc, size_t acc_stride, int n_out, size_t n, const float *w,
                     size_t w_out_stride, size_t w_stride, int taps, int cin, int dil,
                     const float *const *x, size_t offset)
{
  int o;
  for (o = 0; o < n_out; o++)
    fir_one_output(acc + (size_t)o * acc_stride, n, w + (size_t)o * w_out_stride, w_stride, taps,
                   cin, dil, x, offset);
}

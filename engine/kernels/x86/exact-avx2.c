/* x86/exact-avx2.c: the exact path's kernels for AVX2 + FMA (compiled with
 * -mavx2 -mfma; x86/init.c puts them in the table when the CPU has the AVX2
 * level). See exact-kernels.h.
 *
 * Direct form: vectorised over rows, 8 per vector. Each tap's weight is
 * broadcast and multiplied into unaligned loads of x at t - k*dil. Blocks of
 * 8 vectors (64 rows) keep 8 independent FMA chains in flight, enough to
 * cover the FMA latency on two pipes; every row sums in tap order, as the
 * reference does, so a row's result does not depend on its block.

 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-kernels.h"

#include <immintrin.h>

/* Lanes [0, count) set, count in 0..8. */
static inline __m256i
lane_mask(size_t count)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline void
fir_rows64(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
           const float *const *x, size_t pos)
{
  __m256 a0 = _mm256_loadu_ps(acc), a1 = _mm256_loadu_ps(acc + 8);
  __m256 a2 = _mm256_loadu_ps(acc + 16), a3 = _mm256_loadu_ps(acc + 24);
  __m256 a4 = _mm256_loadu_ps(acc + 32), a5 = _mm256_loadu_ps(acc + 40);
  __m256 a6 = _mm256_loadu_ps(acc + 48), a7 = _mm256_loadu_ps(acc + 56);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil) {
      const __m256 wk = _mm256_broadcast_ss(wi + k);
      a0 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk), a0);
      a1 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 8), a1);
      a2 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 16), a2);
      a3 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 24), a3);
      a4 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 32), a4);
      a5 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 40), a5);
      a6 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 48), a6);
      a7 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 56), a7);
    }
  }
  _mm256_storeu_ps(acc, a0);
  _mm256_storeu_ps(acc + 8, a1);
  _mm256_storeu_ps(acc + 16, a2);
  _mm256_storeu_ps(acc + 24, a3);
  _mm256_storeu_ps(acc + 32, a4);
  _mm256_storeu_ps(acc + 40, a5);
  _mm256_storeu_ps(acc + 48, a6);
  _mm256_storeu_ps(acc + 56, a7);
}

static inline void
fir_rows32(float *acc, const float *w, size_t w_stride, int taps, int cin, int dil,
           const float *const *x, size_t pos)
{
  __m256 a0 = _mm256_loadu_ps(acc), a1 = _mm256_loadu_ps(acc + 8);
  __m256 a2 = _mm256_loadu_ps(acc + 16), a3 = _mm256_loadu_ps(acc + 24);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil) {
      const __m256 wk = _mm256_broadcast_ss(wi + k);
      a0 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk), a0);
      a1 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 8), a1);
      a2 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 16), a2);
      a3 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(xk + 24), a3);
    }
  }
  _mm256_storeu_ps(acc, a0);
  _mm256_storeu_ps(acc + 8, a1);
  _mm256_storeu_ps(acc + 16, a2);
  _mm256_storeu_ps(acc + 24, a3);
}

/* Up to 8 rows; the rows past `rows` are neither read nor written. */
static inline void
fir_rows8(float *acc, size_t rows, const float *w, size_t w_stride, int taps, int cin, int dil,
          const float *const *x, size_t pos)
{
  const __m256i m = lane_mask(rows);
  __m256 a0 = _mm256_maskload_ps(acc, m);
  int i, k;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    const float *xk = x[i] + pos;
    for (k = 0; k < taps; k++, xk -= dil)
      a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(wi + k), _mm256_maskload_ps(xk, m), a0);
  }
  _mm256_maskstore_ps(acc, m, a0);
}

static void
fir_one_output(float *acc, size_t n, const float *w, size_t w_stride, int taps, int cin, int dil,
               const float *const *x, size_t offset)
{
  size_t t = 0;
  for (; t + 64 <= n; t += 64)
    fir_rows64(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
  for (; t + 32 <= n; t += 32)
    fir_rows32(acc + t, w, w_stride, taps, cin, dil, x, offset + t);
  for (; t < n; t += 8)
    fir_rows8(acc + t, MIN(n - t, 8), w, w_stride, taps, cin, dil, x, offset + t);
}

void
mdn_exact_fir_avx2(float *acc, size_t acc_stride, int n_out, size_t n, const float *w,
                   size_t w_out_stride, size_t w_stride, int taps, int cin, int dil,
                   const float *const *x, size_t offset)
{
  int o;
  /* One output at a time: blocking two outputs over 32 rows (sharing each
   * load of x) measured no faster on this machine (bank16, beam8). */
  for (o = 0; o < n_out; o++)
    fir_one_output(acc + (size_t)o * acc_stride, n, w + (size_t)o * w_out_stride, w_stride, taps,
                   cin, dil, x, offset);
}

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

/* Heads of 8 G taps, dilation 1 (the exact path's direct head): the sum of
 * each row in the order tap k = 0..7, then group g = 0..G-1 (tap k + 8 g).
 * In 32 rows, the vector of input at x + pos + 8 d - k serves row block c
 * with tap k + 8 (c - d), for every c: about 4 + G loads per k instead of
 * 4 G. Groups g < H = ceil(G / 2) and the others sum apart, then add. The
 * 8-row blocks keep the same order (the same bits for any cutting of the
 * rows). */
#define GROUP_MAX 8

static inline __attribute__((always_inline)) void
fir_grouped32(float *acc, const float *w, size_t w_stride, int cin, const float *const *x,
              size_t pos, const int G)
{
  /* Groups below H into a[0], the others into a[1], in two passes over the
   * input (8 independent FMA chains, H weights in registers at a time). */
  const int H = (G + 1) / 2;
  __m256 a[2][4], wg[GROUP_MAX / 2];
  int i, k, c, d, g, p;
#pragma GCC unroll 4
  for (c = 0; c < 4; c++) {
    a[0][c] = _mm256_loadu_ps(acc + 8 * c);
    a[1][c] = _mm256_setzero_ps();
  }
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    for (k = 0; k < 8; k++) {
      const float *xk = x[i] + pos - k;
#pragma GCC unroll 2
      for (p = 0; p < 2; p++) {
        const int g0 = p * H, g1 = MIN(G, g0 + H);
#pragma GCC unroll 4
        for (g = g0; g < g1; g++)
          wg[g - g0] = _mm256_broadcast_ss(wi + k + 8 * g);
#pragma GCC unroll 8
        for (d = 3 - g0; d > -g1; d--) { /* so each block's groups ascend */
          const __m256 v = _mm256_loadu_ps(xk + 8 * d);
#pragma GCC unroll 4
          for (c = MAX(d + g0, 0); c <= MIN(3, d + g1 - 1); c++)
            a[p][c] = _mm256_fmadd_ps(wg[c - d - g0], v, a[p][c]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (c = 0; c < 4; c++)
    _mm256_storeu_ps(acc + 8 * c, _mm256_add_ps(a[0][c], a[1][c]));
}

static void
fir_grouped_rows32(float *acc, const float *w, size_t w_stride, int taps, int cin,
                   const float *const *x, size_t pos)
{
  switch (taps / 8) {
  case 1:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 1);
    break;
  case 2:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 2);
    break;
  case 3:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 3);
    break;
  case 4:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 4);
    break;
  case 5:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 5);
    break;
  case 6:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 6);
    break;
  case 7:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 7);
    break;
  default:
    fir_grouped32(acc, w, w_stride, cin, x, pos, 8);
    break;
  }
}

/* Up to 8 rows in the grouped order. */
static void
fir_grouped_rows8(float *acc, size_t rows, const float *w, size_t w_stride, int taps, int cin,
                  const float *const *x, size_t pos)
{
  const __m256i m = lane_mask(rows);
  const int G = taps / 8, H = (G + 1) / 2;
  __m256 a[2] = { _mm256_maskload_ps(acc, m), _mm256_setzero_ps() };
  int i, k, g;
  for (i = 0; i < cin; i++) {
    const float *wi = w + (size_t)i * w_stride;
    for (k = 0; k < 8; k++)
      for (g = 0; g < G; g++)
        a[g >= H] = _mm256_fmadd_ps(_mm256_broadcast_ss(wi + k + 8 * g),
                                    _mm256_maskload_ps(x[i] + pos - k - 8 * g, m), a[g >= H]);
  }
  _mm256_maskstore_ps(acc, m, _mm256_add_ps(a[0], a[1]));
}

static int
fir_grouped(int taps, int dil)
{
  return dil == 1 && taps % 8 == 0 && taps <= 8 * GROUP_MAX;
}

static void
fir_one_output(float *acc, size_t n, const float *w, size_t w_stride, int taps, int cin, int dil,
               const float *const *x, size_t offset)
{
  size_t t = 0;
  if (fir_grouped(taps, dil)) {
    for (; t + 32 <= n; t += 32)
      fir_grouped_rows32(acc + t, w, w_stride, taps, cin, x, offset + t);
    for (; t < n; t += 8)
      fir_grouped_rows8(acc + t, MIN(n - t, 8), w, w_stride, taps, cin, x, offset + t);
    return;
  }
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

/* net-avx2.c: the kernels of trained models for AVX2 + FMA (compiled with
 * -mavx2 -mfma, called only when the CPU has both). See net-kernels.h.
 *
 * The product is tiled as 4 outputs x 24 frames (3 vectors): 12 accumulators,
 * and per row 3 loads of x shared by the 4 outputs and 4 weight broadcasts
 * for 12 FMAs. Frames outer, outputs inner, so a tile's rows of x stay in L1
 * while every output block reads them. The last frames (n % 24) run in tiles
 * of one masked vector; every lane does the same operations in the same
 * order either way, so a frame's result does not depend on where it falls.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-kernels.h"

#include <immintrin.h>

#define MDN_ALWAYS_INLINE static inline __attribute__((always_inline))

/* Lanes [0, count) set, count in 0..8. */
static inline __m256i
lane_mask(size_t count)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

MDN_ALWAYS_INLINE __m256
load(const float *p, int masked, __m256i m)
{
  return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

/* no outputs (1..4) x nt vectors (1..3) of frames from frame t. */
MDN_ALWAYS_INLINE void
tile(float *const *y, const float *const *base, const float *bias, const float *w, int rows,
     const float *const *x, size_t t, const int no, const int nt, const int masked, __m256i m)
{
  __m256 acc[4][3];
  int i, j, r;

#pragma GCC unroll 4
  for (i = 0; i < no; i++) {
    const __m256 b = _mm256_set1_ps(bias ? bias[i] : 0.0f);
#pragma GCC unroll 3
    for (j = 0; j < nt; j++)
      acc[i][j]
          = _mm256_add_ps(base ? load(base[i] + t + 8 * j, masked, m) : _mm256_setzero_ps(), b);
  }
  for (r = 0; r < rows; r++) {
    const float *xr = x[r] + t;
    __m256 xv[3];
#pragma GCC unroll 3
    for (j = 0; j < nt; j++)
      xv[j] = load(xr + 8 * j, masked, m);
#pragma GCC unroll 4
    for (i = 0; i < no; i++) {
      const __m256 wv = _mm256_broadcast_ss(w + (size_t)i * rows + r);
#pragma GCC unroll 3
      for (j = 0; j < nt; j++)
        acc[i][j] = _mm256_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 4
  for (i = 0; i < no; i++)
#pragma GCC unroll 3
    for (j = 0; j < nt; j++) {
      if (masked)
        _mm256_maskstore_ps(y[i] + t + 8 * j, m, acc[i][j]);
      else
        _mm256_storeu_ps(y[i] + t + 8 * j, acc[i][j]);
    }
}

void
mdn_net_gemm_avx2(float *const *y, const float *const *base, const float *bias, const float *w,
                  int cout, int rows, const float *const *x, size_t n)
{
  const __m256i all = _mm256_set1_epi32(-1);
  size_t t = 0;
  int o;

#define BASE(o) (base ? base + (o) : NULL)
#define BIAS(o) (bias ? bias + (o) : NULL)
  for (; t + 24 <= n; t += 24) {
    for (o = 0; o + 4 <= cout; o += 4)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 4, 3, 0, all);
    for (; o < cout; o++)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 1, 3, 0, all);
  }
  for (; t < n; t += 8) {
    const __m256i m = lane_mask(MIN(n - t, 8));
    for (o = 0; o + 4 <= cout; o += 4)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 4, 1, 1, m);
    for (; o < cout; o++)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 1, 1, 1, m);
  }
#undef BASE
#undef BIAS
}

/* mdn_net_tanh_ref() on 8 lanes; max(-c, x) and min(c, .) keep a NaN. */
static inline __m256
tanh8(__m256 x)
{
  const __m256 c = _mm256_min_ps(_mm256_set1_ps(MDN_TANH_CLAMP),
                                 _mm256_max_ps(_mm256_set1_ps(-MDN_TANH_CLAMP), x));
  const __m256 u = _mm256_mul_ps(c, c);
  __m256 p = _mm256_set1_ps(MDN_TANH_P5), q = _mm256_set1_ps(MDN_TANH_Q4);
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(MDN_TANH_P4));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(MDN_TANH_P3));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(MDN_TANH_Q3));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(MDN_TANH_P2));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(MDN_TANH_Q2));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(MDN_TANH_P1));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(MDN_TANH_Q1));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(MDN_TANH_P0));
  q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(MDN_TANH_Q0));
  return _mm256_div_ps(_mm256_mul_ps(c, p), q);
}

void
mdn_net_tanh_avx2(float *v, size_t n)
{
  size_t t = 0;
  for (; t + 16 <= n; t += 16) {
    const __m256 a = tanh8(_mm256_loadu_ps(v + t)), b = tanh8(_mm256_loadu_ps(v + t + 8));
    _mm256_storeu_ps(v + t, a);
    _mm256_storeu_ps(v + t + 8, b);
  }
  for (; t < n; t += 8) {
    const __m256i m = lane_mask(MIN(n - t, 8));
    _mm256_maskstore_ps(v + t, m, tanh8(_mm256_maskload_ps(v + t, m)));
  }
}

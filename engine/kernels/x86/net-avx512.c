/* net-avx512.c: the kernels of trained models for AVX-512 F/BW/VL/DQ
 * (compiled with those flags, called only when the CPU has them). See
 * net-kernels.h and net-avx2.c, whose scheme this is on 16 lanes and 32
 * registers: tiles of 4 outputs x 64 frames (16 accumulators), the weights
 * broadcast from memory into the FMAs; the last frames in tiles of one
 * masked vector (same operations per lane).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-kernels.h"

#include <immintrin.h>

#define MDN_ALWAYS_INLINE static inline __attribute__((always_inline))

MDN_ALWAYS_INLINE __m512
load(const float *p, int masked, __mmask16 m)
{
  return masked ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p);
}

MDN_ALWAYS_INLINE void
tile(float *const *y, const float *const *base, const float *bias, const float *w, int rows,
     const float *const *x, size_t t, const int no, const int nt, const int masked, __mmask16 m)
{
  __m512 acc[4][4];
  int i, j, r;

#pragma GCC unroll 4
  for (i = 0; i < no; i++) {
    const __m512 b = _mm512_set1_ps(bias ? bias[i] : 0.0f);
#pragma GCC unroll 4
    for (j = 0; j < nt; j++)
      acc[i][j]
          = _mm512_add_ps(base ? load(base[i] + t + 16 * j, masked, m) : _mm512_setzero_ps(), b);
  }
  for (r = 0; r < rows; r++) {
    const float *xr = x[r] + t;
    __m512 xv[4];
#pragma GCC unroll 4
    for (j = 0; j < nt; j++)
      xv[j] = load(xr + 16 * j, masked, m);
#pragma GCC unroll 4
    for (i = 0; i < no; i++) {
      const __m512 wv = _mm512_set1_ps(w[(size_t)i * rows + r]);
#pragma GCC unroll 4
      for (j = 0; j < nt; j++)
        acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 4
  for (i = 0; i < no; i++)
#pragma GCC unroll 4
    for (j = 0; j < nt; j++) {
      if (masked)
        _mm512_mask_storeu_ps(y[i] + t + 16 * j, m, acc[i][j]);
      else
        _mm512_storeu_ps(y[i] + t + 16 * j, acc[i][j]);
    }
}

void
mdn_net_gemm_avx512(float *const *y, const float *const *base, const float *bias, const float *w,
                    int cout, int rows, const float *const *x, size_t n)
{
  size_t t = 0;
  int o;

#define BASE(o) (base ? base + (o) : NULL)
#define BIAS(o) (bias ? bias + (o) : NULL)
  for (; t + 64 <= n; t += 64) {
    for (o = 0; o + 4 <= cout; o += 4)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 4, 4, 0, 0xFFFF);
    for (; o < cout; o++)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 1, 4, 0, 0xFFFF);
  }
  for (; t < n; t += 16) {
    const size_t left = MIN(n - t, 16);
    const __mmask16 m = (__mmask16)((1u << left) - 1);
    for (o = 0; o + 4 <= cout; o += 4)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 4, 1, 1, m);
    for (; o < cout; o++)
      tile(y + o, BASE(o), BIAS(o), w + (size_t)o * rows, rows, x, t, 1, 1, 1, m);
  }
#undef BASE
#undef BIAS
}

/* mdn_net_tanh_ref() on 16 lanes; max(-c, x) and min(c, .) keep a NaN. */
static inline __m512
tanh16(__m512 x)
{
  const __m512 c = _mm512_min_ps(_mm512_set1_ps(MDN_TANH_CLAMP),
                                 _mm512_max_ps(_mm512_set1_ps(-MDN_TANH_CLAMP), x));
  const __m512 u = _mm512_mul_ps(c, c);
  __m512 p = _mm512_set1_ps(MDN_TANH_P5), q = _mm512_set1_ps(MDN_TANH_Q4);
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(MDN_TANH_P4));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(MDN_TANH_P3));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(MDN_TANH_Q3));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(MDN_TANH_P2));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(MDN_TANH_Q2));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(MDN_TANH_P1));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(MDN_TANH_Q1));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(MDN_TANH_P0));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(MDN_TANH_Q0));
  return _mm512_div_ps(_mm512_mul_ps(c, p), q);
}

void
mdn_net_tanh_avx512(float *v, size_t n)
{
  size_t t = 0;
  for (; t + 16 <= n; t += 16)
    _mm512_storeu_ps(v + t, tanh16(_mm512_loadu_ps(v + t)));
  if (t < n) {
    const __mmask16 m = (__mmask16)((1u << (n - t)) - 1);
    _mm512_mask_storeu_ps(v + t, m, tanh16(_mm512_maskz_loadu_ps(m, v + t)));
  }
}

/* x86/hyper-avx512.c: the hyperplane encoder for AVX-512 F/BW/VL/DQ (built
 * with those flags and -ffp-contract=off; x86/init.c puts it in the table
 * when the CPU has the AVX-512 level). hyper-avx2.c twice as wide: 16
 * positions per vector, four vectors per step (two for s = 8) with the
 * columns in registers; the level's thresholds by
 * vpermps over 16 entries (levels 0-4), vpermt2ps over 32 (level 5), a
 * gather deeper; masked loads and stores for the tail.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-kernels.h"

#include <immintrin.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE __m512
level_thr(const float *lvl, int l, __m512i node)
{
  if (l <= 4)
    return _mm512_permutexvar_ps(node, _mm512_loadu_ps(lvl));
  if (l == 5)
    return _mm512_permutex2var_ps(_mm512_loadu_ps(lvl), node, _mm512_loadu_ps(lvl + 16));
  return _mm512_i32gather_ps(node, lvl, 4);
}

/* Codes of 16 * nv positions at x into node[0..nv-1]: nv vectors of 16,
 * interleaved so that their levels' add chains overlap; m selects the lanes
 * whose samples are read (nv is 1 when it is not all of them). */
static ALWAYS_INLINE void
hyper_nv(const float *hp, const float *thr, const int s, const int depth, int dilation,
         const float *x, const int nv, __mmask16 m, __m512i *node)
{
  const __m512i one = _mm512_set1_epi32(1);
  int j, l, v;

  __m512 col[4][8]; /* the windows' columns, loaded once for every level */

#pragma GCC unroll 4
  for (v = 0; v < nv; v++) {
    node[v] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (j = 0; j < s; j++)
      col[v][j] = _mm512_maskz_loadu_ps(m, x + 16 * v - (ptrdiff_t)j * dilation);
  }
#pragma GCC unroll 8
  for (l = 0; l < depth; l++) {
    __m512 p[4];
#pragma GCC unroll 4
    for (v = 0; v < nv; v++)
      p[v] = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (j = 0; j < s; j++) {
      const __m512 w = _mm512_set1_ps(hp[l * s + j]);
#pragma GCC unroll 4
      for (v = 0; v < nv; v++)
        p[v] = _mm512_add_ps(p[v], _mm512_mul_ps(w, col[v][j]));
    }
#pragma GCC unroll 4
    for (v = 0; v < nv; v++) {
      __mmask16 gt
          = _mm512_cmp_ps_mask(p[v], level_thr(thr + (1 << l) - 1, l, node[v]), _CMP_GT_OQ);
      node[v] = _mm512_add_epi32(node[v], node[v]);
      node[v] = _mm512_mask_add_epi32(node[v], gt, node[v], one);
    }
  }
}

static ALWAYS_INLINE void
hyper_encode(const float *hp, const float *thr_in, float sigma, const int s, const int depth,
             int dilation, const float *x, size_t n, guint8 *codes)
{
  const __m512 sig = _mm512_set1_ps(sigma);
  const int n_thr = (1 << depth) - 1 + MDN_TIER_THR_PAD;
  float thr[256 + 2 * MDN_TIER_THR_PAD]; /* thresholds * sigma, as the scalar product */
  const int nv = s <= 4 ? 4 : 2;
  __m512i node[4];
  size_t k = 0;
  int j, v;

  for (j = 0; j < n_thr; j += 16) {
    __mmask16 m = n_thr - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_thr - j)) - 1);
    _mm512_storeu_ps(thr + j, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, thr_in + j), sig));
  }
  /* s x nv columns stay in registers: 4 vectors for s <= 4, 2 for 8 */
  for (; k + 16 * nv <= n; k += 16 * nv) {
    hyper_nv(hp, thr, s, depth, dilation, x + k, nv, (__mmask16)0xffff, node);
    for (v = 0; v < nv; v++)
      _mm_storeu_si128((__m128i *)(codes + k + 16 * v), _mm512_cvtepi32_epi8(node[v]));
  }
  for (; k < n; k += 16) {
    /* masked loads and stores: nothing past x[n - 1] or codes[n - 1] */
    const __mmask16 m
        = n - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (unsigned)(n - k)) - 1);
    hyper_nv(hp, thr, s, depth, dilation, x + k, 1, m, node);
    _mm_mask_storeu_epi8(codes + k, m, _mm512_cvtepi32_epi8(node[0]));
  }
}

/* hyper_encode with s a constant. */
#define HYPER_BY_S(depth)                                                                          \
  do {                                                                                             \
    switch (s) {                                                                                   \
    case 1:                                                                                        \
      hyper_encode(hp, thr, sigma, 1, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    case 2:                                                                                        \
      hyper_encode(hp, thr, sigma, 2, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    case 4:                                                                                        \
      hyper_encode(hp, thr, sigma, 4, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    default:                                                                                       \
      hyper_encode(hp, thr, sigma, 8, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    }                                                                                              \
  } while (0)

void
mdn_tier_encode_hyperplanes_avx512(const float *hp, int s, const float *thr, float sigma, int depth,
                                   int dilation, const float *x, size_t n, guint8 *codes)
{
  switch (depth) {
  case 1:
    HYPER_BY_S(1);
    break;
  case 2:
    HYPER_BY_S(2);
    break;
  case 3:
    HYPER_BY_S(3);
    break;
  case 4:
    HYPER_BY_S(4);
    break;
  case 5:
    HYPER_BY_S(5);
    break;
  case 6:
    HYPER_BY_S(6);
    break;
  case 7:
    HYPER_BY_S(7);
    break;
  default:
    HYPER_BY_S(8);
    break;
  }
}

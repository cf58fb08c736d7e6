/* x86/hyper-avx2.c: the hyperplane encoder for AVX2 (built with -mavx2
 * -mfma -ffp-contract=off; x86/init.c puts it in the table when the CPU has
 * the AVX2 level).
 *
 * 32 positions per step as four vectors of 8 whose add chains overlap (then
 * 8, then a masked tail); each level's projection is s products added in
 * column order, multiply then add (no FMA), exactly as mdn_tier_project();
 * the node's threshold comes from the level's table by vpermps (levels
 * 0-3), vpermps and blends (4-5) or a gather (deeper), as the axis encoder's
 * (tier-avx2.c). Masked loads for the tail: nothing past x[n - 1] is read.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-kernels.h"

#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* The thresholds of level l (2^l entries at lvl) for 8 node ids. */
static ALWAYS_INLINE __m256
level_thr(const float *lvl, int l, __m256i node)
{
  if (l == 0)
    return _mm256_broadcast_ss(lvl);
  if (l <= 3)
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(lvl), node);
  if (l <= 5) {
    __m256 t[4];
    __m256 sel3 = _mm256_castsi256_ps(_mm256_slli_epi32(node, 28)); /* bit 3 -> sign */
    int k, m = 1 << (l - 3);
#pragma GCC unroll 4
    for (k = 0; k < m; k++)
      t[k] = _mm256_permutevar8x32_ps(_mm256_loadu_ps(lvl + 8 * k), node);
#pragma GCC unroll 4
    for (k = 0; k < m / 2; k++)
      t[k] = _mm256_blendv_ps(t[2 * k], t[2 * k + 1], sel3);
    if (l == 5)
      t[0] = _mm256_blendv_ps(t[0], t[1], _mm256_castsi256_ps(_mm256_slli_epi32(node, 27)));
    return t[0];
  }
  return _mm256_i32gather_ps(lvl, node, 4);
}

/* Codes of 8 * nv positions at x into node[0..nv-1]: nv vectors of 8,
 * interleaved so that their levels' add chains overlap; mask selects the
 * lanes whose samples are read (masked: nv is 1). */
static ALWAYS_INLINE void
hyper_nv(const float *hp, const float *thr, const int s, const int depth, int dilation,
         const float *x, const int nv, gboolean masked, __m256i mask, __m256i *node)
{
  int j, l, v;

#pragma GCC unroll 4
  for (v = 0; v < nv; v++)
    node[v] = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (l = 0; l < depth; l++) {
    __m256 p[4];
#pragma GCC unroll 4
    for (v = 0; v < nv; v++)
      p[v] = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (j = 0; j < s; j++) {
      const __m256 w = _mm256_broadcast_ss(hp + l * s + j);
      const float *col = x - (ptrdiff_t)j * dilation;
#pragma GCC unroll 4
      for (v = 0; v < nv; v++)
        p[v] = _mm256_add_ps(p[v], _mm256_mul_ps(w, masked ? _mm256_maskload_ps(col, mask)
                                                           : _mm256_loadu_ps(col + 8 * v)));
    }
#pragma GCC unroll 4
    for (v = 0; v < nv; v++) {
      __m256 t = level_thr(thr + (1 << l) - 1, l, node[v]);
      __m256i gt = _mm256_castps_si256(_mm256_cmp_ps(p[v], t, _CMP_GT_OQ));
      node[v] = _mm256_sub_epi32(_mm256_add_epi32(node[v], node[v]), gt); /* gt is -1 */
    }
  }
}

/* 8 int32 codes to 8 bytes. */
static ALWAYS_INLINE guint64
pack8(__m256i node)
{
  __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(node, node), _mm256_setzero_si256());
  guint64 lo = (guint32)_mm_cvtsi128_si32(_mm256_castsi256_si128(bytes));
  guint64 hi = (guint32)_mm_cvtsi128_si32(_mm256_extracti128_si256(bytes, 1));
  return lo | hi << 32;
}

static ALWAYS_INLINE void
hyper_encode(const float *hp, const float *thr_in, float sigma, const int s, const int depth,
             int dilation, const float *x, size_t n, guint8 *codes)
{
  static const gint32 ramp[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
  const __m256 sig = _mm256_set1_ps(sigma);
  float thr[256 + MDN_TIER_THR_PAD]; /* thresholds * sigma, as the scalar product */
  const __m256i zero = _mm256_setzero_si256();
  __m256i node[4];
  size_t k = 0;
  int j, v;

  for (j = 0; j < (1 << depth) - 1 + MDN_TIER_THR_PAD - 7; j += 8)
    _mm256_storeu_ps(thr + j, _mm256_mul_ps(_mm256_loadu_ps(thr_in + j), sig));
  for (; k + 32 <= n; k += 32) {
    hyper_nv(hp, thr, s, depth, dilation, x + k, 4, FALSE, zero, node);
    for (v = 0; v < 4; v++) {
      guint64 packed = pack8(node[v]);
      memcpy(codes + k + 8 * v, &packed, 8);
    }
  }
  for (; k + 8 <= n; k += 8) {
    guint64 packed;
    hyper_nv(hp, thr, s, depth, dilation, x + k, 1, FALSE, zero, node);
    packed = pack8(node[0]);
    memcpy(codes + k, &packed, 8);
  }
  if (k < n) {
    __m256i mask = _mm256_loadu_si256((const __m256i *)(ramp + 8 - (n - k)));
    guint64 packed;
    hyper_nv(hp, thr, s, depth, dilation, x + k, 1, TRUE, mask, node);
    packed = pack8(node[0]);
    for (; k < n; k++, packed >>= 8)
      codes[k] = (guint8)packed;
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
mdn_tier_encode_hyperplanes_avx2(const float *hp, int s, const float *thr, float sigma, int depth,
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

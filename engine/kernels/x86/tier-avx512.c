/* x86/tier-avx512.c: tier kernels for AVX-512 F/BW/VL/DQ (built with those
 * flags, AVX2's and -ffp-contract=off; x86/init.c puts them in the table
 * when the CPU has the AVX-512 level). The same algorithms as tier-avx2.c,
 * twice as wide:
 *
 * encode: 16 positions per vector; the level's thresholds by vpermps over 16
 *   entries (levels 0-4), vpermt2ps over 32 (level 5), a gather deeper;
 *   masked loads and stores for the tail.
 * scan: 64 rows per vector (vpshufb per 128-bit lane, k-mask blends for
 *   more than 16 buckets), exact 16-bit sums flushed every 257 codebooks.
 *   The VBMI scan (for CPUs with AVX-512 VBMI) reads tables of 32 to 256
 *   buckets by vpermb / vpermt2b instead (one or two permutes per 64 codes).
 * exact: FMAs along rows, masked tail.
 * No combine, max_abs, count_below or run_end here: the table keeps AVX2's
 * (cheap, once per run).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-kernels.h"

#ifndef MDN_TIER_AVX512_EMULATED /* test-tier-kernels-emulated includes this file over SIMDe */
#include <immintrin.h>
#endif
#include <string.h>

#define RS MDN_TIER_ROW_STRIDE
#ifndef MDN_TIER_AVX512_EMULATED
#define ALWAYS_INLINE inline __attribute__((always_inline))
/* Small loops with constant bounds once inlined: unrolled, the accumulators
 * stay in registers. */
#define UNROLL _Pragma("GCC unroll 16")
#else /* emulated lanes: plain code compiles in reasonable time */
#define ALWAYS_INLINE inline
#define UNROLL
#endif

/* ---- encode ---- */

static ALWAYS_INLINE __m512
level_thr(const float *lvl, int l, __m512i node)
{
  if (l <= 4)
    return _mm512_permutexvar_ps(node, _mm512_loadu_ps(lvl));
  if (l == 5)
    return _mm512_permutex2var_ps(_mm512_loadu_ps(lvl), node, _mm512_loadu_ps(lvl + 16));
  return _mm512_i32gather_ps(node, lvl, 4);
}

static ALWAYS_INLINE void
encode_depth(const guint8 *split, const float *thr_in, float sigma, const int depth, int dilation,
             const float *x, size_t n, guint8 *codes)
{
  const __m512 sig = _mm512_set1_ps(sigma);
  const __m512i one = _mm512_set1_epi32(1);
  const int n_thr = (1 << depth) - 1 + MDN_TIER_THR_PAD;
  float thr[256 + 2 * MDN_TIER_THR_PAD]; /* thresholds * sigma, as the scalar product */
  ptrdiff_t off[8];
  size_t k;
  int l, j;

  for (j = 0; j < n_thr; j += 16) {
    __mmask16 m = n_thr - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_thr - j)) - 1);
    _mm512_storeu_ps(thr + j, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, thr_in + j), sig));
  }
  for (l = 0; l < depth; l++)
    off[l] = (ptrdiff_t)split[l] * dilation;
  for (k = 0; k < n; k += 16) {
    /* masked loads and stores: nothing past x[n - 1] or codes[n - 1] */
    const __mmask16 m
        = n - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (unsigned)(n - k)) - 1);
    __m512i node = _mm512_setzero_si512();
    UNROLL
    for (l = 0; l < depth; l++) {
      __m512 v = _mm512_maskz_loadu_ps(m, x + k - off[l]);
      __m512 t = level_thr(thr + (1 << l) - 1, l, node);
      __mmask16 gt = _mm512_cmp_ps_mask(v, t, _CMP_GT_OQ);
      node = _mm512_add_epi32(node, node);
      node = _mm512_mask_add_epi32(node, gt, node, one);
    }
    _mm_mask_storeu_epi8(codes + k, m, _mm512_cvtepi32_epi8(node));
  }
}

void
mdn_tier_encode_avx512(const guint8 *split, const float *thr, float sigma, int depth, int dilation,
                       const float *x, size_t n, guint8 *codes)
{
  MDN_TIER_ENCODE_BY_DEPTH(encode_depth, split, thr, sigma, depth, dilation, x, n, codes);
}

/* ---- scan ---- */

static ALWAYS_INLINE __m512i
table16(const guint8 *t)
{
  return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t));
}

#include "simd-avx512-vbmi.h"

/* Entries of the (codebook, output) table t for 64 codes. vbmi: 32 and 64
 * buckets by one vpermb, 128 by one vpermt2b, 256 by two and a blend;
 * otherwise 16-entry vpshufb lookups blended by the code's high bits. */
static ALWAYS_INLINE __m512i
lookup(const guint8 *t, __m512i code, const int depth, const int vbmi)
{
  __m512i r[16], idx;
  int k, b, m;
  if (depth <= 4)
    return _mm512_shuffle_epi8(table16(t), code);
  if (vbmi) {
    if (depth == 5) /* 32 entries, repeated: codes < 32 read the first copy */
      return mdn_permb(_mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)t)), code);
    if (depth == 6)
      return mdn_permb(_mm512_loadu_si512(t), code);
    if (depth == 7)
      return mdn_permt2b(_mm512_loadu_si512(t), code, _mm512_loadu_si512(t + 64));
    return _mm512_mask_blend_epi8(
        _mm512_movepi8_mask(code), /* bit 7: the upper 128 entries */
        mdn_permt2b(_mm512_loadu_si512(t), code, _mm512_loadu_si512(t + 64)),
        mdn_permt2b(_mm512_loadu_si512(t + 128), code, _mm512_loadu_si512(t + 192)));
  }
  idx = _mm512_and_si512(code, _mm512_set1_epi8(0x0f)); /* bit 7 would zero the lookup */
  m = 1 << (depth - 4);
  UNROLL
  for (k = 0; k < m; k++)
    r[k] = _mm512_shuffle_epi8(table16(t + 16 * k), idx);
  UNROLL
  for (b = 4; b < depth; b++) {
    __mmask64 sel = _mm512_test_epi8_mask(code, _mm512_set1_epi8((char)(1 << b)));
    m >>= 1;
    UNROLL
    for (k = 0; k < m; k++)
      r[k] = _mm512_mask_blend_epi8(sel, r[2 * k], r[2 * k + 1]);
  }
  return r[0];
}

static ALWAYS_INLINE void
flush16(__m512i v, guint32 *p, __m128i count, gboolean first)
{
  __m512i s = _mm512_sll_epi32(v, count);
  if (!first)
    s = _mm512_add_epi32(s, _mm512_loadu_si512(p));
  _mm512_storeu_si512(p, s);
}

/* Adds (or stores, first) the rows r0..r0+63 of W/H, shifted, to sums. */
static ALWAYS_INLINE void
flush(__m512i w, __m512i h, guint32 *sums, int shift, gboolean first)
{
  const __m128i count = _mm_cvtsi32_si128(shift);
  const __m512i idx_a = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i idx_b = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  __m512i even = _mm512_sub_epi16(w, _mm512_slli_epi16(h, 8));
  __m512i lo = _mm512_unpacklo_epi16(even, h);          /* lane j: rows 16j .. 16j+7 */
  __m512i hi = _mm512_unpackhi_epi16(even, h);          /* lane j: rows 16j+8 .. 16j+15 */
  __m512i a = _mm512_permutex2var_epi64(lo, idx_a, hi); /* rows 0-31 */
  __m512i b = _mm512_permutex2var_epi64(lo, idx_b, hi); /* rows 32-63 */
  flush16(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(a)), sums, count, first);
  flush16(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(a, 1)), sums + 16, count, first);
  flush16(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(b)), sums + 32, count, first);
  flush16(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(b, 1)), sums + 48, count, first);
}

/* Rows r0..r0+64*n_rb-1, outputs o0..o0+n_out-1, one byte plane. */
static ALWAYS_INLINE void
scan_block(const guint8 *plane, const MdnTierTables *t, const guint8 *codes,
           const ptrdiff_t *offsets, size_t r0, int o0, const int n_rb, const int n_out,
           const int depth, const int vbmi, int shift, gboolean add, guint32 *sums)
{
  const size_t bstride = (size_t)t->bucket_stride, cstride = (size_t)t->cout * bstride;
  __m512i w[2][4], h[2][4];
  int c = 0, j, q;

  while (c < t->n_codebooks) {
    const int stop = MIN(t->n_codebooks, c + 257); /* 257 * 255 < 2^16 */
    UNROLL
    for (q = 0; q < n_rb; q++)
      UNROLL
    for (j = 0; j < n_out; j++)
      w[q][j] = h[q][j] = _mm512_setzero_si512();
    for (; c < stop; c++) {
      const guint8 *src = codes + offsets[c] + r0;
      const guint8 *tab = plane + c * cstride + o0 * bstride;
      UNROLL
      for (q = 0; q < n_rb; q++) {
        __m512i code = _mm512_loadu_si512(src + 64 * q);
        UNROLL
        for (j = 0; j < n_out; j++) {
          __m512i v = lookup(tab + j * bstride, code, depth, vbmi);
          w[q][j] = _mm512_add_epi16(w[q][j], v);
          h[q][j] = _mm512_add_epi16(h[q][j], _mm512_srli_epi16(v, 8));
        }
      }
    }
    UNROLL
    for (q = 0; q < n_rb; q++)
      UNROLL
    for (j = 0; j < n_out; j++)
      flush(w[q][j], h[q][j], sums + (size_t)(o0 + j) * RS + r0 + 64 * q, shift, !add);
    add = TRUE;
  }
}

static ALWAYS_INLINE void
scan_depth_isa(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
               guint32 *sums, const int depth, const int vbmi)
{
  const int n_planes = mdn_table_entry_bytes(t->table_bits);
  const size_t plane_size = (size_t)t->n_codebooks * t->cout * t->bucket_stride;
  int p, o;
  size_t r0;

  for (p = 0; p < n_planes; p++) {
    const guint8 *plane = t->planes + p * plane_size;
    const int shift = 8 * p;
    for (r0 = 0; r0 < n;) {
      /* rows past n: at most 63 (padding), as the row stride allows */
      if (n - r0 > 64 && t->cout == 1) {
        scan_block(plane, t, codes, offsets, r0, 0, 2, 1, depth, vbmi, shift, p > 0, sums);
        r0 += 128;
        continue;
      }
      for (o = 0; o + 4 <= t->cout; o += 4)
        scan_block(plane, t, codes, offsets, r0, o, 1, 4, depth, vbmi, shift, p > 0, sums);
      switch (t->cout - o) {
      case 3:
        scan_block(plane, t, codes, offsets, r0, o, 1, 3, depth, vbmi, shift, p > 0, sums);
        break;
      case 2:
        scan_block(plane, t, codes, offsets, r0, o, 1, 2, depth, vbmi, shift, p > 0, sums);
        break;
      case 1:
        scan_block(plane, t, codes, offsets, r0, o, 1, 1, depth, vbmi, shift, p > 0, sums);
        break;
      default:
        break;
      }
      r0 += 64;
    }
  }
}

static ALWAYS_INLINE void
scan_depth(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
           guint32 *sums, const int depth)
{
  scan_depth_isa(t, codes, offsets, n, sums, depth, 0);
}

static ALWAYS_INLINE void
scan_depth_vbmi(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
                guint32 *sums, const int depth)
{
  scan_depth_isa(t, codes, offsets, n, sums, depth, 1);
}

void
mdn_tier_scan_avx512(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets,
                     size_t n, guint32 *sums)
{
  MDN_TIER_SCAN_BY_DEPTH(scan_depth, t, codes, offsets, n, sums);
}

void
mdn_tier_scan_avx512vbmi(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets,
                         size_t n, guint32 *sums)
{
  MDN_TIER_SCAN_BY_DEPTH(scan_depth_vbmi, t, codes, offsets, n, sums);
}

/* ---- exact taps ---- */

void
mdn_tier_exact_avx512(const float *const *x, const guint16 *chan, const guint32 *tap,
                      const float *w, int n_exact, int cout, int dilation, size_t n, float *acc)
{
  int e, o;
  size_t r;
  for (o = 0; o < cout; o++) {
    float *dst = acc + (size_t)o * RS;
    for (r = 0; r < n; r += 16) {
      /* masked loads: nothing past row n - 1 is read; the padding takes the
       * stored lanes past n */
      const __mmask16 m
          = n - r >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (unsigned)(n - r)) - 1);
      __m512 s = _mm512_setzero_ps();
      for (e = 0; e < n_exact; e++) {
        const float *src = x[chan[e]] + (ptrdiff_t)r - (ptrdiff_t)tap[e] * dilation;
        s = _mm512_fmadd_ps(_mm512_set1_ps(w[(size_t)e * cout + o]), _mm512_maskz_loadu_ps(m, src),
                            s);
      }
      _mm512_storeu_ps(dst + r, s);
    }
  }
}

/* x86/tier-avx512.c: tier kernels for AVX-512 F/BW/VL/DQ (built with those
 * flags, AVX2's and -ffp-contract=off; x86/init.c puts them in the table
 * when the CPU has the AVX-512 level). The same algorithms as tier-avx2.c,
 * twice as wide:
 *
 * encode: 16 positions per vector; the level's thresholds by vpermps over 16
 *   entries (levels 1-4), vpermt2ps over 32 (level 5), pairs of those blended
 *   by the node's high bits deeper (no gathers); masked loads and stores for
 *   the tail.
 * scan: 64 rows per vector (vpshufb per 128-bit lane, k-mask blends for
 *   more than 16 buckets), exact 16-bit sums flushed every 257 widened adds;
 *   tables of at most 6 bits add 4 codebooks in 8 bits before widening.
 *   The VBMI scan (for CPUs with AVX-512 VBMI) reads tables of 32 to 256
 *   buckets by vpermb / vpermt2b instead (one or two permutes per 64 codes).
 * output: as AVX2's, 16 rows (one or two outputs) or 16 outputs per vector
 *   (the sums transposed in blocks of 8 rows), unsigned conversions in one
 *   instruction, masked tails.
 * No max_abs, count_below or run_end kernel here: the table keeps AVX2's.
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
 * stay in registers. Not in sanitizer builds: there GCC does not inline
 * them all, cannot honour the annotation and warns (an error with werror). */
#if defined(__SANITIZE_ADDRESS__)
#define UNROLL
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif
#else /* emulated lanes: plain code compiles in reasonable time */
#define ALWAYS_INLINE inline
#define UNROLL
#endif

/* ---- encode ---- */

/* The thresholds of level l for 16 node ids, from the level's 2^l
 * entries held in registers (t[0..]: 16 entries each): one entry for level
 * 0, one permute for levels 1-4, vpermt2ps over 32 for level 5, and pairs of
 * those blended by the node's bits 5 and 6 for levels 6 and 7 (levels 0-7:
 * depth 8 at most). */
static ALWAYS_INLINE __m512
level_thr(const __m512 *t, int l, __m512i node)
{
  __m512 p[4];
  int k;
  if (l == 0)
    return t[0];
  if (l <= 4)
    return _mm512_permutexvar_ps(node, t[0]);
  if (l == 5)
    return _mm512_permutex2var_ps(t[0], node, t[1]);
  UNROLL
  for (k = 0; k < (1 << (l - 5)); k++)
    p[k] = _mm512_permutex2var_ps(t[2 * k], node, t[2 * k + 1]);
  {
    const __mmask16 b5 = _mm512_test_epi32_mask(node, _mm512_set1_epi32(32));
    p[0] = _mm512_mask_blend_ps(b5, p[0], p[1]);
    if (l == 7) {
      const __mmask16 b6 = _mm512_test_epi32_mask(node, _mm512_set1_epi32(64));
      p[2] = _mm512_mask_blend_ps(b5, p[2], p[3]);
      p[0] = _mm512_mask_blend_ps(b6, p[0], p[2]);
    }
  }
  return p[0];
}

/* Codes of 16 positions from the level tables; masked: nothing read past
 * the m lanes. */
static ALWAYS_INLINE __m512i
encode16(const __m512 (*t)[8], const ptrdiff_t *off, const int depth, const float *x,
         const int masked, __mmask16 m)
{
  const __m512i one = _mm512_set1_epi32(1);
  __m512i node = _mm512_setzero_si512();
  int l;
  UNROLL
  for (l = 0; l < depth; l++) {
    __m512 v = masked ? _mm512_maskz_loadu_ps(m, x - off[l]) : _mm512_loadu_ps(x - off[l]);
    __mmask16 gt = _mm512_cmp_ps_mask(v, level_thr(t[l], l, node), _CMP_GT_OQ);
    node = _mm512_add_epi32(node, node);
    node = _mm512_mask_add_epi32(node, gt, node, one);
  }
  return node;
}

static ALWAYS_INLINE void
encode_depth(const guint8 *split, const float *thr_in, float sigma, const int depth, int dilation,
             const float *x, size_t n, guint8 *codes)
{
  const __m512 sig = _mm512_set1_ps(sigma);
  __m512 t[8][8]; /* level l's thresholds * sigma (as the scalar product), 16 per vector */
  ptrdiff_t off[8];
  size_t k = 0;
  int l, j;

  UNROLL
  for (l = 0; l < depth; l++) {
    const float *lvl = thr_in + (1 << l) - 1; /* readable: MDN_TIER_THR_PAD after the last */
    off[l] = (ptrdiff_t)split[l] * dilation;
    if (l == 0)
      t[0][0] = _mm512_mul_ps(_mm512_set1_ps(lvl[0]), sig);
    else
      UNROLL
    for (j = 0; j < ((1 << l) + 15) / 16; j++)
      t[l][j] = _mm512_mul_ps(_mm512_loadu_ps(lvl + 16 * j), sig);
  }
  for (; k + 64 <= n; k += 64) {
    __m512i a = encode16((const __m512(*)[8])t, off, depth, x + k, 0, 0);
    __m512i b = encode16((const __m512(*)[8])t, off, depth, x + k + 16, 0, 0);
    __m512i c = encode16((const __m512(*)[8])t, off, depth, x + k + 32, 0, 0);
    __m512i d = encode16((const __m512(*)[8])t, off, depth, x + k + 48, 0, 0);
    _mm_storeu_si128((__m128i *)(codes + k), _mm512_cvtepi32_epi8(a));
    _mm_storeu_si128((__m128i *)(codes + k + 16), _mm512_cvtepi32_epi8(b));
    _mm_storeu_si128((__m128i *)(codes + k + 32), _mm512_cvtepi32_epi8(c));
    _mm_storeu_si128((__m128i *)(codes + k + 48), _mm512_cvtepi32_epi8(d));
  }
  for (; k < n; k += 16) {
    /* masked loads and stores: nothing past x[n - 1] or codes[n - 1] */
    const __mmask16 m
        = n - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (unsigned)(n - k)) - 1);
    __m512i node = encode16((const __m512(*)[8])t, off, depth, x + k, 1, m);
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

/* Rows r0..r0+64*n_rb-1, outputs o0..o0+n_out-1, one byte plane. group
 * codebooks are added in 8 bits before they are widened: 1, or 4 for tables
 * of at most 6 bits (4 * 63 < 256). */
static ALWAYS_INLINE void
scan_block(const guint8 *plane, const MdnTierTables *t, const guint8 *codes,
           const ptrdiff_t *offsets, size_t r0, int o0, const int n_rb, const int n_out,
           const int depth, const int vbmi, const int group, int shift, gboolean add, guint32 *sums)
{
  const size_t bstride = (size_t)t->bucket_stride, cstride = (size_t)t->cout * bstride;
  __m512i w[2][8], h[2][8];
  int c = 0, g, j, q;

  while (c < t->n_codebooks) {
    /* each widened add is at most 255: 257 * 255 < 2^16 */
    const int stop = MIN(t->n_codebooks, c + 257 * group);
    UNROLL
    for (q = 0; q < n_rb; q++)
      UNROLL
    for (j = 0; j < n_out; j++)
      w[q][j] = h[q][j] = _mm512_setzero_si512();
    if (group > 1)
      for (; c + group <= stop; c += group) {
        const guint8 *tab = plane + c * cstride + o0 * bstride;
        UNROLL
        for (q = 0; q < n_rb; q++) {
          __m512i code[4];
          UNROLL
          for (g = 0; g < group; g++)
            code[g] = _mm512_loadu_si512(codes + offsets[c + g] + r0 + 64 * q);
          UNROLL
          for (j = 0; j < n_out; j++) {
            __m512i v = lookup(tab + j * bstride, code[0], depth, vbmi);
            UNROLL
            for (g = 1; g < group; g++)
              v = _mm512_add_epi8(v, lookup(tab + g * cstride + j * bstride, code[g], depth, vbmi));
            w[q][j] = _mm512_add_epi16(w[q][j], v);
            h[q][j] = _mm512_add_epi16(h[q][j], _mm512_srli_epi16(v, 8));
          }
        }
      }
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
scan_depth_group(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
                 guint32 *sums, const int depth, const int vbmi, const int group)
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
      if (n - r0 > 64 && t->cout <= 2) {
        /* few outputs: two row blocks per table load */
        if (t->cout == 2)
          scan_block(plane, t, codes, offsets, r0, 0, 2, 2, depth, vbmi, group, shift, p > 0, sums);
        else
          scan_block(plane, t, codes, offsets, r0, 0, 2, 1, depth, vbmi, group, shift, p > 0, sums);
        r0 += 128;
        continue;
      }
      for (o = 0; o + 4 <= t->cout; o += 4)
        scan_block(plane, t, codes, offsets, r0, o, 1, 4, depth, vbmi, group, shift, p > 0, sums);
      switch (t->cout - o) {
      case 3:
        scan_block(plane, t, codes, offsets, r0, o, 1, 3, depth, vbmi, group, shift, p > 0, sums);
        break;
      case 2:
        scan_block(plane, t, codes, offsets, r0, o, 1, 2, depth, vbmi, group, shift, p > 0, sums);
        break;
      case 1:
        scan_block(plane, t, codes, offsets, r0, o, 1, 1, depth, vbmi, group, shift, p > 0, sums);
        break;
      default:
        break;
      }
      r0 += 64;
    }
  }
}

/* Narrow tables (at most 6 bits): 4 codebooks per 8-bit add. */
static ALWAYS_INLINE void
scan_depth_isa(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
               guint32 *sums, const int depth, const int vbmi)
{
  if (t->table_bits <= 6)
    scan_depth_group(t, codes, offsets, n, sums, depth, vbmi, 4);
  else
    scan_depth_group(t, codes, offsets, n, sums, depth, vbmi, 1);
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

/* ---- output: exact taps, tables, bias ---- */

/* (float) u as the scalar conversion rounds it (small: the sums are below
 * 2^31, the signed conversion is the same). */
static ALWAYS_INLINE __m512
sums_to_float(__m512i u, const int small)
{
  return small ? _mm512_cvtepi32_ps(u) : _mm512_cvtepu32_ps(u);
}

static ALWAYS_INLINE __mmask16
rows_mask(size_t left)
{
  return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* Output o's table term for 16 rows, plus the exact sum e (with_exact):
 * sa * sum + sb with sa = sigma * scale, sb = sigma * offset + bias, taken
 * from sigma per row unless the rows share one (uniform: sa, sb given). */
static ALWAYS_INLINE __m512
finish16(const guint32 *sums, const float *sigma, __m512 e, __m512 sa, __m512 sb, __m512 off,
         __m512 sc, __m512 bias, const int uniform, const int small, const int with_exact)
{
  __m512 f = sums_to_float(_mm512_loadu_si512(sums), small), t;
  if (!uniform) { /* rows past n: padding */
    const __m512 sig = _mm512_loadu_ps(sigma);
    sa = _mm512_mul_ps(sig, sc);
    sb = _mm512_add_ps(_mm512_mul_ps(sig, off), bias);
  }
  t = _mm512_add_ps(_mm512_mul_ps(sa, f), sb);
  return with_exact ? _mm512_add_ps(e, t) : t;
}

/* Stores 16 rows of one output, or of two interleaved by permutes (rows:
 * how many, masked below 16). */
static ALWAYS_INLINE void
store_rows(float *dst, __m512 y0, __m512 y1, const int cout, size_t rows)
{
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx
      = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  if (cout == 1) {
    if (rows == 16)
      _mm512_storeu_ps(dst, y0);
    else
      _mm512_mask_storeu_ps(dst, rows_mask(rows), y0);
  } else if (rows == 16) {
    _mm512_storeu_ps(dst, _mm512_permutex2var_ps(y0, lo_idx, y1));
    _mm512_storeu_ps(dst + 16, _mm512_permutex2var_ps(y0, hi_idx, y1));
  } else {
    _mm512_mask_storeu_ps(dst, rows_mask(2 * rows), _mm512_permutex2var_ps(y0, lo_idx, y1));
    if (rows > 8)
      _mm512_mask_storeu_ps(dst + 16, rows_mask(2 * rows - 16),
                            _mm512_permutex2var_ps(y0, hi_idx, y1));
  }
}

/* One or two outputs along rows: 64 rows per step (the exact taps as the
 * inner loop, one broadcast weight and four FMAs each), then 16 at a time,
 * the last ones masked (nothing past row n - 1 read or written). */
static ALWAYS_INLINE void
output_narrow(const MdnTierOutputArgs *a, size_t n, float *out, const int cout, const int small,
              const int with_exact)
{
  const int n_exact = a->n_exact;
  const float *const *xs = a->exact;
  const float *sigma = a->sigma;
  __m512 off[2], sc[2], bias[2];
  size_t r = 0;
  int o, k, q;

  for (o = 0; o < cout; o++) {
    off[o] = _mm512_set1_ps(a->offset[o]);
    sc[o] = _mm512_set1_ps(a->scale[o]);
    bias[o] = _mm512_set1_ps(a->bias != NULL ? a->bias[o] : 0.0f);
  }
  for (; r + 64 <= n; r += 64) {
    /* the rows of one run share sigma: sa and sb once for the 64 rows */
    const __m512 s0 = _mm512_set1_ps(sigma[r]);
    const __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(sigma + r), s0, _CMP_EQ_OQ)
                         & _mm512_cmp_ps_mask(_mm512_loadu_ps(sigma + r + 16), s0, _CMP_EQ_OQ)
                         & _mm512_cmp_ps_mask(_mm512_loadu_ps(sigma + r + 32), s0, _CMP_EQ_OQ)
                         & _mm512_cmp_ps_mask(_mm512_loadu_ps(sigma + r + 48), s0, _CMP_EQ_OQ);
    __m512 y[2][4];
    UNROLL
    for (o = 0; o < cout; o++) {
      const __m512 sa = _mm512_mul_ps(s0, sc[o]);
      const __m512 sb = _mm512_add_ps(_mm512_mul_ps(s0, off[o]), bias[o]);
      __m512 e[4];
      UNROLL
      for (q = 0; q < 4; q++)
        e[q] = _mm512_setzero_ps();
      if (with_exact)
        for (k = 0; k < n_exact; k++) {
          const __m512 wk = _mm512_set1_ps(a->w[(size_t)k * cout + o]);
          UNROLL
          for (q = 0; q < 4; q++)
            e[q] = _mm512_fmadd_ps(wk, _mm512_loadu_ps(xs[k] + r + 16 * q), e[q]);
        }
      if (eq == 0xffff) {
        UNROLL
        for (q = 0; q < 4; q++)
          y[o][q] = finish16(a->sums + (size_t)o * RS + r + 16 * q, NULL, e[q], sa, sb, off[o],
                             sc[o], bias[o], 1, small, with_exact);
      } else {
        UNROLL
        for (q = 0; q < 4; q++)
          y[o][q] = finish16(a->sums + (size_t)o * RS + r + 16 * q, sigma + r + 16 * q, e[q], sa,
                             sb, off[o], sc[o], bias[o], 0, small, with_exact);
      }
    }
    UNROLL
    for (q = 0; q < 4; q++)
      store_rows(out + (r + 16 * q) * cout, y[0][q], y[cout - 1][q], cout, 16);
  }
  for (; r < n; r += 16) {
    const size_t rows = MIN(16, n - r);
    const __mmask16 m = rows_mask(rows);
    __m512 y[2];
    UNROLL
    for (o = 0; o < cout; o++) {
      __m512 e = _mm512_setzero_ps();
      if (with_exact)
        for (k = 0; k < n_exact; k++)
          e = _mm512_fmadd_ps(_mm512_set1_ps(a->w[(size_t)k * cout + o]),
                              _mm512_maskz_loadu_ps(m, xs[k] + r), e);
      y[o] = finish16(a->sums + (size_t)o * RS + r, sigma + r, e, e, e, off[o], sc[o], bias[o], 0,
                      small, with_exact);
    }
    store_rows(out + r * cout, y[0], y[cout - 1], cout, rows);
  }
}

/* Rows [r, r + rows) (rows <= 8) of outputs [ob, ob + 16) (the lanes of
 * `mask`: the last block of a cout not a multiple of 16): the sums of 8 rows
 * of 16 outputs transposed (an 8x8 transpose in each 256-bit half), each row
 * computed across the outputs, the exact taps' inputs broadcast. */
static ALWAYS_INLINE void
wide_block(const MdnTierOutputArgs *a, size_t r, int ob, const int rows, __mmask16 mask,
           const int uniform, float *out, const int small, const int with_exact)
{
  const int cout = a->cout;
  const __m512i lo_idx
      = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i hi_idx
      = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  const __m512 off = _mm512_maskz_loadu_ps(mask, a->offset + ob);
  const __m512 sc = _mm512_maskz_loadu_ps(mask, a->scale + ob);
  const __m512 bias
      = a->bias != NULL ? _mm512_maskz_loadu_ps(mask, a->bias + ob) : _mm512_setzero_ps();
  __m512 z[8], u[8], e[8], sa = _mm512_setzero_ps(), sb = sa;
  int j, k;

  if (uniform) {
    const __m512 sig = _mm512_set1_ps(a->sigma[r]);
    sa = _mm512_mul_ps(sig, sc);
    sb = _mm512_add_ps(_mm512_mul_ps(sig, off), bias);
  }
  UNROLL
  for (j = 0; j < 8; j++)
    e[j] = _mm512_setzero_ps();
  if (with_exact)
    for (k = 0; k < a->n_exact; k++) {
      const float *p = a->exact[k] + r;
      const __m512 wv = _mm512_maskz_loadu_ps(mask, a->w + (size_t)k * cout + ob);
      UNROLL
      for (j = 0; j < rows; j++)
        e[j] = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), wv, e[j]);
    }
  /* z[i]: rows r..r+7 of outputs ob+i (low half) and ob+8+i (high half) */
  UNROLL
  for (j = 0; j < 8; j++)
    z[j] = _mm512_insertf32x8(
        _mm512_castps256_ps512(_mm256_loadu_ps((const float *)a->sums + (size_t)(ob + j) * RS + r)),
        _mm256_loadu_ps((const float *)a->sums + (size_t)(ob + 8 + j) * RS + r), 1);
  UNROLL
  for (j = 0; j < 8; j += 2) {
    u[j] = _mm512_unpacklo_ps(z[j], z[j + 1]);
    u[j + 1] = _mm512_unpackhi_ps(z[j], z[j + 1]);
  }
  UNROLL
  for (j = 0; j < 8; j += 4) {
    z[j] = _mm512_shuffle_ps(u[j], u[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
    z[j + 1] = _mm512_shuffle_ps(u[j], u[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    z[j + 2] = _mm512_shuffle_ps(u[j + 1], u[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
    z[j + 3] = _mm512_shuffle_ps(u[j + 1], u[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  UNROLL
  for (j = 0; j < 4; j++) { /* row j: outputs 0-7 | 8-15 */
    u[j] = _mm512_permutex2var_ps(z[j], lo_idx, z[j + 4]);
    u[j + 4] = _mm512_permutex2var_ps(z[j], hi_idx, z[j + 4]);
  }
  UNROLL
  for (j = 0; j < rows; j++) {
    __m512 f = sums_to_float(_mm512_castps_si512(u[j]), small), v;
    if (!uniform) {
      const __m512 sig = _mm512_set1_ps(a->sigma[r + j]);
      sa = _mm512_mul_ps(sig, sc);
      sb = _mm512_add_ps(_mm512_mul_ps(sig, off), bias);
    }
    v = _mm512_add_ps(_mm512_mul_ps(sa, f), sb);
    if (with_exact)
      v = _mm512_add_ps(e[j], v);
    _mm512_mask_storeu_ps(out + (r + j) * cout + ob, mask, v);
  }
}

/* Three or more outputs: blocks of 8 rows by 16 outputs (wide_block), the
 * last rows and the last outputs of a cout not a multiple of 16 masked (the
 * sums have rows up to a multiple of 16). */
static ALWAYS_INLINE void
output_wide(const MdnTierOutputArgs *a, size_t n, float *out, const int small, const int with_exact)
{
  const int cout = a->cout, full = cout & ~15;
  const __mmask16 last = rows_mask((size_t)(cout - full));
  size_t r;
  int ob;

  for (r = 0; r + 8 <= n; r += 8) {
    const __mmask16 eq = _mm512_mask_cmp_ps_mask(0xff, _mm512_loadu_ps(a->sigma + r),
                                                 _mm512_set1_ps(a->sigma[r]), _CMP_EQ_OQ);
    if (eq == 0xff) {
      for (ob = 0; ob < full; ob += 16)
        wide_block(a, r, ob, 8, 0xffff, 1, out, small, with_exact);
      if (ob < cout)
        wide_block(a, r, ob, 8, last, 1, out, small, with_exact);
    } else {
      for (ob = 0; ob < full; ob += 16)
        wide_block(a, r, ob, 8, 0xffff, 0, out, small, with_exact);
      if (ob < cout)
        wide_block(a, r, ob, 8, last, 0, out, small, with_exact);
    }
  }
  if (r < n)
    for (ob = 0; ob < cout; ob += 16)
      wide_block(a, r, ob, (int)(n - r), ob < full ? 0xffff : last, 0, out, small, with_exact);
}

void
mdn_tier_output_avx512(const MdnTierOutputArgs *a, size_t n, float *out)
{
  /* the flags are constants in each copy */
  const int with_exact = a->n_exact > 0;
  switch (a->cout) {
  case 1:
    if (a->small && with_exact)
      output_narrow(a, n, out, 1, 1, 1);
    else if (a->small)
      output_narrow(a, n, out, 1, 1, 0);
    else
      output_narrow(a, n, out, 1, 0, with_exact);
    return;
  case 2:
    if (a->small && with_exact)
      output_narrow(a, n, out, 2, 1, 1);
    else if (a->small)
      output_narrow(a, n, out, 2, 1, 0);
    else
      output_narrow(a, n, out, 2, 0, with_exact);
    return;
  default:
    if (a->small && with_exact)
      output_wide(a, n, out, 1, 1);
    else if (a->small)
      output_wide(a, n, out, 1, 0);
    else
      output_wide(a, n, out, 0, with_exact);
  }
}

/* x86/tier-avx2.c: tier kernels for AVX2 + FMA + BMI2 (built with -mavx2
 * -mfma -mbmi2 -ffp-contract=off; x86/init.c puts them in the table when
 * the CPU has the AVX2 level, and keeps some for AVX-512).
 *
 * encode: 8 positions per vector; the split column's samples of 8
 *   consecutive positions are one unaligned load; the node's threshold comes
 *   from the level's table by vpermps (levels 0-3: 8 entries; 4-5: 2 or 4
 *   permutes and blends), a gather for deeper levels.
 * scan: 32 rows per vector; vpshufb looks up a (codebook, output) 16-byte
 *   table for 32 codes; 32/64/128/256 buckets blend 2/4/8/16 lookups by the
 *   code's high bits. Sums stay exact in 16 bits: W = the byte pairs added as
 *   16-bit words (mod 2^16), H = the high (odd-row) bytes; the even rows are
 *   W - 256 H. Both stay below 2^16 for 257 codebooks, then they are
 *   flushed into the 32-bit sums. 16-bit tables are two byte planes.
 * exact: FMAs along rows (rounding differs from the scalar mul + add).
 * combine: float conversion, offset and scale along rows, then an 8x8
 *   transpose into the interleaved output.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "simd-avx2.h"
#include "tier-kernels.h"

#include <immintrin.h>
#include <string.h>

#define RS MDN_TIER_ROW_STRIDE
#define ALWAYS_INLINE inline __attribute__((always_inline))
/* The small loops below have constant bounds once inlined: unrolled, their
 * accumulators stay in registers. */

/* ---- encode ---- */

/* The thresholds of level l (2^l entries at lvl) for 8 node ids. */
static ALWAYS_INLINE __m256
level_thr(const float *lvl, int l, __m256i node)
{
  if (l == 0) /* one node */
    return _mm256_broadcast_ss(lvl);
  if (l <= 3)
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(lvl), node);
  if (l <= 5) {
    __m256 t[4];
    __m256 sel3 = _mm256_castsi256_ps(_mm256_slli_epi32(node, 28)); /* bit 3 -> sign */
    int k, m = 1 << (l - 3);
#pragma GCC unroll 16
    for (k = 0; k < m; k++)
      t[k] = _mm256_permutevar8x32_ps(_mm256_loadu_ps(lvl + 8 * k), node);
#pragma GCC unroll 16
    for (k = 0; k < m / 2; k++)
      t[k] = _mm256_blendv_ps(t[2 * k], t[2 * k + 1], sel3);
    if (l == 5)
      t[0] = _mm256_blendv_ps(t[0], t[1], _mm256_castsi256_ps(_mm256_slli_epi32(node, 27)));
    return t[0];
  }
  return _mm256_i32gather_ps(lvl, node, 4);
}

/* Codes of 8 positions; mask selects the lanes whose samples are read. */
static ALWAYS_INLINE __m256i
encode8(const float *thr, const ptrdiff_t *off, const int depth, const float *x, gboolean masked,
        __m256i mask)
{
  __m256i node = _mm256_setzero_si256();
  int l;
#pragma GCC unroll 16
  for (l = 0; l < depth; l++) {
    __m256 v = masked ? _mm256_maskload_ps(x - off[l], mask) : _mm256_loadu_ps(x - off[l]);
    __m256 t = level_thr(thr + (1 << l) - 1, l, node);
    __m256i gt = _mm256_castps_si256(_mm256_cmp_ps(v, t, _CMP_GT_OQ));
    node = _mm256_sub_epi32(_mm256_add_epi32(node, node), gt); /* gt is -1 */
  }
  return node;
}

static ALWAYS_INLINE __m256i
tail_mask(size_t left)
{
  static const gint32 ramp[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
  return _mm256_loadu_si256((const __m256i *)(ramp + 8 - left));
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
encode_depth(const guint8 *split, const float *thr_in, float sigma, const int depth, int dilation,
             const float *x, size_t n, guint8 *codes)
{
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256 sig = _mm256_set1_ps(sigma);
  float thr[256 + MDN_TIER_THR_PAD]; /* thresholds * sigma, as the scalar product */
  ptrdiff_t off[8];
  size_t k = 0;
  int l, j;

  for (j = 0; j < (1 << depth) - 1 + MDN_TIER_THR_PAD - 7; j += 8)
    _mm256_storeu_ps(thr + j, _mm256_mul_ps(_mm256_loadu_ps(thr_in + j), sig));
  for (l = 0; l < depth; l++)
    off[l] = (ptrdiff_t)split[l] * dilation;
  for (; k + 32 <= n; k += 32) {
    const __m256i none = _mm256_setzero_si256();
    __m256i a = encode8(thr, off, depth, x + k, FALSE, none);
    __m256i b = encode8(thr, off, depth, x + k + 8, FALSE, none);
    __m256i c = encode8(thr, off, depth, x + k + 16, FALSE, none);
    __m256i d = encode8(thr, off, depth, x + k + 24, FALSE, none);
    /* lanes [a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7] -> in order */
    __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    _mm256_storeu_si256((__m256i *)(codes + k), _mm256_permutevar8x32_epi32(bytes, order));
  }
  for (; k + 8 <= n; k += 8) {
    guint64 packed = pack8(encode8(thr, off, depth, x + k, FALSE, _mm256_setzero_si256()));
    memcpy(codes + k, &packed, 8);
  }
  if (k < n) {
    /* masked loads: nothing past x[n - 1] is read */
    guint64 packed = pack8(encode8(thr, off, depth, x + k, TRUE, tail_mask(n - k)));
    for (; k < n; k++, packed >>= 8)
      codes[k] = (guint8)packed;
  }
}

void
mdn_tier_encode_avx2(const guint8 *split, const float *thr, float sigma, int depth, int dilation,
                     const float *x, size_t n, guint8 *codes)
{
  MDN_TIER_ENCODE_BY_DEPTH(encode_depth, split, thr, sigma, depth, dilation, x, n, codes);
}

/* ---- scan ---- */

static ALWAYS_INLINE __m256i
table16(const guint8 *t)
{
  return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

/* Entries of the (codebook, output) table t (bucket_stride bytes) for 32 codes. */
static ALWAYS_INLINE __m256i
lookup(const guint8 *t, __m256i code, const int depth)
{
  __m256i r[16], idx;
  int k, b, m;
  if (depth <= 4)
    return _mm256_shuffle_epi8(table16(t), code);
  idx = _mm256_and_si256(code, _mm256_set1_epi8(0x0f)); /* bit 7 would zero the lookup */
  m = 1 << (depth - 4);
#pragma GCC unroll 16
  for (k = 0; k < m; k++)
    r[k] = _mm256_shuffle_epi8(table16(t + 16 * k), idx);
#pragma GCC unroll 16
  for (b = 4; b < depth; b++) {
    /* bit b of each code byte to its sign bit (16-bit shifts: the bits that
     * cross into the next byte land below its bit 7) */
    __m256i sel = _mm256_sll_epi16(code, _mm_cvtsi32_si128(7 - b));
    m >>= 1;
#pragma GCC unroll 16
    for (k = 0; k < m; k++)
      r[k] = _mm256_blendv_epi8(r[2 * k], r[2 * k + 1], sel);
  }
  return r[0];
}

/* Adds (or stores, first) the rows r0..r0+31 of W/H, shifted, to sums. */
static ALWAYS_INLINE void
flush(__m256i w, __m256i h, guint32 *sums, int shift, gboolean first)
{
  const __m128i count = _mm_cvtsi32_si128(shift);
  __m256i even = _mm256_sub_epi16(w, _mm256_slli_epi16(h, 8));
  __m256i lo = _mm256_unpacklo_epi16(even, h); /* rows 0-7 | 16-23 */
  __m256i hi = _mm256_unpackhi_epi16(even, h); /* rows 8-15 | 24-31 */
  __m256i v[4];
  int j;
  v[0] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(lo));
  v[1] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(hi));
  v[2] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(lo, 1));
  v[3] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(hi, 1));
#pragma GCC unroll 4
  for (j = 0; j < 4; j++) {
    __m256i *p = (__m256i *)(sums + 8 * j);
    __m256i s = _mm256_sll_epi32(v[j], count);
    if (!first)
      s = _mm256_add_epi32(s, _mm256_loadu_si256(p));
    _mm256_storeu_si256(p, s);
  }
}

/* Adds v (one byte per row) to the 16-bit sums W and H of flush(). */
#define MDN_ACCUMULATE(wq, hq, v)                                                                  \
  do {                                                                                             \
    (wq) = _mm256_add_epi16((wq), (v));                                                            \
    (hq) = _mm256_add_epi16((hq), _mm256_srli_epi16((v), 8));                                      \
    /* keeps each sum in one register across iterations (GCC otherwise                             \
     * adds a register copy per sum and iteration) */                                              \
    __asm__("" : "+x"(wq), "+x"(hq));                                                              \
  } while (0)

/* Rows r0..r0+32*n_rb-1, outputs o0..o0+n_out-1, one byte plane. group
 * codebooks are added in 8 bits before they are widened: 1, or 4 for tables
 * of at most 6 bits (4 * 63 < 256). */
static ALWAYS_INLINE void
scan_block(const guint8 *plane, const MdnTierTables *t, const guint8 *codes,
           const ptrdiff_t *offsets, size_t r0, int o0, const int n_rb, const int n_out,
           const int depth, const int group, int shift, gboolean add, guint32 *sums)
{
  const size_t bstride = (size_t)t->bucket_stride, cstride = (size_t)t->cout * bstride;
  __m256i w[4][4], h[4][4];
  int c = 0, g, j, q;

  while (c < t->n_codebooks) {
    /* each widened add is at most 255: 257 * 255 < 2^16 */
    const int stop = MIN(t->n_codebooks, c + 257 * group);
#pragma GCC unroll 8
    for (q = 0; q < n_rb; q++)
#pragma GCC unroll 8
      for (j = 0; j < n_out; j++)
        w[q][j] = h[q][j] = _mm256_setzero_si256();
    if (group > 1)
      for (; c + group <= stop; c += group) {
#pragma GCC unroll 8
        for (q = 0; q < n_rb; q++) {
          __m256i code[8];
#pragma GCC unroll 8
          for (g = 0; g < group; g++)
            code[g] = _mm256_loadu_si256((const __m256i *)(codes + offsets[c + g] + r0 + 32 * q));
#pragma GCC unroll 8
          for (j = 0; j < n_out; j++) {
            const guint8 *tab = plane + (size_t)c * cstride + (o0 + j) * bstride;
            __m256i v = lookup(tab, code[0], depth);
#pragma GCC unroll 8
            for (g = 1; g < group; g++)
              v = _mm256_add_epi8(v, lookup(tab + g * cstride, code[g], depth));
            MDN_ACCUMULATE(w[q][j], h[q][j], v);
          }
        }
      }
    for (; c < stop; c++) {
      const guint8 *src = codes + offsets[c] + r0;
      const guint8 *tab = plane + c * cstride + o0 * bstride;
#pragma GCC unroll 8
      for (q = 0; q < n_rb; q++) {
        __m256i code = _mm256_loadu_si256((const __m256i *)(src + 32 * q));
#pragma GCC unroll 8
        for (j = 0; j < n_out; j++) {
          __m256i v = lookup(tab + j * bstride, code, depth);
          MDN_ACCUMULATE(w[q][j], h[q][j], v);
        }
      }
    }
#pragma GCC unroll 8
    for (q = 0; q < n_rb; q++)
#pragma GCC unroll 8
      for (j = 0; j < n_out; j++)
        flush(w[q][j], h[q][j], sums + (size_t)(o0 + j) * RS + r0 + 32 * q, shift, !add);
    add = TRUE;
  }
}
#undef MDN_ACCUMULATE

static ALWAYS_INLINE void
scan_depth_group(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
                 guint32 *sums, const int depth, const int group)
{
  const int n_planes = mdn_table_entry_bytes(t->table_bits);
  const size_t plane_size = (size_t)t->n_codebooks * t->cout * t->bucket_stride;
  int p, o;
  size_t r0;

  for (p = 0; p < n_planes; p++) {
    const guint8 *plane = t->planes + p * plane_size;
    const int shift = 8 * p;
    for (r0 = 0; r0 < n;) {
      if (n - r0 > 32 && t->cout == 1) {
        /* one output: up to four row blocks per table load, no more than
         * the rows need */
        if (n - r0 > 96) {
          scan_block(plane, t, codes, offsets, r0, 0, 4, 1, depth, group, shift, p > 0, sums);
          r0 += 128;
        } else if (n - r0 > 64) {
          scan_block(plane, t, codes, offsets, r0, 0, 3, 1, depth, group, shift, p > 0, sums);
          r0 += 96;
        } else {
          scan_block(plane, t, codes, offsets, r0, 0, 2, 1, depth, group, shift, p > 0, sums);
          r0 += 64;
        }
        continue;
      }
      if (n - r0 > 32 && t->cout <= 2) {
        /* few outputs: two row blocks per table load keep more sums going */
        if (t->cout == 2)
          scan_block(plane, t, codes, offsets, r0, 0, 2, 2, depth, group, shift, p > 0, sums);
        else
          scan_block(plane, t, codes, offsets, r0, 0, 2, 1, depth, group, shift, p > 0, sums);
        r0 += 64;
        continue;
      }
      for (o = 0; o + 4 <= t->cout; o += 4)
        scan_block(plane, t, codes, offsets, r0, o, 1, 4, depth, group, shift, p > 0, sums);
      switch (t->cout - o) {
      case 3:
        scan_block(plane, t, codes, offsets, r0, o, 1, 3, depth, group, shift, p > 0, sums);
        break;
      case 2:
        scan_block(plane, t, codes, offsets, r0, o, 1, 2, depth, group, shift, p > 0, sums);
        break;
      case 1:
        scan_block(plane, t, codes, offsets, r0, o, 1, 1, depth, group, shift, p > 0, sums);
        break;
      default:
        break;
      }
      r0 += 32;
    }
  }
}

static ALWAYS_INLINE void
scan_depth(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
           guint32 *sums, const int depth)
{
  /* narrow tables of 16 buckets: 4 codebooks per 8-bit add (deeper trees'
   * lookups cost several shuffles each, so grouping them gains little and
   * would double the compiled code) */
  if (depth == 4 && t->table_bits <= 6)
    scan_depth_group(t, codes, offsets, n, sums, depth, 4);
  else
    scan_depth_group(t, codes, offsets, n, sums, depth, 1);
}

void
mdn_tier_scan_avx2(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
                   guint32 *sums)
{
  MDN_TIER_SCAN_BY_DEPTH(scan_depth, t, codes, offsets, n, sums);
}

/* ---- exact taps ---- */

/* Taps are taken MDN_EXACT_GROUP at a time, their row pointers computed
 * once per call; the accumulators of later groups start from the stored sums,
 * so every row sums its taps in order e = 0, 1, ... as before. */
#define MDN_EXACT_GROUP 16

void
mdn_tier_exact_avx2(const float *const *x, const guint16 *chan, const guint32 *tap, const float *w,
                    int n_exact, int cout, int dilation, size_t n, float *acc)
{
  const float *src[MDN_EXACT_GROUP];
  int e0, e, o, m;
  size_t r;
  for (e0 = 0; e0 < n_exact; e0 += MDN_EXACT_GROUP) {
    m = MIN(MDN_EXACT_GROUP, n_exact - e0);
    for (e = 0; e < m; e++)
      src[e] = x[chan[e0 + e]] - (ptrdiff_t)tap[e0 + e] * dilation;
    for (o = 0; o < cout; o++) {
      const float *wo = w + (size_t)e0 * cout + o;
      float *dst = acc + (size_t)o * RS;
      for (r = 0; r + 32 <= n; r += 32) {
        __m256 s0, s1, s2, s3;
        if (e0 == 0) {
          s0 = s1 = s2 = s3 = _mm256_setzero_ps();
        } else {
          s0 = _mm256_loadu_ps(dst + r);
          s1 = _mm256_loadu_ps(dst + r + 8);
          s2 = _mm256_loadu_ps(dst + r + 16);
          s3 = _mm256_loadu_ps(dst + r + 24);
        }
        for (e = 0; e < m; e++) {
          const float *p = src[e] + r;
          __m256 we = _mm256_broadcast_ss(wo + (size_t)e * cout);
          s0 = _mm256_fmadd_ps(we, _mm256_loadu_ps(p), s0);
          s1 = _mm256_fmadd_ps(we, _mm256_loadu_ps(p + 8), s1);
          s2 = _mm256_fmadd_ps(we, _mm256_loadu_ps(p + 16), s2);
          s3 = _mm256_fmadd_ps(we, _mm256_loadu_ps(p + 24), s3);
        }
        _mm256_storeu_ps(dst + r, s0);
        _mm256_storeu_ps(dst + r + 8, s1);
        _mm256_storeu_ps(dst + r + 16, s2);
        _mm256_storeu_ps(dst + r + 24, s3);
      }
      for (; r < n; r += 8) {
        /* masked loads: nothing past row n - 1 is read */
        __m256i mask = tail_mask(MIN(8, n - r));
        __m256 s = e0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(dst + r);
        for (e = 0; e < m; e++)
          s = _mm256_fmadd_ps(_mm256_broadcast_ss(wo + (size_t)e * cout),
                              _mm256_maskload_ps(src[e] + r, mask), s);
        _mm256_storeu_ps(dst + r, s); /* rows past n land in the padding */
      }
    }
  }
}

/* ---- combine ---- */

/* (float) u exactly as the scalar conversion rounds it: both halves convert
 * exactly, their sum rounds once. */
static ALWAYS_INLINE __m256
u32_to_float(__m256i u)
{
  __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(u, 16));
  __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xffff)));
  return _mm256_add_ps(_mm256_mul_ps(hi, _mm256_set1_ps(65536.0f)), lo);
}

static ALWAYS_INLINE __m256
combine8(const guint32 *sums, const float *exact, __m256 offset, __m256 scale, __m256 sigma)
{
  __m256 f = u32_to_float(_mm256_loadu_si256((const __m256i *)sums));
  __m256 table = _mm256_add_ps(offset, _mm256_mul_ps(scale, f));
  __m256 e = exact != NULL ? _mm256_loadu_ps(exact) : _mm256_setzero_ps();
  return _mm256_add_ps(e, _mm256_mul_ps(sigma, table));
}

/* combine8 with the sums below 2^31: one conversion rounds as the scalar. */
static ALWAYS_INLINE __m256
combine8_small(const guint32 *sums, const float *exact, __m256 offset, __m256 scale, __m256 sigma)
{
  __m256 f = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)sums));
  __m256 table = _mm256_add_ps(offset, _mm256_mul_ps(scale, f));
  __m256 e = exact != NULL ? _mm256_loadu_ps(exact) : _mm256_setzero_ps();
  return _mm256_add_ps(e, _mm256_mul_ps(sigma, table));
}

/* One output's rows (plus bias_o when per_row); the flags are constants once inlined. */
static ALWAYS_INLINE void
combine_output(const guint32 *s, const float *e, __m256 off, __m256 sc, __m256 sig,
               const float *sigma_rows, __m256 bias_o, size_t n, float *dst,
               const gboolean with_exact, const gboolean per_row, const gboolean small)
{
  size_t r;
#define MDN_SIG(r) (per_row ? _mm256_loadu_ps(sigma_rows + (r)) : sig)
#define MDN_C8_(r)                                                                                 \
  (small ? combine8_small(s + (r), with_exact ? e + (r) : NULL, off, sc, MDN_SIG(r))               \
         : combine8(s + (r), with_exact ? e + (r) : NULL, off, sc, MDN_SIG(r)))
  /* the per-row variant adds the bias (+0 without one), as the reference */
#define MDN_C8(r) (per_row ? _mm256_add_ps(MDN_C8_(r), bias_o) : MDN_C8_(r))
  for (r = 0; r + 8 <= n; r += 8)
    _mm256_storeu_ps(dst + r, MDN_C8(r));
  if (r < n) /* scratch is padded; out is not */
    _mm256_maskstore_ps(dst + r, tail_mask(n - r), MDN_C8(r));
#undef MDN_C8
#undef MDN_C8_
#undef MDN_SIG
}

/* sigma_rows: one sigma per row (sigma[r]) instead of sigma_one; small: the
 * sums are below 2^31; bias: added last (NULL: 0). With one output the bias
 * goes into the rows; with several, into the transposed stores. */
static ALWAYS_INLINE void
combine_any(const guint32 *sums, const float *exact, const float *offset, const float *scale,
            float sigma_one, const float *sigma_rows, const float *bias, gboolean small, int cout,
            size_t n, float *scratch, float *out)
{
  const __m256 sig = _mm256_set1_ps(sigma_one);
  const __m256 bias0 = _mm256_set1_ps(cout == 1 && bias != NULL ? bias[0] : 0.0f);
  /* combine_rows adds the bias, +0 without one (as the reference: -0
   * becomes +0); combine adds nothing */
  const gboolean add_bias = sigma_rows != NULL;
  float *dst0 = cout == 1 ? out : scratch;
  size_t r;
  int o;

  /* Rows are computed in whole vectors into scratch (padded); with one
   * output they go straight to out, the tail by a masked store. */
  for (o = 0; o < cout; o++) {
    const __m256 off = _mm256_set1_ps(offset[o]), sc = _mm256_set1_ps(scale[o]);
    const guint32 *s = sums + (size_t)o * RS;
    const float *e = exact != NULL ? exact + (size_t)o * RS : NULL;
    float *dst = dst0 + (size_t)o * RS;
    if (sigma_rows == NULL)
      combine_output(s, e, off, sc, sig, NULL, bias0, n, dst, e != NULL, FALSE, FALSE);
    else if (e != NULL && small)
      combine_output(s, e, off, sc, sig, sigma_rows, bias0, n, dst, TRUE, TRUE, TRUE);
    else if (small)
      combine_output(s, e, off, sc, sig, sigma_rows, bias0, n, dst, FALSE, TRUE, TRUE);
    else
      combine_output(s, e, off, sc, sig, sigma_rows, bias0, n, dst, e != NULL, TRUE, FALSE);
  }
  if (cout == 1)
    return;

  /* Transpose scratch[o][r] to out[r][o] + bias[o], 8x8 blocks. */
  for (r = 0; r + 8 <= n; r += 8) {
    for (o = 0; o + 8 <= cout; o += 8) {
      const __m256 b8 = bias != NULL ? _mm256_loadu_ps(bias + o) : _mm256_setzero_ps();
      __m256 a[8];
      int j;
#pragma GCC unroll 8
      for (j = 0; j < 8; j++)
        a[j] = _mm256_loadu_ps(scratch + (size_t)(o + j) * RS + r);
      mdn_avx2_transpose8(a);
#pragma GCC unroll 8
      for (j = 0; j < 8; j++)
        _mm256_storeu_ps(out + (r + j) * cout + o, add_bias ? _mm256_add_ps(a[j], b8) : a[j]);
    }
    for (; o < cout; o++) {
      const float bo = bias != NULL ? bias[o] : 0.0f;
      int j;
#pragma GCC unroll 8
      for (j = 0; j < 8; j++)
        out[(r + j) * cout + o]
            = add_bias ? scratch[(size_t)o * RS + r + j] + bo : scratch[(size_t)o * RS + r + j];
    }
  }
  for (; r < n; r++)
    for (o = 0; o < cout; o++)
      out[r * cout + o] = add_bias ? scratch[(size_t)o * RS + r] + (bias != NULL ? bias[o] : 0.0f)
                                   : scratch[(size_t)o * RS + r];
}

void
mdn_tier_combine_avx2(const guint32 *sums, const float *exact, const float *offset,
                      const float *scale, float sigma, int cout, size_t n, float *scratch,
                      float *out)
{
  combine_any(sums, exact, offset, scale, sigma, NULL, NULL, FALSE, cout, n, scratch, out);
}

void
mdn_tier_combine_rows_avx2(const guint32 *sums, const float *exact, const float *offset,
                           const float *scale, const float *sigma, const float *bias,
                           gboolean small, int cout, size_t n, float *scratch, float *out)
{
  combine_any(sums, exact, offset, scale, 0.0f, sigma, bias, small, cout, n, scratch, out);
}

/* ---- sigma ---- */

static ALWAYS_INLINE float
max_abs_avx2(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last)
{
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 mv = _mm256_setzero_ps();
  __m128 m4;
  int i;
  for (i = 0; i < cin; i++) {
    ptrdiff_t u = first;
    /* max_ps returns its second operand when either is NaN: NaN is skipped */
    if (u + 32 <= last + 1) {
      __m256 m1 = _mm256_setzero_ps();
      for (; u + 32 <= last + 1; u += 32) {
        mv = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x[i] + u), abs_mask), mv);
        m1 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x[i] + u + 8), abs_mask), m1);
        mv = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x[i] + u + 16), abs_mask), mv);
        m1 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x[i] + u + 24), abs_mask), m1);
      }
      mv = _mm256_max_ps(m1, mv); /* neither is NaN */
    }
    for (; u + 8 <= last + 1; u += 8)
      mv = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x[i] + u), abs_mask), mv);
    if (u <= last) /* masked lanes read as 0 */
      mv = _mm256_max_ps(
          _mm256_and_ps(_mm256_maskload_ps(x[i] + u, tail_mask((size_t)(last + 1 - u))), abs_mask),
          mv);
  }
  m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
  return _mm_cvtss_f32(m4);
}

static ALWAYS_INLINE size_t
count_below_avx2(const float *const *x, int cin, ptrdiff_t first, size_t n, float level)
{
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 lv = _mm256_set1_ps(level);
  size_t k;
  int i;
  if (cin == 1) { /* the common mono case: plain loads, one mask at the end */
    const float *x0 = x[0] + first;
    /* 32 frames per test; NaN compares false, so it stays below */
    for (k = 0; k + 32 <= n; k += 32) {
      __m256 a0 = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x0 + k), abs_mask), lv, _CMP_GT_OQ);
      __m256 a1
          = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x0 + k + 8), abs_mask), lv, _CMP_GT_OQ);
      __m256 a2
          = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x0 + k + 16), abs_mask), lv, _CMP_GT_OQ);
      __m256 a3
          = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x0 + k + 24), abs_mask), lv, _CMP_GT_OQ);
      if (!_mm256_testz_ps(_mm256_or_ps(_mm256_or_ps(a0, a1), _mm256_or_ps(a2, a3)),
                           _mm256_or_ps(_mm256_or_ps(a0, a1), _mm256_or_ps(a2, a3)))) {
        guint32 above = (guint32)_mm256_movemask_ps(a0) | (guint32)_mm256_movemask_ps(a1) << 8
                        | (guint32)_mm256_movemask_ps(a2) << 16
                        | (guint32)_mm256_movemask_ps(a3) << 24;
        return k + (size_t)__builtin_ctz(above);
      }
    }
    for (; k + 8 <= n; k += 8) {
      __m256 a = _mm256_and_ps(_mm256_loadu_ps(x0 + k), abs_mask);
      unsigned above = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, lv, _CMP_GT_OQ));
      if (above != 0)
        return k + (size_t)__builtin_ctz(above);
    }
    if (k < n) {
      __m256 a = _mm256_and_ps(_mm256_maskload_ps(x0 + k, tail_mask(n - k)), abs_mask);
      unsigned above = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, lv, _CMP_GT_OQ));
      if (above != 0)
        return k + (size_t)__builtin_ctz(above);
    }
    return n;
  }
  for (k = 0; k < n; k += 8) {
    const size_t left = MIN(8, n - k);
    const __m256i mask = tail_mask(left); /* masked lanes read as 0: below */
    unsigned above = 0;
    for (i = 0; i < cin; i++) {
      __m256 a = _mm256_and_ps(_mm256_maskload_ps(x[i] + first + (ptrdiff_t)k, mask), abs_mask);
      above |= (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, lv, _CMP_GT_OQ));
    }
    if (above != 0)
      return k + (size_t)__builtin_ctz(above);
  }
  return n;
}

size_t
mdn_tier_run_end_avx2(const float *const *x, int cin, gint64 frame0, size_t end, size_t n,
                      ptrdiff_t span, float sigma, float *next_sigma)
{
  return mdn_tier_run_end(x, cin, frame0, end, n, span, sigma, next_sigma, max_abs_avx2,
                          count_below_avx2);
}

float
mdn_tier_max_abs_avx2(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last)
{
  return max_abs_avx2(x, cin, first, last);
}

size_t
mdn_tier_count_below_avx2(const float *const *x, int cin, ptrdiff_t first, size_t n, float level)
{
  return count_below_avx2(x, cin, first, n, level);
}

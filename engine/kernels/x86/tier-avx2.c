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
 * output: exact taps (FMAs: rounding differs from the scalar mul + add),
 *   float conversion, offset, scale, sigma and bias in one pass: along rows
 *   for one or two outputs, else across 8 outputs per vector after an 8x8
 *   transpose of the sums.
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

/* ---- output: exact taps, tables, bias ---- */

/* (float) u exactly as the scalar conversion rounds it: both halves convert
 * exactly, their sum rounds once. */
static ALWAYS_INLINE __m256
u32_to_float(__m256i u)
{
  __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(u, 16));
  __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xffff)));
  return _mm256_add_ps(_mm256_mul_ps(hi, _mm256_set1_ps(65536.0f)), lo);
}

/* Sums below 2^31: one conversion rounds as the scalar. */
static ALWAYS_INLINE __m256
sums_to_float(__m256i u, const gboolean small)
{
  return small ? _mm256_cvtepi32_ps(u) : u32_to_float(u);
}

/* Output o's rows [r, r + 8) given their exact sum e (with_exact):
 * (sigma * scale) * sum + (sigma * offset + bias), plus e (rows past n:
 * padding of sums and sigma). */
static ALWAYS_INLINE __m256
finish8(const guint32 *sums, const float *sigma, __m256 e, __m256 off, __m256 sc, __m256 bias,
        const gboolean small, const gboolean with_exact)
{
  const __m256 sig = _mm256_loadu_ps(sigma);
  __m256 f = sums_to_float(_mm256_loadu_si256((const __m256i *)sums), small);
  __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(sig, sc), f),
                           _mm256_add_ps(_mm256_mul_ps(sig, off), bias));
  return with_exact ? _mm256_add_ps(e, t) : t;
}

/* finish8 for rows of one sigma: sa = sigma * scale, sb = sigma * offset +
 * bias computed once. */
static ALWAYS_INLINE __m256
finish8_run(const guint32 *sums, __m256 e, __m256 sa, __m256 sb, const gboolean small,
            const gboolean with_exact)
{
  __m256 f = sums_to_float(_mm256_loadu_si256((const __m256i *)sums), small);
  __m256 t = _mm256_add_ps(_mm256_mul_ps(sa, f), sb);
  return with_exact ? _mm256_add_ps(e, t) : t;
}

/* One or two outputs along rows: 32 rows per step (the exact taps as the
 * inner loop, one broadcast weight and four FMAs each), then 8 at a time,
 * the last ones masked (nothing past row n - 1 is read or written); two
 * outputs are interleaved by unpacks. */
static ALWAYS_INLINE void
output_narrow(const MdnTierOutputArgs *a, size_t n, float *out, const int cout,
              const gboolean small, const gboolean with_exact)
{
  const int n_exact = a->n_exact;
  const float *const *xs = a->exact;
  const float *w = a->w, *sigma = a->sigma;
  __m256 off[2], sc[2], bias[2];
  size_t r = 0;
  int o, k, q;

  for (o = 0; o < cout; o++) {
    off[o] = _mm256_broadcast_ss(a->offset + o);
    sc[o] = _mm256_broadcast_ss(a->scale + o);
    bias[o] = a->bias != NULL ? _mm256_broadcast_ss(a->bias + o) : _mm256_setzero_ps();
  }
  for (; r + 32 <= n; r += 32) {
    /* the rows of one run share sigma: then sigma * scale and sigma *
     * offset + bias once for the 32 rows */
    const __m256 s0 = _mm256_broadcast_ss(sigma + r);
    const __m256 eq = _mm256_and_ps(
        _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(sigma + r), s0, _CMP_EQ_OQ),
                      _mm256_cmp_ps(_mm256_loadu_ps(sigma + r + 8), s0, _CMP_EQ_OQ)),
        _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(sigma + r + 16), s0, _CMP_EQ_OQ),
                      _mm256_cmp_ps(_mm256_loadu_ps(sigma + r + 24), s0, _CMP_EQ_OQ)));
    const gboolean uniform = _mm256_movemask_ps(eq) == 0xff;
    __m256 e[2][4], y[2][4];
#pragma GCC unroll 2
    for (o = 0; o < cout; o++) {
#pragma GCC unroll 4
      for (q = 0; q < 4; q++)
        e[o][q] = _mm256_setzero_ps();
      for (k = 0; k < n_exact; k++) {
        const float *p = xs[k] + r;
        const __m256 wk = _mm256_broadcast_ss(w + (size_t)k * cout + o);
#pragma GCC unroll 4
        for (q = 0; q < 4; q++)
          e[o][q] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(p + 8 * q), e[o][q]);
      }
      if (uniform) {
        const __m256 sa = _mm256_mul_ps(s0, sc[o]);
        const __m256 sb = _mm256_add_ps(_mm256_mul_ps(s0, off[o]), bias[o]);
#pragma GCC unroll 4
        for (q = 0; q < 4; q++)
          y[o][q] = finish8_run(a->sums + (size_t)o * RS + r + 8 * q, e[o][q], sa, sb, small,
                                with_exact);
      } else {
#pragma GCC unroll 4
        for (q = 0; q < 4; q++)
          y[o][q] = finish8(a->sums + (size_t)o * RS + r + 8 * q, sigma + r + 8 * q, e[o][q],
                            off[o], sc[o], bias[o], small, with_exact);
      }
    }
#pragma GCC unroll 4
    for (q = 0; q < 4; q++) {
      if (cout == 1) {
        _mm256_storeu_ps(out + r + 8 * q, y[0][q]);
      } else {
        __m256 lo = _mm256_unpacklo_ps(y[0][q], y[1][q]); /* rows 0, 1 | 4, 5 */
        __m256 hi = _mm256_unpackhi_ps(y[0][q], y[1][q]); /* rows 2, 3 | 6, 7 */
        _mm256_storeu_ps(out + 2 * (r + 8 * q), _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(out + 2 * (r + 8 * q) + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
      }
    }
  }
  for (; r < n; r += 8) {
    const size_t left = MIN(8, n - r);
    const __m256i mask = tail_mask(left);
    __m256 y[2];
#pragma GCC unroll 2
    for (o = 0; o < cout; o++) {
      __m256 e = _mm256_setzero_ps();
      for (k = 0; k < n_exact; k++)
        e = _mm256_fmadd_ps(_mm256_broadcast_ss(w + (size_t)k * cout + o),
                            _mm256_maskload_ps(xs[k] + r, mask), e);
      y[o] = finish8(a->sums + (size_t)o * RS + r, sigma + r, e, off[o], sc[o], bias[o], small,
                     with_exact);
    }
    if (cout == 1) {
      _mm256_maskstore_ps(out + r, mask, y[0]);
    } else {
      __m256 lo = _mm256_unpacklo_ps(y[0], y[1]), hi = _mm256_unpackhi_ps(y[0], y[1]);
      __m256 v0 = _mm256_permute2f128_ps(lo, hi, 0x20), v1 = _mm256_permute2f128_ps(lo, hi, 0x31);
      _mm256_maskstore_ps(out + 2 * r, tail_mask(MIN(8, 2 * left)), v0);
      if (left > 4)
        _mm256_maskstore_ps(out + 2 * r + 8, tail_mask(2 * left - 8), v1);
    }
  }
}

/* Rows [r, r + rows) of outputs [ob, ob + width) (width <= 8, loads and
 * stores masked below 8): the sums transposed (8x8), each row computed across
 * the outputs, the exact taps' inputs broadcast. e: the rows' exact sums. */
static ALWAYS_INLINE void
wide_block(const MdnTierOutputArgs *a, size_t r, int ob, const int rows, int width, __m256i mask,
           const gboolean uniform, float *out, const gboolean small, const gboolean with_exact)
{
  const int cout = a->cout;
  const __m256 off = _mm256_maskload_ps(a->offset + ob, mask);
  const __m256 sc = _mm256_maskload_ps(a->scale + ob, mask);
  const __m256 bias
      = a->bias != NULL ? _mm256_maskload_ps(a->bias + ob, mask) : _mm256_setzero_ps();
  __m256 t[8], e[8], sa = _mm256_setzero_ps(), sb = sa;
  int j, k;

  if (uniform) { /* one sigma for the rows: sigma * scale and sigma * offset + bias once */
    const __m256 sig = _mm256_broadcast_ss(a->sigma + r);
    sa = _mm256_mul_ps(sig, sc);
    sb = _mm256_add_ps(_mm256_mul_ps(sig, off), bias);
  }
#pragma GCC unroll 8
  for (j = 0; j < 8; j++)
    e[j] = _mm256_setzero_ps();
  if (with_exact)
    for (k = 0; k < a->n_exact; k++) {
      const float *p = a->exact[k] + r, *wk = a->w + (size_t)k * cout + ob;
      const __m256 wv = width == 8 ? _mm256_loadu_ps(wk) : _mm256_maskload_ps(wk, mask);
#pragma GCC unroll 8
      for (j = 0; j < rows; j++)
        e[j] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j), wv, e[j]);
    }
#pragma GCC unroll 8
  for (j = 0; j < 8; j++)
    t[j] = _mm256_castsi256_ps(
        _mm256_loadu_si256((const __m256i *)(a->sums + (size_t)(ob + j) * RS + r)));
  mdn_avx2_transpose8(t);
#pragma GCC unroll 8
  for (j = 0; j < rows; j++) {
    __m256 f = sums_to_float(_mm256_castps_si256(t[j]), small), v;
    if (!uniform) {
      const __m256 sig = _mm256_broadcast_ss(a->sigma + r + j);
      sa = _mm256_mul_ps(sig, sc);
      sb = _mm256_add_ps(_mm256_mul_ps(sig, off), bias);
    }
    v = _mm256_add_ps(_mm256_mul_ps(sa, f), sb);
    if (with_exact)
      v = _mm256_add_ps(e[j], v);
    if (width == 8)
      _mm256_storeu_ps(out + (r + j) * cout + ob, v);
    else
      _mm256_maskstore_ps(out + (r + j) * cout + ob, mask, v);
  }
}

/* Three or more outputs: blocks of 8 rows by 8 outputs (wide_block), the
 * last rows and the last outputs of a cout not a multiple of 8 masked (the
 * sums have rows up to a multiple of 16). */
static ALWAYS_INLINE void
output_wide(const MdnTierOutputArgs *a, size_t n, float *out, const gboolean small,
            const gboolean with_exact)
{
  const int cout = a->cout, full = cout & ~7;
  const __m256i all = _mm256_set1_epi32(-1), last = tail_mask((size_t)(cout - full));
  size_t r;
  int ob;

  for (r = 0; r + 8 <= n; r += 8) {
    /* the rows of one run share sigma */
    const __m256 s = _mm256_loadu_ps(a->sigma + r);
    const gboolean uniform
        = _mm256_movemask_ps(_mm256_cmp_ps(s, _mm256_broadcast_ss(a->sigma + r), _CMP_EQ_OQ))
          == 0xff;
    if (uniform) {
      for (ob = 0; ob < full; ob += 8)
        wide_block(a, r, ob, 8, 8, all, TRUE, out, small, with_exact);
      if (ob < cout)
        wide_block(a, r, ob, 8, cout - ob, last, TRUE, out, small, with_exact);
    } else {
      for (ob = 0; ob < full; ob += 8)
        wide_block(a, r, ob, 8, 8, all, FALSE, out, small, with_exact);
      if (ob < cout)
        wide_block(a, r, ob, 8, cout - ob, last, FALSE, out, small, with_exact);
    }
  }
  if (r < n) {
    const int rows = (int)(n - r);
    for (ob = 0; ob < cout; ob += 8)
      wide_block(a, r, ob, rows, MIN(8, cout - ob), ob < full ? all : last, FALSE, out, small,
                 with_exact);
  }
}

void
mdn_tier_output_avx2(const MdnTierOutputArgs *a, size_t n, float *out)
{
  /* the flags are constants in each copy */
  switch (a->cout) {
  case 1:
    if (a->small && a->n_exact > 0)
      output_narrow(a, n, out, 1, TRUE, TRUE);
    else if (a->small)
      output_narrow(a, n, out, 1, TRUE, FALSE);
    else
      output_narrow(a, n, out, 1, FALSE, a->n_exact > 0);
    return;
  case 2:
    if (a->small && a->n_exact > 0)
      output_narrow(a, n, out, 2, TRUE, TRUE);
    else if (a->small)
      output_narrow(a, n, out, 2, TRUE, FALSE);
    else
      output_narrow(a, n, out, 2, FALSE, a->n_exact > 0);
    return;
  default:
    if (a->small && a->n_exact > 0)
      output_wide(a, n, out, TRUE, TRUE);
    else if (a->small)
      output_wide(a, n, out, TRUE, FALSE);
    else
      output_wide(a, n, out, FALSE, a->n_exact > 0);
  }
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
                      ptrdiff_t span, size_t block, float sigma, float *next_sigma)
{
  return mdn_tier_run_end(x, cin, frame0, end, n, span, block, sigma, next_sigma, max_abs_avx2,
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

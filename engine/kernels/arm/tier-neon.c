/* arm/tier-neon.c: tier kernels for AArch64 Advanced SIMD (NEON; built with
 * -ffp-contract=off, only for AArch64 hosts, where every CPU has it; put in
 * the table by arm/init.c).
 *
 * encode: 4 positions per vector; the split column's samples of 4
 *   consecutive positions are one unaligned load; the node's threshold comes
 *   from the level's table by byte lookups (tbl: levels 1-4 hold 2-16 floats,
 *   8-64 bytes; levels 5-6 chain tbx over further 64-byte tables), lane
 *   loads for deeper levels.
 * scan: 16 rows per vector; tbl looks up a (codebook, output) table of 16,
 *   32 or 64 bytes for 16 codes in one instruction (depth <= 4, 5, 6), tbx
 *   chains 64-byte tables for depth 7 and 8. The bytes are added widened
 *   into 16-bit sums, exact up to 257 codebooks (257 * 255 < 2^16), then
 *   flushed into the 32-bit sums. 16-bit tables are two byte planes.
 * output: the exact taps by FMAs along rows (rounding differs from the
 *   scalar mul + add) into scratch, then conversion, offset and scale along
 *   rows, mul then add as the scalar reference, then interleaved stores (2-4
 *   outputs) or 4x4 transposes into the interleaved output.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-kernels.h"

#include <arm_neon.h>
#include <string.h>

#define RS MDN_TIER_ROW_STRIDE
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* ---- encode ---- */

/* Byte indices of 4 floats: bytes 4 node .. 4 node + 3 in each lane (node < 64). */
static ALWAYS_INLINE uint8x16_t
float_bytes(uint32x4_t node)
{
  return vreinterpretq_u8_u32(vmlaq_u32(vdupq_n_u32(0x03020100u), node, vdupq_n_u32(0x04040404u)));
}

static ALWAYS_INLINE uint8x16x4_t
load64(const float *p)
{
  return vld1q_u8_x4((const guint8 *)p);
}

/* The thresholds of level l (2^l entries at lvl) for 4 node ids. */
static ALWAYS_INLINE float32x4_t
level_thr(const float *lvl, int l, uint32x4_t node)
{
  uint8x16_t idx, r;
  if (l == 0) /* one node */
    return vld1q_dup_f32(lvl);
  if (l >= 7) { /* 128 floats or more: beyond a byte index */
    float32x4_t t = vdupq_n_f32(0.0f);
    t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 0), t, 0);
    t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 1), t, 1);
    t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 2), t, 2);
    t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 3), t, 3);
    return t;
  }
  idx = float_bytes(node);
  if (l <= 2) /* 2 or 4 floats: the table's padding is readable */
    r = vqtbl1q_u8(vld1q_u8((const guint8 *)lvl), idx);
  else if (l == 3)
    r = vqtbl2q_u8(vld1q_u8_x2((const guint8 *)lvl), idx);
  else {
    /* 16 floats per 64-byte table; indices past it leave r as it is */
    int k;
    r = vqtbl4q_u8(load64(lvl), idx);
#pragma GCC unroll 4
    for (k = 1; k < 1 << (l - 4); k++)
      r = vqtbx4q_u8(r, load64(lvl + 16 * k), vsubq_u8(idx, vdupq_n_u8((guint8)(64 * k))));
  }
  return vreinterpretq_f32_u8(r);
}

/* Codes of 4 positions at x. */
static ALWAYS_INLINE uint32x4_t
encode4(const float *thr, const ptrdiff_t *off, const int depth, const float *x)
{
  uint32x4_t node = vdupq_n_u32(0);
  int l;
#pragma GCC unroll 8
  for (l = 0; l < depth; l++) {
    float32x4_t v = vld1q_f32(x - off[l]);
    float32x4_t t = level_thr(thr + (1 << l) - 1, l, node);
    node = vsubq_u32(vshlq_n_u32(node, 1), vcgtq_f32(v, t)); /* true is all ones: -1 */
  }
  return node;
}

static ALWAYS_INLINE void
encode_depth(const guint8 *split, const float *thr_in, float sigma, const int depth, int dilation,
             const float *x, size_t n, guint8 *codes)
{
  const float32x4_t sig = vdupq_n_f32(sigma);
  /* thresholds * sigma, as the scalar product; the level tables' loads may
   * read up to 16 floats past a level's start */
  float thr[256 + MDN_TIER_THR_PAD];
  ptrdiff_t off[8];
  size_t k = 0;
  int l, j;

  for (j = 0; j + 4 <= (1 << depth) - 1 + MDN_TIER_THR_PAD; j += 4)
    vst1q_f32(thr + j, vmulq_f32(vld1q_f32(thr_in + j), sig));
  for (l = 0; l < depth; l++)
    off[l] = (ptrdiff_t)split[l] * dilation;
  for (; k + 16 <= n; k += 16) {
    uint32x4_t a = encode4(thr, off, depth, x + k);
    uint32x4_t b = encode4(thr, off, depth, x + k + 4);
    uint32x4_t c = encode4(thr, off, depth, x + k + 8);
    uint32x4_t d = encode4(thr, off, depth, x + k + 12);
    uint16x8_t ab = vuzp1q_u16(vreinterpretq_u16_u32(a), vreinterpretq_u16_u32(b));
    uint16x8_t cd = vuzp1q_u16(vreinterpretq_u16_u32(c), vreinterpretq_u16_u32(d));
    vst1q_u8(codes + k, vuzp1q_u8(vreinterpretq_u8_u16(ab), vreinterpretq_u8_u16(cd)));
  }
  for (; k + 4 <= n; k += 4) {
    uint32x4_t a = encode4(thr, off, depth, x + k);
    guint8 bytes[8];
    vst1_u8(bytes, vmovn_u16(vcombine_u16(vmovn_u32(a), vmovn_u32(a))));
    memcpy(codes + k, bytes, 4);
  }
  for (; k < n; k++) { /* nothing past x[n - 1] is read */
    unsigned node = 0;
    for (l = 0; l < depth; l++)
      node = 2 * node + (x[(ptrdiff_t)k - off[l]] > thr[(1u << l) - 1 + node]);
    codes[k] = (guint8)node;
  }
}

void
mdn_tier_encode_neon(const guint8 *split, const float *thr, float sigma, int depth, int dilation,
                     const float *x, size_t n, guint8 *codes)
{
  MDN_TIER_ENCODE_BY_DEPTH(encode_depth, split, thr, sigma, depth, dilation, x, n, codes);
}

/* ---- scan ---- */

/* Entries of the (codebook, output) table t (bucket_stride bytes) for 16
 * codes; code64 = code - 64, code128, code192 likewise (depth 7, 8: bytes
 * out of a table's range leave the result as it is). */
static ALWAYS_INLINE uint8x16_t
lookup(const guint8 *t, uint8x16_t code, uint8x16_t code64, uint8x16_t code128, uint8x16_t code192,
       const int depth)
{
  uint8x16_t r;
  if (depth <= 4)
    return vqtbl1q_u8(vld1q_u8(t), code);
  if (depth == 5)
    return vqtbl2q_u8(vld1q_u8_x2(t), code);
  r = vqtbl4q_u8(vld1q_u8_x4(t), code);
  if (depth >= 7)
    r = vqtbx4q_u8(r, vld1q_u8_x4(t + 64), code64);
  if (depth >= 8) {
    r = vqtbx4q_u8(r, vld1q_u8_x4(t + 128), code128);
    r = vqtbx4q_u8(r, vld1q_u8_x4(t + 192), code192);
  }
  return r;
}

/* Adds (or stores, first) 8 rows of 16-bit sums, shifted, to sums. */
static ALWAYS_INLINE void
flush8(uint16x8_t w, guint32 *sums, int32x4_t shift, gboolean first)
{
  uint32x4_t lo = vshlq_u32(vmovl_u16(vget_low_u16(w)), shift);
  uint32x4_t hi = vshlq_u32(vmovl_high_u16(w), shift);
  if (!first) {
    lo = vaddq_u32(lo, vld1q_u32(sums));
    hi = vaddq_u32(hi, vld1q_u32(sums + 4));
  }
  vst1q_u32(sums, lo);
  vst1q_u32(sums + 4, hi);
}

/* Rows r0..r0+16*n_rb-1, outputs o0..o0+n_out-1, one byte plane. */
static ALWAYS_INLINE void
scan_block(const guint8 *plane, const MdnTierTables *t, const guint8 *codes,
           const ptrdiff_t *offsets, size_t r0, int o0, const int n_rb, const int n_out,
           const int depth, int shift, gboolean add, guint32 *sums)
{
  const size_t bstride = (size_t)t->bucket_stride, cstride = (size_t)t->cout * bstride;
  const int32x4_t shift_v = vdupq_n_s32(shift);
  uint16x8_t lo[2][4], hi[2][4];
  int c = 0, j, q;

  while (c < t->n_codebooks) {
    const int stop = MIN(t->n_codebooks, c + 257); /* 257 * 255 < 2^16 */
#pragma GCC unroll 2
    for (q = 0; q < n_rb; q++)
#pragma GCC unroll 4
      for (j = 0; j < n_out; j++)
        lo[q][j] = hi[q][j] = vdupq_n_u16(0);
    for (; c < stop; c++) {
      const guint8 *src = codes + offsets[c] + r0;
      const guint8 *tab = plane + c * cstride + o0 * bstride;
#pragma GCC unroll 2
      for (q = 0; q < n_rb; q++) {
        const uint8x16_t code = vld1q_u8(src + 16 * q);
        const uint8x16_t code64 = vsubq_u8(code, vdupq_n_u8(64));
        const uint8x16_t code128 = vsubq_u8(code, vdupq_n_u8(128));
        const uint8x16_t code192 = vsubq_u8(code, vdupq_n_u8(192));
#pragma GCC unroll 4
        for (j = 0; j < n_out; j++) {
          uint8x16_t v = lookup(tab + j * bstride, code, code64, code128, code192, depth);
          lo[q][j] = vaddw_u8(lo[q][j], vget_low_u8(v));
          hi[q][j] = vaddw_high_u8(hi[q][j], v);
        }
      }
    }
#pragma GCC unroll 2
    for (q = 0; q < n_rb; q++)
#pragma GCC unroll 4
      for (j = 0; j < n_out; j++) {
        guint32 *dst = sums + (size_t)(o0 + j) * RS + r0 + 16 * q;
        flush8(lo[q][j], dst, shift_v, !add);
        flush8(hi[q][j], dst + 8, shift_v, !add);
      }
    add = TRUE;
  }
}

static ALWAYS_INLINE void
scan_depth(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
           guint32 *sums, const int depth)
{
  const int n_planes = mdn_table_entry_bytes(t->table_bits);
  const size_t plane_size = (size_t)t->n_codebooks * t->cout * t->bucket_stride;
  int p, o;
  size_t r0;

  /* Rows in whole blocks of 16: up to 15 rows past n are computed (codes
   * readable, sums padded). */
  for (p = 0; p < n_planes; p++) {
    const guint8 *plane = t->planes + p * plane_size;
    const int shift = 8 * p;
    for (r0 = 0; r0 < n;) {
      if (n - r0 > 16 && t->cout <= 2) {
        /* few outputs: two row blocks per table load */
        if (t->cout == 2)
          scan_block(plane, t, codes, offsets, r0, 0, 2, 2, depth, shift, p > 0, sums);
        else
          scan_block(plane, t, codes, offsets, r0, 0, 2, 1, depth, shift, p > 0, sums);
        r0 += 32;
        continue;
      }
      for (o = 0; o + 4 <= t->cout; o += 4)
        scan_block(plane, t, codes, offsets, r0, o, 1, 4, depth, shift, p > 0, sums);
      switch (t->cout - o) {
      case 3:
        scan_block(plane, t, codes, offsets, r0, o, 1, 3, depth, shift, p > 0, sums);
        break;
      case 2:
        scan_block(plane, t, codes, offsets, r0, o, 1, 2, depth, shift, p > 0, sums);
        break;
      case 1:
        scan_block(plane, t, codes, offsets, r0, o, 1, 1, depth, shift, p > 0, sums);
        break;
      default:
        break;
      }
      r0 += 16;
    }
  }
}

void
mdn_tier_scan_neon(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
                   guint32 *sums)
{
  MDN_TIER_SCAN_BY_DEPTH(scan_depth, t, codes, offsets, n, sums);
}

/* ---- exact taps ---- */

/* Taps are taken MDN_EXACT_GROUP at a time, their row pointers computed
 * once per call; the accumulators of later groups start from the stored sums,
 * so every row sums its taps in order e = 0, 1, ... */
#define MDN_EXACT_GROUP 16

static void
exact_neon(const float *const *x, const float *w, int n_exact, int cout, size_t n, float *acc)
{
  const float *src[MDN_EXACT_GROUP];
  int e0, e, o, m;
  size_t r;
  for (e0 = 0; e0 < n_exact; e0 += MDN_EXACT_GROUP) {
    m = MIN(MDN_EXACT_GROUP, n_exact - e0);
    for (e = 0; e < m; e++)
      src[e] = x[e0 + e];
    for (o = 0; o < cout; o++) {
      const float *wo = w + (size_t)e0 * cout + o;
      float *dst = acc + (size_t)o * RS;
      for (r = 0; r + 16 <= n; r += 16) {
        float32x4_t s0, s1, s2, s3;
        if (e0 == 0) {
          s0 = s1 = s2 = s3 = vdupq_n_f32(0.0f);
        } else {
          s0 = vld1q_f32(dst + r);
          s1 = vld1q_f32(dst + r + 4);
          s2 = vld1q_f32(dst + r + 8);
          s3 = vld1q_f32(dst + r + 12);
        }
        for (e = 0; e < m; e++) {
          const float *p = src[e] + r;
          const float we = wo[(size_t)e * cout];
          s0 = vfmaq_n_f32(s0, vld1q_f32(p), we);
          s1 = vfmaq_n_f32(s1, vld1q_f32(p + 4), we);
          s2 = vfmaq_n_f32(s2, vld1q_f32(p + 8), we);
          s3 = vfmaq_n_f32(s3, vld1q_f32(p + 12), we);
        }
        vst1q_f32(dst + r, s0);
        vst1q_f32(dst + r + 4, s1);
        vst1q_f32(dst + r + 8, s2);
        vst1q_f32(dst + r + 12, s3);
      }
      for (; r + 4 <= n; r += 4) {
        float32x4_t s = e0 == 0 ? vdupq_n_f32(0.0f) : vld1q_f32(dst + r);
        for (e = 0; e < m; e++)
          s = vfmaq_n_f32(s, vld1q_f32(src[e] + r), wo[(size_t)e * cout]);
        vst1q_f32(dst + r, s);
      }
      for (; r < n; r++) { /* nothing past row n - 1 is read; fused as the lanes */
        float s = e0 == 0 ? 0.0f : dst[r];
        for (e = 0; e < m; e++)
          s = fmaf(wo[(size_t)e * cout], src[e][r], s);
        dst[r] = s;
      }
    }
  }
}

/* ---- combine ---- */

/* The scalar expression, lane by lane: (sigma * scale) * (float) sums +
 * (sigma * offset + bias), plus the exact sum when there are exact taps, each
 * operation rounded on its own (vcvtq_f32_u32 rounds as the scalar
 * conversion). */
static ALWAYS_INLINE float32x4_t
combine4(const guint32 *sums, const float *exact, float32x4_t offset, float32x4_t scale,
         float32x4_t bias, float32x4_t sigma)
{
  float32x4_t f = vcvtq_f32_u32(vld1q_u32(sums));
  float32x4_t t
      = vaddq_f32(vmulq_f32(vmulq_f32(sigma, scale), f), vaddq_f32(vmulq_f32(sigma, offset), bias));
  return exact != NULL ? vaddq_f32(vld1q_f32(exact), t) : t;
}

/* Output o's rows [r, r + 4) (rows past n are padding of sums, exact,
 * sigma_rows). */
static ALWAYS_INLINE float32x4_t
combine_at(const guint32 *sums, const float *exact, const float *offset, const float *scale,
           float sigma_one, const float *sigma_rows, const float *bias, int o, size_t r)
{
  const float32x4_t sig = sigma_rows != NULL ? vld1q_f32(sigma_rows + r) : vdupq_n_f32(sigma_one);
  return combine4(sums + (size_t)o * RS + r, exact != NULL ? exact + (size_t)o * RS + r : NULL,
                  vdupq_n_f32(offset[o]), vdupq_n_f32(scale[o]),
                  vdupq_n_f32(bias != NULL ? bias[o] : 0.0f), sig);
}

/* sigma_rows: one sigma per row (sigma[r]) instead of sigma_one, and then
 * the bias added (NULL: 0). */
static ALWAYS_INLINE void
combine_any(const guint32 *sums, const float *exact, const float *offset, const float *scale,
            float sigma_one, const float *sigma_rows, const float *bias, int cout, size_t n,
            float *scratch, float *out)
{
  size_t r = 0;
  int o;

  /* 1-4 outputs: whole vectors straight into out, interleaved by the store */
  switch (cout) {
  case 1:
    for (; r + 4 <= n; r += 4)
      vst1q_f32(out + r, combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 0, r));
    break;
  case 2:
    for (; r + 4 <= n; r += 4) {
      float32x4x2_t v;
      v.val[0] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 0, r);
      v.val[1] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 1, r);
      vst2q_f32(out + r * 2, v);
    }
    break;
  case 3:
    for (; r + 4 <= n; r += 4) {
      float32x4x3_t v;
      v.val[0] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 0, r);
      v.val[1] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 1, r);
      v.val[2] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 2, r);
      vst3q_f32(out + r * 3, v);
    }
    break;
  case 4:
    for (; r + 4 <= n; r += 4) {
      float32x4x4_t v;
      v.val[0] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 0, r);
      v.val[1] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 1, r);
      v.val[2] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 2, r);
      v.val[3] = combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, 3, r);
      vst4q_f32(out + r * 4, v);
    }
    break;
  default: {
    /* Rows in whole vectors into scratch (padded), then 4x4 transposes of
     * scratch[o][r] into out[r][o]. */
    const size_t rows = (n + 3) & ~(size_t)3;
    for (o = 0; o < cout; o++)
      for (r = 0; r < rows; r += 4)
        vst1q_f32(scratch + (size_t)o * RS + r,
                  combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, o, r));
    for (r = 0; r + 4 <= n; r += 4) {
      for (o = 0; o + 4 <= cout; o += 4) {
        const float *s = scratch + (size_t)o * RS + r;
        float32x4_t a0 = vld1q_f32(s), a1 = vld1q_f32(s + RS);
        float32x4_t a2 = vld1q_f32(s + 2 * RS), a3 = vld1q_f32(s + 3 * RS);
        /* (o0 r0, o1 r0, o0 r2, o1 r2), (o0 r1, o1 r1, o0 r3, o1 r3), ... */
        float32x4_t b0 = vtrn1q_f32(a0, a1), b1 = vtrn2q_f32(a0, a1);
        float32x4_t b2 = vtrn1q_f32(a2, a3), b3 = vtrn2q_f32(a2, a3);
        float64x2_t c0 = vreinterpretq_f64_f32(b0), c1 = vreinterpretq_f64_f32(b1);
        float64x2_t c2 = vreinterpretq_f64_f32(b2), c3 = vreinterpretq_f64_f32(b3);
        vst1q_f32(out + r * cout + o, vreinterpretq_f32_f64(vtrn1q_f64(c0, c2)));
        vst1q_f32(out + (r + 1) * cout + o, vreinterpretq_f32_f64(vtrn1q_f64(c1, c3)));
        vst1q_f32(out + (r + 2) * cout + o, vreinterpretq_f32_f64(vtrn2q_f64(c0, c2)));
        vst1q_f32(out + (r + 3) * cout + o, vreinterpretq_f32_f64(vtrn2q_f64(c1, c3)));
      }
      for (; o < cout; o++) {
        out[r * cout + o] = scratch[(size_t)o * RS + r];
        out[(r + 1) * cout + o] = scratch[(size_t)o * RS + r + 1];
        out[(r + 2) * cout + o] = scratch[(size_t)o * RS + r + 2];
        out[(r + 3) * cout + o] = scratch[(size_t)o * RS + r + 3];
      }
    }
    for (; r < n; r++)
      for (o = 0; o < cout; o++)
        out[r * cout + o] = scratch[(size_t)o * RS + r];
    return;
  }
  }
  /* 1-4 outputs: the last rows (out is not padded) */
  if (r < n) {
    float tail[4][4];
    size_t k;
    for (o = 0; o < cout; o++)
      vst1q_f32(tail[o], combine_at(sums, exact, offset, scale, sigma_one, sigma_rows, bias, o, r));
    for (k = 0; r + k < n; k++)
      for (o = 0; o < cout; o++)
        out[(r + k) * cout + o] = tail[o][k];
  }
}

/* The exact taps along rows into the first half of scratch, then the
 * tables, sigma and bias (small changes nothing here: the unsigned
 * conversion is one instruction). */
void
mdn_tier_output_neon(const MdnTierOutputArgs *a, size_t n, float *out)
{
  float *exact = a->scratch, *scratch = a->scratch + (size_t)a->cout * RS;
  if (a->n_exact > 0) {
    exact_neon(a->exact, a->w, a->n_exact, a->cout, n, exact);
    combine_any(a->sums, exact, a->offset, a->scale, 0.0f, a->sigma, a->bias, a->cout, n, scratch,
                out);
  } else {
    combine_any(a->sums, NULL, a->offset, a->scale, 0.0f, a->sigma, a->bias, a->cout, n, scratch,
                out);
  }
}

/* ---- sigma ---- */

/* m where a > m, lane by lane (NaN compares false: skipped, as the
 * reference's if (a > m) m = a; vmaxq would return it). */
static ALWAYS_INLINE float32x4_t
max_skip_nan(float32x4_t m, float32x4_t a)
{
  return vbslq_f32(vcgtq_f32(a, m), a, m);
}

static ALWAYS_INLINE float
max_abs_neon(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last)
{
  float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0;
  float m;
  int i;
  for (i = 0; i < cin; i++) {
    const float *xi = x[i];
    ptrdiff_t u = first;
    for (; u + 8 <= last + 1; u += 8) {
      m0 = max_skip_nan(m0, vabsq_f32(vld1q_f32(xi + u)));
      m1 = max_skip_nan(m1, vabsq_f32(vld1q_f32(xi + u + 4)));
    }
    for (; u + 4 <= last + 1; u += 4)
      m0 = max_skip_nan(m0, vabsq_f32(vld1q_f32(xi + u)));
    for (; u <= last; u++) /* nothing past x[i][last] is read */
      m0 = max_skip_nan(m0, vdupq_n_f32(fabsf(xi[u])));
  }
  /* the lanes hold no NaN: a plain max reduces them */
  m = vmaxvq_f32(vmaxq_f32(m0, m1));
  return m;
}

/* Index of the first lane set in a comparison result (one lane is set). */
static ALWAYS_INLINE size_t
first_lane(uint32x4_t above)
{
  guint64 bits = vget_lane_u64(vreinterpret_u64_u16(vmovn_u32(above)), 0);
  return (size_t)__builtin_ctzll(bits) / 16;
}

static ALWAYS_INLINE size_t
count_below_neon(const float *const *x, int cin, ptrdiff_t first, size_t n, float level)
{
  const float32x4_t lv = vdupq_n_f32(level);
  size_t k = 0;
  int i;
  /* NaN compares false: it stays below */
  if (cin == 1) { /* the common mono case: 16 frames per test */
    const float *x0 = x[0] + first;
    for (; k + 16 <= n; k += 16) {
      uint32x4_t a0 = vcagtq_f32(vld1q_f32(x0 + k), lv);
      uint32x4_t a1 = vcagtq_f32(vld1q_f32(x0 + k + 4), lv);
      uint32x4_t a2 = vcagtq_f32(vld1q_f32(x0 + k + 8), lv);
      uint32x4_t a3 = vcagtq_f32(vld1q_f32(x0 + k + 12), lv);
      if (vmaxvq_u32(vorrq_u32(vorrq_u32(a0, a1), vorrq_u32(a2, a3))) != 0) {
        if (vmaxvq_u32(a0) != 0)
          return k + first_lane(a0);
        if (vmaxvq_u32(a1) != 0)
          return k + 4 + first_lane(a1);
        if (vmaxvq_u32(a2) != 0)
          return k + 8 + first_lane(a2);
        return k + 12 + first_lane(a3);
      }
    }
  }
  for (; k + 4 <= n; k += 4) {
    uint32x4_t above = vdupq_n_u32(0);
    for (i = 0; i < cin; i++)
      above = vorrq_u32(above, vcagtq_f32(vld1q_f32(x[i] + first + (ptrdiff_t)k), lv));
    if (vmaxvq_u32(above) != 0)
      return k + first_lane(above);
  }
  for (; k < n; k++) /* nothing past frame n - 1 is read */
    for (i = 0; i < cin; i++)
      if (fabsf(x[i][first + (ptrdiff_t)k]) > level)
        return k;
  return n;
}

size_t
mdn_tier_run_end_neon(const float *const *x, int cin, gint64 frame0, size_t end, size_t n,
                      ptrdiff_t span, size_t block, float sigma, float *next_sigma)
{
  return mdn_tier_run_end(x, cin, frame0, end, n, span, block, sigma, next_sigma, max_abs_neon,
                          count_below_neon);
}

float
mdn_tier_max_abs_neon(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last)
{
  return max_abs_neon(x, cin, first, last);
}

size_t
mdn_tier_count_below_neon(const float *const *x, int cin, ptrdiff_t first, size_t n, float level)
{
  return count_below_neon(x, cin, first, n, level);
}

/* arm/fft-neon.c: the FFT's kernels (fft.h) for AArch64 Advanced SIMD (NEON,
 * part of every AArch64 CPU; built only for AArch64 hosts, put in the table
 * by arm/init.c). One row of 16
 * complex lanes is four registers of real parts and four of imaginary
 * parts: the lane transform's spans 8 and 4 are vertical arithmetic
 * between registers, spans 2 and 1 permute within a register; real input
 * and output are deinterleaved and interleaved by ld2 / st2. The column
 * stages run on half rows (eight registers for four rows). Same operations
 * as the reference (scalar/fft.c), fused multiply-adds where it has a
 * multiply and an add.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fft.h"

#include <arm_neon.h>

#define RF MDN_FFT_ROW_FLOATS
#define INLINE static inline __attribute__((always_inline))

typedef struct {
  float32x4_t re[4], im[4];
} V;

INLINE V
load_v(const float *p)
{
  V v;
  int j;
  for (j = 0; j < 4; j++) {
    v.re[j] = vld1q_f32(p + 4 * j);
    v.im[j] = vld1q_f32(p + MDN_FFT_LANES + 4 * j);
  }
  return v;
}

INLINE void
store_v(float *p, V v)
{
  int j;
  for (j = 0; j < 4; j++) {
    vst1q_f32(p + 4 * j, v.re[j]);
    vst1q_f32(p + MDN_FFT_LANES + 4 * j, v.im[j]);
  }
}

/* (re, im) * (wr, wi) */
#define MUL4(re, im, wr, wi)                                                                       \
  do {                                                                                             \
    const float32x4_t re_ = (re);                                                                  \
    re = vfmsq_f32(vmulq_f32(re_, wr), im, wi);                                                    \
    im = vfmaq_f32(vmulq_f32(im, wr), re_, wi);                                                    \
  } while (0)

/* (re, im) * conj(wr, wi) */
#define MUL4_CONJ(re, im, wr, wi)                                                                  \
  do {                                                                                             \
    const float32x4_t re_ = (re);                                                                  \
    re = vfmaq_f32(vmulq_f32(re_, wr), im, wi);                                                    \
    im = vfmsq_f32(vmulq_f32(im, wr), re_, wi);                                                    \
  } while (0)

/* x *= w (a row of 16 re then 16 im), or by conj(w). */
INLINE V
mul_row(V x, const float *w, const int conj)
{
  int j;
  for (j = 0; j < 4; j++) {
    const float32x4_t wr = vld1q_f32(w + 4 * j), wi = vld1q_f32(w + MDN_FFT_LANES + 4 * j);
    if (conj)
      MUL4_CONJ(x.re[j], x.im[j], wr, wi);
    else
      MUL4(x.re[j], x.im[j], wr, wi);
  }
  return x;
}

/* Span 8 (registers 0, 1 with 2, 3) and 4 (0 with 1, 2 with 3): lanes
 * without bit h get hi + lo, lanes with it lo - hi. */
INLINE void
vertical(float32x4_t *lo, float32x4_t *hi)
{
  const float32x4_t l = *lo;
  *lo = vaddq_f32(*hi, l);
  *hi = vsubq_f32(l, *hi);
}

INLINE V
vertical_stage(V x, int h)
{
  if (h == 8) {
    vertical(&x.re[0], &x.re[2]);
    vertical(&x.re[1], &x.re[3]);
    vertical(&x.im[0], &x.im[2]);
    vertical(&x.im[1], &x.im[3]);
  } else {
    vertical(&x.re[0], &x.re[1]);
    vertical(&x.re[2], &x.re[3]);
    vertical(&x.im[0], &x.im[1]);
    vertical(&x.im[2], &x.im[3]);
  }
  return x;
}

#define SWAP2(x) vextq_f32(x, x, 2)
#define SWAP1(x) vrev64q_f32(x)

/* Span 2 or 1, within each register: x[a ^ h] + sign[a] x[a]. */
INLINE V
inreg_stage(V x, int h, float32x4_t sign)
{
  int j;
  for (j = 0; j < 4; j++) {
    x.re[j] = vfmaq_f32(h == 2 ? SWAP2(x.re[j]) : SWAP1(x.re[j]), x.re[j], sign);
    x.im[j] = vfmaq_f32(h == 2 ? SWAP2(x.im[j]) : SWAP1(x.im[j]), x.im[j], sign);
  }
  return x;
}

/* Twiddles of span 8 (registers 2, 3), span 4 (registers 1, 3) and span 2
 * (every register, the same 4 lanes), from plan->lane_stage. */
INLINE V
stage_twiddle(const MdnFftPlan *plan, V x, int s, const int conj)
{
  const float *w = plan->lane_stage[s];
  int j;
  for (j = 0; j < 4; j++) {
    const gboolean twiddled = s == 0 ? j >= 2 : s == 1 ? (j & 1) : TRUE;
    if (twiddled) {
      const float32x4_t wr = vld1q_f32(w + 4 * j), wi = vld1q_f32(w + MDN_FFT_LANES + 4 * j);
      if (conj)
        MUL4_CONJ(x.re[j], x.im[j], wr, wi);
      else
        MUL4(x.re[j], x.im[j], wr, wi);
    }
  }
  return x;
}

INLINE V
lane_fwd(const MdnFftPlan *plan, V x, size_t r)
{
  x = mul_row(x, plan->lane_tw + r * RF, 0);
  x = vertical_stage(x, 8);
  x = stage_twiddle(plan, x, 0, 0);
  x = vertical_stage(x, 4);
  x = stage_twiddle(plan, x, 1, 0);
  x = inreg_stage(x, 2, vld1q_f32(plan->lane_sign[2]));
  x = stage_twiddle(plan, x, 2, 0);
  return inreg_stage(x, 1, vld1q_f32(plan->lane_sign[3]));
}

INLINE V
lane_inv(const MdnFftPlan *plan, V x, size_t r)
{
  x = inreg_stage(x, 1, vld1q_f32(plan->lane_sign[3]));
  x = stage_twiddle(plan, x, 2, 1);
  x = inreg_stage(x, 2, vld1q_f32(plan->lane_sign[2]));
  x = stage_twiddle(plan, x, 1, 1);
  x = vertical_stage(x, 4);
  x = stage_twiddle(plan, x, 0, 1);
  x = vertical_stage(x, 8);
  return mul_row(x, plan->lane_tw + r * RF, 1);
}

/* Half a row (8 lanes: h = 0 or 1) for the column stages. */
typedef struct {
  float32x4_t re[2], im[2];
} H;

INLINE H
load_h(const float *src, size_t r, int h, const int in_real)
{
  H v;
  int j;
  for (j = 0; j < 2; j++) {
    if (in_real) {
      const float32x4x2_t p = vld2q_f32(src + r * RF + 16 * h + 8 * j);
      v.re[j] = vmulq_n_f32(p.val[0], 0.5f); /* see load_row() in scalar/fft.c */
      v.im[j] = vmulq_n_f32(p.val[1], 0.5f);
    } else {
      v.re[j] = vld1q_f32(src + r * RF + 8 * h + 4 * j);
      v.im[j] = vld1q_f32(src + r * RF + 16 + 8 * h + 4 * j);
    }
  }
  return v;
}

INLINE void
store_h(float *dst, size_t r, int h, H v, const int out_real)
{
  int j;
  for (j = 0; j < 2; j++) {
    if (out_real) {
      float32x4x2_t p;
      p.val[0] = v.re[j];
      p.val[1] = v.im[j];
      vst2q_f32(dst + r * RF + 16 * h + 8 * j, p);
    } else {
      vst1q_f32(dst + r * RF + 8 * h + 4 * j, v.re[j]);
      vst1q_f32(dst + r * RF + 16 + 8 * h + 4 * j, v.im[j]);
    }
  }
}

/* op = 0: a + b, 1: a - b, 2: a - i b, 3: a + i b */
INLINE H
hop(H a, H b, int op)
{
  H v;
  int j;
  for (j = 0; j < 2; j++)
    switch (op) {
    case 0:
      v.re[j] = vaddq_f32(a.re[j], b.re[j]);
      v.im[j] = vaddq_f32(a.im[j], b.im[j]);
      break;
    case 1:
      v.re[j] = vsubq_f32(a.re[j], b.re[j]);
      v.im[j] = vsubq_f32(a.im[j], b.im[j]);
      break;
    case 2:
      v.re[j] = vaddq_f32(a.re[j], b.im[j]);
      v.im[j] = vsubq_f32(a.im[j], b.re[j]);
      break;
    default:
      v.re[j] = vsubq_f32(a.re[j], b.im[j]);
      v.im[j] = vaddq_f32(a.im[j], b.re[j]);
      break;
    }
  return v;
}

INLINE H
htw(H x, const float *w, const int conj)
{
  const float32x4_t wr = vdupq_n_f32(w[0]), wi = vdupq_n_f32(w[1]);
  int j;
  for (j = 0; j < 2; j++) {
    if (conj)
      MUL4_CONJ(x.re[j], x.im[j], wr, wi);
    else
      MUL4(x.re[j], x.im[j], wr, wi);
  }
  return x;
}

void
mdn_fft_r4_fwd_neon(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const size_t q = st->q;
  const int in_real = (st->flags & MDN_FFT_IN_REAL) != 0, lanes = (st->flags & MDN_FFT_LANE) != 0;
  const float *tw = plan->tw + st->tw;
  size_t g, k;
  int h, p;

  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
      for (h = 0; h < 2; h++) {
        const H a0 = load_h(src, r0, h, in_real), a1 = load_h(src, r1, h, in_real);
        const H a2 = load_h(src, r2, h, in_real), a3 = load_h(src, r3, h, in_real);
        const H b0 = hop(a0, a2, 0), b1 = hop(a0, a2, 1), b2 = hop(a1, a3, 0), b3 = hop(a1, a3, 1);
        H y1 = hop(b1, b3, 2), y2 = hop(b0, b2, 1), y3 = hop(b1, b3, 3);
        if (!lanes) {
          y1 = htw(y1, tw + 6 * k, 0);
          y2 = htw(y2, tw + 6 * k + 2, 0);
          y3 = htw(y3, tw + 6 * k + 4, 0);
        }
        store_h(dst, r0, h, hop(b0, b2, 0), 0);
        store_h(dst, r1, h, y1, 0);
        store_h(dst, r2, h, y2, 0);
        store_h(dst, r3, h, y3, 0);
      }
      if (lanes)
        for (p = 0; p < 4; p++) {
          const size_t r = r0 + p * q;
          store_v(dst + r * RF, lane_fwd(plan, load_v(dst + r * RF), r));
        }
    }
}

void
mdn_fft_r2_fwd_neon(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int in_real = (st->flags & MDN_FFT_IN_REAL) != 0;
  size_t g;
  int h;

  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    for (h = 0; h < 2; h++) {
      const H a0 = load_h(src, r0, h, in_real), a1 = load_h(src, r0 + 1, h, in_real);
      store_h(dst, r0, h, hop(a0, a1, 0), 0);
      store_h(dst, r0 + 1, h, hop(a0, a1, 1), 0);
    }
    store_v(dst + r0 * RF, lane_fwd(plan, load_v(dst + r0 * RF), r0));
    store_v(dst + (r0 + 1) * RF, lane_fwd(plan, load_v(dst + (r0 + 1) * RF), r0 + 1));
  }
}

INLINE void
store_hout(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, size_t r, int h, H y)
{
  if (!(st->flags & MDN_FFT_OUT_REAL))
    store_h(dst, r, h, y, 0);
  else if (!(st->flags & MDN_FFT_OUT_HALF))
    store_h(dst, r, h, y, 1);
  else if (r >= plan->rows / 2)
    store_h(dst, r - plan->rows / 2, h, y, 1);
}

void
mdn_fft_r4_inv_neon(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const size_t q = st->q;
  const int lanes = (st->flags & MDN_FFT_LANE) != 0;
  const float *tw = plan->tw + st->tw;
  float tmp[4 * RF] __attribute__((aligned(64)));
  size_t g, k;
  int h, p;

  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k;
      const float *in = src;
      size_t i[4];
      for (p = 0; p < 4; p++)
        i[p] = r0 + p * q;
      if (lanes) {
        for (p = 0; p < 4; p++) {
          store_v(tmp + p * RF, lane_inv(plan, load_v(src + i[p] * RF), i[p]));
          i[p] = p;
        }
        in = tmp;
      }
      for (h = 0; h < 2; h++) {
        H a0 = load_h(in, i[0], h, 0), a1 = load_h(in, i[1], h, 0);
        H a2 = load_h(in, i[2], h, 0), a3 = load_h(in, i[3], h, 0), b0, b1, b2, b3;
        if (!lanes) {
          a1 = htw(a1, tw + 6 * k, 1);
          a2 = htw(a2, tw + 6 * k + 2, 1);
          a3 = htw(a3, tw + 6 * k + 4, 1);
        }
        b0 = hop(a0, a2, 0);
        b1 = hop(a0, a2, 1);
        b2 = hop(a1, a3, 0);
        b3 = hop(a1, a3, 1);
        store_hout(plan, st, dst, r0, h, hop(b0, b2, 0));
        store_hout(plan, st, dst, r0 + q, h, hop(b1, b3, 3));
        store_hout(plan, st, dst, r0 + 2 * q, h, hop(b0, b2, 1));
        store_hout(plan, st, dst, r0 + 3 * q, h, hop(b1, b3, 2));
      }
    }
}

void
mdn_fft_r2_inv_neon(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  float tmp[2 * RF] __attribute__((aligned(64)));
  size_t g;
  int h;

  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    store_v(tmp, lane_inv(plan, load_v(src + r0 * RF), r0));
    store_v(tmp + RF, lane_inv(plan, load_v(src + (r0 + 1) * RF), r0 + 1));
    for (h = 0; h < 2; h++) {
      const H a0 = load_h(tmp, 0, h, 0), a1 = load_h(tmp, 1, h, 0);
      store_hout(plan, st, dst, r0, h, hop(a0, a1, 0));
      store_hout(plan, st, dst, r0 + 1, h, hop(a0, a1, 1));
    }
  }
}

/* The real pass on 4 lanes: a = Z[k], b = Z[Nc - k] (lanes permuted),
 * w = W_N^k. See real_lane() in scalar/fft.c. */
INLINE void
real4(float32x4_t ar, float32x4_t ai, float32x4_t br, float32x4_t bi, float32x4_t wr,
      float32x4_t wi, const int inverse, float32x4_t *outr, float32x4_t *outi)
{
  const float32x4_t sr = vaddq_f32(ar, br), si = vsubq_f32(ai, bi);
  const float32x4_t dr = vsubq_f32(ar, br), di = vaddq_f32(ai, bi);
  if (!inverse) {
    const float32x4_t tr = vfmsq_f32(vmulq_f32(wr, dr), wi, di);
    const float32x4_t ti = vfmaq_f32(vmulq_f32(wi, dr), wr, di);
    *outr = vaddq_f32(sr, ti);
    *outi = vsubq_f32(si, tr);
  } else {
    const float32x4_t tr = vfmaq_f32(vmulq_f32(wr, dr), wi, di);
    const float32x4_t ti = vfmsq_f32(vmulq_f32(wr, di), wi, dr);
    *outr = vsubq_f32(sr, ti);
    *outi = vaddq_f32(si, tr);
  }
}

INLINE V
real_row(V a, V b, const float *w, const int inverse)
{
  V v;
  int j;
  for (j = 0; j < 4; j++)
    real4(a.re[j], a.im[j], b.re[j], b.im[j], vld1q_f32(w + 4 * j),
          vld1q_f32(w + MDN_FFT_LANES + 4 * j), inverse, &v.re[j], &v.im[j]);
  return v;
}

INLINE float32x4_t
rev4(float32x4_t x)
{
  const float32x4_t r = vrev64q_f32(x);
  return vextq_f32(r, r, 2);
}

/* Lanes reversed: 15 - p. */
INLINE V
reverse(V x)
{
  V v;
  int j;
  for (j = 0; j < 4; j++) {
    v.re[j] = rev4(x.re[3 - j]);
    v.im[j] = rev4(x.im[3 - j]);
  }
  return v;
}

/* Row 0's partner lanes: 0 1 3 2 | 7 6 5 4 | 15 .. 12 | 11 .. 8. */
INLINE V
row0_partner(V x)
{
  V v;
  v.re[0] = vcombine_f32(vget_low_f32(x.re[0]), vrev64_f32(vget_high_f32(x.re[0])));
  v.im[0] = vcombine_f32(vget_low_f32(x.im[0]), vrev64_f32(vget_high_f32(x.im[0])));
  v.re[1] = rev4(x.re[1]);
  v.im[1] = rev4(x.im[1]);
  v.re[2] = rev4(x.re[3]);
  v.im[2] = rev4(x.im[3]);
  v.re[3] = rev4(x.re[2]);
  v.im[3] = rev4(x.im[2]);
  return v;
}

INLINE void
real_pass(const MdnFftPlan *plan, const MdnFftStep *st, float *data, const int inverse)
{
  size_t j;
  for (j = st->k0; j < st->k1; j++) {
    const size_t r = plan->pairs[2 * j], rp = plan->pairs[2 * j + 1];
    const V a = load_v(data + r * RF), b = load_v(data + rp * RF);
    if (r == 0) {
      const float a_re = vgetq_lane_f32(a.re[0], 0), a_im = vgetq_lane_f32(a.im[0], 0);
      const float s = a_re + a_im, d = a_re - a_im;
      store_v(data, real_row(a, row0_partner(a), plan->real_tw, inverse));
      data[0] = inverse ? s : s + s;
      data[MDN_FFT_LANES] = inverse ? d : d + d;
    } else if (r == rp) {
      store_v(data + r * RF, real_row(a, reverse(a), plan->real_tw + r * RF, inverse));
    } else {
      store_v(data + r * RF, real_row(a, reverse(b), plan->real_tw + r * RF, inverse));
      store_v(data + rp * RF, real_row(b, reverse(a), plan->real_tw + rp * RF, inverse));
    }
  }
}

void
mdn_fft_real_fwd_neon(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, 0);
}

void
mdn_fft_real_inv_neon(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, 1);
}

void
mdn_fft_mac_neon(float *y, const float *const *s, const float *h, size_t h_stride, int n_spec,
                 size_t row0, size_t row1)
{
  size_t r;
  int j, l;
  for (r = row0; r < row1; r++) {
    const size_t off = r * RF;
    float32x4_t re[4], im[4];
    for (l = 0; l < 4; l++)
      re[l] = im[l] = vdupq_n_f32(0);
    for (j = 0; j < n_spec; j++) {
      const float *sj = s[j] + off, *hj = h + (size_t)j * h_stride + off;
      for (l = 0; l < 4; l++) {
        const float32x4_t sr = vld1q_f32(sj + 4 * l), si = vld1q_f32(sj + MDN_FFT_LANES + 4 * l);
        const float32x4_t hr = vld1q_f32(hj + 4 * l), hi = vld1q_f32(hj + MDN_FFT_LANES + 4 * l);
        re[l] = vfmsq_f32(vfmaq_f32(re[l], sr, hr), si, hi);
        im[l] = vfmaq_f32(vfmaq_f32(im[l], sr, hi), si, hr);
      }
    }
    for (l = 0; l < 4; l++) {
      vst1q_f32(y + off + 4 * l, re[l]);
      vst1q_f32(y + off + MDN_FFT_LANES + 4 * l, im[l]);
    }
  }
  if (row0 == 0 && row1 > 0) {
    /* Bin 0: DC and Nyquist, two real products. */
    float re = 0, im = 0;
    for (j = 0; j < n_spec; j++) {
      re = fmaf(s[j][0], h[(size_t)j * h_stride], re);
      im = fmaf(s[j][MDN_FFT_LANES], h[(size_t)j * h_stride + MDN_FFT_LANES], im);
    }
    y[0] = re;
    y[MDN_FFT_LANES] = im;
  }
}

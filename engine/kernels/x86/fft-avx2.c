/* x86/fft-avx2.c: the FFT's kernels (fft.h) for AVX2 + FMA (compiled with
 * -mavx2 -mfma; x86/init.c puts them in the table at the AVX2 level). One
 * row of 16 complex lanes is four registers: real parts of lanes 0-7 and
 * 8-15, imaginary parts of lanes 0-7 and 8-15. The lane transform's first stage (span 8)
 * is then vertical arithmetic between the halves; spans 4, 2, 1 permute
 * within a register. Same operations as the reference (scalar/fft.c),
 * fused multiply-adds where it has a multiply and an add.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fft.h"

#include <immintrin.h>

#define RF MDN_FFT_ROW_FLOATS
#define INLINE static inline __attribute__((always_inline))

/* Lanes 0-7 (l) and 8-15 (h). */
typedef struct {
  __m256 rl, rh, il, ih;
} V;

typedef struct {
  __m256 wr, wi;
} W8; /* 8 lanes of twiddles */

/* The lane stages' constants, read from the plan where they are used
 * (memory operands: sixteen registers do not hold them and a row). */
typedef struct {
  const float *w0r, *w0i;             /* span 8: the twiddles of lanes 8-15 (lanes 0-7: 1) */
  const float *w1r, *w1i, *w2r, *w2i; /* spans 4 and 2: the same for both halves */
  const float *sign4, *sign2, *sign1; /* butterfly signs, the same for both halves */
} LaneConsts;

INLINE void
lane_consts(const MdnFftPlan *plan, LaneConsts *c)
{
  c->w0r = plan->lane_stage[0] + 8;
  c->w0i = plan->lane_stage[0] + MDN_FFT_LANES + 8;
  c->w1r = plan->lane_stage[1];
  c->w1i = plan->lane_stage[1] + MDN_FFT_LANES;
  c->w2r = plan->lane_stage[2];
  c->w2i = plan->lane_stage[2] + MDN_FFT_LANES;
  c->sign4 = plan->lane_sign[1];
  c->sign2 = plan->lane_sign[2];
  c->sign1 = plan->lane_sign[3];
}

INLINE V
load_v(const float *p)
{
  V v = { _mm256_load_ps(p), _mm256_load_ps(p + 8), _mm256_load_ps(p + 16),
          _mm256_load_ps(p + 24) };
  return v;
}

INLINE void
store_v(float *p, V v)
{
  _mm256_store_ps(p, v.rl);
  _mm256_store_ps(p + 8, v.rh);
  _mm256_store_ps(p + 16, v.il);
  _mm256_store_ps(p + 24, v.ih);
}

/* 16 interleaved reals (any alignment) as 8 complex: (even, odd). */
INLINE void
deinterleave8(const float *p, __m256 *re, __m256 *im)
{
  const __m256 half = _mm256_set1_ps(0.5f); /* see load_row() in scalar/fft.c */
  const __m256 a = _mm256_mul_ps(_mm256_loadu_ps(p), half);
  const __m256 b = _mm256_mul_ps(_mm256_loadu_ps(p + 8), half);
  *re = _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  *im = _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

INLINE void
interleave8(float *p, __m256 re, __m256 im)
{
  const __m256 lo = _mm256_unpacklo_ps(re, im), hi = _mm256_unpackhi_ps(re, im);
  _mm256_storeu_ps(p, _mm256_permute2f128_ps(lo, hi, 0x20));
  _mm256_storeu_ps(p + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
}

INLINE V
load_real(const float *p)
{
  V v;
  deinterleave8(p, &v.rl, &v.il);
  deinterleave8(p + 16, &v.rh, &v.ih);
  return v;
}

INLINE void
store_real(float *p, V v)
{
  interleave8(p, v.rl, v.il);
  interleave8(p + 16, v.rh, v.ih);
}

INLINE V
add(V a, V b)
{
  V v = { _mm256_add_ps(a.rl, b.rl), _mm256_add_ps(a.rh, b.rh), _mm256_add_ps(a.il, b.il),
          _mm256_add_ps(a.ih, b.ih) };
  return v;
}

INLINE V
sub(V a, V b)
{
  V v = { _mm256_sub_ps(a.rl, b.rl), _mm256_sub_ps(a.rh, b.rh), _mm256_sub_ps(a.il, b.il),
          _mm256_sub_ps(a.ih, b.ih) };
  return v;
}

/* (re, im) * (wr, wi), 8 lanes */
#define MUL8(re, im, wr, wi)                                                                       \
  do {                                                                                             \
    const __m256 re_ = (re);                                                                       \
    re = _mm256_fmsub_ps(re_, wr, _mm256_mul_ps(im, wi));                                          \
    im = _mm256_fmadd_ps(re_, wi, _mm256_mul_ps(im, wr));                                          \
  } while (0)

/* (re, im) * conj(wr, wi), 8 lanes */
#define MUL8_CONJ(re, im, wr, wi)                                                                  \
  do {                                                                                             \
    const __m256 re_ = (re);                                                                       \
    re = _mm256_fmadd_ps(re_, wr, _mm256_mul_ps(im, wi));                                          \
    im = _mm256_fmsub_ps(im, wr, _mm256_mul_ps(re_, wi));                                          \
  } while (0)

INLINE V
mul_row(V x, const float *w)
{
  const __m256 wrl = _mm256_load_ps(w), wrh = _mm256_load_ps(w + 8);
  const __m256 wil = _mm256_load_ps(w + 16), wih = _mm256_load_ps(w + 24);
  MUL8(x.rl, x.il, wrl, wil);
  MUL8(x.rh, x.ih, wrh, wih);
  return x;
}

INLINE V
mul_row_conj(V x, const float *w)
{
  const __m256 wrl = _mm256_load_ps(w), wrh = _mm256_load_ps(w + 8);
  const __m256 wil = _mm256_load_ps(w + 16), wih = _mm256_load_ps(w + 24);
  MUL8_CONJ(x.rl, x.il, wrl, wil);
  MUL8_CONJ(x.rh, x.ih, wrh, wih);
  return x;
}

INLINE V
mul_both(V x, __m256 wr, __m256 wi)
{
  MUL8(x.rl, x.il, wr, wi);
  MUL8(x.rh, x.ih, wr, wi);
  return x;
}

INLINE V
mul_both_conj(V x, __m256 wr, __m256 wi)
{
  MUL8_CONJ(x.rl, x.il, wr, wi);
  MUL8_CONJ(x.rh, x.ih, wr, wi);
  return x;
}

#define SWAP4(x) _mm256_permute2f128_ps(x, x, 0x01)
#define SWAP2(x) _mm256_permute_ps(x, 0x4E)
#define SWAP1(x) _mm256_permute_ps(x, 0xB1)

/* x[a ^ h] + sign[a] x[a], h < 8, in every lane. */
#define LANE_BUTTERFLY(x, SWAP, sign)                                                              \
  do {                                                                                             \
    x.rl = _mm256_fmadd_ps(x.rl, sign, SWAP(x.rl));                                                \
    x.rh = _mm256_fmadd_ps(x.rh, sign, SWAP(x.rh));                                                \
    x.il = _mm256_fmadd_ps(x.il, sign, SWAP(x.il));                                                \
    x.ih = _mm256_fmadd_ps(x.ih, sign, SWAP(x.ih));                                                \
  } while (0)

/* Span 8: lanes 0-7 get hi + lo, lanes 8-15 lo - hi. */
#define LANE_BUTTERFLY8(x)                                                                         \
  do {                                                                                             \
    const __m256 rl_ = x.rl, il_ = x.il;                                                           \
    x.rl = _mm256_add_ps(x.rh, rl_);                                                               \
    x.il = _mm256_add_ps(x.ih, il_);                                                               \
    x.rh = _mm256_sub_ps(rl_, x.rh);                                                               \
    x.ih = _mm256_sub_ps(il_, x.ih);                                                               \
  } while (0)

#define LD(p) _mm256_loadu_ps(p)

/* The span-2 stage's twiddles are 1 but for lanes 3, 7 (of each half): -i
 * (lane_stage[2]); times -i (forward) or +i (inverse) with blends. */
INLINE V
mul_minus_i(V x)
{
  const __m256 z = _mm256_setzero_ps();
  V v = { _mm256_blend_ps(x.rl, x.il, 0x88), _mm256_blend_ps(x.rh, x.ih, 0x88),
          _mm256_blend_ps(x.il, _mm256_sub_ps(z, x.rl), 0x88),
          _mm256_blend_ps(x.ih, _mm256_sub_ps(z, x.rh), 0x88) };
  return v;
}

INLINE V
mul_plus_i(V x)
{
  const __m256 z = _mm256_setzero_ps();
  V v = { _mm256_blend_ps(x.rl, _mm256_sub_ps(z, x.il), 0x88),
          _mm256_blend_ps(x.rh, _mm256_sub_ps(z, x.ih), 0x88), _mm256_blend_ps(x.il, x.rl, 0x88),
          _mm256_blend_ps(x.ih, x.rh, 0x88) };
  return v;
}

INLINE V
lane_fwd(V x, const float *lt, const LaneConsts *c)
{
  x = mul_row(x, lt);
  LANE_BUTTERFLY8(x);
  MUL8(x.rh, x.ih, LD(c->w0r), LD(c->w0i));
  LANE_BUTTERFLY(x, SWAP4, LD(c->sign4));
  x = mul_both(x, LD(c->w1r), LD(c->w1i));
  LANE_BUTTERFLY(x, SWAP2, LD(c->sign2));
  x = mul_minus_i(x);
  LANE_BUTTERFLY(x, SWAP1, LD(c->sign1));
  return x;
}

INLINE V
lane_inv(V x, const float *lt, const LaneConsts *c)
{
  LANE_BUTTERFLY(x, SWAP1, LD(c->sign1));
  x = mul_plus_i(x);
  LANE_BUTTERFLY(x, SWAP2, LD(c->sign2));
  x = mul_both_conj(x, LD(c->w1r), LD(c->w1i));
  LANE_BUTTERFLY(x, SWAP4, LD(c->sign4));
  MUL8_CONJ(x.rh, x.ih, LD(c->w0r), LD(c->w0i));
  LANE_BUTTERFLY8(x);
  return mul_row_conj(x, lt);
}

INLINE V
load_in(const float *src, size_t r, const int in_real)
{
  return in_real ? load_real(src + r * RF) : load_v(src + r * RF);
}

/* Half a row: 8 lanes, h = 0 (lanes 0-7) or 1 (8-15). The column stages
 * run on half rows: four whole rows fill the sixteen registers. */
typedef struct {
  __m256 re, im;
} H;

INLINE H
load_h(const float *src, size_t r, int h, const int in_real)
{
  H v;
  if (in_real) {
    deinterleave8(src + r * RF + 16 * h, &v.re, &v.im);
  } else {
    v.re = _mm256_load_ps(src + r * RF + 8 * h);
    v.im = _mm256_load_ps(src + r * RF + 16 + 8 * h);
  }
  return v;
}

INLINE void
store_h(float *dst, size_t r, int h, H v)
{
  _mm256_store_ps(dst + r * RF + 8 * h, v.re);
  _mm256_store_ps(dst + r * RF + 16 + 8 * h, v.im);
}

INLINE H
hadd(H a, H b)
{
  H v = { _mm256_add_ps(a.re, b.re), _mm256_add_ps(a.im, b.im) };
  return v;
}

INLINE H
hsub(H a, H b)
{
  H v = { _mm256_sub_ps(a.re, b.re), _mm256_sub_ps(a.im, b.im) };
  return v;
}

INLINE H
hsub_i(H a, H b)
{
  H v = { _mm256_add_ps(a.re, b.im), _mm256_sub_ps(a.im, b.re) };
  return v;
}

INLINE H
hadd_i(H a, H b)
{
  H v = { _mm256_sub_ps(a.re, b.im), _mm256_add_ps(a.im, b.re) };
  return v;
}

INLINE H
htw(H x, const float *w, const int conj)
{
  const __m256 wr = _mm256_set1_ps(w[0]), wi = _mm256_set1_ps(w[1]);
  if (conj)
    MUL8_CONJ(x.re, x.im, wr, wi);
  else
    MUL8(x.re, x.im, wr, wi);
  return x;
}

INLINE void
r4_fwd_body(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src,
            const int in_real, const int lanes)
{
  const size_t q = st->q;
  const float *tw = plan->tw + st->tw;
  LaneConsts c;
  size_t g, k;
  int h;

  if (lanes)
    lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
      for (h = 0; h < 2; h++) {
        const H a0 = load_h(src, r0, h, in_real), a1 = load_h(src, r1, h, in_real);
        const H a2 = load_h(src, r2, h, in_real), a3 = load_h(src, r3, h, in_real);
        const H b0 = hadd(a0, a2), b1 = hsub(a0, a2), b2 = hadd(a1, a3), b3 = hsub(a1, a3);
        H y1 = hsub_i(b1, b3), y2 = hsub(b0, b2), y3 = hadd_i(b1, b3);
        if (!lanes) {
          y1 = htw(y1, tw + 6 * k, 0);
          y2 = htw(y2, tw + 6 * k + 2, 0);
          y3 = htw(y3, tw + 6 * k + 4, 0);
        }
        store_h(dst, r0, h, hadd(b0, b2));
        store_h(dst, r1, h, y1);
        store_h(dst, r2, h, y2);
        store_h(dst, r3, h, y3);
      }
      if (lanes) {
        /* The lane transform of each row, from L1. */
        store_v(dst + r0 * RF, lane_fwd(load_v(dst + r0 * RF), plan->lane_tw + r0 * RF, &c));
        store_v(dst + r1 * RF, lane_fwd(load_v(dst + r1 * RF), plan->lane_tw + r1 * RF, &c));
        store_v(dst + r2 * RF, lane_fwd(load_v(dst + r2 * RF), plan->lane_tw + r2 * RF, &c));
        store_v(dst + r3 * RF, lane_fwd(load_v(dst + r3 * RF), plan->lane_tw + r3 * RF, &c));
      }
    }
}

void
mdn_fft_r4_fwd_avx2(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int in_real = (st->flags & MDN_FFT_IN_REAL) != 0, lanes = (st->flags & MDN_FFT_LANE) != 0;
  if (in_real && lanes)
    r4_fwd_body(plan, st, dst, src, 1, 1);
  else if (in_real)
    r4_fwd_body(plan, st, dst, src, 1, 0);
  else if (lanes)
    r4_fwd_body(plan, st, dst, src, 0, 1);
  else
    r4_fwd_body(plan, st, dst, src, 0, 0);
}

void
mdn_fft_r2_fwd_avx2(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int in_real = (st->flags & MDN_FFT_IN_REAL) != 0;
  LaneConsts c;
  size_t g;

  lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    const V a0 = load_in(src, r0, in_real), a1 = load_in(src, r0 + 1, in_real);
    store_v(dst + r0 * RF, lane_fwd(add(a0, a1), plan->lane_tw + r0 * RF, &c));
    store_v(dst + (r0 + 1) * RF, lane_fwd(sub(a0, a1), plan->lane_tw + (r0 + 1) * RF, &c));
  }
}

INLINE void
store_out(const MdnFftPlan *plan, float *dst, size_t r, V y, const int out_real, const int half)
{
  if (!out_real)
    store_v(dst + r * RF, y);
  else if (!half)
    store_real(dst + r * RF, y);
  else
    store_real(dst + (r - plan->rows / 2) * RF, y);
}

INLINE void
store_hout(const MdnFftPlan *plan, float *dst, size_t r, int h, H y, const int out_real,
           const int half)
{
  if (!out_real)
    store_h(dst, r, h, y);
  else
    interleave8(dst + (half ? r - plan->rows / 2 : r) * RF + 16 * h, y.re, y.im);
}

INLINE void
r4_inv_body(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src,
            const int out_real, const int half, const int lanes)
{
  const size_t q = st->q;
  const float *tw = plan->tw + st->tw;
  float tmp[4 * RF] __attribute__((aligned(64)));
  LaneConsts c;
  size_t g, k;
  int h;

  if (lanes)
    lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
      const float *in = src;
      size_t i0 = r0, i1 = r1, i2 = r2, i3 = r3;
      if (lanes) {
        /* The lane transforms first, one row at a time, into L1. */
        store_v(tmp, lane_inv(load_v(src + r0 * RF), plan->lane_tw + r0 * RF, &c));
        store_v(tmp + RF, lane_inv(load_v(src + r1 * RF), plan->lane_tw + r1 * RF, &c));
        store_v(tmp + 2 * RF, lane_inv(load_v(src + r2 * RF), plan->lane_tw + r2 * RF, &c));
        store_v(tmp + 3 * RF, lane_inv(load_v(src + r3 * RF), plan->lane_tw + r3 * RF, &c));
        in = tmp;
        i0 = 0;
        i1 = 1;
        i2 = 2;
        i3 = 3;
      }
      for (h = 0; h < 2; h++) {
        H a0 = load_h(in, i0, h, 0), a1 = load_h(in, i1, h, 0);
        H a2 = load_h(in, i2, h, 0), a3 = load_h(in, i3, h, 0), b0, b1, b2, b3;
        if (!lanes) {
          a1 = htw(a1, tw + 6 * k, 1);
          a2 = htw(a2, tw + 6 * k + 2, 1);
          a3 = htw(a3, tw + 6 * k + 4, 1);
        }
        b0 = hadd(a0, a2);
        b1 = hsub(a0, a2);
        b2 = hadd(a1, a3);
        b3 = hsub(a1, a3);
        if (!half) {
          store_hout(plan, dst, r0, h, hadd(b0, b2), out_real, 0);
          store_hout(plan, dst, r1, h, hadd_i(b1, b3), out_real, 0);
        }
        store_hout(plan, dst, r2, h, hsub(b0, b2), out_real, half);
        store_hout(plan, dst, r3, h, hsub_i(b1, b3), out_real, half);
      }
    }
}

void
mdn_fft_r4_inv_avx2(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int out_real = (st->flags & MDN_FFT_OUT_REAL) != 0;
  const int half = (st->flags & MDN_FFT_OUT_HALF) != 0, lanes = (st->flags & MDN_FFT_LANE) != 0;
  if (half && lanes)
    r4_inv_body(plan, st, dst, src, 1, 1, 1);
  else if (half)
    r4_inv_body(plan, st, dst, src, 1, 1, 0);
  else if (out_real && lanes)
    r4_inv_body(plan, st, dst, src, 1, 0, 1);
  else if (out_real)
    r4_inv_body(plan, st, dst, src, 1, 0, 0);
  else if (lanes)
    r4_inv_body(plan, st, dst, src, 0, 0, 1);
  else
    r4_inv_body(plan, st, dst, src, 0, 0, 0);
}

void
mdn_fft_r2_inv_avx2(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int out_real = (st->flags & MDN_FFT_OUT_REAL) != 0;
  const int half = (st->flags & MDN_FFT_OUT_HALF) != 0;
  LaneConsts c;
  size_t g;

  lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    const V a0 = lane_inv(load_v(src + r0 * RF), plan->lane_tw + r0 * RF, &c);
    const V a1 = lane_inv(load_v(src + (r0 + 1) * RF), plan->lane_tw + (r0 + 1) * RF, &c);
    if (half) {
      store_out(plan, dst, r0 + 1, sub(a0, a1), 1, 1);
    } else {
      store_out(plan, dst, r0, add(a0, a1), out_real, 0);
      store_out(plan, dst, r0 + 1, sub(a0, a1), out_real, 0);
    }
  }
}

/* The real pass on 8 lanes: a = Z[k], b = Z[Nc - k] (lanes permuted),
 * w = W_N^k. See real_lane() in scalar/fft.c. */
INLINE void
real8(__m256 ar, __m256 ai, __m256 br, __m256 bi, __m256 wr, __m256 wi, const int inverse,
      __m256 *outr, __m256 *outi)
{
  const __m256 sr = _mm256_add_ps(ar, br), si = _mm256_sub_ps(ai, bi);
  const __m256 dr = _mm256_sub_ps(ar, br), di = _mm256_add_ps(ai, bi);
  if (!inverse) {
    const __m256 tr = _mm256_fmsub_ps(wr, dr, _mm256_mul_ps(wi, di));
    const __m256 ti = _mm256_fmadd_ps(wr, di, _mm256_mul_ps(wi, dr));
    *outr = _mm256_add_ps(sr, ti);
    *outi = _mm256_sub_ps(si, tr);
  } else {
    const __m256 tr = _mm256_fmadd_ps(wr, dr, _mm256_mul_ps(wi, di));
    const __m256 ti = _mm256_fmsub_ps(wr, di, _mm256_mul_ps(wi, dr));
    *outr = _mm256_sub_ps(sr, ti);
    *outi = _mm256_add_ps(si, tr);
  }
}

INLINE V
real_row(V a, V b, V w, const int inverse)
{
  V v;
  real8(a.rl, a.il, b.rl, b.il, w.rl, w.il, inverse, &v.rl, &v.il);
  real8(a.rh, a.ih, b.rh, b.ih, w.rh, w.ih, inverse, &v.rh, &v.ih);
  return v;
}

/* Lanes reversed: 15 - p. */
INLINE V
reverse(V x, __m256i rev8)
{
  V v = { _mm256_permutevar8x32_ps(x.rh, rev8), _mm256_permutevar8x32_ps(x.rl, rev8),
          _mm256_permutevar8x32_ps(x.ih, rev8), _mm256_permutevar8x32_ps(x.il, rev8) };
  return v;
}

/* Row 0's partner lanes: 0 1 3 2 7 6 5 4 | 15 .. 8. */
INLINE V
row0_partner(V x, __m256i lo, __m256i rev8)
{
  V v = { _mm256_permutevar8x32_ps(x.rl, lo), _mm256_permutevar8x32_ps(x.rh, rev8),
          _mm256_permutevar8x32_ps(x.il, lo), _mm256_permutevar8x32_ps(x.ih, rev8) };
  return v;
}

INLINE void
real_pass(const MdnFftPlan *plan, const MdnFftStep *st, float *data, const int inverse)
{
  const __m256i rev8 = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  const __m256i lo0 = _mm256_setr_epi32(0, 1, 3, 2, 7, 6, 5, 4);
  size_t j;
  for (j = st->k0; j < st->k1; j++) {
    const size_t r = plan->pairs[2 * j], rp = plan->pairs[2 * j + 1];
    const V a = load_v(data + r * RF), b = load_v(data + rp * RF);
    const V w = load_v(plan->real_tw + r * RF);
    if (r == 0) {
      /* Bin 0 holds DC and Nyquist: blended in before the store (scalar
       * stores over a vector row would stall the next vector load). */
      const float a_re = _mm256_cvtss_f32(a.rl), a_im = _mm256_cvtss_f32(a.il);
      const float s = a_re + a_im, d = a_re - a_im;
      V y = real_row(a, row0_partner(a, lo0, rev8), w, inverse);
      y.rl = _mm256_blend_ps(y.rl, _mm256_set1_ps(inverse ? s : s + s), 1);
      y.il = _mm256_blend_ps(y.il, _mm256_set1_ps(inverse ? d : d + d), 1);
      store_v(data, y);
    } else if (r == rp) {
      store_v(data + r * RF, real_row(a, reverse(a, rev8), w, inverse));
    } else {
      const V wp = load_v(plan->real_tw + rp * RF);
      store_v(data + r * RF, real_row(a, reverse(b, rev8), w, inverse));
      store_v(data + rp * RF, real_row(b, reverse(a, rev8), wp, inverse));
    }
  }
}

void
mdn_fft_real_fwd_avx2(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, 0);
}

void
mdn_fft_real_inv_avx2(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, 1);
}

/* 8 lanes of one row: re/im accumulators, s and h at the lanes' real parts. */
#define MAC8(acc_re, acc_im, sj, hj)                                                               \
  do {                                                                                             \
    const __m256 s_re = _mm256_load_ps(sj), s_im = _mm256_load_ps((sj) + MDN_FFT_LANES);           \
    const __m256 h_re = _mm256_load_ps(hj), h_im = _mm256_load_ps((hj) + MDN_FFT_LANES);           \
    acc_re = _mm256_fnmadd_ps(s_im, h_im, _mm256_fmadd_ps(s_re, h_re, acc_re));                    \
    acc_im = _mm256_fmadd_ps(s_im, h_re, _mm256_fmadd_ps(s_re, h_im, acc_im));                     \
  } while (0)

/* Bin 0 (row 0, lane 0): DC and Nyquist, two real products. */
static inline void
mac_bin0(const float *const *s, const float *h, size_t h_stride, int n_spec, float *re, float *im)
{
  int j;
  *re = *im = 0;
  for (j = 0; j < n_spec; j++) {
    *re = fmaf(s[j][0], h[(size_t)j * h_stride], *re);
    *im = fmaf(s[j][MDN_FFT_LANES], h[(size_t)j * h_stride + MDN_FFT_LANES], *im);
  }
}

void
mdn_fft_mac_avx2(float *y, const float *const *s, const float *h, size_t h_stride, int n_spec,
                 size_t row0, size_t row1)
{
  size_t r = row0;
  float dc = 0, nyquist = 0;
  int j;
  if (row0 == 0 && row1 > 0)
    mac_bin0(s, h, h_stride, n_spec, &dc, &nyquist);
  for (; r + 2 <= row1; r += 2) {
    const size_t off = r * RF;
    __m256 r0 = _mm256_setzero_ps(), i0 = r0, r1 = r0, i1 = r0, r2 = r0, i2 = r0, r3 = r0, i3 = r0;
    for (j = 0; j < n_spec; j++) {
      const float *sj = s[j] + off, *hj = h + (size_t)j * h_stride + off;
      MAC8(r0, i0, sj, hj);
      MAC8(r1, i1, sj + 8, hj + 8);
      MAC8(r2, i2, sj + RF, hj + RF);
      MAC8(r3, i3, sj + RF + 8, hj + RF + 8);
    }
    if (r == 0) {
      r0 = _mm256_blend_ps(r0, _mm256_set1_ps(dc), 1);
      i0 = _mm256_blend_ps(i0, _mm256_set1_ps(nyquist), 1);
    }
    _mm256_store_ps(y + off, r0);
    _mm256_store_ps(y + off + 8, r1);
    _mm256_store_ps(y + off + 16, i0);
    _mm256_store_ps(y + off + 24, i1);
    _mm256_store_ps(y + off + RF, r2);
    _mm256_store_ps(y + off + RF + 8, r3);
    _mm256_store_ps(y + off + RF + 16, i2);
    _mm256_store_ps(y + off + RF + 24, i3);
  }
  for (; r < row1; r++) {
    const size_t off = r * RF;
    __m256 r0 = _mm256_setzero_ps(), i0 = r0, r1 = r0, i1 = r0;
    for (j = 0; j < n_spec; j++) {
      const float *sj = s[j] + off, *hj = h + (size_t)j * h_stride + off;
      MAC8(r0, i0, sj, hj);
      MAC8(r1, i1, sj + 8, hj + 8);
    }
    if (r == 0) {
      r0 = _mm256_blend_ps(r0, _mm256_set1_ps(dc), 1);
      i0 = _mm256_blend_ps(i0, _mm256_set1_ps(nyquist), 1);
    }
    _mm256_store_ps(y + off, r0);
    _mm256_store_ps(y + off + 8, r1);
    _mm256_store_ps(y + off + 16, i0);
    _mm256_store_ps(y + off + 24, i1);
  }
}

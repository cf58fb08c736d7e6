/* x86/fft-avx512.c: the FFT's kernels (fft.h) for AVX-512 (compiled with
 * -mavx512f/bw/vl/dq -mfma; x86/init.c puts them in the table at the
 * AVX-512 level). One row of 16 complex lanes is two registers, real parts
 * and imaginary parts: the column stages are plain vertical arithmetic, the lane
 * transform permutes within a register (256-bit halves, 128-bit quarters,
 * then within 128 bits), real input and output are deinterleaved and
 * interleaved with two-source permutes. Same operations as the reference
 * (scalar/fft.c), fused multiply-adds where it has a multiply and an add.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fft.h"

#include <immintrin.h>

#define RF MDN_FFT_ROW_FLOATS
#define INLINE static inline __attribute__((always_inline))

typedef struct {
  __m512 re, im;
} V;

/* What every step of a plan needs in registers. */
typedef struct {
  __m512 sr[2], si[2]; /* lane stages of span 8, 4 (span 2: mul_minus_i) */
  __m512 sign[4];      /* butterfly signs of span 8, 4, 2, 1 */
} LaneConsts;

INLINE void
lane_consts(const MdnFftPlan *plan, LaneConsts *c)
{
  int s;
  for (s = 0; s < 2; s++) {
    c->sr[s] = _mm512_loadu_ps(plan->lane_stage[s]);
    c->si[s] = _mm512_loadu_ps(plan->lane_stage[s] + MDN_FFT_LANES);
  }
  for (s = 0; s < 4; s++)
    c->sign[s] = _mm512_loadu_ps(plan->lane_sign[s]);
}

INLINE V
load_v(const float *p)
{
  V v = { _mm512_load_ps(p), _mm512_load_ps(p + MDN_FFT_LANES) };
  return v;
}

INLINE void
store_v(float *p, V v)
{
  _mm512_store_ps(p, v.re);
  _mm512_store_ps(p + MDN_FFT_LANES, v.im);
}

/* 32 interleaved reals (any alignment) as 16 complex. */
INLINE V
load_real(const float *p)
{
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 lo = _mm512_loadu_ps(p), hi = _mm512_loadu_ps(p + 16);
  const __m512 half = _mm512_set1_ps(0.5f); /* see load_row() in scalar/fft.c */
  V v = { _mm512_mul_ps(_mm512_permutex2var_ps(lo, even, hi), half),
          _mm512_mul_ps(_mm512_permutex2var_ps(lo, odd, hi), half) };
  return v;
}

INLINE void
store_real(float *p, V v)
{
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi
      = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  _mm512_storeu_ps(p, _mm512_permutex2var_ps(v.re, lo, v.im));
  _mm512_storeu_ps(p + 16, _mm512_permutex2var_ps(v.re, hi, v.im));
}

INLINE V
add(V a, V b)
{
  V v = { _mm512_add_ps(a.re, b.re), _mm512_add_ps(a.im, b.im) };
  return v;
}

INLINE V
sub(V a, V b)
{
  V v = { _mm512_sub_ps(a.re, b.re), _mm512_sub_ps(a.im, b.im) };
  return v;
}

/* a - i b */
INLINE V
sub_i(V a, V b)
{
  V v = { _mm512_add_ps(a.re, b.im), _mm512_sub_ps(a.im, b.re) };
  return v;
}

/* a + i b */
INLINE V
add_i(V a, V b)
{
  V v = { _mm512_sub_ps(a.re, b.im), _mm512_add_ps(a.im, b.re) };
  return v;
}

/* x * (wr, wi) */
INLINE V
mul(V x, __m512 wr, __m512 wi)
{
  V v = { _mm512_fmsub_ps(x.re, wr, _mm512_mul_ps(x.im, wi)),
          _mm512_fmadd_ps(x.re, wi, _mm512_mul_ps(x.im, wr)) };
  return v;
}

/* x * conj(wr, wi) */
INLINE V
mul_conj(V x, __m512 wr, __m512 wi)
{
  V v = { _mm512_fmadd_ps(x.re, wr, _mm512_mul_ps(x.im, wi)),
          _mm512_fmsub_ps(x.im, wr, _mm512_mul_ps(x.re, wi)) };
  return v;
}

/* Lane a's partner a ^ h: h = 8 (256-bit halves), 4 (128-bit quarters),
 * 2 (64-bit pairs), 1 (neighbours). */
#define SWAP8(x) _mm512_shuffle_f32x4(x, x, 0x4E)
#define SWAP4(x) _mm512_shuffle_f32x4(x, x, 0xB1)
#define SWAP2(x) _mm512_permute_ps(x, 0x4E)
#define SWAP1(x) _mm512_permute_ps(x, 0xB1)

/* x[a ^ h] + sign[a] x[a] in every lane. */
#define LANE_BUTTERFLY(x, SWAP, sign)                                                              \
  do {                                                                                             \
    x.re = _mm512_fmadd_ps(x.re, sign, SWAP(x.re));                                                \
    x.im = _mm512_fmadd_ps(x.im, sign, SWAP(x.im));                                                \
  } while (0)

/* The span-2 stage's twiddles are 1 but for lanes 3, 7, 11, 15: -i
 * (lane_stage[2]); times -i (forward) or +i (inverse) with masked moves. */
#define LANES_3MOD4 ((__mmask16)0x8888)

INLINE V
mul_minus_i(V x)
{
  V v = { _mm512_mask_mov_ps(x.re, LANES_3MOD4, x.im),
          _mm512_mask_sub_ps(x.im, LANES_3MOD4, _mm512_setzero_ps(), x.re) };
  return v;
}

INLINE V
mul_plus_i(V x)
{
  V v = { _mm512_mask_sub_ps(x.re, LANES_3MOD4, _mm512_setzero_ps(), x.im),
          _mm512_mask_mov_ps(x.im, LANES_3MOD4, x.re) };
  return v;
}

INLINE V
lane_fwd(V x, const float *lt, const LaneConsts *c)
{
  x = mul(x, _mm512_load_ps(lt), _mm512_load_ps(lt + MDN_FFT_LANES));
  LANE_BUTTERFLY(x, SWAP8, c->sign[0]);
  x = mul(x, c->sr[0], c->si[0]);
  LANE_BUTTERFLY(x, SWAP4, c->sign[1]);
  x = mul(x, c->sr[1], c->si[1]);
  LANE_BUTTERFLY(x, SWAP2, c->sign[2]);
  x = mul_minus_i(x);
  LANE_BUTTERFLY(x, SWAP1, c->sign[3]);
  return x;
}

INLINE V
lane_inv(V x, const float *lt, const LaneConsts *c)
{
  LANE_BUTTERFLY(x, SWAP1, c->sign[3]);
  x = mul_plus_i(x);
  LANE_BUTTERFLY(x, SWAP2, c->sign[2]);
  x = mul_conj(x, c->sr[1], c->si[1]);
  LANE_BUTTERFLY(x, SWAP4, c->sign[1]);
  x = mul_conj(x, c->sr[0], c->si[0]);
  LANE_BUTTERFLY(x, SWAP8, c->sign[0]);
  return mul_conj(x, _mm512_load_ps(lt), _mm512_load_ps(lt + MDN_FFT_LANES));
}

INLINE V
load_in(const float *src, size_t r, const int in_real)
{
  return in_real ? load_real(src + r * RF) : load_v(src + r * RF);
}

INLINE V
tw_mul(V x, const float *w)
{
  return mul(x, _mm512_set1_ps(w[0]), _mm512_set1_ps(w[1]));
}

INLINE V
tw_mul_conj(V x, const float *w)
{
  return mul_conj(x, _mm512_set1_ps(w[0]), _mm512_set1_ps(w[1]));
}

INLINE void
r4_fwd_body(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src,
            const int in_real, const int lanes)
{
  const size_t q = st->q;
  const float *tw = plan->tw + st->tw;
  LaneConsts c;
  size_t g, k;

  if (lanes)
    lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
      const V a0 = load_in(src, r0, in_real), a1 = load_in(src, r1, in_real);
      const V a2 = load_in(src, r2, in_real), a3 = load_in(src, r3, in_real);
      const V b0 = add(a0, a2), b1 = sub(a0, a2), b2 = add(a1, a3), b3 = sub(a1, a3);
      V y0 = add(b0, b2), y1 = sub_i(b1, b3), y2 = sub(b0, b2), y3 = add_i(b1, b3);
      if (lanes) {
        /* Span 1 (the plan's only stages of span 1 are the lane ones): no
         * twiddles. */
        y0 = lane_fwd(y0, plan->lane_tw + r0 * RF, &c);
        y1 = lane_fwd(y1, plan->lane_tw + r1 * RF, &c);
        y2 = lane_fwd(y2, plan->lane_tw + r2 * RF, &c);
        y3 = lane_fwd(y3, plan->lane_tw + r3 * RF, &c);
      } else {
        y1 = tw_mul(y1, tw + 6 * k);
        y2 = tw_mul(y2, tw + 6 * k + 2);
        y3 = tw_mul(y3, tw + 6 * k + 4);
      }
      store_v(dst + r0 * RF, y0);
      store_v(dst + r1 * RF, y1);
      store_v(dst + r2 * RF, y2);
      store_v(dst + r3 * RF, y3);
    }
}

void
mdn_fft_r4_fwd_avx512(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
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
mdn_fft_r2_fwd_avx512(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int in_real = (st->flags & MDN_FFT_IN_REAL) != 0;
  LaneConsts c;
  size_t g;

  lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    V a0 = in_real ? load_real(src + r0 * RF) : load_v(src + r0 * RF);
    V a1 = in_real ? load_real(src + (r0 + 1) * RF) : load_v(src + (r0 + 1) * RF);
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
r4_inv_body(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src,
            const int out_real, const int half, const int lanes)
{
  const size_t q = st->q;
  const float *tw = plan->tw + st->tw;
  LaneConsts c;
  size_t g, k;

  if (lanes)
    lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
      V a0 = load_v(src + r0 * RF), a1 = load_v(src + r1 * RF);
      V a2 = load_v(src + r2 * RF), a3 = load_v(src + r3 * RF), b0, b1, b2, b3;
      if (lanes) {
        a0 = lane_inv(a0, plan->lane_tw + r0 * RF, &c);
        a1 = lane_inv(a1, plan->lane_tw + r1 * RF, &c);
        a2 = lane_inv(a2, plan->lane_tw + r2 * RF, &c);
        a3 = lane_inv(a3, plan->lane_tw + r3 * RF, &c);
      } else {
        a1 = tw_mul_conj(a1, tw + 6 * k);
        a2 = tw_mul_conj(a2, tw + 6 * k + 2);
        a3 = tw_mul_conj(a3, tw + 6 * k + 4);
      }
      b0 = add(a0, a2);
      b1 = sub(a0, a2);
      b2 = add(a1, a3);
      b3 = sub(a1, a3);
      /* The last stage of a half inverse: rows 2q.. and 3q.. are the
       * second half (span M/4, one group). */
      if (!half) {
        store_out(plan, dst, r0, add(b0, b2), out_real, 0);
        store_out(plan, dst, r1, add_i(b1, b3), out_real, 0);
      }
      store_out(plan, dst, r2, sub(b0, b2), out_real, half);
      store_out(plan, dst, r3, sub_i(b1, b3), out_real, half);
    }
}

void
mdn_fft_r4_inv_avx512(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
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
mdn_fft_r2_inv_avx512(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const int out_real = (st->flags & MDN_FFT_OUT_REAL) != 0;
  const int half = (st->flags & MDN_FFT_OUT_HALF) != 0;
  LaneConsts c;
  size_t g;

  lane_consts(plan, &c);
  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    V a0 = lane_inv(load_v(src + r0 * RF), plan->lane_tw + r0 * RF, &c);
    V a1 = lane_inv(load_v(src + (r0 + 1) * RF), plan->lane_tw + (r0 + 1) * RF, &c);
    if (half) {
      store_out(plan, dst, r0 + 1, sub(a0, a1), 1, 1);
    } else {
      store_out(plan, dst, r0, add(a0, a1), out_real, 0);
      store_out(plan, dst, r0 + 1, sub(a0, a1), out_real, 0);
    }
  }
}

/* The real pass of one row: a = Z[k], b = Z[Nc - k] (lanes already
 * permuted), w = W_N^k. See real_lane() in scalar/fft.c. */
INLINE V
real_row(V a, V b, V w, const int inverse)
{
  const __m512 sr = _mm512_add_ps(a.re, b.re), si = _mm512_sub_ps(a.im, b.im);
  const __m512 dr = _mm512_sub_ps(a.re, b.re), di = _mm512_add_ps(a.im, b.im);
  V v;
  if (!inverse) {
    const __m512 tr = _mm512_fmsub_ps(w.re, dr, _mm512_mul_ps(w.im, di));
    const __m512 ti = _mm512_fmadd_ps(w.re, di, _mm512_mul_ps(w.im, dr));
    v.re = _mm512_add_ps(sr, ti);
    v.im = _mm512_sub_ps(si, tr);
  } else {
    const __m512 tr = _mm512_fmadd_ps(w.re, dr, _mm512_mul_ps(w.im, di));
    const __m512 ti = _mm512_fmsub_ps(w.re, di, _mm512_mul_ps(w.im, dr));
    v.re = _mm512_sub_ps(sr, ti);
    v.im = _mm512_add_ps(si, tr);
  }
  return v;
}

INLINE V
permute_v(V x, __m512i idx)
{
  V v = { _mm512_permutexvar_ps(idx, x.re), _mm512_permutexvar_ps(idx, x.im) };
  return v;
}

INLINE void
real_pass(const MdnFftPlan *plan, const MdnFftStep *st, float *data, const int inverse)
{
  const __m512i rev = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i row0 = _mm512_setr_epi32(0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8);
  size_t j;
  for (j = st->k0; j < st->k1; j++) {
    const size_t r = plan->pairs[2 * j], rp = plan->pairs[2 * j + 1];
    const V a = load_v(data + r * RF), b = load_v(data + rp * RF);
    const V w = load_v(plan->real_tw + r * RF);
    if (r == 0) {
      /* Bin 0 holds DC and Nyquist: blended in before the store (scalar
       * stores over a vector row would stall the next vector load). */
      const float a_re = _mm512_cvtss_f32(a.re), a_im = _mm512_cvtss_f32(a.im);
      const float s = a_re + a_im, d = a_re - a_im;
      V y = real_row(a, permute_v(a, row0), w, inverse);
      y.re = _mm512_mask_mov_ps(y.re, 1, _mm512_set1_ps(inverse ? s : s + s));
      y.im = _mm512_mask_mov_ps(y.im, 1, _mm512_set1_ps(inverse ? d : d + d));
      store_v(data, y);
    } else if (r == rp) {
      store_v(data + r * RF, real_row(a, permute_v(a, rev), w, inverse));
    } else {
      const V wp = load_v(plan->real_tw + rp * RF);
      store_v(data + r * RF, real_row(a, permute_v(b, rev), w, inverse));
      store_v(data + rp * RF, real_row(b, permute_v(a, rev), wp, inverse));
    }
  }
}

void
mdn_fft_real_fwd_avx512(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, 0);
}

void
mdn_fft_real_inv_avx512(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, 1);
}

#define MAC_STEP(acc_re, acc_im, sj, hj)                                                           \
  do {                                                                                             \
    const __m512 s_re = _mm512_load_ps(sj), s_im = _mm512_load_ps((sj) + MDN_FFT_LANES);           \
    const __m512 h_re = _mm512_load_ps(hj), h_im = _mm512_load_ps((hj) + MDN_FFT_LANES);           \
    acc_re = _mm512_fnmadd_ps(s_im, h_im, _mm512_fmadd_ps(s_re, h_re, acc_re));                    \
    acc_im = _mm512_fmadd_ps(s_im, h_re, _mm512_fmadd_ps(s_re, h_im, acc_im));                     \
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
mdn_fft_mac_avx512(float *y, const float *const *s, const float *h, size_t h_stride, int n_spec,
                   size_t row0, size_t row1)
{
  size_t r = row0;
  float dc = 0, nyquist = 0;
  int j;
  if (row0 == 0 && row1 > 0)
    mac_bin0(s, h, h_stride, n_spec, &dc, &nyquist);
  for (; r + 4 <= row1; r += 4) {
    const size_t off = r * RF;
    __m512 r0 = _mm512_setzero_ps(), i0 = r0, r1 = r0, i1 = r0, r2 = r0, i2 = r0, r3 = r0, i3 = r0;
    for (j = 0; j < n_spec; j++) {
      const float *sj = s[j] + off, *hj = h + (size_t)j * h_stride + off;
      MAC_STEP(r0, i0, sj, hj);
      MAC_STEP(r1, i1, sj + RF, hj + RF);
      MAC_STEP(r2, i2, sj + 2 * RF, hj + 2 * RF);
      MAC_STEP(r3, i3, sj + 3 * RF, hj + 3 * RF);
    }
    if (r == 0) {
      r0 = _mm512_mask_mov_ps(r0, 1, _mm512_set1_ps(dc));
      i0 = _mm512_mask_mov_ps(i0, 1, _mm512_set1_ps(nyquist));
    }
    _mm512_store_ps(y + off, r0);
    _mm512_store_ps(y + off + 16, i0);
    _mm512_store_ps(y + off + RF, r1);
    _mm512_store_ps(y + off + RF + 16, i1);
    _mm512_store_ps(y + off + 2 * RF, r2);
    _mm512_store_ps(y + off + 2 * RF + 16, i2);
    _mm512_store_ps(y + off + 3 * RF, r3);
    _mm512_store_ps(y + off + 3 * RF + 16, i3);
  }
  for (; r < row1; r++) {
    const size_t off = r * RF;
    __m512 r0 = _mm512_setzero_ps(), i0 = r0;
    for (j = 0; j < n_spec; j++)
      MAC_STEP(r0, i0, s[j] + off, h + (size_t)j * h_stride + off);
    if (r == 0) {
      r0 = _mm512_mask_mov_ps(r0, 1, _mm512_set1_ps(dc));
      i0 = _mm512_mask_mov_ps(i0, 1, _mm512_set1_ps(nyquist));
    }
    _mm512_store_ps(y + off, r0);
    _mm512_store_ps(y + off + 16, i0);
  }
}

/* scalar/fft.c: the reference kernels of the engine's FFT (fft.h), plain C
 * over rows of 16 lanes, and the table's init; the vector files compute the
 * same operations in the same order on whole rows.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fft.h"

#include <string.h>

#define L MDN_FFT_LANES
#define RF MDN_FFT_ROW_FLOATS

typedef struct {
  float re[L], im[L];
} Row;

/* Lane of the partner of each lane of row 0 (bins M k2 and Nc - M k2, the
 * lanes holding k2 in bit-reversed order); other rows pair lane p with
 * lane 15 - p of their partner row. */
static const unsigned row0_partner[L] = { 0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8 };

static inline void
load_row(Row *x, const float *src, size_t r, gboolean real)
{
  const float *s = src + r * RF;
  int j;
  for (j = 0; j < L; j++) {
    /* Real input is halved (exactly): the real pass doubles it, and a
     * sample near FLT_MAX must not overflow on the way. */
    x->re[j] = real ? 0.5f * s[2 * j] : s[j];
    x->im[j] = real ? 0.5f * s[2 * j + 1] : s[L + j];
  }
}

static inline void
store_row(const Row *x, float *dst, size_t r, gboolean real)
{
  float *d = dst + r * RF;
  int j;
  for (j = 0; j < L; j++) {
    if (real) {
      d[2 * j] = x->re[j];
      d[2 * j + 1] = x->im[j];
    } else {
      d[j] = x->re[j];
      d[L + j] = x->im[j];
    }
  }
}

/* x *= w (w: 16 re then 16 im), or by conj(w). */
static inline void
mul_row(Row *x, const float *w, gboolean conj)
{
  int j;
  for (j = 0; j < L; j++) {
    const float wr = w[j], wi = conj ? -w[L + j] : w[L + j];
    const float re = x->re[j] * wr - x->im[j] * wi;
    const float im = x->re[j] * wi + x->im[j] * wr;
    x->re[j] = re;
    x->im[j] = im;
  }
}

/* x *= (wr, wi) for every lane. */
static inline void
mul_scalar(Row *x, float wr, float wi)
{
  int j;
  for (j = 0; j < L; j++) {
    const float re = x->re[j] * wr - x->im[j] * wi;
    const float im = x->re[j] * wi + x->im[j] * wr;
    x->re[j] = re;
    x->im[j] = im;
  }
}

/* One butterfly stage across lanes, span h (stage index s: h = 8 >> s):
 * lane a gets x[a ^ h] + sign[a] x[a] (the sum in the lanes without bit h,
 * the difference x[a - h] - x[a] in the others). */
static inline void
lane_butterfly(Row *x, const float *sign, unsigned h)
{
  Row t = *x;
  unsigned a;
  for (a = 0; a < L; a++) {
    x->re[a] = t.re[a ^ h] + sign[a] * t.re[a];
    x->im[a] = t.im[a ^ h] + sign[a] * t.im[a];
  }
}

/* Row r: lane twiddles, then the 16-point DFT across lanes (decimation in
 * frequency: output in bit-reversed lane order). */
static void
lane_fwd(const MdnFftPlan *plan, Row *x, size_t r)
{
  int s;
  mul_row(x, plan->lane_tw + r * RF, FALSE);
  for (s = 0; s < 4; s++) {
    lane_butterfly(x, plan->lane_sign[s], 8u >> s);
    if (s < 3)
      mul_row(x, plan->lane_stage[s], FALSE);
  }
}

/* Its inverse (times 16): decimation in time from bit-reversed lanes. */
static void
lane_inv(const MdnFftPlan *plan, Row *x, size_t r)
{
  int s;
  for (s = 3; s >= 0; s--) {
    if (s < 3)
      mul_row(x, plan->lane_stage[s], TRUE);
    lane_butterfly(x, plan->lane_sign[s], 8u >> s);
  }
  mul_row(x, plan->lane_tw + r * RF, TRUE);
}

static void
r4_fwd(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const size_t q = st->q;
  const gboolean in_real = st->flags & MDN_FFT_IN_REAL, lanes = st->flags & MDN_FFT_LANE;
  const float *tw = plan->tw + st->tw;
  size_t g, k;
  int p, j;

  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k;
      Row a[4], y[4];
      for (p = 0; p < 4; p++)
        load_row(&a[p], src, r0 + p * q, in_real);
      for (j = 0; j < L; j++) {
        const float b0r = a[0].re[j] + a[2].re[j], b0i = a[0].im[j] + a[2].im[j];
        const float b1r = a[0].re[j] - a[2].re[j], b1i = a[0].im[j] - a[2].im[j];
        const float b2r = a[1].re[j] + a[3].re[j], b2i = a[1].im[j] + a[3].im[j];
        const float b3r = a[1].re[j] - a[3].re[j], b3i = a[1].im[j] - a[3].im[j];
        y[0].re[j] = b0r + b2r;
        y[0].im[j] = b0i + b2i;
        y[2].re[j] = b0r - b2r;
        y[2].im[j] = b0i - b2i;
        y[1].re[j] = b1r + b3i; /* b1 - i b3 */
        y[1].im[j] = b1i - b3r;
        y[3].re[j] = b1r - b3i; /* b1 + i b3 */
        y[3].im[j] = b1i + b3r;
      }
      if (q > 1)
        for (p = 1; p < 4; p++)
          mul_scalar(&y[p], tw[6 * k + 2 * (p - 1)], tw[6 * k + 2 * (p - 1) + 1]);
      for (p = 0; p < 4; p++) {
        if (lanes)
          lane_fwd(plan, &y[p], r0 + p * q);
        store_row(&y[p], dst, r0 + p * q, FALSE);
      }
    }
}

static void
r2_fwd(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const gboolean in_real = st->flags & MDN_FFT_IN_REAL;
  size_t g;
  int j;

  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    Row a[2], y[2];
    load_row(&a[0], src, r0, in_real);
    load_row(&a[1], src, r0 + 1, in_real);
    for (j = 0; j < L; j++) {
      y[0].re[j] = a[0].re[j] + a[1].re[j];
      y[0].im[j] = a[0].im[j] + a[1].im[j];
      y[1].re[j] = a[0].re[j] - a[1].re[j];
      y[1].im[j] = a[0].im[j] - a[1].im[j];
    }
    lane_fwd(plan, &y[0], r0);
    lane_fwd(plan, &y[1], r0 + 1);
    store_row(&y[0], dst, r0, FALSE);
    store_row(&y[1], dst, r0 + 1, FALSE);
  }
}

/* Stores row r of real output (MDN_FFT_OUT_REAL), or only the rows of the
 * second half (MDN_FFT_OUT_HALF), or a spectrum row. */
static inline void
store_out(const MdnFftPlan *plan, const MdnFftStep *st, const Row *y, float *dst, size_t r)
{
  if (!(st->flags & MDN_FFT_OUT_REAL))
    store_row(y, dst, r, FALSE);
  else if (!(st->flags & MDN_FFT_OUT_HALF))
    store_row(y, dst, r, TRUE);
  else if (r >= plan->rows / 2)
    store_row(y, dst, r - plan->rows / 2, TRUE);
}

static void
r4_inv(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  const size_t q = st->q;
  const gboolean lanes = st->flags & MDN_FFT_LANE;
  const float *tw = plan->tw + st->tw;
  size_t g, k;
  int p, j;

  for (g = 0; g < st->groups; g++)
    for (k = st->k0; k < st->k1; k++) {
      const size_t r0 = st->base + g * 4 * q + k;
      Row c[4], y[4];
      for (p = 0; p < 4; p++) {
        load_row(&c[p], src, r0 + p * q, FALSE);
        if (lanes)
          lane_inv(plan, &c[p], r0 + p * q);
      }
      if (q > 1)
        for (p = 1; p < 4; p++)
          mul_scalar(&c[p], tw[6 * k + 2 * (p - 1)], -tw[6 * k + 2 * (p - 1) + 1]);
      for (j = 0; j < L; j++) {
        const float b0r = c[0].re[j] + c[2].re[j], b0i = c[0].im[j] + c[2].im[j];
        const float b1r = c[0].re[j] - c[2].re[j], b1i = c[0].im[j] - c[2].im[j];
        const float b2r = c[1].re[j] + c[3].re[j], b2i = c[1].im[j] + c[3].im[j];
        const float b3r = c[1].re[j] - c[3].re[j], b3i = c[1].im[j] - c[3].im[j];
        y[0].re[j] = b0r + b2r;
        y[0].im[j] = b0i + b2i;
        y[2].re[j] = b0r - b2r;
        y[2].im[j] = b0i - b2i;
        y[1].re[j] = b1r - b3i; /* b1 + i b3 */
        y[1].im[j] = b1i + b3r;
        y[3].re[j] = b1r + b3i; /* b1 - i b3 */
        y[3].im[j] = b1i - b3r;
      }
      for (p = 0; p < 4; p++)
        store_out(plan, st, &y[p], dst, r0 + p * q);
    }
}

static void
r2_inv(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  size_t g;
  int j;

  for (g = 0; g < st->groups; g++) {
    const size_t r0 = st->base + 2 * g;
    Row c[2], y[2];
    load_row(&c[0], src, r0, FALSE);
    load_row(&c[1], src, r0 + 1, FALSE);
    lane_inv(plan, &c[0], r0);
    lane_inv(plan, &c[1], r0 + 1);
    for (j = 0; j < L; j++) {
      y[0].re[j] = c[0].re[j] + c[1].re[j];
      y[0].im[j] = c[0].im[j] + c[1].im[j];
      y[1].re[j] = c[0].re[j] - c[1].re[j];
      y[1].im[j] = c[0].im[j] - c[1].im[j];
    }
    store_out(plan, st, &y[0], dst, r0);
    store_out(plan, st, &y[1], dst, r0 + 1);
  }
}

/* Real pass of one lane: a = Z[k], b = Z[Nc - k], w = W_N^k.
 * Forward:  F = (a + conj b) - i w (a - conj b)        (X[k]: a, b from the
 *                                                      halved input)
 * Inverse:  Z = (a + conj b) + i conj(w) (a - conj b)  (from X, 2 Z[k]) */
static inline void
real_lane(float ar, float ai, float br, float bi, float wr, float wi, gboolean inverse, float *outr,
          float *outi)
{
  const float sr = ar + br, si = ai - bi;
  const float dr = ar - br, di = ai + bi;
  if (!inverse) {
    const float tr = wr * dr - wi * di, ti = wr * di + wi * dr;
    *outr = sr + ti;
    *outi = si - tr;
  } else {
    const float tr = wr * dr + wi * di, ti = wr * di - wi * dr;
    *outr = sr - ti;
    *outi = si + tr;
  }
}

static void
real_pass(const MdnFftPlan *plan, const MdnFftStep *st, float *data, gboolean inverse)
{
  size_t j;
  for (j = st->k0; j < st->k1; j++) {
    const size_t r = plan->pairs[2 * j], rp = plan->pairs[2 * j + 1];
    const float *wr = plan->real_tw + r * RF, *wrp = plan->real_tw + rp * RF;
    Row a, b, y, yp;
    unsigned p;
    load_row(&a, data, r, FALSE);
    load_row(&b, data, rp, FALSE);
    for (p = 0; p < L; p++) {
      const unsigned q = r == 0 ? row0_partner[p] : L - 1 - p;
      real_lane(a.re[p], a.im[p], b.re[q], b.im[q], wr[p], wr[L + p], inverse, &y.re[p], &y.im[p]);
      real_lane(b.re[p], b.im[p], a.re[q], a.im[q], wrp[p], wrp[L + p], inverse, &yp.re[p],
                &yp.im[p]);
    }
    if (r == 0) {
      /* DC and Nyquist, both real, share bin 0. */
      const float s = a.re[0] + a.im[0], d = a.re[0] - a.im[0];
      if (!inverse) {
        y.re[0] = s + s;
        y.im[0] = d + d;
      } else {
        y.re[0] = s;
        y.im[0] = d;
      }
    }
    store_row(&y, data, r, FALSE);
    if (rp != r)
      store_row(&yp, data, rp, FALSE);
  }
}

static void
real_fwd(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, FALSE);
}

static void
real_inv(const MdnFftPlan *plan, const MdnFftStep *st, float *dst, const float *src)
{
  (void)src;
  real_pass(plan, st, dst, TRUE);
}

static void
mac_scalar(float *y, const float *const *s, const float *h, size_t h_stride, int n_spec,
           size_t row0, size_t row1)
{
  size_t r;
  int j, l;
  for (r = row0; r < row1; r++) {
    float re[L] = { 0 }, im[L] = { 0 };
    const size_t off = r * RF;
    for (j = 0; j < n_spec; j++) {
      const float *sj = s[j] + off, *hj = h + (size_t)j * h_stride + off;
      for (l = 0; l < L; l++) {
        re[l] = re[l] + sj[l] * hj[l] - sj[L + l] * hj[L + l];
        im[l] = im[l] + sj[l] * hj[L + l] + sj[L + l] * hj[l];
      }
    }
    if (r == 0) {
      re[0] = im[0] = 0;
      for (j = 0; j < n_spec; j++) {
        re[0] = re[0] + s[j][0] * h[(size_t)j * h_stride];
        im[0] = im[0] + s[j][L] * h[(size_t)j * h_stride + L];
      }
    }
    for (l = 0; l < L; l++) {
      y[off + l] = re[l];
      y[off + L + l] = im[l];
    }
  }
}

void
mdn_fft_dsp_init(MdnFftDsp *dsp, unsigned flags)
{
  memset(dsp, 0, sizeof *dsp);
  dsp->step[MDN_FFT_R4_FWD] = r4_fwd;
  dsp->step[MDN_FFT_R2_FWD] = r2_fwd;
  dsp->step[MDN_FFT_REAL_FWD] = real_fwd;
  dsp->step[MDN_FFT_R4_INV] = r4_inv;
  dsp->step[MDN_FFT_R2_INV] = r2_inv;
  dsp->step[MDN_FFT_REAL_INV] = real_inv;
  dsp->mac = mac_scalar;
  dsp->flag = 0;
#if defined(MDN_KERNELS_X86)
  mdn_fft_dsp_init_x86(dsp, flags);
#elif defined(MDN_KERNELS_ARM)
  mdn_fft_dsp_init_arm(dsp, flags);
#else
  (void)flags;
#endif
}

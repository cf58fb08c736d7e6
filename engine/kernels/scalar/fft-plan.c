/* fft-plan.c: plans of the engine's real FFT (fft.h): twiddles, the order
 * the spectrum is left in, the step lists; running them; and which kernel
 * table the exact path uses.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fft.h"

#include <stdlib.h>
#include <string.h>

/* At most this many butterflies (of 4 or 2 rows) or row pairs per step:
 * about 16 KiB of spectrum, small enough to spread a large transform over
 * many calls, large enough that the call per step costs little. */
#define STEP_BUTTERFLIES 32
#define STEP_PAIRS 32
/* Sub-transforms of more rows than this (32 KiB) run depth first: each of
 * a stage's sub-transforms is finished while it is in the cache. */
#define DEPTH_FIRST_ROWS 256

/* Relative cost per row touched, for spreading work over time: a row of a
 * radix-4 stage is 1 (about 2 ns with AVX-512 on the machine of
 * bench/README.md); per row, the lane transform measured 3.2 times that and
 * the real pass 1.4 times (bench/fft-bench's sizes, step by step). Only the
 * proportions matter. */
#define COST_R4 1.0f
#define COST_R4_TRIVIAL 0.6f /* span 1: no twiddles */
#define COST_R2 0.5f
#define COST_LANE 2.6f
#define COST_IO 0.2f /* real input or output */
#define COST_REAL 1.4f

typedef struct {
  int radix;
  size_t q; /* span: rows between the legs of a butterfly */
} Stage;

typedef struct {
  MdnFftPlan *plan;
  Stage stages[24];
  int n_stages;
  guint32 tw_off[24];
  GArray *steps;
  gboolean half; /* inverse: OUT_HALF on the last stage */
} Builder;

float *
mdn_fft_alloc(size_t n_floats)
{
  void *p = NULL;
  size_t bytes = MAX(n_floats, 1) * sizeof(float);
  if (n_floats > G_MAXSIZE / sizeof(float) / 2)
    return NULL;
  bytes = (bytes + MDN_FFT_ALIGN - 1) / MDN_FFT_ALIGN * MDN_FFT_ALIGN;
  if (posix_memalign(&p, MDN_FFT_ALIGN, bytes) != 0)
    return NULL;
  memset(p, 0, bytes);
  return p;
}

void
mdn_fft_free(float *p)
{
  free(p);
}

static unsigned
bitrev4(unsigned p)
{
  return ((p & 1) << 3) | ((p & 2) << 1) | ((p & 4) >> 1) | ((p & 8) >> 3);
}

/* W_n^k = exp(-2 pi i k / n), in double. */
static void
twiddle(size_t k, size_t n, double *re, double *im)
{
  double a = -2.0 * G_PI * (double)(k % n) / (double)n;
  *re = cos(a);
  *im = sin(a);
}

static void
set_tw(float *re, float *im, size_t k, size_t n)
{
  double r, i;
  twiddle(k, n, &r, &i);
  /* Quarter turns exactly: cos(pi/2) is 6e-17 in double, 0 here. */
  *re = fabs(r) < 1e-15 ? 0.0f : (float)r;
  *im = fabs(i) < 1e-15 ? 0.0f : (float)i;
}

static void
stages_of(Builder *b, size_t rows)
{
  size_t span = rows;
  b->n_stages = 0;
  while (span > 1) {
    Stage *st = &b->stages[b->n_stages++];
    st->radix = span == 2 ? 2 : 4;
    st->q = span / st->radix;
    span = st->q;
  }
}

static float
row_cost(const Stage *st, guint8 flags)
{
  float c = st->radix == 2 ? COST_R2 : st->q == 1 ? COST_R4_TRIVIAL : COST_R4;
  if (flags & MDN_FFT_LANE)
    c += COST_LANE;
  if (flags & (MDN_FFT_IN_REAL | MDN_FFT_OUT_REAL))
    c += COST_IO;
  return c;
}

/* Stage i over the block of rows [base, base + rows), in steps. */
static void
emit_stage(Builder *b, int i, gboolean inverse, size_t base, size_t rows)
{
  const Stage *st = &b->stages[i];
  const size_t group_rows = st->radix * st->q, groups = rows / group_rows;
  MdnFftStep s = { 0 };
  size_t g, k;

  s.kind = st->radix == 4 ? (inverse ? MDN_FFT_R4_INV : MDN_FFT_R4_FWD)
                          : (inverse ? MDN_FFT_R2_INV : MDN_FFT_R2_FWD);
  if (st->q == 1)
    s.flags |= MDN_FFT_LANE;
  if (i == 0)
    s.flags |= inverse ? MDN_FFT_OUT_REAL | (b->half ? MDN_FFT_OUT_HALF : 0) : MDN_FFT_IN_REAL;
  s.q = (guint32)st->q;
  s.tw = b->tw_off[i];
  if (st->q >= STEP_BUTTERFLIES) {
    for (g = 0; g < groups; g++)
      for (k = 0; k < st->q; k += STEP_BUTTERFLIES) {
        s.base = (guint32)(base + g * group_rows);
        s.groups = 1;
        s.k0 = (guint32)k;
        s.k1 = (guint32)MIN(k + STEP_BUTTERFLIES, st->q);
        s.cost = (s.k1 - s.k0) * st->radix * row_cost(st, s.flags);
        g_array_append_val(b->steps, s);
      }
  } else {
    const size_t per_step = STEP_BUTTERFLIES / st->q;
    for (g = 0; g < groups; g += per_step) {
      s.base = (guint32)(base + g * group_rows);
      s.groups = (guint32)MIN(per_step, groups - g);
      s.k0 = 0;
      s.k1 = (guint32)st->q;
      s.cost = s.groups * group_rows * row_cost(st, s.flags);
      g_array_append_val(b->steps, s);
    }
  }
}

/* Stages i.. of the sub-transform of rows [base, base + radix_i q_i). */
static void
gen_fwd(Builder *b, int i, size_t base)
{
  const Stage *st = &b->stages[i];
  const size_t rows = st->radix * st->q;
  int j, p;
  if (i + 1 < b->n_stages && rows > DEPTH_FIRST_ROWS) {
    emit_stage(b, i, FALSE, base, rows);
    for (p = 0; p < st->radix; p++)
      gen_fwd(b, i + 1, base + p * st->q);
  } else {
    for (j = i; j < b->n_stages; j++)
      emit_stage(b, j, FALSE, base, rows);
  }
}

static void
gen_inv(Builder *b, int i, size_t base)
{
  const Stage *st = &b->stages[i];
  const size_t rows = st->radix * st->q;
  int j, p;
  if (i + 1 < b->n_stages && rows > DEPTH_FIRST_ROWS) {
    for (p = 0; p < st->radix; p++)
      gen_inv(b, i + 1, base + p * st->q);
    emit_stage(b, i, TRUE, base, rows);
  } else {
    for (j = b->n_stages - 1; j >= i; j--)
      emit_stage(b, j, TRUE, base, rows);
  }
}

static void
emit_real(Builder *b, gboolean inverse)
{
  const MdnFftPlan *plan = b->plan;
  MdnFftStep s = { 0 };
  size_t k, j;
  s.kind = inverse ? MDN_FFT_REAL_INV : MDN_FFT_REAL_FWD;
  for (k = 0; k < plan->n_pairs; k += STEP_PAIRS) {
    s.k0 = (guint32)k;
    s.k1 = (guint32)MIN(k + STEP_PAIRS, plan->n_pairs);
    s.cost = 0;
    for (j = s.k0; j < s.k1; j++)
      s.cost += COST_REAL * (plan->pairs[2 * j] == plan->pairs[2 * j + 1] ? 1 : 2);
    g_array_append_val(b->steps, s);
  }
}

static MdnFftStep *
take_steps(Builder *b, size_t *n, double *cost)
{
  MdnFftStep *steps = (MdnFftStep *)b->steps->data;
  size_t j;
  *n = b->steps->len;
  if (cost) {
    *cost = 0;
    for (j = 0; j < *n; j++)
      *cost += steps[j].cost;
  }
  return (MdnFftStep *)g_array_free(b->steps, FALSE);
}

static size_t
tw_floats(const Builder *b)
{
  size_t total = 0;
  int i;
  for (i = 0; i < b->n_stages; i++)
    if (b->stages[i].radix == 4 && b->stages[i].q > 1)
      total += 6 * b->stages[i].q;
  return total;
}

static gboolean
size_ok(size_t n)
{
  return n >= MDN_FFT_MIN_SIZE && n <= MDN_FFT_MAX_SIZE && (n & (n - 1)) == 0;
}

size_t
mdn_fft_plan_bytes(size_t n)
{
  Builder b;
  size_t rows = n / MDN_FFT_ROW_FLOATS, steps;
  if (!size_ok(n))
    return 0;
  stages_of(&b, rows);
  /* Steps: at most one per STEP_BUTTERFLIES butterflies or per group, per
   * stage, in three lists, plus the real pass's. */
  steps = 3 * (size_t)b.n_stages * (rows / 2 / STEP_BUTTERFLIES + rows / 2 + 1)
          + 3 * (rows / STEP_PAIRS + 2);
  return sizeof(MdnFftPlan) + sizeof(float) * (tw_floats(&b) + 2 * rows * MDN_FFT_ROW_FLOATS)
         + sizeof(guint32) * 3 * rows + steps * sizeof(MdnFftStep) + 6 * MDN_FFT_ALIGN;
}

MdnFftPlan *
mdn_fft_plan_new(size_t n)
{
  MdnFftPlan *plan;
  Builder b = { 0 };
  size_t rows, nc, r, off;
  guint32 *pos;
  int i;
  unsigned p, h;

  if (!size_ok(n))
    return NULL;
  rows = n / MDN_FFT_ROW_FLOATS;
  nc = n / 2;
  plan = g_new0(MdnFftPlan, 1);
  plan->n = n;
  plan->rows = rows;
  b.plan = plan;
  stages_of(&b, rows);

  plan->tw = mdn_fft_alloc(MAX(tw_floats(&b), 1));
  plan->lane_tw = mdn_fft_alloc(rows * MDN_FFT_ROW_FLOATS);
  plan->real_tw = mdn_fft_alloc(rows * MDN_FFT_ROW_FLOATS);
  plan->row_k1 = g_try_new(guint32, rows);
  plan->pairs = g_try_new(guint32, 2 * rows);
  pos = g_try_new(guint32, rows);
  if (!plan->tw || !plan->lane_tw || !plan->real_tw || !plan->row_k1 || !plan->pairs || !pos) {
    g_free(pos);
    mdn_fft_plan_free(plan);
    return NULL;
  }

  /* Column twiddles: stage of span q (radix 4): W_4q^(k p), p = 1, 2, 3. */
  off = 0;
  for (i = 0; i < b.n_stages; i++) {
    const Stage *st = &b.stages[i];
    size_t k;
    b.tw_off[i] = (guint32)off;
    if (st->radix != 4 || st->q == 1)
      continue;
    for (k = 0; k < st->q; k++)
      for (p = 1; p <= 3; p++)
        set_tw(&plan->tw[off + 6 * k + 2 * (p - 1)], &plan->tw[off + 6 * k + 2 * (p - 1) + 1],
               k * p, 4 * st->q);
    off += 6 * st->q;
  }

  /* Row r holds k1 = p_1 + r_1 p_2 + r_1 r_2 p_3 + ... where r's digits
   * are p_1 (most significant, radix r_1), p_2, ... (decimation in
   * frequency leaves the sub-transform of the k1 = p (mod r_1) in block p). */
  for (r = 0; r < rows; r++) {
    size_t rem = r, k1 = 0, mult = 1;
    for (i = 0; i < b.n_stages; i++) {
      size_t digit = rem / b.stages[i].q;
      rem %= b.stages[i].q;
      k1 += digit * mult;
      mult *= b.stages[i].radix;
    }
    plan->row_k1[r] = (guint32)k1;
    pos[k1] = (guint32)r;
  }

  for (r = 0; r < rows; r++) {
    float *lt = plan->lane_tw + r * MDN_FFT_ROW_FLOATS;
    float *rt = plan->real_tw + r * MDN_FFT_ROW_FLOATS;
    const size_t k1 = plan->row_k1[r];
    for (p = 0; p < MDN_FFT_LANES; p++) {
      set_tw(&lt[p], &lt[MDN_FFT_LANES + p], p * k1, nc);
      set_tw(&rt[p], &rt[MDN_FFT_LANES + p], k1 + rows * bitrev4(p), n);
    }
  }

  /* Lane stages of span h = 8, 4, 2 (1 needs no twiddles). */
  for (i = 0, h = 8; h >= 1; i++, h /= 2)
    for (p = 0; p < MDN_FFT_LANES; p++) {
      plan->lane_sign[i][p] = (p & h) ? -1.0f : 1.0f;
      if (h == 1)
        continue;
      if (p & h) {
        set_tw(&plan->lane_stage[i][p], &plan->lane_stage[i][MDN_FFT_LANES + p], p & (h - 1),
               2 * h);
      } else {
        plan->lane_stage[i][p] = 1.0f;
        plan->lane_stage[i][MDN_FFT_LANES + p] = 0.0f;
      }
    }

  /* Rows holding k1 and M - k1 (mod M). */
  plan->n_pairs = 0;
  for (r = 0; r < rows; r++) {
    size_t partner = pos[(rows - plan->row_k1[r]) % rows];
    if (r <= partner) {
      plan->pairs[2 * plan->n_pairs] = (guint32)r;
      plan->pairs[2 * plan->n_pairs + 1] = (guint32)partner;
      plan->n_pairs++;
    }
  }
  g_free(pos);

  b.steps = g_array_new(FALSE, FALSE, sizeof(MdnFftStep));
  gen_fwd(&b, 0, 0);
  emit_real(&b, FALSE);
  plan->fwd = take_steps(&b, &plan->n_fwd, &plan->fwd_cost);

  b.steps = g_array_new(FALSE, FALSE, sizeof(MdnFftStep));
  b.half = TRUE;
  emit_real(&b, TRUE);
  gen_inv(&b, 0, 0);
  plan->inv = take_steps(&b, &plan->n_inv, &plan->inv_cost);

  b.steps = g_array_new(FALSE, FALSE, sizeof(MdnFftStep));
  b.half = FALSE;
  emit_real(&b, TRUE);
  gen_inv(&b, 0, 0);
  plan->inv_full = take_steps(&b, &plan->n_inv_full, NULL);
  return plan;
}

void
mdn_fft_plan_free(MdnFftPlan *plan)
{
  if (!plan)
    return;
  mdn_fft_free(plan->tw);
  mdn_fft_free(plan->lane_tw);
  mdn_fft_free(plan->real_tw);
  g_free(plan->row_k1);
  g_free(plan->pairs);
  g_free(plan->fwd);
  g_free(plan->inv);
  g_free(plan->inv_full);
  g_free(plan);
}

void
mdn_fft_run(const MdnFftPlan *plan, const MdnFftDsp *dsp, const MdnFftStep *steps, size_t first,
            size_t last, const float *in, float *spec, float *out)
{
  size_t j;
  for (j = first; j < last; j++) {
    const MdnFftStep *s = &steps[j];
    dsp->step[s->kind](plan, s, (s->flags & MDN_FFT_OUT_REAL) ? out : spec,
                       (s->flags & MDN_FFT_IN_REAL) ? in : spec);
  }
}

void
mdn_fft_forward(const MdnFftPlan *plan, const MdnFftDsp *dsp, const float *in, float *spec)
{
  mdn_fft_run(plan, dsp, plan->fwd, 0, plan->n_fwd, in, spec, NULL);
}

void
mdn_fft_inverse_half(const MdnFftPlan *plan, const MdnFftDsp *dsp, float *spec, float *out)
{
  mdn_fft_run(plan, dsp, plan->inv, 0, plan->n_inv, NULL, spec, out);
}

void
mdn_fft_inverse_full(const MdnFftPlan *plan, const MdnFftDsp *dsp, float *spec, float *out)
{
  mdn_fft_run(plan, dsp, plan->inv_full, 0, plan->n_inv_full, NULL, spec, out);
}

double
mdn_fft_conv_scale(const MdnFftPlan *plan)
{
  return 1.0 / (double)plan->n;
}

/* Bin k of the position (r, p). */
static size_t
bin_of(const MdnFftPlan *plan, size_t r, unsigned p)
{
  return plan->row_k1[r] + plan->rows * bitrev4(p);
}

void
mdn_fft_to_natural(const MdnFftPlan *plan, const float *spec, float *natural)
{
  const size_t nc = plan->n / 2;
  size_t r;
  unsigned p;
  for (r = 0; r < plan->rows; r++)
    for (p = 0; p < MDN_FFT_LANES; p++) {
      const size_t k = bin_of(plan, r, p);
      const float re = spec[r * MDN_FFT_ROW_FLOATS + p];
      const float im = spec[r * MDN_FFT_ROW_FLOATS + MDN_FFT_LANES + p];
      if (k == 0) {
        natural[0] = re;
        natural[1] = 0;
        natural[2 * nc] = im;
        natural[2 * nc + 1] = 0;
      } else {
        natural[2 * k] = re;
        natural[2 * k + 1] = im;
      }
    }
}

void
mdn_fft_from_natural(const MdnFftPlan *plan, const float *natural, float *spec)
{
  const size_t nc = plan->n / 2;
  size_t r;
  unsigned p;
  for (r = 0; r < plan->rows; r++)
    for (p = 0; p < MDN_FFT_LANES; p++) {
      const size_t k = bin_of(plan, r, p);
      spec[r * MDN_FFT_ROW_FLOATS + p] = natural[2 * k];
      spec[r * MDN_FFT_ROW_FLOATS + MDN_FFT_LANES + p]
          = k == 0 ? natural[2 * nc] : natural[2 * k + 1];
    }
}

/* audit.c: the live accuracy audit of a stream, and the quality governor.
 *
 * A tier's output is a pure function of the input history and the absolute
 * frame index (tier.c). So, for a sparse sample of frames, the audit
 * computes from the stream's input history (read right after each chunk is
 * deinterleaved, before the paths run):
 *   - the exact output: a direct dot product over the history (float lanes
 *     summed in double: within 1e-6 of the peak output of the
 *     double-precision reference, far finer than any tier);
 *   - every tier's output for that frame: sigma_t by the row rule
 *     (mdn-private.h), each codebook's window encoded by
 *     mdn_tier_encode_one(), the table sums, the exact taps and the output
 *     (mdn_tier_output_one(), as the plain-C output kernel),
 *     in the scalar kernels' order. Codes and integer sums are those of the
 *     streaming kernels, the floats equal to rounding (test-audit.c);
 * and smooths, over all groups and outputs, the energy of the exact output
 * and of each tier's error exponentially (time constant MDN_AUDIT_SECONDS of
 * audio, or MDN_AUDIT_TAU_FRAMES audited frames when they are sparser).
 * Every tier is audited on the audio that flows, whichever runs.
 *
 * Sampling: one frame in `period` on average. The gaps are drawn uniformly
 * from [(period + 1) / 2, (period + 1) / 2 + period) by a fixed-seed
 * generator, so the audited frames fall on every position of the
 * normalisation blocks (and of any periodic signal) instead of aliasing with
 * them, and a run is reproducible. period makes the audit cost
 * `cost_fraction` of the exact path (audit_frame_cost(), exact_frame_cost()).
 *
 * Real time: all memory is allocated with the stream (mdn_audit_new()); the
 * chunk hook and the publication allocate nothing and take no lock. The SNRs
 * are published as float bits in atomic ints at the end of each
 * mdn_stream_process() call that audited a frame, so any thread may read
 * them.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "dsp.h"

#include <math.h>
#include <string.h>

#define AUDIT_SEED 0x6d646e61u /* "mdna" */

struct _MdnAudit {
  const MdnModel *model;
  const MdnKernel *kernel;
  int groups, cin, cout, n_tiers;
  double rate;
  int *by_span;         /* [n_tiers]: tier indices by span, shortest first */
  double frame_cost;    /* instructions per audited frame and group (model) */
  double exact_cost;    /* instructions per frame and group of the exact path (model) */
  double fraction;      /* cost fraction asked for; 0: off */
  guint64 period;       /* mean frames between audited frames; 0: off */
  double tau;           /* smoothing time constant, frames */
  double decay;         /* weight an audited frame leaves to the older ones */
  guint64 ready_frames; /* audio before an SNR is reported */
  /* Processing thread only. */
  guint64 frames; /* frames the stream processed (its frame counter) */
  guint64 next;   /* absolute frame of the next audited frame */
  guint32 rng;    /* xorshift32 state */
  guint64 audits; /* audited frames since the sums were cleared */
  guint64 since;  /* frame at which the sums were cleared */
  guint64 total;  /* audited frames since the stream was made */
  gboolean dirty; /* audited since the last publication */
  double signal;  /* smoothed energy of the exact output */
  double *error;  /* [n_tiers]: smoothed energy of each tier's error */
  /* For the SNR's confidence bound (snr_high()): smoothed squares and
   * products of the per-frame energies, and the smoothing's own weights. */
  double signal_sq;    /* smoothed (exact energy)^2 */
  double *error_sq;    /* [n_tiers]: smoothed (error energy)^2 */
  double *cross;       /* [n_tiers]: smoothed exact energy x error energy */
  double *frame_err;   /* [n_tiers]: the audited frame's error energy */
  double weight;       /* sum of the smoothing weights so far (-> 1) */
  double weight_sq;    /* sum of their squares: n_eff = weight^2 / weight_sq */
  double *exact;       /* [cout]: exact output of the audited frame */
  float *tier_out;     /* [n_tiers][cout]: each tier's output of the audited frame */
  guint32 *sums;       /* [cout] table sums */
  float *sigma;        /* [n_tiers] */
  const float **x;     /* [cin] */
  ptrdiff_t **offsets; /* [n_tiers][tier_offsets_size()]: tier_offsets() */
  float *window;       /* [taps]: one input channel's window, newest first */
  /* Published (any thread): float bits of the SNR in dB per tier. */
  gint *published;      /* [n_tiers] */
  gint *published_high; /* [n_tiers]: float bits of snr_high() */
  /* Governor (processing thread). */
  gboolean *pays;    /* [n_tiers]: predicted faster than exact here (mdn_model_paying_tiers) */
  gint64 *held_from; /* [n_tiers]: frame since which the tier held the threshold; -1 */
  double held_threshold;
  MdnAuditTraceFunc trace;
  gpointer trace_data;
};

/* ---- the per-frame computation -------------------------------------------- */

float
mdn_tier_frame_sigma(const MdnTier *tier, const float *const *x, guint64 t)
{
  const ptrdiff_t first
      = -(ptrdiff_t)(t % (guint64)tier->norm_block) - (ptrdiff_t)mdn_tier_span(tier);
  float m = 0.0f;
  ptrdiff_t u;
  int i;

  for (i = 0; i < tier->cin; i++)
    for (u = first; u <= 0; u++)
      m = MAX(m, fabsf(x[i][u]));
  return mdn_pow2_ceil(m);
}

/* Frame offsets a tier reads, relative to the current frame: its encoders'
 * split columns, off[i * depth + l] = -split[i][l] * dilation, then its
 * exact taps, off[cin * depth + e] = -exact_tap[e] * dilation. */
static size_t
tier_offsets_size(const MdnTier *tier)
{
  return (size_t)tier->cin * tier->spec.depth + tier->n_exact;
}

static void
tier_offsets(const MdnTier *tier, ptrdiff_t *off)
{
  const size_t n_split = (size_t)tier->cin * tier->spec.depth;
  size_t j;
  int e;

  for (j = 0; j < n_split; j++)
    off[j] = -(ptrdiff_t)tier->split[j] * tier->dilation;
  for (e = 0; e < tier->n_exact; e++)
    off[n_split + e] = -(ptrdiff_t)tier->exact_tap[e] * tier->dilation;
}

/* mdn_tier_encode_one() with the split offsets precomputed: the same
 * comparisons, so the same code. Inlined with a constant depth, the levels
 * unroll. */
static inline __attribute__((always_inline)) unsigned
encode_window(const ptrdiff_t *off, const float *thr, int depth, const float *xt, float sigma)
{
  unsigned node = 0;
  int l;

#pragma GCC unroll 8
  for (l = 0; l < depth; l++)
    node = 2 * node + (xt[off[l]] > thr[(1u << l) - 1 + node] * sigma);
  return node;
}

/* Table sums of every codebook: sums[o], o < cout. An axis encoder's codes
 * by encode_window(), a hyperplane encoder's (hyper) by
 * mdn_tier_encode_one() itself: its projections dominate. */
static inline __attribute__((always_inline)) void
codebook_sums(const MdnTier *tier, const ptrdiff_t *split_off, const float *const *x, float sigma,
              int depth, gboolean hyper, guint32 *restrict sums)
{
  const int cout = tier->cout, buckets = 1 << depth, n_codebooks = tier->n_codebooks;
  const ptrdiff_t group_step = (ptrdiff_t)tier->spec.taps_per_codebook * tier->dilation;
  const size_t thr_stride = (size_t)buckets - 1;
  const guint16 *restrict cb_chan = tier->cb_chan;
  const guint32 *restrict cb_group = tier->cb_group;
  int c, o;

#define CODE(c)                                                                                    \
  (hyper ? mdn_tier_encode_one(tier, cb_chan[c],                                                   \
                               x[cb_chan[c]] - (ptrdiff_t)cb_group[c] * group_step, sigma)         \
         : encode_window(split_off + (size_t)cb_chan[c] * depth,                                   \
                         tier->thresholds + cb_chan[c] * thr_stride, depth,                        \
                         x[cb_chan[c]] - (ptrdiff_t)cb_group[c] * group_step, sigma))
  if (tier->spec.table_bits == 16) {
    const guint16 *restrict lut = tier->lut;
    memset(sums, 0, sizeof(guint32) * cout);
    for (c = 0; c < n_codebooks; c++) {
      const guint16 *entry = lut + ((size_t)c * buckets + CODE(c)) * cout;
      for (o = 0; o < cout; o++)
        sums[o] += entry[o];
    }
  } else if (cout == 1) {
    const guint8 *restrict lut = tier->lut;
    guint32 sum = 0;
    for (c = 0; c < n_codebooks; c++)
      sum += lut[(size_t)c * buckets + CODE(c)];
    sums[0] = sum;
  } else {
    const guint8 *restrict lut = tier->lut;
    memset(sums, 0, sizeof(guint32) * cout);
    for (c = 0; c < n_codebooks; c++) {
      const guint8 *entry = lut + ((size_t)c * buckets + CODE(c)) * cout;
      for (o = 0; o < cout; o++)
        sums[o] += entry[o];
    }
  }
#undef CODE
}

/* The tier's output for the frame x[i][0]: see mdn_tier_frame(). */
static void
tier_frame(const MdnTier *tier, const ptrdiff_t *split_off, const ptrdiff_t *exact_off,
           const float *const *x, float sigma, const float *bias, guint32 *restrict sums,
           float *restrict out)
{
  const int cout = tier->cout;
  int e, o;

  if (tier->hyperplanes)
    codebook_sums(tier, split_off, x, sigma, tier->spec.depth, TRUE, sums);
  else
    switch (tier->spec.depth) {
    case 1:
      codebook_sums(tier, split_off, x, sigma, 1, FALSE, sums);
      break;
    case 2:
      codebook_sums(tier, split_off, x, sigma, 2, FALSE, sums);
      break;
    case 3:
      codebook_sums(tier, split_off, x, sigma, 3, FALSE, sums);
      break;
    case 4:
      codebook_sums(tier, split_off, x, sigma, 4, FALSE, sums);
      break;
    case 5:
      codebook_sums(tier, split_off, x, sigma, 5, FALSE, sums);
      break;
    case 6:
      codebook_sums(tier, split_off, x, sigma, 6, FALSE, sums);
      break;
    case 7:
      codebook_sums(tier, split_off, x, sigma, 7, FALSE, sums);
      break;
    default:
      codebook_sums(tier, split_off, x, sigma, 8, FALSE, sums);
      break;
    }
  /* As the plain-C output kernel (kernels/scalar/tier.c): each output sums
   * its exact taps from 0 in the same order, then mdn_tier_output_one()
   * adds the tables, sigma and bias, so the same floats. */
  if (cout == 1) {
    float acc = 0.0f;
    for (e = 0; e < tier->n_exact; e++)
      acc += tier->exact_w[e] * x[tier->exact_chan[e]][exact_off[e]];
    out[0] = acc;
  } else {
    for (o = 0; o < cout; o++)
      out[o] = 0.0f;
    for (e = 0; e < tier->n_exact; e++) {
      const float *restrict w = tier->exact_w + (size_t)e * cout;
      const float xe = x[tier->exact_chan[e]][exact_off[e]];
      for (o = 0; o < cout; o++)
        out[o] += w[o] * xe;
    }
  }
  for (o = 0; o < cout; o++)
    out[o] = mdn_tier_output_one(sigma, tier->lut_scale[o], tier->lut_offset[o],
                                 bias != NULL ? bias[o] : 0.0f, sums[o], tier->n_exact, out[o]);
}

void
mdn_tier_frame(const MdnTier *tier, const float *const *x, float sigma, const float *bias,
               guint32 *sums, float *out)
{
  ptrdiff_t *off = g_new(ptrdiff_t, tier_offsets_size(tier));

  tier_offsets(tier, off);
  tier_frame(tier, off, off + (size_t)tier->cin * tier->spec.depth, x, sigma, bias, sums, out);
  g_free(off);
}

/* sum_k w[k] window[k] in 8 float lanes (vectorised by the compiler), summed
 * in double. */
static double
dot(const float *restrict w, const float *restrict window, int taps)
{
  float lane[8] = { 0 };
  double sum = 0;
  int k = 0, j;

  for (; k + 8 <= taps; k += 8)
    for (j = 0; j < 8; j++)
      lane[j] += w[k + j] * window[k + j];
  for (; k < taps; k++)
    lane[k & 7] += w[k] * window[k];
  for (j = 0; j < 8; j++)
    sum += lane[j];
  return sum;
}

/* The exact output of the frame x[i][0] into y (cout), the bias included:
 * each input channel's window is gathered once (newest first, the dilation
 * applied), then read by every output. */
static void
exact_frame(const MdnKernel *k, const float *const *x, float *restrict window, double *y)
{
  int o, i, j;

  for (o = 0; o < k->cout; o++)
    y[o] = k->bias[o];
  for (i = 0; i < k->cin; i++) {
    for (j = 0; j < k->taps; j++)
      window[j] = x[i][-(ptrdiff_t)j * k->dilation];
    for (o = 0; o < k->cout; o++)
      y[o] += dot(k->weights + ((size_t)o * k->cin + i) * k->taps, window, k->taps);
  }
}

/* max |x| over channels and frames [first, last] (relative to x[i]): the
 * bits of |x| as integers, which order like the floats (no NaN here: the
 * stream replaced them by 0) and vectorise. */
static guint32
max_abs_bits(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last, guint32 m)
{
  ptrdiff_t u;
  int i;

  for (i = 0; i < cin; i++) {
    const float *xi = x[i];
    for (u = first; u <= last; u++) {
      guint32 bits;
      memcpy(&bits, &xi[u], sizeof bits);
      bits &= 0x7fffffffu;
      m = bits > m ? bits : m;
    }
  }
  return m;
}

/* mdn_pow2_ceil() from the bits (no frexpf/ldexpf): for m in (2^-100, 2^100),
 * a normal float, the power of two above it is its exponent field plus one. */
static inline float
pow2_ceil(float m)
{
  guint32 bits;

  if (!(m > 0x1p-100f) || !(m < 0x1p100f))
    return mdn_pow2_ceil(m);
  memcpy(&bits, &m, sizeof bits);
  bits = (bits & 0x7f800000u) + 0x00800000u;
  memcpy(&m, &bits, sizeof bits);
  return m;
}

/* sigma of frame t for every tier: the running max from each tier's block
 * start (its norm_block) back through its span, shortest span first, so the
 * history is read once when the tiers share a block length (a model's
 * do). */
static void
frame_sigmas(MdnAudit *a, const float *const *x, guint64 t)
{
  ptrdiff_t covered = 1; /* [covered, 0] read so far */
  guint32 m = 0;
  int j;

  for (j = 0; j < a->n_tiers; j++) {
    const int k = a->by_span[j];
    const MdnTier *tier = mdn_model_tier(a->model, k);
    const ptrdiff_t first
        = -(ptrdiff_t)(t % (guint64)tier->norm_block) - (ptrdiff_t)mdn_tier_span(tier);
    guint32 mk = m;
    float max;

    if (first < covered) {
      m = mk = max_abs_bits(x, a->cin, first, covered - 1, m);
      covered = first;
    } else if (first > covered) /* a shorter look-back: blocks of other lengths */
      mk = max_abs_bits(x, a->cin, first, 0, 0);
    memcpy(&max, &mk, sizeof max);
    a->sigma[k] = pow2_ceil(max);
  }
}

/* ---- cost model ------------------------------------------------------------ */

/* Instructions per unit of work, fitted (within 15 %) to callgrind counts of
 * the audit on the six shipped presets (x86-64, gcc 12 -O2; bench/audit-cost,
 * docs/tiers.md "The live audit"): a tree level with its share of the
 * codebook's work, a table entry added per output, an exact tap of a tier
 * per output, a tier's combine and error per output, a multiply-add of the
 * exact dot product (with its window gather), a sample of the sigma max, and
 * the rest of an audited frame. */
#define W_LEVEL 18.0
#define W_LOOKUP 4.0
#define W_TAP 1.0
#define W_OUT 10.0
#define W_DOT 2.0
#define W_MAX 2.0
#define W_FRAME 300.0

/* Instructions per audited frame and group. */
static double
audit_frame_cost(const MdnAudit *a)
{
  const MdnKernel *k = a->kernel;
  size_t max_span = 0;
  int max_block = 0;
  double cost = W_FRAME + W_DOT * k->cin * (k->cout + 1.0) * k->taps;
  int t;

  for (t = 0; t < a->n_tiers; t++) {
    const MdnTier *tier = mdn_model_tier(a->model, t);
    max_span = MAX(max_span, mdn_tier_span(tier));
    max_block = MAX(max_block, tier->norm_block);
    cost += W_LEVEL * tier->n_codebooks * tier->spec.depth
            + W_LOOKUP * (double)tier->n_codebooks * tier->cout
            + W_TAP * (double)tier->n_exact * tier->cout + W_OUT * tier->cout;
  }
  return cost + W_MAX * k->cin * ((double)max_span + max_block / 2.0);
}

/* Instructions per frame and group of the exact path (the stream's work
 * included) per operation of mdn_exact_cost_per_frame(), by the level of the
 * exact path's fir kernel (MdnExactDsp.fir_flag), measured with callgrind on
 * the direct form of lowpass, highpass, bank16, beam8 and crossover: 1.5
 * with the plain-C kernel, 0.25 with AVX2 (AVX-512 taken alike: valgrind
 * cannot run it); NEON, not measured, as 4-lane SSE2 would be. The FFT path
 * costs more per counted operation (1.5 with AVX2 on reverb), so there the
 * audit costs less than asked. */
static double
exact_frame_cost(const MdnKernel *k)
{
  static const struct {
    unsigned flag; /* MDN_CPU_FLAG_* of the fir entry, 0: plain C */
    double per_op;
  } weights[] = {
    { .flag = MDN_CPU_FLAG_AVX2, .per_op = 0.25 },
    { .flag = MDN_CPU_FLAG_AVX512, .per_op = 0.25 },
    { .flag = MDN_CPU_FLAG_NEON, .per_op = 0.5 },
  };
  const unsigned fir_flag = mdn_dsp()->exact.fir_flag;
  double per_op = 1.5;
  size_t j;

  for (j = 0; j < G_N_ELEMENTS(weights); j++)
    if (weights[j].flag == fir_flag)
      per_op = weights[j].per_op;
  return per_op * mdn_exact_cost_per_frame(k);
}

/* ---- life cycle -------------------------------------------------------------- */

MdnAudit *
mdn_audit_new(const MdnModel *model, int groups)
{
  const MdnKernel *k = mdn_model_kernel(model);
  MdnAudit *a = g_new0(MdnAudit, 1);
  const int n = mdn_model_n_tiers(model), n1 = MAX(n, 1);
  int t;

  a->model = model;
  a->kernel = k;
  a->groups = groups;
  a->cin = k->cin;
  a->cout = k->cout;
  a->n_tiers = n;
  a->rate = k->rate;
  a->by_span = g_new0(int, n1);
  a->error = g_new0(double, n1);
  a->error_sq = g_new0(double, n1);
  a->cross = g_new0(double, n1);
  a->frame_err = g_new0(double, n1);
  a->exact = g_new0(double, k->cout);
  a->tier_out = g_new0(float, (size_t)n1 * k->cout);
  a->sums = g_new0(guint32, k->cout);
  a->sigma = g_new0(float, n1);
  a->x = g_new0(const float *, k->cin);
  a->published = g_new0(gint, n1);
  a->published_high = g_new0(gint, n1);
  a->held_from = g_new0(gint64, n1);
  a->pays = g_new0(gboolean, n1);
  {
    int *paying = g_new(int, n1), n_paying = mdn_model_paying_tiers(model, paying);
    for (t = 0; t < n_paying; t++)
      a->pays[paying[t]] = TRUE;
    g_free(paying);
  }
  a->window = g_new0(float, n > 0 ? k->taps : 1); /* nothing to audit without tiers */
  a->offsets = g_new0(ptrdiff_t *, n1);
  for (t = 0; t < n; t++) {
    const MdnTier *tier = mdn_model_tier(model, t);
    a->offsets[t] = g_new(ptrdiff_t, tier_offsets_size(tier));
    tier_offsets(tier, a->offsets[t]);
  }
  /* Insertion sort by span: ladders are short. */
  for (t = 0; t < n; t++) {
    size_t span = mdn_tier_span(mdn_model_tier(model, t));
    int j = t;

    for (; j > 0 && mdn_tier_span(mdn_model_tier(model, a->by_span[j - 1])) > span; j--)
      a->by_span[j] = a->by_span[j - 1];
    a->by_span[j] = t;
  }
  a->frame_cost = audit_frame_cost(a);
  a->exact_cost = exact_frame_cost(k);
  mdn_audit_reset(a);
  return a;
}

void
mdn_audit_free(MdnAudit *a)
{
  int t;

  if (!a)
    return;
  g_free(a->by_span);
  g_free(a->error);
  g_free(a->error_sq);
  g_free(a->cross);
  g_free(a->frame_err);
  g_free(a->exact);
  g_free(a->tier_out);
  g_free(a->sums);
  g_free(a->sigma);
  g_free(a->x);
  g_free(a->published);
  g_free(a->published_high);
  g_free(a->held_from);
  g_free(a->pays);
  for (t = 0; t < a->n_tiers; t++)
    g_free(a->offsets[t]);
  g_free(a->offsets);
  g_free(a->window);
  g_free(a);
}

static guint64
next_gap(MdnAudit *a)
{
  guint32 r = a->rng;
  r ^= r << 13;
  r ^= r >> 17;
  r ^= r << 5;
  a->rng = r;
  return (a->period + 1) / 2 + (guint64)r % a->period;
}

static void
publish_nan(MdnAudit *a)
{
  const float nan = NAN;
  gint bits;
  int t;

  memcpy(&bits, &nan, sizeof bits);
  for (t = 0; t < a->n_tiers; t++) {
    g_atomic_int_set(&a->published[t], bits);
    g_atomic_int_set(&a->published_high[t], bits);
  }
}

static void
clear_governor(MdnAudit *a)
{
  int t;
  for (t = 0; t < a->n_tiers; t++)
    a->held_from[t] = -1;
  a->held_threshold = NAN;
}

/* Forgets the measurements; the next audited frame is drawn from `frame`. */
static void
clear_sums(MdnAudit *a, guint64 frame)
{
  a->signal = a->signal_sq = a->weight = a->weight_sq = 0;
  memset(a->error, 0, sizeof(double) * MAX(a->n_tiers, 1));
  memset(a->error_sq, 0, sizeof(double) * MAX(a->n_tiers, 1));
  memset(a->cross, 0, sizeof(double) * MAX(a->n_tiers, 1));
  a->audits = 0;
  a->since = frame;
  a->rng = AUDIT_SEED;
  a->next = a->period ? frame + next_gap(a) : G_MAXUINT64;
  publish_nan(a);
  clear_governor(a);
}

void
mdn_audit_reset(MdnAudit *a)
{
  a->frames = 0;
  clear_sums(a, 0);
}

void
mdn_audit_set_trace(MdnAudit *a, MdnAuditTraceFunc func, gpointer data)
{
  a->trace = func;
  a->trace_data = data;
}

void
mdn_audit_set_pays(MdnAudit *a, int tier, gboolean pays)
{
  if (tier >= 0 && tier < a->n_tiers)
    a->pays[tier] = pays;
}

gboolean
mdn_audit_pays(const MdnAudit *a, int tier)
{
  return tier >= 0 && tier < a->n_tiers && a->pays[tier];
}

/* ---- streaming --------------------------------------------------------------- */

/* One audited frame's energies (exact output: signal; each tier's error:
 * frame_err) into the smoothed sums. */
static void
smooth(MdnAudit *a, double signal)
{
  const double d = a->decay, w = 1.0 - d;
  int k;

  for (k = 0; k < a->n_tiers; k++) {
    const double e = a->frame_err[k];
    a->error[k] = d * a->error[k] + w * e;
    a->error_sq[k] = d * a->error_sq[k] + w * e * e;
    a->cross[k] = d * a->cross[k] + w * e * signal;
  }
  a->signal = d * a->signal + w * signal;
  a->signal_sq = d * a->signal_sq + w * signal * signal;
  a->weight = d * a->weight + w;
  a->weight_sq = d * d * a->weight_sq + w * w;
}

/* Frame t, at index p of the stream's buffers. */
static void
audit_frame(MdnAudit *a, const float *buffers, size_t buf_len, size_t p, guint64 t)
{
  const float *bias = a->kernel->bias;
  const int cout = a->cout;
  double signal = 0;
  int g, i, k, o;

  /* The groups of one frame are summed into one smoothed sample. */
  for (k = 0; k < a->n_tiers; k++)
    a->frame_err[k] = 0;
  for (g = 0; g < a->groups; g++) {
    for (i = 0; i < a->cin; i++)
      a->x[i] = buffers + ((size_t)g * a->cin + i) * buf_len + p;
    exact_frame(a->kernel, a->x, a->window, a->exact);
    for (o = 0; o < cout; o++)
      signal += a->exact[o] * a->exact[o];
    frame_sigmas(a, a->x, t);
    for (k = 0; k < a->n_tiers; k++) {
      float *y = a->tier_out + (size_t)k * cout;
      double err = 0;

      const MdnTier *tier = mdn_model_tier(a->model, k);
      const ptrdiff_t *off = a->offsets[k];

      tier_frame(tier, off, off + (size_t)tier->cin * tier->spec.depth, a->x, a->sigma[k], bias,
                 a->sums, y);
      for (o = 0; o < cout; o++) {
        double d = (double)y[o] - a->exact[o];
        err += d * d;
      }
      a->frame_err[k] += err;
    }
    if (a->trace)
      a->trace(t, g, a->exact, a->tier_out, a->trace_data);
  }
  smooth(a, signal);
  a->audits++;
  a->total++;
  a->dirty = TRUE;
}

void
mdn_audit_chunk(MdnAudit *a, const float *buffers, size_t buf_len, size_t fill, guint64 frame0,
                size_t n)
{
  const guint64 end = frame0 + n;

  a->frames = end;
  if (a->period == 0)
    return;
  while (a->next < end) {
    if (a->next >= frame0)
      audit_frame(a, buffers, buf_len, fill + (size_t)(a->next - frame0), a->next);
    a->next = MAX(a->next, frame0) + next_gap(a);
  }
}

static double
snr_now(const MdnAudit *a, int t)
{
  if (a->audits < MDN_AUDIT_MIN_FRAMES || a->frames - a->since < a->ready_frames)
    return NAN;
  if (a->signal == 0)
    return a->error[t] == 0 ? NAN : -INFINITY;
  if (a->error[t] == 0)
    return INFINITY;
  return 10.0 * log10(a->signal / a->error[t]);
}

/* The highest SNR the audited frames do not rule out: the error-to-signal
 * ratio rho = E[e] / E[s] of the smoothed sums, less MDN_AUDIT_BOUND_Z
 * standard errors. A ratio of means from n_eff frames (the delta method):
 * var(rho) = E[(e - rho s)^2] / (n_eff E[s]^2). Speech's energy is heavy
 * tailed, so a few loud frames decide both sums: with a few dozen audited
 * frames the estimate moves by several dB while the true SNR holds
 * (docs/tiers.md "Precision"); the bound says how far. +inf while the
 * frames cannot rule out an error of zero, and before MDN_AUDIT_TAU_FRAMES
 * audited frames. */
static double
snr_high(const MdnAudit *a, int t)
{
  const double snr = snr_now(a, t);
  double n_eff, s, e, rho, var, low;

  if (!isfinite(snr))
    return snr;
  /* Fewer frames than a time constant's: their spread says too little
   * about a heavy tail they may not have sampled yet. */
  if (a->audits < MDN_AUDIT_TAU_FRAMES)
    return INFINITY;
  n_eff = a->weight * a->weight / a->weight_sq;
  s = a->signal / a->weight;
  e = a->error[t] / a->weight;
  rho = e / s;
  var = (a->error_sq[t] - 2.0 * rho * a->cross[t] + rho * rho * a->signal_sq) / a->weight;
  low = rho - MDN_AUDIT_BOUND_Z * sqrt(MAX(var, 0.0) / n_eff) / s;
  return low > 0 ? MAX(snr, -10.0 * log10(low)) : INFINITY;
}

void
mdn_audit_publish(MdnAudit *a)
{
  int t;

  /* Only after new audited frames: most calls audit none, and the
   * logarithms are not free. */
  if (a->period == 0 || !a->dirty)
    return;
  a->dirty = FALSE;
  for (t = 0; t < a->n_tiers; t++) {
    float snr = (float)snr_now(a, t), high = (float)snr_high(a, t);
    gint bits;

    memcpy(&bits, &snr, sizeof bits);
    g_atomic_int_set(&a->published[t], bits);
    memcpy(&bits, &high, sizeof bits);
    g_atomic_int_set(&a->published_high[t], bits);
  }
}

/* ---- public API ---------------------------------------------------------------- */

void
mdn_stream_set_audit(MdnStream *stream, double cost_fraction)
{
  MdnAudit *a = mdn_stream_get_audit(stream);
  const gboolean was_on = a->period > 0;
  double period;

  if (!(cost_fraction > 0) || a->n_tiers == 0) {
    a->fraction = 0;
    a->period = 0;
    a->next = G_MAXUINT64;
    publish_nan(a);
    clear_governor(a);
    return;
  }
  a->fraction = cost_fraction;
  period = ceil(a->frame_cost / (cost_fraction * a->exact_cost));
  /* Odd: the gaps, uniform on [(period + 1) / 2, (period + 1) / 2 + period),
   * then average exactly period. */
  a->period = (guint64)CLAMP(period, 1.0, 1e12) | 1;
  /* A sparse audit smooths over more time, so that its SNR always rests on
   * about MDN_AUDIT_TAU_FRAMES audited frames. */
  a->tau = MAX(MDN_AUDIT_SECONDS * a->rate, (double)MDN_AUDIT_TAU_FRAMES * a->period);
  a->decay = exp(-(double)a->period / a->tau);
  a->ready_frames = (guint64)ceil(0.5 * a->tau);
  if (!was_on)
    clear_sums(a, a->frames);
  else
    a->next = MIN(a->next, a->frames + a->period + (a->period + 1) / 2);
}

guint64
mdn_stream_audit_period(const MdnStream *stream)
{
  return mdn_stream_get_audit(stream)->period;
}

double
mdn_stream_audit_time_constant(const MdnStream *stream)
{
  const MdnAudit *a = mdn_stream_get_audit(stream);
  return a->period ? a->tau / a->rate : 0;
}

guint64
mdn_stream_audit_count(const MdnStream *stream)
{
  return mdn_stream_get_audit(stream)->total;
}

double
mdn_stream_audit_snr(const MdnStream *stream, int tier)
{
  MdnAudit *a = mdn_stream_get_audit(stream);
  gint bits;
  float snr;

  if (tier == MDN_TIER_EXACT)
    return INFINITY;
  if (tier < 0 || tier >= a->n_tiers)
    return NAN;
  bits = g_atomic_int_get(&a->published[tier]);
  memcpy(&snr, &bits, sizeof snr);
  return snr;
}

double
mdn_stream_audit_snr_high(const MdnStream *stream, int tier)
{
  MdnAudit *a = mdn_stream_get_audit(stream);
  gint bits;
  float snr;

  if (tier == MDN_TIER_EXACT)
    return INFINITY;
  if (tier < 0 || tier >= a->n_tiers)
    return NAN;
  bits = g_atomic_int_get(&a->published_high[tier]);
  memcpy(&snr, &bits, sizeof snr);
  return snr;
}

/* Before the audit has measured (or with it off): the fit's claims. */
static int
pick_by_claim(const MdnAudit *a, double min_snr_db)
{
  int t;
  for (t = 0; t < a->n_tiers; t++)
    if (a->pays[t] && mdn_model_tier(a->model, t)->snr_db >= min_snr_db)
      return t;
  return MDN_TIER_EXACT;
}

int
mdn_stream_pick_tier(MdnStream *stream, int current, double min_snr_db)
{
  MdnAudit *a = mdn_stream_get_audit(stream);
  const double threshold = min_snr_db + MDN_GOVERNOR_MARGIN_DB;
  const guint64 hold = (guint64)ceil(MDN_GOVERNOR_HOLD_SECONDS * a->rate);
  int t, faster;

  if (a->n_tiers == 0)
    return MDN_TIER_EXACT;
  if (current < MDN_TIER_EXACT || current >= a->n_tiers)
    current = MDN_TIER_EXACT;
  else if (current != MDN_TIER_EXACT && !a->pays[current])
    current = MDN_TIER_EXACT; /* slower than exact here: exact is the better start */
  if (isnan(min_snr_db))
    return current;
  if (isnan(mdn_stream_audit_snr(stream, 0))) {
    /* Nothing measured (every tier is audited together). */
    clear_governor(a);
    return pick_by_claim(a, min_snr_db);
  }
  if (threshold != a->held_threshold) {
    clear_governor(a);
    a->held_threshold = threshold;
  }
  for (t = 0; t < a->n_tiers; t++) {
    if (!(mdn_stream_audit_snr(stream, t) >= threshold))
      a->held_from[t] = -1;
    else if (a->held_from[t] < 0)
      a->held_from[t] = (gint64)a->frames;
  }

  /* Under the floor: up at once, to the fastest slower tier that holds it. */
  if (current != MDN_TIER_EXACT && !(mdn_stream_audit_snr(stream, current) >= min_snr_db)) {
    for (t = current + 1; t < a->n_tiers; t++)
      if (a->pays[t] && mdn_stream_audit_snr(stream, t) >= min_snr_db)
        return t;
    return MDN_TIER_EXACT;
  }
  /* Down only to a tier that has held the floor plus the margin for a while. */
  faster = current == MDN_TIER_EXACT ? a->n_tiers : current;
  for (t = 0; t < faster; t++)
    if (a->pays[t] && a->held_from[t] >= 0 && a->frames - (guint64)a->held_from[t] >= hold)
      return t;
  return current;
}

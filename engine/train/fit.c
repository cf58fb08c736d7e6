/* fit.c: the training driver. Fits the tiers of a ladder to audio, measures
 * each on held-out audio through a real MdnStream and prunes the ladder.
 *
 * Per tier: rows t are subsampled from the training part of the audio; each
 * row has its normaliser sigma_t (mdn-private.h), exact targets y[t][o]
 * (double, no bias), and a residual target r[t][o] = (y - exact part) / sigma_t
 * once the E highest-energy input dims are taken out as exact taps. One tree
 * per input channel is learned (tree.c) on windows of the codebooks it
 * serves; the tables are a ridge regression of the one-hot codes onto r
 * (ridge.c), shrunk towards the prototype tables (each bucket's mean window
 * through the weights), quantised to 5..8 or 16 bits.
 *
 * Memory (60 s of 48 kHz mono, default ladder, 65536 rows): the padded copy
 * of the audio and its |x| envelope (2 x 11.5 MB), the held-out reference and
 * output (0.2 x 2.88 M frames x 12 bytes = 6.9 MB), rows x (codes + windows +
 * targets) < 5 MB: about 35 MB above the caller's audio. Measured: peak RSS of
 * maddness-fit on a 60 s mono WAV with lowpass64 is 50 MB (its own 11.5 MB
 * copy of the audio included), fit time 1.4 s on one core.
 * Bounds for big kernels: codes <= FIT_MAX_CODES bytes (the rows are cut to
 * fit), table unknowns <= FIT_MAX_UNKNOWNS per tier (else an error).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fit-private.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

/* 65536 rows fit 60 s of mono with the default ladder in a few seconds;
 * more rows gave < 0.3 dB on lowpass64 (see the report). */
#define FIT_DEFAULT_ROWS 65536
/* Ridge penalty: the pull of the tables towards the prototype tables, in the
 * normalised domain (targets are O(1), a bucket sees ~rows/buckets rows).
 * With rows plentiful it only tames buckets that are (almost) never hit. */
#define FIT_LAMBDA 1.0
/* When a tier has fewer than FIT_ROWS_PER_UNKNOWN rows per table unknown,
 * lambda (the pull towards the prototype tables, see choose_lambda) is chosen on
 * validation rows; those fits only rank the candidates: a looser stop. */
#define FIT_VALIDATION_TOL 1e-3
#define FIT_VALIDATION_ITER 100
#define FIT_ROWS_PER_UNKNOWN 32
/* CG stops at ||A^T r - (A^T A + lambda I) L|| <= 1e-4 ||A^T r||, or 300 iterations:
 * 1e-3 already gave the same held-out SNR to 0.01 dB on lowpass64. */
#define FIT_TOL 1e-4
#define FIT_MAX_ITER 300
#define FIT_MIN_SECONDS 1.0
/* Frames per entry of the block maxima that speed up row_peak(). */
#define FIT_PEAK_BLOCK 64
/* The least audio of a validation part or a held-out class, in frames. */
#define FIT_MIN_FRAMES 64
/* Rows per bucket the regression needs at the least. */
#define FIT_MIN_ROWS_PER_BUCKET 8
/* Memory bounds: codes of the training rows (bytes), and table unknowns of
 * one tier (the CG keeps 5 doubles per unknown: 320 MB at the bound). */
#define FIT_MAX_CODES ((size_t)1 << 27)
#define FIT_MAX_UNKNOWNS ((size_t)1 << 23)

void
mdn_fit_options_init(MdnFitOptions *o)
{
  memset(o, 0, sizeof *o);
  o->seed = MDN_DEFAULT_SEED;
  o->holdout_fraction = 0.2;
}

/* ---- progress and cancel --------------------------------------------- */

typedef struct {
  const MdnFitOptions *options;
  const char *stage;
  double base, width; /* the current step's share of the whole fit */
  double reported;    /* last fraction reported: progress never goes back */
  gint64 last_call;
  gboolean stage_changed;
  gboolean cancelled;
} Progress;

static gboolean
progress_tick(double fraction, gpointer data)
{
  Progress *progress = data;
  const MdnFitOptions *options = progress->options;
  double f = progress->base + progress->width * CLAMP(fraction, 0.0, 1.0);
  gint64 now;

  if (options->cancel && *options->cancel) {
    progress->cancelled = TRUE;
    return FALSE;
  }
  if (f < progress->reported)
    f = progress->reported;
  now = g_get_monotonic_time();
  if (options->progress
      && (progress->stage_changed || now - progress->last_call >= 100000 || f >= 1.0)) {
    options->progress(progress->stage, f, options->progress_data);
    progress->last_call = now;
    progress->stage_changed = FALSE;
    progress->reported = f;
  }
  return !(options->cancel && *options->cancel) || !(progress->cancelled = TRUE);
}

/* The share of the whole fit the next ticks report, within the same stage. */
static void
progress_share(Progress *progress, double base, double width)
{
  progress->base = base;
  progress->width = width;
}

static gboolean
progress_stage(Progress *progress, const char *stage, double base, double width)
{
  progress->stage = stage;
  progress_share(progress, base, width);
  progress->stage_changed = TRUE;
  return progress_tick(0, progress);
}

/* ---- the work of one fit ------------------------------------------------- */

/* What fitting one tier works on; cleared before the next. */
typedef struct {
  int s, depth, buckets, groups, n_codebooks;
  size_t span;            /* frames a row reads back through its codebooks */
  guint8 *is_exact;       /* [cin * taps]: the dim is computed exactly */
  int *first_codebook;    /* [cin + 1]: channel i has codebooks first[i] .. first[i+1]-1 */
  float *sigma;           /* [n_rows]: the row's normaliser, at its dithered level */
  double *weight;         /* [n_rows]: the row's weight in trees and ridge (mean 1), or NULL */
  float *tree_weight;     /* [n_rows]: the same in float for tree.c, or NULL */
  double *residual;       /* [n_rows][cout]: what the tables must give, normalised */
  guint8 *codes;          /* [n_rows][n_codebooks] */
  double *centroid;       /* [cin][buckets][s]: sums, then means, of each bucket's windows */
  double *centroid_count; /* [cin][buckets] */
  double *prior;          /* [n_codebooks][buckets][cout]: the prototype tables */
  double *table;          /* [n_codebooks][buckets][cout]: the fitted tables */
  double *offset;         /* [cout]: the fitted intercept */
  double lambda;          /* the ridge penalty used */
  int cg_iterations;      /* of the final solve */
} TierWork;

/* One fit: the audio, the training rows every tier shares, the progress, and
 * the tier being fitted. Owns every buffer (fit_clear frees them). */
typedef struct {
  const MdnKernel *kernel;
  const MdnFitOptions *options;
  const MdnFitRules *rules;
  const float *audio; /* interleaved, the caller's */
  size_t n_frames, n_train, n_hold;
  size_t pad;         /* frames of zeros before frame 0 */
  float *padded;      /* [cin][pad + n_frames]: deinterleaved */
  const float **x;    /* x[i][t], valid for t >= -pad */
  float *frame_peak;  /* [n_frames]: max_i |x[i][t]| */
  float *block_peak;  /* [ceil(n_frames / FIT_PEAK_BLOCK)]: block maxima of frame_peak */
  size_t n_rows;      /* training rows */
  size_t *row;        /* [n_rows]: the frame of each */
  float *gain;        /* [n_rows]: level dither of the row, 2^u with u in [0, 1) */
  double *row_exact;  /* [n_rows][cout]: exact output of the row, no bias */
  double *dim_energy; /* [cin * taps]: sum_o w^2 * var(x_i) */
  guint32 *by_energy; /* dims i * taps + k, highest energy first */
  double *held_exact; /* [n_hold][cout]: exact output with bias, the reference */
  GRand *rng;
  Progress progress;
  TierWork tier;
} Fit;

static void
tier_work_clear(TierWork *work)
{
  g_free(work->is_exact);
  g_free(work->first_codebook);
  g_free(work->sigma);
  g_free(work->weight);
  g_free(work->tree_weight);
  g_free(work->residual);
  g_free(work->codes);
  g_free(work->centroid);
  g_free(work->centroid_count);
  g_free(work->prior);
  g_free(work->table);
  g_free(work->offset);
  memset(work, 0, sizeof *work);
}

static void
fit_clear(Fit *fit)
{
  tier_work_clear(&fit->tier);
  g_free(fit->padded);
  g_free(fit->x);
  g_free(fit->frame_peak);
  g_free(fit->block_peak);
  g_free(fit->row);
  g_free(fit->gain);
  g_free(fit->row_exact);
  g_free(fit->dim_energy);
  g_free(fit->by_energy);
  g_free(fit->held_exact);
  if (fit->rng)
    g_rand_free(fit->rng);
}

/* What sigma_t is taken from (mdn-private.h): max |x| over [B - span, t],
 * B = t - t % norm_block (the tier's normalisation block). */
static float
row_peak(const Fit *fit, size_t t, size_t span, size_t norm_block)
{
  size_t block = t - t % norm_block;
  size_t lo = block > span ? block - span : 0, hi = t + 1;
  float m = 0;

  while (lo < hi && lo % FIT_PEAK_BLOCK) {
    m = MAX(m, fit->frame_peak[lo]);
    lo++;
  }
  while (lo + FIT_PEAK_BLOCK <= hi) {
    m = MAX(m, fit->block_peak[lo / FIT_PEAK_BLOCK]);
    lo += FIT_PEAK_BLOCK;
  }
  while (lo < hi) {
    m = MAX(m, fit->frame_peak[lo]);
    lo++;
  }
  return m;
}

/* Exact conv at frame t without bias, in double. */
static void
exact_at(const Fit *fit, size_t t, double *out)
{
  const MdnKernel *k = fit->kernel;
  int o, i, tap;

  for (o = 0; o < k->cout; o++) {
    double acc = 0;
    for (i = 0; i < k->cin; i++) {
      const float *w = k->weights + ((size_t)o * k->cin + i) * k->taps;
      const float *xt = fit->x[i] + t;
      for (tap = 0; tap < k->taps; tap++)
        acc += (double)w[tap] * xt[-(ptrdiff_t)tap * k->dilation];
    }
    out[o] = acc;
  }
}

/* ---- preparing the audio and the rows ------------------------------------ */

/* The audio deinterleaved behind `pad` frames of zeros, and its peaks. */
static void
pad_audio(Fit *fit)
{
  const int cin = fit->kernel->cin;
  const size_t n = fit->n_frames, n_blocks = (n + FIT_PEAK_BLOCK - 1) / FIT_PEAK_BLOCK;
  size_t t;
  int i;

  fit->padded = g_new0(float, (size_t)cin *(fit->pad + n));
  fit->x = g_new(const float *, cin);
  fit->frame_peak = g_new0(float, n);
  fit->block_peak = g_new0(float, n_blocks);
  for (i = 0; i < cin; i++) {
    float *xi = fit->padded + (size_t)i * (fit->pad + n) + fit->pad;
    fit->x[i] = xi;
    for (t = 0; t < n; t++) {
      float v = fit->audio[t * cin + i];
      xi[t] = v;
      fit->frame_peak[t] = MAX(fit->frame_peak[t], fabsf(v));
    }
  }
  for (t = 0; t < n; t++)
    fit->block_peak[t / FIT_PEAK_BLOCK]
        = MAX(fit->block_peak[t / FIT_PEAK_BLOCK], fit->frame_peak[t]);
}

static int
cmp_energy(const void *a, const void *b, gpointer data)
{
  const double *e = data;
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
  if (e[x] != e[y])
    return e[x] > e[y] ? -1 : 1;
  return (x > y) - (x < y);
}

/* The energy each input dim (channel, tap) brings to the output, from the
 * weights and the training audio's variance, and the dims by energy. */
static void
rank_dims(Fit *fit)
{
  const MdnKernel *k = fit->kernel;
  const size_t dims = (size_t)k->cin * k->taps;
  double *mean = g_new0(double, k->cin), *var = g_new0(double, k->cin);
  size_t t, j;
  int i, o, tap;

  for (i = 0; i < k->cin; i++) {
    for (t = 0; t < fit->n_train; t++)
      mean[i] += fit->x[i][t];
    mean[i] /= fit->n_train;
    for (t = 0; t < fit->n_train; t++)
      var[i] += (fit->x[i][t] - mean[i]) * (fit->x[i][t] - mean[i]);
    var[i] /= fit->n_train;
  }
  fit->dim_energy = g_new0(double, dims);
  fit->by_energy = g_new(guint32, dims);
  for (o = 0; o < k->cout; o++)
    for (i = 0; i < k->cin; i++)
      for (tap = 0; tap < k->taps; tap++) {
        double w = mdn_kernel_weight(k, o, i, tap);
        fit->dim_energy[(size_t)i * k->taps + tap] += w * w * var[i];
      }
  for (j = 0; j < dims; j++)
    fit->by_energy[j] = (guint32)j;
  g_qsort_with_data(fit->by_energy, (gint)dims, sizeof(guint32), cmp_energy, fit->dim_energy);
  g_free(mean);
  g_free(var);
}

/* Training rows: a stratified random subsample (sorted, distinct) skipping
 * digital silence, which carries no information for the tables; each with
 * its level dither. */
static void
choose_rows(Fit *fit, size_t max_span, size_t max_codebooks)
{
  size_t cap = fit->options->max_train_rows ? fit->options->max_train_rows : FIT_DEFAULT_ROWS;
  size_t want, r, j;

  /* The codes of a tier take rows x codebooks bytes: bounded. */
  cap = MIN(cap, FIT_MAX_CODES / MAX(max_codebooks, 1));
  want = MIN(cap, fit->n_train);
  fit->row = g_new(size_t, want ? want : 1);
  fit->n_rows = 0;
  for (r = 0; r < want; r++) {
    size_t lo = (size_t)((double)r * fit->n_train / want);
    size_t hi = (size_t)((double)(r + 1) * fit->n_train / want);
    size_t t
        = lo
          + (hi > lo + 1 ? (size_t)g_rand_int_range(fit->rng, 0, (gint32)MIN(hi - lo, G_MAXINT32))
                         : 0);
    if (row_peak(fit, t, max_span, MDN_NORM_BLOCK) > 0x1p-100f)
      fit->row[fit->n_rows++] = t;
  }

  /* Level dither: row j is learned as if the audio were gain_j times
   * louder. Since sigma is a power of two, the normalised windows of one
   * signal take different values at levels that differ by a fraction of an
   * octave; training over the whole octave makes the tier as good at -40
   * dBFS as at -6 dBFS (without it the SNR moved by > 1 dB between those
   * levels). */
  fit->gain = g_new(float, fit->n_rows ? fit->n_rows : 1);
  for (j = 0; j < fit->n_rows; j++)
    fit->gain[j] = (float)exp2(g_rand_double(fit->rng));
}

/* The exact outputs: of the training rows (no bias) and of the held-out
 * audio (with bias, the reference of the SNR). FALSE when cancelled. */
static gboolean
exact_targets(Fit *fit)
{
  const MdnKernel *k = fit->kernel;
  const int cout = k->cout;
  size_t j;
  int o;

  fit->row_exact = g_new(double, fit->n_rows *cout);
  for (j = 0; j < fit->n_rows; j++) {
    exact_at(fit, fit->row[j], fit->row_exact + j * cout);
    if (!progress_tick(0.5 * j / fit->n_rows, &fit->progress))
      return FALSE;
  }
  fit->held_exact = g_new(double, fit->n_hold *cout + 1);
  for (j = 0; j < fit->n_hold; j++) {
    exact_at(fit, fit->n_train + j, fit->held_exact + j * cout);
    for (o = 0; o < cout; o++)
      fit->held_exact[j * cout + o] += k->bias[o];
    if (!progress_tick(0.5 + 0.5 * j / fit->n_hold, &fit->progress))
      return FALSE;
  }
  return TRUE;
}

/* Everything the tiers share. FALSE when cancelled. */
static gboolean
fit_prepare(Fit *fit, size_t max_span, size_t max_codebooks)
{
  const MdnKernel *k = fit->kernel;
  const guint64 seed = fit->options->seed;
  guint32 seed_words[2] = { (guint32)seed, (guint32)(seed >> 32) };

  /* With classes of held-out audio the tiers are measured there: all of
   * the audio is for training. */
  fit->n_hold = fit->options->n_heldout > 0
                    ? 0
                    : (size_t)llround(fit->options->holdout_fraction * fit->n_frames);
  fit->n_train = fit->n_frames - fit->n_hold;
  fit->rng = g_rand_new_with_seed_array(seed_words, 2);
  fit->pad = MAX(max_span, (size_t)(k->taps - 1) * k->dilation) + MDN_NORM_BLOCK;
  pad_audio(fit);
  rank_dims(fit);
  choose_rows(fit, max_span, max_codebooks);
  return exact_targets(fit);
}

/* ---- one tier: codebooks and targets ----------------------------------- */

/* Group g of channel i has a tap the tables must approximate (one not
 * computed exactly): it is a codebook. */
static gboolean
group_is_codebook(const Fit *fit, const TierWork *work, int i, int g)
{
  const int taps = fit->kernel->taps, s = work->s;
  gboolean any = FALSE;
  int j;

  for (j = 0; j < s && g * s + j < taps; j++)
    any |= !work->is_exact[(size_t)i * taps + g * s + j];
  return any;
}

/* The spec's shape, its exact dims (highest energy first) and how many
 * codebooks (groups not made only of exact taps) remain. */
static int
choose_exact_dims(Fit *fit, const MdnTierSpec *spec)
{
  const MdnKernel *k = fit->kernel;
  TierWork *work = &fit->tier;
  const size_t dims = (size_t)k->cin * k->taps;
  const int n_exact = (int)MIN((size_t)MAX(spec->exact_taps, 0), dims);
  int e, i, g;

  work->s = spec->taps_per_codebook;
  work->depth = spec->depth;
  work->buckets = 1 << spec->depth;
  work->groups = (k->taps + work->s - 1) / work->s;
  work->span = ((size_t)work->groups * work->s - 1) * k->dilation;
  work->is_exact = g_new0(guint8, dims);
  for (e = 0; e < n_exact; e++)
    work->is_exact[fit->by_energy[e]] = 1;
  work->n_codebooks = 0;
  for (i = 0; i < k->cin; i++)
    for (g = 0; g < work->groups; g++)
      work->n_codebooks += group_is_codebook(fit, work, i, g);
  return n_exact;
}

/* The tier's exact dims with their weights, and its codebooks by channel. */
static void
set_exact_and_codebooks(Fit *fit, MdnTier *tier)
{
  const MdnKernel *k = fit->kernel;
  TierWork *work = &fit->tier;
  int e, o, i, g, c = 0;

  for (e = 0; e < tier->n_exact; e++) {
    guint32 d = fit->by_energy[e];
    tier->exact_chan[e] = (guint16)(d / k->taps);
    tier->exact_tap[e] = d % k->taps;
    for (o = 0; o < k->cout; o++)
      tier->exact_w[(size_t)e * k->cout + o] = mdn_kernel_weight(k, o, d / k->taps, d % k->taps);
  }
  work->first_codebook = g_new0(int, k->cin + 1);
  for (i = 0; i < k->cin; i++) {
    work->first_codebook[i] = c;
    for (g = 0; g < work->groups; g++)
      if (group_is_codebook(fit, work, i, g)) {
        tier->cb_chan[c] = (guint16)i;
        tier->cb_group[c] = (guint32)g;
        c++;
      }
  }
  work->first_codebook[k->cin] = c;
}

/* The rows' weights, (sigma_j / gain_j)^p scaled to mean 1 (p: the rules'
 * weight_power; none for p = 0): a row's error in the tables' normalised
 * domain is sigma_j / gain_j times smaller than in the audio's, so p = 2
 * minimises the raw output error, which is what the SNR measures. */
static void
row_weights(Fit *fit)
{
  TierWork *work = &fit->tier;
  const double p = fit->rules->weight_power;
  double total = 0;
  size_t j;

  if (p == 0 || fit->n_rows == 0)
    return;
  work->weight = g_new(double, fit->n_rows);
  work->tree_weight = g_new(float, fit->n_rows);
  for (j = 0; j < fit->n_rows; j++) {
    work->weight[j] = pow((double)work->sigma[j] / fit->gain[j], p);
    total += work->weight[j];
  }
  for (j = 0; j < fit->n_rows; j++) {
    work->weight[j] *= fit->n_rows / total;
    work->tree_weight[j] = (float)work->weight[j];
  }
}

/* Row normalisers and residual targets: the exact output less the exact
 * taps, at the row's dithered level, over its sigma. */
static void
residual_targets(Fit *fit, const MdnTier *tier)
{
  const MdnKernel *k = fit->kernel;
  const int cout = k->cout;
  TierWork *work = &fit->tier;
  size_t j;
  int o, e;

  work->sigma = g_new(float, fit->n_rows ? fit->n_rows : 1);
  work->residual = g_new(double, fit->n_rows *cout + 1);
  for (j = 0; j < fit->n_rows; j++) {
    const size_t t = fit->row[j];
    /* sigma of the row as the stream sees it at the dithered level */
    work->sigma[j]
        = mdn_pow2_ceil(fit->gain[j] * row_peak(fit, t, work->span, (size_t)tier->norm_block));
    for (o = 0; o < cout; o++) {
      double acc = fit->row_exact[j * cout + o];
      for (e = 0; e < tier->n_exact; e++)
        acc -= (double)tier->exact_w[(size_t)e * cout + o]
               * fit->x[tier->exact_chan[e]]
                       [(ptrdiff_t)t - (ptrdiff_t)tier->exact_tap[e] * k->dilation];
      work->residual[j * cout + o] = acc * fit->gain[j] / work->sigma[j];
    }
  }
  row_weights(fit);
}

/* ---- one tier: trees ----------------------------------------------------- */

/* The metric of channel i's windows: a window error e (normalised, s taps)
 * in every codebook of the channel costs e^T M e in the output, summed over
 * the codebooks, M = sum over the channel's codebooks g of W_g W_g^T, W_g
 * [s][cout] the weights of group g's approximated taps (exact taps and taps
 * past the kernel are 0). Writes the upper Cholesky factor R (M = R^T R,
 * [s][s] row-major), so that ||R e||^2 = e^T M e: the splits minimise the
 * SSE of R x. A trace-relative jitter keeps R finite when M is singular (a
 * tap no codebook approximates). FALSE when M is 0: no metric. */
static gboolean
channel_metric(const Fit *fit, const MdnTier *tier, int i, double *r)
{
  const MdnKernel *k = fit->kernel;
  const TierWork *work = &fit->tier;
  const int s = work->s;
  double m[8 * 8] = { 0 }, trace = 0;
  int c, o, a, b, j;

  for (c = work->first_codebook[i]; c < work->first_codebook[i + 1]; c++)
    for (o = 0; o < k->cout; o++) {
      double wg[8];
      for (a = 0; a < s; a++) {
        size_t tap = (size_t)tier->cb_group[c] * s + a;
        wg[a] = tap < (size_t)k->taps && !work->is_exact[(size_t)i * k->taps + tap]
                    ? mdn_kernel_weight(k, o, i, (int)tap)
                    : 0;
      }
      for (a = 0; a < s; a++)
        for (b = 0; b < s; b++)
          m[a * s + b] += wg[a] * wg[b];
    }
  for (a = 0; a < s; a++)
    trace += m[a * s + a];
  if (!(trace > 0))
    return FALSE;
  for (a = 0; a < s; a++)
    m[a * s + a] += 1e-9 * trace / s;
  /* Cholesky, M = R^T R with R upper triangular. */
  memset(r, 0, sizeof(double) * s * s);
  for (a = 0; a < s; a++) {
    double d = m[a * s + a];
    for (j = 0; j < a; j++)
      d -= r[j * s + a] * r[j * s + a];
    r[a * s + a] = sqrt(MAX(d, 1e-30 * trace));
    for (b = a + 1; b < s; b++) {
      double v = m[a * s + b];
      for (j = 0; j < a; j++)
        v -= r[j * s + a] * r[j * s + b];
      r[a * s + b] = v / r[a * s + a];
    }
  }
  return TRUE;
}

/* The windows channel i's tree learns from: one per row, of a codebook of
 * the channel drawn at random, normalised; and their targets, R times the
 * window when metric is not NULL. */
static void
tree_windows(Fit *fit, const MdnTier *tier, int i, const double *metric, float *windows,
             float *targets)
{
  const TierWork *work = &fit->tier;
  const int s = work->s, dil = fit->kernel->dilation;
  const int first = work->first_codebook[i];
  const int n_channel = work->first_codebook[i + 1] - first;
  size_t j;
  int a, b;

  for (j = 0; j < fit->n_rows; j++) {
    int cb = first + (n_channel > 1 ? g_rand_int_range(fit->rng, 0, n_channel) : 0);
    size_t g = tier->cb_group[cb];
    const float *xt = fit->x[i] + fit->row[j] - g * s * dil;
    float *window = windows + j * s;
    for (a = 0; a < s; a++)
      window[a] = (fit->gain[j] * xt[-(ptrdiff_t)a * dil]) / work->sigma[j];
    if (metric)
      for (a = 0; a < s; a++) {
        double acc = 0;
        for (b = a; b < s; b++)
          acc += metric[a * s + b] * window[b];
        targets[j * s + a] = (float)acc;
      }
  }
}

/* One tree per input channel, on windows of the codebooks it serves.
 * FALSE when cancelled. */
static gboolean
learn_trees(Fit *fit, MdnTier *tier, double base, double width)
{
  const int cin = fit->kernel->cin, s = fit->tier.s, depth = fit->tier.depth;
  float *windows = g_new(float, fit->n_rows *s + 1);
  float *targets = g_new(float, fit->n_rows *s + 1);
  gboolean ok = TRUE;
  int i;

  for (i = 0; i < cin && ok; i++) {
    double loss = 0, metric[8 * 8];
    gboolean use_metric;
    if (fit->tier.first_codebook[i + 1] == fit->tier.first_codebook[i])
      continue;
    use_metric = fit->rules->split == MDN_SPLIT_METRIC && channel_metric(fit, tier, i, metric);
    tree_windows(fit, tier, i, use_metric ? metric : NULL, windows, targets);
    progress_share(&fit->progress, base + 0.4 * width * i / cin, 0.4 * width / cin);
    if (tier->hyperplanes)
      ok = mdn_tree_learn_hyperplanes(
          windows, fit->n_rows, s, use_metric ? metric : NULL, fit->tier.tree_weight, depth,
          tier->hyperplanes + (size_t)i * depth * s,
          tier->thresholds + (size_t)i * (tier->buckets - 1), &loss, progress_tick, &fit->progress);
    else
      ok = mdn_tree_learn(windows, fit->n_rows, s, use_metric ? targets : windows, s,
                          fit->tier.tree_weight, depth, tier->split + (size_t)i * depth,
                          tier->thresholds + (size_t)i * (tier->buckets - 1), &loss, progress_tick,
                          &fit->progress);
    g_debug("tier %s channel %d: tree loss %g", tier->name, i, loss);
  }
  g_free(targets);
  g_free(windows);
  return ok;
}

/* ---- one tier: codes and tables ------------------------------------------ */

/* The codes of the training rows through the tier's own encoder, and the
 * sum of the windows each bucket gets. FALSE when cancelled. */
static gboolean
encode_rows(Fit *fit, const MdnTier *tier)
{
  TierWork *work = &fit->tier;
  const int s = work->s, buckets = work->buckets, n_cb = work->n_codebooks;
  const int dil = fit->kernel->dilation;
  /* Each window at its row's dithered level, packed with dilation 1: the
   * codes are exactly what the stream computes for audio gain_j times louder. */
  MdnTier packed = *tier;
  float window[8];
  size_t j;
  int c, jj;

  packed.dilation = 1;
  work->codes = g_new(guint8, fit->n_rows * n_cb + 1);
  work->centroid = g_new0(double, (size_t)fit->kernel->cin *buckets *s);
  work->centroid_count = g_new0(double, (size_t)fit->kernel->cin *buckets);
  for (j = 0; j < fit->n_rows; j++) {
    guint8 *row_codes = work->codes + j * n_cb;
    for (c = 0; c < n_cb; c++) {
      const int chan = tier->cb_chan[c];
      const float *xt = fit->x[chan] + fit->row[j] - (size_t)tier->cb_group[c] * s * dil;
      double *sum;
      for (jj = 0; jj < s; jj++)
        window[s - 1 - jj] = fit->gain[j] * xt[-(ptrdiff_t)jj * dil];
      row_codes[c] = (guint8)mdn_tier_encode_one(&packed, chan, window + s - 1, work->sigma[j]);
      sum = work->centroid + ((size_t)chan * buckets + row_codes[c]) * s;
      for (jj = 0; jj < s; jj++)
        sum[jj] += window[s - 1 - jj] / work->sigma[j];
      work->centroid_count[(size_t)chan * buckets + row_codes[c]]++;
    }
    if (j % 1024 == 0 && !progress_tick((double)j / fit->n_rows, &fit->progress))
      return FALSE;
  }
  return TRUE;
}

/* The prototype tables' sum over row j's codebooks, for output o. */
static double
prior_sum(const Fit *fit, size_t j, int o)
{
  const TierWork *work = &fit->tier;
  const int cout = fit->kernel->cout, n_cb = work->n_codebooks;
  double acc = 0;
  int c;

  for (c = 0; c < n_cb; c++)
    acc += work->prior[((size_t)c * work->buckets + work->codes[j * n_cb + c]) * cout + o];
  return acc;
}

/* Prototype tables: each bucket's mean window through the codebook's
 * weights (the classic product-quantisation table). The ridge then fits the
 * correction to these, shrunk towards them by lambda: the residual loses
 * them here. FALSE when cancelled. */
static gboolean
prototype_tables(Fit *fit, const MdnTier *tier)
{
  const MdnKernel *k = fit->kernel;
  TierWork *work = &fit->tier;
  const int s = work->s, buckets = work->buckets, cout = k->cout;
  size_t j;
  int c, b, o, jj;

  work->prior = g_new0(double, (size_t)work->n_codebooks *buckets *cout + 1);
  for (j = 0; j < (size_t)k->cin * buckets; j++)
    for (jj = 0; jj < s; jj++)
      work->centroid[j * s + jj]
          = work->centroid_count[j] > 0 ? work->centroid[j * s + jj] / work->centroid_count[j] : 0;
  for (c = 0; c < work->n_codebooks; c++)
    for (b = 0; b < buckets; b++)
      for (o = 0; o < cout; o++) {
        const int chan = tier->cb_chan[c];
        double acc = 0;
        for (jj = 0; jj < s; jj++) {
          size_t tap = (size_t)tier->cb_group[c] * s + jj;
          if (tap < (size_t)k->taps && !work->is_exact[(size_t)chan * k->taps + tap])
            acc += mdn_kernel_weight(k, o, chan, (int)tap)
                   * work->centroid[((size_t)chan * buckets + b) * s + jj];
        }
        work->prior[((size_t)c * buckets + b) * cout + o] = acc;
      }
  for (j = 0; j < fit->n_rows; j++) {
    for (o = 0; o < cout; o++)
      work->residual[j * cout + o] -= prior_sum(fit, j, o);
    if (j % 1024 == 0 && !progress_tick(0, &fit->progress))
      return FALSE;
  }
  return TRUE;
}

/* Squared error of the tables' sums against the residual on rows from..to-1,
 * weighted as the ridge weighs the rows. */
static double
table_error(const Fit *fit, size_t from, size_t to)
{
  const TierWork *work = &fit->tier;
  const int cout = fit->kernel->cout, buckets = work->buckets, n_cb = work->n_codebooks;
  double err = 0;
  size_t j;
  int o, c;

  for (j = from; j < to; j++)
    for (o = 0; o < cout; o++) {
      double d = work->residual[j * cout + o] - work->offset[o];
      for (c = 0; c < n_cb; c++)
        d -= work->table[((size_t)c * buckets + work->codes[j * n_cb + c]) * cout + o];
      err += (work->weight ? work->weight[j] : 1.0) * d * d;
    }
  return err;
}

/* lambda: FIT_LAMBDA when the rows outnumber the unknowns by far (the prior
 * hardly matters then); else chosen among 10, 300, 10000 by the error on
 * the last 10% of the training rows (in time) after a fit on the rest.
 * FALSE when cancelled. */
static gboolean
choose_lambda(Fit *fit, const MdnTier *tier, double base, double width)
{
  static const double lambdas[] = { 10.0, 300.0, 10000.0 };
  const int n_lambdas = G_N_ELEMENTS(lambdas);
  TierWork *work = &fit->tier;
  const size_t n_rows = fit->n_rows, n_fit = n_rows - n_rows / 10;
  double best = INFINITY;
  int l;

  work->lambda = FIT_LAMBDA;
  if ((size_t)work->n_codebooks * work->buckets * FIT_ROWS_PER_UNKNOWN <= n_rows)
    return TRUE;
  for (l = 0; l < n_lambdas; l++) {
    double err;
    progress_share(&fit->progress, base + width * l / (n_lambdas + 1), width / (n_lambdas + 1));
    if (!mdn_ridge_solve(work->codes, n_fit, work->n_codebooks, work->buckets, work->residual,
                         work->weight, fit->kernel->cout, lambdas[l], FIT_VALIDATION_TOL,
                         FIT_VALIDATION_ITER, work->table, work->offset, &work->cg_iterations,
                         progress_tick, &fit->progress))
      return FALSE;
    err = table_error(fit, n_fit, n_rows);
    g_debug("tier %s: lambda %g validation error %g", tier->name, lambdas[l], err);
    if (err < best) {
      best = err;
      work->lambda = lambdas[l];
    }
  }
  progress_share(&fit->progress, base + width * n_lambdas / (n_lambdas + 1),
                 width / (n_lambdas + 1));
  return TRUE;
}

/* The tables in double: the ridge's correction with its lambda, plus the
 * prototype tables. FALSE when cancelled. */
static gboolean
solve_tables(Fit *fit, const MdnTier *tier, double base, double width)
{
  TierWork *work = &fit->tier;
  const size_t entries = (size_t)work->n_codebooks * work->buckets * fit->kernel->cout;
  size_t j;

  work->table = g_new(double, entries + 1);
  work->offset = g_new(double, fit->kernel->cout);
  if (!choose_lambda(fit, tier, base, width)
      || !mdn_ridge_solve(work->codes, fit->n_rows, work->n_codebooks, work->buckets,
                          work->residual, work->weight, fit->kernel->cout, work->lambda, FIT_TOL,
                          FIT_MAX_ITER, work->table, work->offset, &work->cg_iterations,
                          progress_tick, &fit->progress))
    return FALSE;
  for (j = 0; j < entries; j++)
    work->table[j] += work->prior[j];
  return TRUE;
}

/* ---- one tier: quantisation ---------------------------------------------- */

/* How often the training rows use each bucket of each codebook, weighed as
 * the ridge weighs the rows: [n_codebooks][buckets]. */
static double *
bucket_usage(const Fit *fit)
{
  const TierWork *work = &fit->tier;
  const int buckets = work->buckets, n_cb = work->n_codebooks;
  double *usage = g_new0(double, (size_t)n_cb *buckets + 1);
  size_t j;
  int c;

  for (j = 0; j < fit->n_rows; j++)
    for (c = 0; c < n_cb; c++)
      usage[(size_t)c * buckets + work->codes[j * n_cb + c]] += work->weight ? work->weight[j] : 1;
  return usage;
}

/* The entries of the tier's tables in table_bits: per (codebook, output)
 * the minimum into the offset, one scale per output shared by all
 * codebooks. Each codebook's mean rounding error (over the buckets as the
 * rows use them) goes into the offset too: a codebook whose range is a
 * small part of the scale rounds most entries the same way, and over many
 * codebooks (beam8: 256) those biases add up to more than the signal. */
static void
quantise_tables(const Fit *fit, MdnTier *tier)
{
  const TierWork *work = &fit->tier;
  const int cout = fit->kernel->cout, buckets = work->buckets, n_cb = work->n_codebooks;
  const double qmax = (double)((1u << tier->spec.table_bits) - 1);
  double *mins = g_new(double, (size_t)n_cb *cout + 1), *usage = bucket_usage(fit);
  double *scale = g_new0(double, cout), *offset = g_new(double, cout);
  int c, b, o;

  memcpy(offset, work->offset, sizeof(double) * cout);
  for (c = 0; c < n_cb; c++)
    for (o = 0; o < cout; o++) {
      double lo = INFINITY, hi = -INFINITY;
      for (b = 0; b < buckets; b++) {
        double v = work->table[((size_t)c * buckets + b) * cout + o];
        lo = MIN(lo, v);
        hi = MAX(hi, v);
      }
      mins[(size_t)c * cout + o] = lo;
      offset[o] += lo;
      scale[o] = MAX(scale[o], (hi - lo) / qmax);
    }
  for (o = 0; o < cout; o++)
    tier->lut_scale[o] = (float)(scale[o] > 0 ? scale[o] : 1);
  for (c = 0; c < n_cb; c++) {
    double used = 0, bias[MDN_MAX_CHANNELS] = { 0 };
    for (b = 0; b < buckets; b++) {
      const double u = usage[(size_t)c * buckets + b];
      used += u;
      for (o = 0; o < cout; o++) {
        size_t at = ((size_t)c * buckets + b) * cout + o;
        double v = work->table[at] - mins[(size_t)c * cout + o];
        double q = CLAMP(nearbyint(v / tier->lut_scale[o]), 0, qmax);
        if (tier->spec.table_bits <= 8)
          ((guint8 *)tier->lut)[at] = (guint8)q;
        else
          ((guint16 *)tier->lut)[at] = (guint16)q;
        bias[o] += u * (v - q * tier->lut_scale[o]);
      }
    }
    for (o = 0; o < cout && used > 0; o++)
      offset[o] += bias[o] / used;
  }
  for (o = 0; o < cout; o++)
    tier->lut_offset[o] = (float)offset[o];
  g_free(mins);
  g_free(usage);
  g_free(scale);
  g_free(offset);
}

/* SNR of the training rows, in the output domain, of predictions `pred`
 * of the residual. */
static double
train_snr(const Fit *fit, const double *pred)
{
  const int cout = fit->kernel->cout;
  double s = 0, e = 0;
  size_t j;
  int o;

  for (j = 0; j < fit->n_rows; j++)
    for (o = 0; o < cout; o++) {
      double d = (fit->tier.residual[j * cout + o] - pred[j * cout + o]) * fit->tier.sigma[j]
                 / fit->gain[j];
      s += fit->row_exact[j * cout + o] * fit->row_exact[j * cout + o];
      e += d * d;
    }
  return 10 * log10(s / MAX(e, 1e-300));
}

/* The debug log's report of the tables on the training rows: SNR in double
 * and quantised (see the report). Restores the full residual first. */
static void
debug_table_report(Fit *fit, const MdnTier *tier)
{
  TierWork *work = &fit->tier;
  const int cout = fit->kernel->cout, buckets = work->buckets, n_cb = work->n_codebooks;
  double *pred = g_new(double, fit->n_rows *cout + 1), snr_double, snr_quantised;
  size_t j;
  int o, c;

  for (j = 0; j < fit->n_rows; j++)
    for (o = 0; o < cout; o++)
      work->residual[j * cout + o] += prior_sum(fit, j, o);
  for (j = 0; j < fit->n_rows; j++)
    for (o = 0; o < cout; o++) {
      double acc = work->offset[o];
      for (c = 0; c < n_cb; c++)
        acc += work->table[((size_t)c * buckets + work->codes[j * n_cb + c]) * cout + o];
      pred[j * cout + o] = acc;
    }
  snr_double = train_snr(fit, pred);
  for (j = 0; j < fit->n_rows; j++)
    for (o = 0; o < cout; o++) {
      double acc = 0;
      for (c = 0; c < n_cb; c++) {
        size_t at = ((size_t)c * buckets + work->codes[j * n_cb + c]) * cout + o;
        acc += tier->spec.table_bits <= 8 ? ((guint8 *)tier->lut)[at] : ((guint16 *)tier->lut)[at];
      }
      pred[j * cout + o] = tier->lut_offset[o] + (double)tier->lut_scale[o] * acc;
    }
  snr_quantised = train_snr(fit, pred);
  g_debug("tier %s: %d rows, %d codebooks, lambda %g, CG %d iterations, train SNR %.2f dB double, "
          "%.2f dB quantised (loss %.2f dB)",
          tier->name, (int)fit->n_rows, n_cb, work->lambda, work->cg_iterations, snr_double,
          snr_quantised, snr_double - snr_quantised);
  g_free(pred);
}

/* ---- one tier ------------------------------------------------------------ */

/* Fits one tier of the ladder (its share of the progress: base, width).
 * Returns NULL with *skipped set, and no error, for a tier whose cost
 * reaches max_cost: it would be pruned, so it is not fitted. */
static MdnTier *
fit_tier(Fit *fit, const MdnTierSpec *spec, double max_cost, double base, double width,
         gboolean *skipped, GError **error)
{
  const MdnKernel *k = fit->kernel;
  int n_exact;
  MdnTier *tier;

  tier_work_clear(&fit->tier);
  n_exact = choose_exact_dims(fit, spec);
  *skipped = FALSE;
  tier = mdn_tier_alloc(spec, k->cin, k->cout, k->taps, k->dilation, n_exact, fit->tier.n_codebooks,
                        error);
  if (!tier)
    return NULL;
  if (mdn_tier_cost(tier) >= max_cost) {
    g_debug("tier %s: cost %.1f, not below the exact path's %.1f: not fitted", tier->name,
            mdn_tier_cost(tier), max_cost);
    *skipped = TRUE;
    goto fail;
  }
  set_exact_and_codebooks(fit, tier);
  residual_targets(fit, tier);
  if (!progress_stage(&fit->progress, "trees", base, 0.4 * width)
      || !learn_trees(fit, tier, base, width)
      || !progress_stage(&fit->progress, "tables", base + 0.4 * width, 0.05 * width)
      || !encode_rows(fit, tier)
      || !progress_stage(&fit->progress, "tables", base + 0.45 * width, 0.4 * width)
      || !prototype_tables(fit, tier) || !solve_tables(fit, tier, base + 0.45 * width, 0.4 * width))
    goto fail;
  quantise_tables(fit, tier);
  if (g_getenv("G_MESSAGES_DEBUG"))
    debug_table_report(fit, tier);
  tier_work_clear(&fit->tier);
  return tier;

fail:
  tier_work_clear(&fit->tier);
  mdn_tier_free(tier);
  return NULL;
}

/* ---- measuring on the held-out audio ----------------------------------- */

/* Runs a real stream over the held-out audio (after enough history to
 * match the exact reference) and returns the SNR against the double
 * reference. Returns FALSE on cancel or error. */
static gboolean
measure_tier(Fit *fit, MdnTier *tier, double *snr, GError **error)
{
  const MdnKernel *k = fit->kernel;
  const int cin = k->cin, cout = k->cout;
  size_t warm, h0, t, chunk = 4096;
  MdnModel *model;
  MdnStream *stream;
  float *out, *held;
  gboolean ok = TRUE;

  model = mdn_model_new(k, error);
  if (!model)
    return FALSE;
  mdn_model_add_tier(model, tier);
  stream = mdn_stream_new(model, 1, error);
  if (!stream) {
    model->n_tiers = 0; /* the tier stays the caller's */
    mdn_model_free(model);
    return FALSE;
  }
  warm = MAX(mdn_tier_history(tier), mdn_exact_history(k)) + (size_t)tier->norm_block;
  h0 = fit->n_train > warm ? fit->n_train - warm : 0;
  h0 -= h0 % (size_t)tier->norm_block; /* blocks aligned with the audio's frame count */
  out = g_new(float, chunk *cout);
  held = g_new(float, fit->n_hold *cout + 1);
  for (t = h0; t < fit->n_frames && ok; t += chunk) {
    size_t n = MIN(chunk, fit->n_frames - t), j;
    if (!mdn_stream_process(stream, 0, fit->audio + t * cin, out, n)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "stream refused the tier");
      ok = FALSE;
      break;
    }
    for (j = 0; j < n; j++)
      if (t + j >= fit->n_train)
        memcpy(held + (t + j - fit->n_train) * cout, out + j * cout, sizeof(float) * cout);
    if (!progress_tick((double)(t + n - h0) / (fit->n_frames - h0), &fit->progress))
      ok = FALSE;
  }
  if (ok)
    *snr = mdn_snr_db(fit->held_exact, held, fit->n_hold * cout);
  g_free(out);
  g_free(held);
  mdn_stream_free(stream);
  model->n_tiers = 0;
  mdn_model_free(model);
  return ok;
}

/* Runs every fitted tier (NULL entries are skipped) beside the exact path
 * over one class of held-out audio, from silence, and gives each tier's SNR
 * against the exact path's output (float, within about 130 dB of the double
 * reference: far beyond any tier's SNR) in snr[]. One pass: the exact path
 * runs once for all the tiers; chunk by chunk, no copy of the output kept.
 * FALSE on cancel or error. */
static gboolean
measure_class(Fit *fit, MdnTier **tiers, int n_tiers, const MdnHeldOut *set, double *snr,
              GError **error)
{
  const MdnKernel *k = fit->kernel;
  const size_t chunk = 4096, cout = (size_t)k->cout, cin = (size_t)k->cin;
  MdnModel **models = g_new0(MdnModel *, n_tiers);
  MdnStream **streams = g_new0(MdnStream *, n_tiers), *exact = NULL;
  MdnModel *exact_model = mdn_model_new(k, error);
  float *out_tier = g_new(float, chunk *cout), *out_exact = g_new(float, chunk *cout);
  double signal = 0, *noise = g_new0(double, n_tiers);
  gboolean ok = FALSE;
  size_t t, j;
  int i;

  if (!exact_model || !(exact = mdn_stream_new(exact_model, 1, error)))
    goto out;
  for (i = 0; i < n_tiers; i++) {
    if (!tiers[i])
      continue;
    /* A model of the kernel and this tier alone: its stream keeps this tier's state only. */
    models[i] = mdn_model_new(k, error);
    mdn_model_add_tier(models[i], tiers[i]);
    if (!(streams[i] = mdn_stream_new(models[i], 1, error)))
      goto out;
  }
  for (t = 0; t < set->n_frames; t += chunk) {
    size_t n = MIN(chunk, set->n_frames - t);

    mdn_stream_process(exact, MDN_TIER_EXACT, set->audio + t * cin, out_exact, n);
    for (j = 0; j < n * cout; j++)
      signal += (double)out_exact[j] * out_exact[j];
    for (i = 0; i < n_tiers; i++) {
      if (!streams[i])
        continue;
      mdn_stream_process(streams[i], 0, set->audio + t * cin, out_tier, n);
      for (j = 0; j < n * cout; j++) {
        double d = (double)out_exact[j] - out_tier[j];
        noise[i] += d * d;
      }
    }
    if (!progress_tick((double)(t + n) / set->n_frames, &fit->progress))
      goto out;
  }
  if (!(signal > 0)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO,
                "held-out class \"%s\": the exact output is silent", set->name);
    goto out;
  }
  for (i = 0; i < n_tiers; i++)
    snr[i] = noise[i] > 0 ? 10 * log10(signal / noise[i]) : INFINITY;
  ok = TRUE;
out:
  for (i = 0; i < n_tiers; i++) {
    mdn_stream_free(streams[i]);
    if (models[i]) {
      models[i]->n_tiers = 0; /* the tier stays the caller's */
      mdn_model_free(models[i]);
    }
  }
  mdn_stream_free(exact);
  mdn_model_free(exact_model);
  g_free(models);
  g_free(streams);
  g_free(noise);
  g_free(out_tier);
  g_free(out_exact);
  return ok;
}

/* Every fitted tier's SNR on each class of held-out audio into its
 * class_snr, and the worst of them as its claim. */
static gboolean
measure_classes(Fit *fit, MdnTier **tiers, int n_tiers, GError **error)
{
  const int n = fit->options->n_heldout;
  double *snr = g_new(double, n_tiers);
  int c, i;

  for (i = 0; i < n_tiers; i++)
    if (tiers[i])
      tiers[i]->class_snr = g_new(double, n);
  for (c = 0; c < n; c++) {
    const MdnHeldOut *set = &fit->options->heldout[c];

    progress_share(&fit->progress, 0.05 + 0.95 * (0.85 + 0.15 * c / n), 0.95 * 0.15 / n);
    if (!measure_class(fit, tiers, n_tiers, set, snr, error)) {
      g_free(snr);
      return FALSE;
    }
    for (i = 0; i < n_tiers; i++) {
      if (!tiers[i])
        continue;
      tiers[i]->class_snr[c] = snr[i];
      tiers[i]->snr_db = c == 0 ? snr[i] : MIN(tiers[i]->snr_db, snr[i]);
      g_debug("tier %s: %s %.2f dB", tiers[i]->name, set->name, snr[i]);
    }
  }
  g_free(snr);
  return TRUE;
}

/* ---- the ladder -------------------------------------------------------- */

/* What the ladder asks of the audio and of memory, from its specs. */
typedef struct {
  size_t max_span;      /* frames the widest tier reads back */
  size_t min_rows;      /* training rows the deepest tree needs */
  size_t max_codebooks; /* codebooks of the tier with most */
} LadderNeeds;

/* Every spec by the one spec rule, and its tables within FIT_MAX_UNKNOWNS. */
static gboolean
check_ladder(const MdnKernel *k, const MdnTierSpec *specs, int n_specs, LadderNeeds *needs,
             GError **error)
{
  int s;

  memset(needs, 0, sizeof *needs);
  for (s = 0; s < n_specs; s++) {
    const MdnTierSpec *spec = &specs[s];
    size_t groups, unknowns;
    if (!mdn_tier_spec_validate(spec, MDN_ERROR_INVALID_ARGUMENT, error)) {
      g_prefix_error(error, "tier spec #%d: ", s);
      return FALSE;
    }
    groups = ((size_t)k->taps + spec->taps_per_codebook - 1) / spec->taps_per_codebook;
    needs->max_span = MAX(needs->max_span, (groups * spec->taps_per_codebook - 1) * k->dilation);
    needs->min_rows = MAX(needs->min_rows, (size_t)FIT_MIN_ROWS_PER_BUCKET << spec->depth);
    needs->max_codebooks = MAX(needs->max_codebooks, groups * k->cin);
    unknowns = groups * k->cin * k->cout << spec->depth;
    if (unknowns > FIT_MAX_UNKNOWNS) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "tier #%d would have %zu table entries to fit (limit %zu)", s, unknowns,
                  FIT_MAX_UNKNOWNS);
      return FALSE;
    }
  }
  return TRUE;
}

/* The classes of held-out audio: a count in range, names by the class rule,
 * each once, at least a normalisation block of finite samples each. */
static gboolean
check_heldout(const MdnKernel *kernel, const MdnFitOptions *options, GError **error)
{
  int c, d;
  size_t j;

  if (options->n_heldout < 0 || options->n_heldout > MDN_MAX_CLASSES
      || (options->n_heldout > 0 && !options->heldout)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "held-out classes: %d given, 0..%d allowed", options->n_heldout, MDN_MAX_CLASSES);
    return FALSE;
  }
  for (c = 0; c < options->n_heldout; c++) {
    const MdnHeldOut *set = &options->heldout[c];

    if (!set->name
        || !mdn_class_name_check(set->name, strlen(set->name), MDN_ERROR_INVALID_ARGUMENT, error)) {
      if (!set->name)
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "a class without a name");
      g_prefix_error(error, "held-out class %d: ", c);
      return FALSE;
    }
    for (d = 0; d < c; d++)
      if (strcmp(set->name, options->heldout[d].name) == 0) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                    "held-out class \"%s\" given twice", set->name);
        return FALSE;
      }
    if (!set->audio || set->n_frames < FIT_MIN_FRAMES) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO,
                  "held-out class \"%s\": %zu frames, at least %d needed", set->name,
                  set->audio ? set->n_frames : 0, FIT_MIN_FRAMES);
      return FALSE;
    }
    for (j = 0; j < set->n_frames * kernel->cin; j++)
      if (!isfinite(set->audio[j])) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                    "held-out class \"%s\": sample %zu is not a finite number", set->name, j);
        return FALSE;
      }
  }
  return TRUE;
}

/* The kernel, the audio (finite, long enough), the holdout fraction and the
 * classes of held-out audio. */
static gboolean
check_input(const MdnKernel *kernel, const float *audio, size_t n_frames,
            const MdnFitOptions *options, GError **error)
{
  if (!kernel || !mdn_kernel_validate(kernel, error))
    return FALSE;
  if (!audio && n_frames > 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no audio");
    return FALSE;
  }
  if (!(options->holdout_fraction > 0 && options->holdout_fraction < 1)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "holdout fraction must be in (0, 1) (got %g)", options->holdout_fraction);
    return FALSE;
  }
  return check_heldout(kernel, options, error);
}

/* The audio: finite samples, enough of them. */
static gboolean
check_audio(const MdnKernel *kernel, const float *audio, size_t n_frames, GError **error)
{
  size_t j;

  for (j = 0; j < n_frames * kernel->cin; j++)
    if (!isfinite(audio[j])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "audio sample %zu is not a finite number", j);
      return FALSE;
    }
  if ((double)n_frames < FIT_MIN_SECONDS * kernel->rate) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO,
                "%.2f s of audio; fitting needs at least %.1f s", n_frames / kernel->rate,
                FIT_MIN_SECONDS);
    return FALSE;
  }
  return TRUE;
}

static int
cmp_tier_cost(const void *a, const void *b)
{
  const MdnTier *x = *(MdnTier *const *)a, *y = *(MdnTier *const *)b;
  if (x->cost != y->cost)
    return x->cost < y->cost ? -1 : 1;
  if (x->snr_db != y->snr_db)
    return x->snr_db > y->snr_db ? -1 : 1;
  return 0;
}

static void
set_provenance(MdnModel *model, double seconds, guint64 seed)
{
  GDateTime *now = g_date_time_new_now_utc();
  char *iso = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
  model->provenance.seconds = seconds;
  model->provenance.seed = seed;
  g_strlcpy(model->provenance.date, iso, sizeof model->provenance.date);
  g_free(iso);
  g_date_time_unref(now);
}

/* Keeps the tiers worth having in the model, cheapest first, and frees the
 * others (tiers[] is left empty): tiers no cheaper than the exact path, and
 * unless keep_dominated tiers another beats in cost and SNR. NULL entries
 * (skipped tiers) are passed over. */
static void
keep_pareto_front(MdnModel *model, MdnTier **tiers, int n_tiers, gboolean keep_dominated)
{
  const double exact_cost = mdn_model_exact_cost(model);
  gboolean *keep;
  int s, b, n = 0;

  for (s = 0; s < n_tiers; s++)
    if (tiers[s]) {
      MdnTier *t = tiers[s];
      tiers[s] = NULL;
      tiers[n++] = t;
    }
  qsort(tiers, n, sizeof *tiers, cmp_tier_cost);
  keep = g_new0(gboolean, n + 1);
  for (s = 0; s < n; s++) {
    keep[s] = TRUE;
    if (keep_dominated)
      continue;
    /* Dominated: another tier costs no more and is at least as accurate
     * (strictly better in one); of two equal tiers the first stays. */
    for (b = 0; b < n && keep[s]; b++) {
      const MdnTier *x = tiers[b], *y = tiers[s];
      if (b != s && x->cost <= y->cost && x->snr_db >= y->snr_db
          && (x->cost < y->cost || x->snr_db > y->snr_db || b < s))
        keep[s] = FALSE;
    }
    /* A tier no cheaper than the exact path has no place in the ladder. */
    if (tiers[s]->cost >= exact_cost)
      keep[s] = FALSE;
  }
  for (s = 0; s < n; s++) {
    if (keep[s])
      mdn_model_add_tier(model, tiers[s]);
    else
      mdn_tier_free(tiers[s]);
    tiers[s] = NULL;
  }
  g_free(keep);
}

/* The model's classes: the held-out sets' names and its tiers' SNRs on them. */
static gboolean
set_classes(MdnModel *model, const MdnFitOptions *options, GError **error)
{
  const int n = options->n_heldout;
  const char *names[MDN_MAX_CLASSES];
  double *snr;
  gboolean ok;
  int c, t;

  if (n == 0 || model->n_tiers == 0)
    return TRUE;
  snr = g_new(double, (size_t)model->n_tiers *n);
  for (c = 0; c < n; c++)
    names[c] = options->heldout[c].name;
  for (t = 0; t < model->n_tiers; t++)
    for (c = 0; c < n; c++)
      snr[(size_t)t * n + c] = model->tiers[t]->class_snr[c];
  ok = mdn_model_set_classes(model, n, names, snr, error);
  g_free(snr);
  return ok;
}

static gboolean
set_cancelled(GError **error)
{
  g_clear_error(error);
  g_set_error(error, MDN_ERROR, MDN_ERROR_CANCELLED, "fit cancelled");
  return FALSE;
}

/* Prepares the fit, then fits and measures every tier of the ladder into
 * tiers[] (NULL: not fitted, it would be pruned). FALSE with an error,
 * MDN_ERROR_CANCELLED when cancelled. */
static gboolean
fit_ladder(Fit *fit, const MdnTierSpec *specs, int n_specs, const LadderNeeds *needs,
           MdnTier **tiers, GError **error)
{
  /* Tiers no cheaper than the exact path would be pruned: not even fitted
   * (a long kernel's FFT path beats every tier; fitting them takes minutes). */
  const double max_cost
      = fit->options->keep_dominated ? INFINITY : mdn_exact_cost_per_frame(fit->kernel);
  int s;

  progress_stage(&fit->progress, "prepare", 0, 0.05);
  if (!fit_prepare(fit, needs->max_span, needs->max_codebooks))
    return set_cancelled(error);
  if (fit->n_rows < needs->min_rows
      || (fit->options->n_heldout == 0 && fit->n_hold < FIT_MIN_FRAMES)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO,
                "%zu training rows with sound; the ladder's largest trees need %zu", fit->n_rows,
                needs->min_rows);
    return FALSE;
  }
  /* With classes of held-out audio, the tiers take the first 85 % of the
   * ladder's share and are measured together at the end (one exact pass per
   * class); else each is measured on the tail after it is fitted. */
  for (s = 0; s < n_specs; s++) {
    const gboolean classes = fit->options->n_heldout > 0;
    const double width = 0.95 * (classes ? 0.85 : 1.0) / n_specs, base = 0.05 + s * width;
    double snr = 0;
    gboolean skipped = FALSE;
    tiers[s]
        = fit_tier(fit, &specs[s], max_cost, base, classes ? width / 0.85 : width, &skipped, error);
    if (skipped)
      continue;
    if (!tiers[s]
        || (!classes
            && (!progress_stage(&fit->progress, "measure", base + 0.85 * width, 0.15 * width)
                || !measure_tier(fit, tiers[s], &snr, error))))
      return fit->progress.cancelled ? set_cancelled(error) : FALSE;
    if (!classes) {
      tiers[s]->snr_db = snr;
      g_debug("tier %s: held-out SNR %.2f dB", tiers[s]->name, snr);
    }
    tiers[s]->cost = mdn_tier_cost(tiers[s]);
  }
  if (fit->options->n_heldout > 0
      && (!progress_stage(&fit->progress, "measure", 0.05 + 0.95 * 0.85, 0.95 * 0.15)
          || !measure_classes(fit, tiers, n_specs, error)))
    return fit->progress.cancelled ? set_cancelled(error) : FALSE;
  return TRUE;
}

/* The options with their defaults: mdn_fit_options_init()'s for NULL, and
 * a zeroed holdout fraction (options not initialised) means the default. */
static const MdnFitOptions *
options_with_defaults(const MdnFitOptions *options, MdnFitOptions *defaults)
{
  if (!options) {
    mdn_fit_options_init(defaults);
    return defaults;
  }
  if (options->holdout_fraction == 0) {
    *defaults = *options;
    defaults->holdout_fraction = 0.2;
    return defaults;
  }
  return options;
}

/* The ladder to fit: the options' or the default one (parsed into *parsed,
 * the caller's to free). -1 with an error. */
static int
ladder_specs(const MdnFitOptions *options, const MdnTierSpec **specs, MdnTierSpec **parsed,
             GError **error)
{
  int n;

  if (options->specs && options->n_specs > 0) {
    *specs = options->specs;
    return options->n_specs;
  }
  n = mdn_tier_ladder_parse(mdn_default_ladder(), parsed, error);
  *specs = *parsed;
  return n;
}

void
mdn_fit_rules_init(MdnFitRules *rules)
{
  memset(rules, 0, sizeof *rules);
  /* Measured on held-out corpus audio (bench/fit-heldout, docs/tiers.md):
   * metric splits gain 1.4 to 4.8 dB over input splits on lowpass64's tiers
   * of <= 16 lookups and up to 4 dB on beam8's; the sigma^2 row weights
   * add 0 to 0.6 dB there and 0.8 to 1.5 dB on speech over a noise floor. */
  rules->split = MDN_SPLIT_METRIC;
  rules->weight_power = 2;
}

MdnModel *
mdn_fit(const MdnKernel *kernel, const float *audio, size_t n_frames, const MdnFitOptions *options,
        GError **error)
{
  MdnFitRules rules;

  mdn_fit_rules_init(&rules);
  return mdn_fit_with_rules(kernel, audio, n_frames, options, &rules, error);
}

MdnModel *
mdn_fit_with_rules(const MdnKernel *kernel, const float *audio, size_t n_frames,
                   const MdnFitOptions *options, const MdnFitRules *rules, GError **error)
{
  MdnFitOptions defaults;
  const MdnTierSpec *specs = NULL;
  MdnTierSpec *parsed = NULL;
  LadderNeeds needs;
  Fit fit = { 0 };
  MdnTier **tiers;
  MdnModel *model = NULL;
  int n_specs = 0, s;

  options = options_with_defaults(options, &defaults);
  if (!check_input(kernel, audio, n_frames, options, error)
      || (n_specs = ladder_specs(options, &specs, &parsed, error)) < 0
      || !check_ladder(kernel, specs, n_specs, &needs, error)
      || !check_audio(kernel, audio, n_frames, error)) {
    g_free(parsed);
    return NULL;
  }
  fit.kernel = kernel;
  fit.options = options;
  fit.rules = rules;
  fit.audio = audio;
  fit.n_frames = n_frames;
  fit.progress.options = options;
  tiers = g_new0(MdnTier *, n_specs);
  if (fit_ladder(&fit, specs, n_specs, &needs, tiers, error)
      && (model = mdn_model_new(kernel, error))) {
    set_provenance(model, n_frames / kernel->rate, options->seed);
    keep_pareto_front(model, tiers, n_specs, options->keep_dominated);
    if (!set_classes(model, options, error))
      g_clear_pointer(&model, mdn_model_free);
  }
  if (model) {
    if (options->progress)
      options->progress("done", 1.0, options->progress_data);
  }
  for (s = 0; s < n_specs; s++)
    mdn_tier_free(tiers[s]);
  g_free(tiers);
  fit_clear(&fit);
  g_free(parsed);
  return model;
}

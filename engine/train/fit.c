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
 * lambda (the pull towards the prototype tables, see fit_tier) is chosen on
 * validation rows; those fits only rank the candidates: a looser stop. */
#define FIT_VALIDATION_TOL 1e-3
#define FIT_VALIDATION_ITER 100
#define FIT_ROWS_PER_UNKNOWN 32
/* CG stops at ||A^T r - (A^T A + lambda I) L|| <= 1e-4 ||A^T r||, or 300 iterations:
 * 1e-3 already gave the same held-out SNR to 0.01 dB on lowpass64. */
#define FIT_TOL 1e-4
#define FIT_MAX_ITER 300
#define FIT_MIN_SECONDS 1.0
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
  const MdnFitOptions *opt;
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
  Progress *pg = data;
  double f = pg->base + pg->width * CLAMP(fraction, 0.0, 1.0);
  gint64 now;

  if (pg->opt->cancel && *pg->opt->cancel) {
    pg->cancelled = TRUE;
    return FALSE;
  }
  if (f < pg->reported)
    f = pg->reported;
  now = g_get_monotonic_time();
  if (pg->opt->progress && (pg->stage_changed || now - pg->last_call >= 100000 || f >= 1.0)) {
    pg->opt->progress(pg->stage, f, pg->opt->progress_data);
    pg->last_call = now;
    pg->stage_changed = FALSE;
    pg->reported = f;
  }
  return !(pg->opt->cancel && *pg->opt->cancel) || !(pg->cancelled = TRUE);
}

static gboolean
progress_stage(Progress *pg, const char *stage, double base, double width)
{
  pg->stage = stage;
  pg->base = base;
  pg->width = width;
  pg->stage_changed = TRUE;
  return progress_tick(0, pg);
}

/* ---- the audio and what every tier shares ------------------------------ */

typedef struct {
  const MdnKernel *k;
  const float *audio; /* interleaved, the caller's */
  size_t n, n_train, n_hold;
  size_t pad;
  float *xbuf;     /* [cin][pad + n]: deinterleaved, zeros before frame 0 */
  const float **x; /* x[i][t], valid for t >= -pad */
  float *amax;     /* [n]: max_i |x[t][i]| */
  float *bmax;     /* [ceil(n / MDN_NORM_BLOCK)]: block maxima of amax */
  size_t n_rows;
  size_t *row;        /* [n_rows] frame index of training row */
  float *gain;        /* [n_rows] level dither of the row, 2^u with u in [0, 1) */
  double *y;          /* [n_rows][cout] exact output of the row, no bias */
  double *energy;     /* [cin * taps] sum_o w^2 * var(x_i) */
  guint32 *by_energy; /* dims i * taps + k, highest energy first */
  double *y_hold;     /* [n_hold][cout] exact output with bias, the reference */
  GRand *rng;
} FitData;

static void
fit_data_clear(FitData *fd)
{
  g_free(fd->xbuf);
  g_free(fd->x);
  g_free(fd->amax);
  g_free(fd->bmax);
  g_free(fd->row);
  g_free(fd->gain);
  g_free(fd->y);
  g_free(fd->energy);
  g_free(fd->by_energy);
  g_free(fd->y_hold);
  if (fd->rng)
    g_rand_free(fd->rng);
}

/* What sigma_t is taken from (mdn-private.h): max |x| over [B - span, t]. */
static float
row_max(const FitData *fd, size_t t, size_t span)
{
  size_t block = t - t % MDN_NORM_BLOCK;
  size_t lo = block > span ? block - span : 0, hi = t + 1;
  float m = 0;

  while (lo < hi && lo % MDN_NORM_BLOCK) {
    m = MAX(m, fd->amax[lo]);
    lo++;
  }
  while (lo + MDN_NORM_BLOCK <= hi) {
    m = MAX(m, fd->bmax[lo / MDN_NORM_BLOCK]);
    lo += MDN_NORM_BLOCK;
  }
  while (lo < hi) {
    m = MAX(m, fd->amax[lo]);
    lo++;
  }
  return m;
}

/* Exact conv at frame t without bias, in double. */
static void
exact_at(const FitData *fd, size_t t, double *out)
{
  const MdnKernel *k = fd->k;
  int o, i, tap;

  for (o = 0; o < k->cout; o++) {
    double acc = 0;
    for (i = 0; i < k->cin; i++) {
      const float *w = k->weights + ((size_t)o * k->cin + i) * k->taps;
      const float *xt = fd->x[i] + t;
      for (tap = 0; tap < k->taps; tap++)
        acc += (double)w[tap] * xt[-(ptrdiff_t)tap * k->dilation];
    }
    out[o] = acc;
  }
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

static gboolean
fit_data_init(FitData *fd, const MdnKernel *k, const float *audio, size_t n,
              const MdnFitOptions *opt, size_t max_span, size_t max_codebooks, Progress *pg)
{
  const int cin = k->cin, cout = k->cout;
  const size_t dims = (size_t)cin * k->taps;
  size_t t, j, n_blocks;
  double *mean = g_new0(double, cin), *var = g_new0(double, cin);
  guint32 seed[2] = { (guint32)opt->seed, (guint32)(opt->seed >> 32) };
  int i, o, tap;

  fd->k = k;
  fd->audio = audio;
  fd->n = n;
  fd->n_hold = (size_t)llround(opt->holdout_fraction * n);
  fd->n_train = n - fd->n_hold;
  fd->rng = g_rand_new_with_seed_array(seed, 2);
  fd->pad = MAX(max_span, (size_t)(k->taps - 1) * k->dilation) + MDN_NORM_BLOCK;
  fd->xbuf = g_new0(float, (size_t)cin *(fd->pad + n));
  fd->x = g_new(const float *, cin);
  fd->amax = g_new0(float, n);
  n_blocks = (n + MDN_NORM_BLOCK - 1) / MDN_NORM_BLOCK;
  fd->bmax = g_new0(float, n_blocks);
  for (i = 0; i < cin; i++) {
    float *xi = fd->xbuf + (size_t)i * (fd->pad + n) + fd->pad;
    fd->x[i] = xi;
    for (t = 0; t < n; t++) {
      float v = audio[t * cin + i];
      xi[t] = v;
      fd->amax[t] = MAX(fd->amax[t], fabsf(v));
    }
  }
  for (t = 0; t < n; t++)
    fd->bmax[t / MDN_NORM_BLOCK] = MAX(fd->bmax[t / MDN_NORM_BLOCK], fd->amax[t]);

  /* Input variance on the training part, for the energy of each dim. */
  for (i = 0; i < cin; i++) {
    for (t = 0; t < fd->n_train; t++)
      mean[i] += fd->x[i][t];
    mean[i] /= fd->n_train;
    for (t = 0; t < fd->n_train; t++)
      var[i] += (fd->x[i][t] - mean[i]) * (fd->x[i][t] - mean[i]);
    var[i] /= fd->n_train;
  }
  fd->energy = g_new0(double, dims);
  fd->by_energy = g_new(guint32, dims);
  for (o = 0; o < cout; o++)
    for (i = 0; i < cin; i++)
      for (tap = 0; tap < k->taps; tap++) {
        double w = mdn_kernel_weight(k, o, i, tap);
        fd->energy[(size_t)i * k->taps + tap] += w * w * var[i];
      }
  for (j = 0; j < dims; j++)
    fd->by_energy[j] = (guint32)j;
  g_qsort_with_data(fd->by_energy, (gint)dims, sizeof(guint32), cmp_energy, fd->energy);
  g_free(mean);
  g_free(var);

  /* Training rows: stratified random subsample (sorted, distinct), skipping
   * digital silence, which carries no information for the tables. */
  {
    size_t cap = opt->max_train_rows ? opt->max_train_rows : FIT_DEFAULT_ROWS;
    /* The codes of a tier take rows x codebooks bytes: bounded. */
    cap = MIN(cap, FIT_MAX_CODES / MAX(max_codebooks, 1));
    size_t want = MIN(cap, fd->n_train), r;
    fd->row = g_new(size_t, want ? want : 1);
    fd->n_rows = 0;
    for (r = 0; r < want; r++) {
      size_t lo = (size_t)((double)r * fd->n_train / want);
      size_t hi = (size_t)((double)(r + 1) * fd->n_train / want);
      size_t tr
          = lo
            + (hi > lo + 1 ? (size_t)g_rand_int_range(fd->rng, 0, (gint32)MIN(hi - lo, G_MAXINT32))
                           : 0);
      if (row_max(fd, tr, max_span) > 0x1p-100f)
        fd->row[fd->n_rows++] = tr;
    }
  }

  /* Level dither: row j is learned as if the audio were g_j times louder.
   * Since sigma is a power of two, the normalised windows of one signal
   * take different values at levels that differ by a fraction of an octave;
   * training over the whole octave makes the tier as good at -40 dBFS as
   * at -6 dBFS (without it the SNR moved by > 1 dB between those levels). */
  fd->gain = g_new(float, fd->n_rows ? fd->n_rows : 1);
  for (j = 0; j < fd->n_rows; j++)
    fd->gain[j] = (float)exp2(g_rand_double(fd->rng));

  fd->y = g_new(double, fd->n_rows *cout);
  for (j = 0; j < fd->n_rows; j++) {
    exact_at(fd, fd->row[j], fd->y + j * cout);
    if (!progress_tick(0.5 * j / fd->n_rows, pg))
      return FALSE;
  }
  fd->y_hold = g_new(double, fd->n_hold *cout);
  for (j = 0; j < fd->n_hold; j++) {
    exact_at(fd, fd->n_train + j, fd->y_hold + j * cout);
    for (o = 0; o < cout; o++)
      fd->y_hold[j * cout + o] += k->bias[o];
    if (!progress_tick(0.5 + 0.5 * j / fd->n_hold, pg))
      return FALSE;
  }
  return TRUE;
}

/* ---- one tier -------------------------------------------------------- */

/* Which cost the tree's splits minimise: the SSE of the input window (the
 * paper) or of the codebook's partial output (notes section 4). Measured on
 * lowpass64 with the default ladder, held-out SNR input / output-aware:
 * speech s8d4e2 19.9 / 20.4, s8d4e6 32.7 / 32.5, s8d4e12 38.4 / 36.6,
 * s4d6e16 45.0 / 41.9, s2d6e24 56.8 / 48.4 dB; music 18.7 / 19.0,
 * 30.0 / 30.7, 36.3 / 35.2, 42.0 / 38.1, 52.3 / 46.7 dB. With one tree shared
 * by all the codebooks of a channel, the partial outputs of different groups
 * pull the splits apart; the input rule wins but for +0.5 dB on the fastest
 * tier, so it is the one used. */
typedef enum { SPLIT_INPUT, SPLIT_OUTPUT } SplitRule;
#define FIT_SPLIT_RULE SPLIT_INPUT

/* Squared error of the training rows, in the output domain, for the debug log. */
static double
train_snr(const FitData *fd, const float *sig, const double *r, const double *pred)
{
  const int cout = fd->k->cout;
  double s = 0, e = 0;
  size_t j;
  int o;
  for (j = 0; j < fd->n_rows; j++)
    for (o = 0; o < cout; o++) {
      double d = (r[j * cout + o] - pred[j * cout + o]) * sig[j] / fd->gain[j];
      s += fd->y[j * cout + o] * fd->y[j * cout + o];
      e += d * d;
    }
  return 10 * log10(s / MAX(e, 1e-300));
}

/* Returns NULL with *skipped set, and no error, for a tier whose cost
 * reaches max_cost: it would be pruned, so it is not fitted. */
static MdnTier *
fit_tier(FitData *fd, const MdnTierSpec *spec, double max_cost, Progress *pg, double base,
         double width, gboolean *skipped, GError **error)
{
  const MdnKernel *k = fd->k;
  const int cin = k->cin, cout = k->cout, taps = k->taps, dil = k->dilation;
  const int s = spec->taps_per_codebook, depth = spec->depth, nb = 1 << depth;
  const int groups = (taps + s - 1) / s;
  const size_t span = ((size_t)groups * s - 1) * dil, nr = fd->n_rows;
  const size_t dims = (size_t)cin * taps;
  const int n_exact = (int)MIN((size_t)MAX(spec->exact_taps, 0), dims);
  MdnTier *tier = NULL;
  guint8 *is_exact = g_new0(guint8, dims);
  float *sig = g_new(float, nr ? nr : 1);
  double *res = g_new(double, nr *cout + 1);
  guint16 *cb_chan;
  guint32 *cb_group;
  int *first_cb = g_new0(int, cin + 1); /* codebooks of channel i: first_cb[i] .. first_cb[i+1]-1 */
  guint8 *codes = NULL;
  double *lut = NULL, *offset = NULL, *pred = NULL, *cent = NULL, *cent_n = NULL, *prior = NULL;
  int n_cb = 0, c, e, i, o, iters = 0;
  double lambda = FIT_LAMBDA;
  size_t j;
  const SplitRule rule = FIT_SPLIT_RULE;

  /* Exact dims: highest energy first. Codebooks: groups not made only of
   * exact taps. */
  for (e = 0; e < n_exact; e++)
    is_exact[fd->by_energy[e]] = 1;
  for (i = 0; i < cin; i++) {
    int g, jj;
    for (g = 0; g < groups; g++) {
      gboolean any = FALSE;
      for (jj = 0; jj < s && g * s + jj < taps; jj++)
        any |= !is_exact[(size_t)i * taps + g * s + jj];
      n_cb += any;
    }
  }
  *skipped = FALSE;
  tier = mdn_tier_alloc(spec, cin, cout, taps, dil, n_exact, n_cb, error);
  if (!tier)
    goto fail;
  if (mdn_tier_cost(tier) >= max_cost) {
    g_debug("tier %s: cost %.1f, not below the exact path's %.1f: not fitted", tier->name,
            mdn_tier_cost(tier), max_cost);
    *skipped = TRUE;
    goto fail;
  }
  for (e = 0; e < n_exact; e++) {
    guint32 d = fd->by_energy[e];
    tier->exact_chan[e] = (guint16)(d / taps);
    tier->exact_tap[e] = d % taps;
    for (o = 0; o < cout; o++)
      tier->exact_w[(size_t)e * cout + o] = mdn_kernel_weight(k, o, d / taps, d % taps);
  }
  cb_chan = tier->cb_chan;
  cb_group = tier->cb_group;
  n_cb = 0;
  for (i = 0; i < cin; i++) {
    int g, jj;
    first_cb[i] = n_cb;
    for (g = 0; g < groups; g++) {
      gboolean any = FALSE;
      for (jj = 0; jj < s && g * s + jj < taps; jj++)
        any |= !is_exact[(size_t)i * taps + g * s + jj];
      if (any) {
        cb_chan[n_cb] = (guint16)i;
        cb_group[n_cb] = (guint32)g;
        n_cb++;
      }
    }
  }
  first_cb[cin] = n_cb;

  /* Row normalisers and residual targets. */
  for (j = 0; j < nr; j++) {
    size_t t = fd->row[j];
    /* sigma of the row as the stream sees it at the dithered level */
    sig[j] = mdn_pow2_ceil(fd->gain[j] * row_max(fd, t, span));
    for (o = 0; o < cout; o++) {
      double acc = fd->y[j * cout + o];
      for (e = 0; e < n_exact; e++)
        acc -= (double)tier->exact_w[(size_t)e * cout + o]
               * fd->x[tier->exact_chan[e]][(ptrdiff_t)t - (ptrdiff_t)tier->exact_tap[e] * dil];
      res[j * cout + o] = acc * fd->gain[j] / sig[j];
    }
  }

  /* Trees, one per input channel, on windows of the codebooks it serves. */
  if (!progress_stage(pg, "trees", base, 0.4 * width))
    goto fail;
  {
    const int dim = rule == SPLIT_OUTPUT ? cout : s;
    float *win = g_new(float, nr *s + 1);
    float *tgt = rule == SPLIT_OUTPUT ? g_new(float, nr *cout + 1) : win;
    gboolean ok = TRUE;
    for (i = 0; i < cin && ok; i++) {
      int n_ci = first_cb[i + 1] - first_cb[i];
      double loss = 0;
      if (n_ci == 0)
        continue;
      for (j = 0; j < nr; j++) {
        int cb = first_cb[i] + (n_ci > 1 ? g_rand_int_range(fd->rng, 0, n_ci) : 0);
        size_t g = cb_group[cb];
        const float *xt = fd->x[i] + fd->row[j] - g * s * dil;
        float *wj = win + j * s;
        int jj;
        for (jj = 0; jj < s; jj++)
          wj[jj] = (fd->gain[j] * xt[-(ptrdiff_t)jj * dil]) / sig[j];
        if (rule == SPLIT_OUTPUT) {
          for (o = 0; o < cout; o++) {
            double acc = 0;
            for (jj = 0; jj < s; jj++) {
              size_t tap = g * s + jj;
              if (tap < (size_t)taps && !is_exact[(size_t)i * taps + tap])
                acc += (double)mdn_kernel_weight(k, o, i, (int)tap) * wj[jj];
            }
            tgt[j * cout + o] = (float)acc;
          }
        }
      }
      pg->base = base + 0.4 * width * i / cin;
      pg->width = 0.4 * width / cin;
      ok = mdn_tree_learn(win, nr, s, tgt, dim, depth, tier->split + (size_t)i * depth,
                          tier->thresholds + (size_t)i * (nb - 1), &loss, progress_tick, pg);
      g_debug("tier %s channel %d: tree loss %g", tier->name, i, loss);
    }
    if (tgt != win)
      g_free(tgt);
    g_free(win);
    if (!ok)
      goto fail;
  }

  /* Codes of the training rows, through the tier's own encoder. */
  if (!progress_stage(pg, "tables", base + 0.4 * width, 0.05 * width))
    goto fail;
  codes = g_new(guint8, nr * n_cb + 1);
  cent = g_new0(double, (size_t)cin *nb *s);
  cent_n = g_new0(double, (size_t)cin *nb);
  {
    /* Each window at its row's dithered level, packed with dilation 1: the
     * codes are exactly what the stream computes for audio g_j times louder. */
    MdnTier packed = *tier;
    float win[8];
    packed.dilation = 1;
    for (j = 0; j < nr; j++) {
      guint8 *cj = codes + j * n_cb;
      for (c = 0; c < n_cb; c++) {
        const float *xt = fd->x[cb_chan[c]] + fd->row[j] - (size_t)cb_group[c] * s * dil;
        int jj;
        for (jj = 0; jj < s; jj++)
          win[s - 1 - jj] = fd->gain[j] * xt[-(ptrdiff_t)jj * dil];
        cj[c] = (guint8)mdn_tier_encode_one(&packed, cb_chan[c], win + s - 1, sig[j]);
        {
          double *cs = cent + ((size_t)cb_chan[c] * nb + cj[c]) * s;
          for (jj = 0; jj < s; jj++)
            cs[jj] += win[s - 1 - jj] / sig[j];
          cent_n[(size_t)cb_chan[c] * nb + cj[c]]++;
        }
      }
      if (j % 1024 == 0 && !progress_tick((double)j / nr, pg))
        goto fail;
    }
  }

  /* Tables. */
  if (!progress_stage(pg, "tables", base + 0.45 * width, 0.4 * width))
    goto fail;
  lut = g_new(double, (size_t)n_cb *nb *cout + 1);
  offset = g_new(double, cout);
  prior = g_new0(double, (size_t)n_cb *nb *cout + 1);
  {
    /* Prototype tables: each bucket's mean window through the codebook's
     * weights (the classic product-quantisation table). The ridge then fits
     * the correction to these, shrunk towards them by lambda. */
    int b, jj;
    for (j = 0; j < (size_t)cin * nb; j++)
      for (jj = 0; jj < s; jj++)
        cent[j * s + jj] = cent_n[j] > 0 ? cent[j * s + jj] / cent_n[j] : 0;
    for (c = 0; c < n_cb; c++)
      for (b = 0; b < nb; b++)
        for (o = 0; o < cout; o++) {
          double acc = 0;
          for (jj = 0; jj < s; jj++) {
            size_t tap = (size_t)cb_group[c] * s + jj;
            if (tap < (size_t)taps && !is_exact[(size_t)cb_chan[c] * taps + tap])
              acc += mdn_kernel_weight(k, o, cb_chan[c], (int)tap)
                     * cent[((size_t)cb_chan[c] * nb + b) * s + jj];
          }
          prior[((size_t)c * nb + b) * cout + o] = acc;
        }
    for (j = 0; j < nr; j++) {
      for (o = 0; o < cout; o++) {
        double acc = 0;
        for (c = 0; c < n_cb; c++)
          acc += prior[((size_t)c * nb + codes[j * n_cb + c]) * cout + o];
        res[j * cout + o] -= acc;
      }
      if (j % 1024 == 0 && !progress_tick(0, pg))
        goto fail;
    }
  }
  {
    /* lambda: FIT_LAMBDA when the rows outnumber the unknowns by far (the
     * prior hardly matters then); else chosen among 10, 300, 10000 by the error
     * on the last 10% of the training rows (in time) after a fit on the rest. */
    static const double lambdas[] = { 10.0, 300.0, 10000.0 };
    const int n_lambdas = G_N_ELEMENTS(lambdas);
    const gboolean choose = (size_t)n_cb * nb * FIT_ROWS_PER_UNKNOWN > nr;
    const size_t n_fit = nr - nr / 10;
    const double tables_base = base + 0.45 * width, tables_width = 0.4 * width;
    double best = INFINITY;
    int l;
    if (choose) {
      for (l = 0; l < n_lambdas; l++) {
        double err = 0;
        pg->base = tables_base + tables_width * l / (n_lambdas + 1);
        pg->width = tables_width / (n_lambdas + 1);
        if (!mdn_ridge_solve(codes, n_fit, n_cb, nb, res, cout, lambdas[l], FIT_VALIDATION_TOL,
                             FIT_VALIDATION_ITER, lut, offset, &iters, progress_tick, pg))
          goto fail;
        for (j = n_fit; j < nr; j++)
          for (o = 0; o < cout; o++) {
            double d = res[j * cout + o] - offset[o];
            for (c = 0; c < n_cb; c++)
              d -= lut[((size_t)c * nb + codes[j * n_cb + c]) * cout + o];
            err += d * d;
          }
        g_debug("tier %s: lambda %g validation error %g", tier->name, lambdas[l], err);
        if (err < best) {
          best = err;
          lambda = lambdas[l];
        }
      }
      pg->base = tables_base + tables_width * n_lambdas / (n_lambdas + 1);
      pg->width = tables_width / (n_lambdas + 1);
    }
    if (!mdn_ridge_solve(codes, nr, n_cb, nb, res, cout, lambda, FIT_TOL, FIT_MAX_ITER, lut, offset,
                         &iters, progress_tick, pg))
      goto fail;
  }
  for (j = 0; j < (size_t)n_cb * nb * cout; j++)
    lut[j] += prior[j];
  if (g_getenv("G_MESSAGES_DEBUG")) {
    /* res back to the full residual, for the debug SNR below */
    for (j = 0; j < nr; j++)
      for (o = 0; o < cout; o++) {
        double acc = 0;
        for (c = 0; c < n_cb; c++)
          acc += prior[((size_t)c * nb + codes[j * n_cb + c]) * cout + o];
        res[j * cout + o] += acc;
      }
  }

  /* Quantise: per (codebook, output) minimum into the offset, one scale per
   * output shared by all codebooks. */
  {
    const double qmax = (double)((1u << spec->table_bits) - 1);
    double *mins = g_new(double, (size_t)n_cb *cout + 1);
    double *scale = g_new0(double, cout), *off = g_new(double, cout);
    int b;
    memcpy(off, offset, sizeof(double) * cout);
    for (c = 0; c < n_cb; c++)
      for (o = 0; o < cout; o++) {
        double mn = INFINITY, mx = -INFINITY;
        for (b = 0; b < nb; b++) {
          double v = lut[((size_t)c * nb + b) * cout + o];
          mn = MIN(mn, v);
          mx = MAX(mx, v);
        }
        mins[(size_t)c * cout + o] = mn;
        off[o] += mn;
        scale[o] = MAX(scale[o], (mx - mn) / qmax);
      }
    for (o = 0; o < cout; o++) {
      if (!(scale[o] > 0))
        scale[o] = 1;
      tier->lut_scale[o] = (float)scale[o];
      tier->lut_offset[o] = (float)off[o];
    }
    for (c = 0; c < n_cb; c++)
      for (b = 0; b < nb; b++)
        for (o = 0; o < cout; o++) {
          size_t at = ((size_t)c * nb + b) * cout + o;
          double q = nearbyint((lut[at] - mins[(size_t)c * cout + o]) / tier->lut_scale[o]);
          q = CLAMP(q, 0, qmax);
          if (spec->table_bits <= 8)
            ((guint8 *)tier->lut)[at] = (guint8)q;
          else
            ((guint16 *)tier->lut)[at] = (guint16)q;
        }

    /* Quantisation loss on the training rows (debug log; see the report). */
    if (g_getenv("G_MESSAGES_DEBUG")) {
      double snr_d, snr_q;
      pred = g_new(double, nr *cout + 1);
      for (j = 0; j < nr; j++)
        for (o = 0; o < cout; o++) {
          double acc = offset[o];
          for (c = 0; c < n_cb; c++)
            acc += lut[((size_t)c * nb + codes[j * n_cb + c]) * cout + o];
          pred[j * cout + o] = acc;
        }
      snr_d = train_snr(fd, sig, res, pred);
      for (j = 0; j < nr; j++)
        for (o = 0; o < cout; o++) {
          double acc = 0;
          for (c = 0; c < n_cb; c++) {
            size_t at = ((size_t)c * nb + codes[j * n_cb + c]) * cout + o;
            acc += spec->table_bits <= 8 ? ((guint8 *)tier->lut)[at] : ((guint16 *)tier->lut)[at];
          }
          pred[j * cout + o] = tier->lut_offset[o] + (double)tier->lut_scale[o] * acc;
        }
      snr_q = train_snr(fd, sig, res, pred);
      g_debug(
          "tier %s: %d rows, %d codebooks, lambda %g, CG %d iterations, train SNR %.2f dB double, "
          "%.2f dB quantised (loss %.2f dB)",
          tier->name, (int)nr, n_cb, lambda, iters, snr_d, snr_q, snr_d - snr_q);
    }
    g_free(mins);
    g_free(scale);
    g_free(off);
  }

  goto done;

fail:
  mdn_tier_free(tier);
  tier = NULL;
done:
  g_free(is_exact);
  g_free(sig);
  g_free(res);
  g_free(first_cb);
  g_free(codes);
  g_free(lut);
  g_free(offset);
  g_free(pred);
  g_free(cent);
  g_free(cent_n);
  g_free(prior);
  return tier;
}

/* ---- measuring on the held-out audio ----------------------------------- */

/* Runs a real stream over the held-out audio (after enough history to
 * match the exact reference) and returns the SNR against the double
 * reference. Returns FALSE on cancel or error. */
static gboolean
measure_tier(FitData *fd, MdnTier *tier, Progress *pg, double *snr, GError **error)
{
  const MdnKernel *k = fd->k;
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
  warm = MAX(mdn_tier_history(tier), mdn_exact_history(k)) + MDN_NORM_BLOCK;
  h0 = fd->n_train > warm ? fd->n_train - warm : 0;
  h0 -= h0 % MDN_NORM_BLOCK; /* blocks aligned with the audio's frame count */
  out = g_new(float, chunk *cout);
  held = g_new(float, fd->n_hold *cout + 1);
  for (t = h0; t < fd->n && ok; t += chunk) {
    size_t n = MIN(chunk, fd->n - t), j;
    if (!mdn_stream_process(stream, 0, fd->audio + t * cin, out, n)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "stream refused the tier");
      ok = FALSE;
      break;
    }
    for (j = 0; j < n; j++)
      if (t + j >= fd->n_train)
        memcpy(held + (t + j - fd->n_train) * cout, out + j * cout, sizeof(float) * cout);
    if (!progress_tick((double)(t + n - h0) / (fd->n - h0), pg))
      ok = FALSE;
  }
  if (ok)
    *snr = mdn_snr_db(fd->y_hold, held, fd->n_hold * cout);
  g_free(out);
  g_free(held);
  mdn_stream_free(stream);
  model->n_tiers = 0;
  mdn_model_free(model);
  return ok;
}

/* ---- the ladder -------------------------------------------------------- */

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

MdnModel *
mdn_fit(const MdnKernel *kernel, const float *audio, size_t n_frames, const MdnFitOptions *options,
        GError **error)
{
  MdnFitOptions defaults;
  const MdnTierSpec *specs;
  MdnTierSpec *parsed = NULL;
  int n_specs, s;
  gboolean *keep = NULL;
  FitData fd = { 0 };
  Progress pg = { 0 };
  MdnTier **tiers = NULL;
  MdnModel *model = NULL;
  size_t max_span = 0, j, min_rows = 0, max_codebooks = 0;
  double exact_cost, max_cost;

  if (!options) {
    mdn_fit_options_init(&defaults);
    options = &defaults;
  }
  /* A zeroed holdout fraction (options not initialised) means the default. */
  if (options->holdout_fraction == 0) {
    if (options != &defaults) {
      defaults = *options;
      options = &defaults;
    }
    defaults.holdout_fraction = 0.2;
  }
  pg.opt = options;
  if (!kernel || !mdn_kernel_validate(kernel, error))
    return NULL;
  if (!audio && n_frames > 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no audio");
    return NULL;
  }
  if (!(options->holdout_fraction > 0 && options->holdout_fraction < 1)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "holdout fraction must be in (0, 1) (got %g)", options->holdout_fraction);
    return NULL;
  }
  if (options->specs && options->n_specs > 0) {
    specs = options->specs;
    n_specs = options->n_specs;
  } else {
    n_specs = mdn_tier_ladder_parse(mdn_default_ladder(), &parsed, error);
    if (n_specs <= 0) {
      if (n_specs == 0)
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "empty default ladder");
      g_free(parsed);
      return NULL;
    }
    specs = parsed;
  }
  for (s = 0; s < n_specs; s++) {
    const MdnTierSpec *sp = &specs[s];
    size_t groups;
    if (!mdn_tier_spec_validate(sp, MDN_ERROR_INVALID_ARGUMENT, error)) {
      g_prefix_error(error, "tier spec #%d: ", s);
      g_free(parsed);
      return NULL;
    }
    groups = ((size_t)kernel->taps + sp->taps_per_codebook - 1) / sp->taps_per_codebook;
    max_span = MAX(max_span, (groups * sp->taps_per_codebook - 1) * kernel->dilation);
    min_rows = MAX(min_rows, (size_t)FIT_MIN_ROWS_PER_BUCKET << sp->depth);
    max_codebooks = MAX(max_codebooks, groups * kernel->cin);
    if (groups * kernel->cin * kernel->cout << sp->depth > FIT_MAX_UNKNOWNS) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "tier #%d would have %zu table entries to fit (limit %zu)", s,
                  groups * kernel->cin * kernel->cout << sp->depth, FIT_MAX_UNKNOWNS);
      g_free(parsed);
      return NULL;
    }
  }
  for (j = 0; j < n_frames * kernel->cin; j++)
    if (!isfinite(audio[j])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "audio sample %zu is not a finite number", j);
      g_free(parsed);
      return NULL;
    }
  if ((double)n_frames < FIT_MIN_SECONDS * kernel->rate) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO,
                "%.2f s of audio; fitting needs at least %.1f s", n_frames / kernel->rate,
                FIT_MIN_SECONDS);
    g_free(parsed);
    return NULL;
  }

  progress_stage(&pg, "prepare", 0, 0.05);
  if (!fit_data_init(&fd, kernel, audio, n_frames, options, max_span, max_codebooks, &pg))
    goto cancelled;
  if (fd.n_rows < min_rows || fd.n_hold < MDN_NORM_BLOCK) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO,
                "%zu training rows with sound; the ladder's largest trees need %zu", fd.n_rows,
                min_rows);
    goto fail;
  }

  tiers = g_new0(MdnTier *, n_specs);
  /* Tiers no cheaper than the exact path would be pruned: not even fitted
   * (a long kernel's FFT path beats every tier; fitting them takes minutes). */
  max_cost = options->keep_dominated ? INFINITY : mdn_exact_cost_per_frame(kernel);
  for (s = 0; s < n_specs; s++) {
    const double width = 0.95 / n_specs, base = 0.05 + s * width;
    double snr = 0;
    gboolean skipped = FALSE;
    tiers[s] = fit_tier(&fd, &specs[s], max_cost, &pg, base, width, &skipped, error);
    if (skipped)
      continue;
    if (!tiers[s]) {
      if (pg.cancelled)
        goto cancelled;
      goto fail;
    }
    if (!progress_stage(&pg, "measure", base + 0.85 * width, 0.15 * width))
      goto cancelled;
    if (!measure_tier(&fd, tiers[s], &pg, &snr, error)) {
      if (pg.cancelled)
        goto cancelled;
      goto fail;
    }
    tiers[s]->snr_db = snr;
    tiers[s]->cost = mdn_tier_cost(tiers[s]);
    g_debug("tier %s: held-out SNR %.2f dB, cost %.1f", tiers[s]->name, snr, tiers[s]->cost);
  }

  model = mdn_model_new(kernel, error);
  if (!model)
    goto fail;
  set_provenance(model, n_frames / kernel->rate, options->seed);
  exact_cost = mdn_model_exact_cost(model);
  {
    /* Skipped tiers out. */
    int kept = 0;
    for (s = 0; s < n_specs; s++)
      if (tiers[s]) {
        MdnTier *t = tiers[s];
        tiers[s] = NULL;
        tiers[kept++] = t;
      }
    n_specs = kept;
  }
  qsort(tiers, n_specs, sizeof *tiers, cmp_tier_cost);
  keep = g_new0(gboolean, n_specs);
  for (s = 0; s < n_specs; s++) {
    int b;
    keep[s] = TRUE;
    if (options->keep_dominated)
      continue;
    /* Dominated: another tier costs no more and is at least as accurate
     * (strictly better in one); of two equal tiers the first stays. */
    for (b = 0; b < n_specs && keep[s]; b++) {
      const MdnTier *x = tiers[b], *y = tiers[s];
      if (b != s && x->cost <= y->cost && x->snr_db >= y->snr_db
          && (x->cost < y->cost || x->snr_db > y->snr_db || b < s))
        keep[s] = FALSE;
    }
    /* A tier no cheaper than the exact path has no place in the ladder. */
    if (tiers[s]->cost >= exact_cost)
      keep[s] = FALSE;
  }
  for (s = 0; s < n_specs; s++)
    if (keep[s]) {
      mdn_model_add_tier(model, tiers[s]);
      tiers[s] = NULL;
    }
  g_free(keep);
  for (s = 0; s < n_specs; s++)
    mdn_tier_free(tiers[s]);
  g_free(tiers);
  if (options->progress)
    options->progress("done", 1.0, options->progress_data);
  fit_data_clear(&fd);
  g_free(parsed);
  return model;

cancelled:
  g_clear_error(error);
  g_set_error(error, MDN_ERROR, MDN_ERROR_CANCELLED, "fit cancelled");
fail:
  if (tiers)
    for (s = 0; s < n_specs; s++)
      mdn_tier_free(tiers[s]);
  g_free(tiers);
  fit_data_clear(&fd);
  g_free(parsed);
  return NULL;
}

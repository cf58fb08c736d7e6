/* test-fit-rules: the fit's rules (engine/train/fit-private.h) on their own
 * and against each other.
 * - ridge: weighted tables against a dense double-precision solve of the
 *   weighted normal equations; no weights = weights of 1.
 * - tree: integer row weights = rows repeated; targets y = R x split by the
 *   metric R^T R, not by the input's variance, leaving at most half the
 *   output error the input's splits leave.
 * - metric splits against input splits, weighted ridge against unweighted,
 *   hyperplane encoders against axis encoders: held-out SNR through
 *   mdn_stream_process() against the double reference, on the lowpass64 of
 *   test-fit and fit seeds 1..3 (1..2 for hyperplanes), by stated margins,
 *   and the hyperplane tier's SNR by a stated floor.
 * - quantisation: 6-bit tables within a stated loss of 16-bit ones on a
 *   beam kernel of 256 codebooks.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include "fit-private.h"
#include "mdn-signals.h"
#include "mdn-test-fit.h"

#define RATE 48000.0

/* ---- ridge ---------------------------------------------------------------- */

static void
test_ridge_weighted(void)
{
  enum { ROWS = 600, CB = 3, BUCKETS = 4, COUT = 2, U = CB * BUCKETS + 1 };
  GRand *rng = g_rand_new_with_seed(5);
  guint8 *codes = g_new(guint8, ROWS * CB);
  double *target = g_new(double, ROWS *COUT), *weight = g_new(double, ROWS);
  double *ones = g_new(double, ROWS);
  double lut[CB * BUCKETS * COUT], offset[COUT], lut1[CB * BUCKETS * COUT], offset1[COUT];
  double lut0[CB * BUCKETS * COUT], offset0[COUT];
  const double lambda = 3.0;
  size_t t;
  int c, o, u, v, it;

  for (t = 0; t < ROWS; t++) {
    for (c = 0; c < CB; c++)
      codes[t * CB + c] = (guint8)g_rand_int_range(rng, 0, BUCKETS);
    for (o = 0; o < COUT; o++)
      target[t * COUT + o] = g_rand_double_range(rng, -1, 1) + 0.5 * codes[t * CB + o % CB];
    /* weights over three decades, as sigma^2 of quiet and loud blocks */
    weight[t] = pow(10, g_rand_double_range(rng, -1.5, 1.5));
    ones[t] = 1.0;
  }
  g_assert_true(mdn_ridge_solve(codes, ROWS, CB, BUCKETS, target, weight, COUT, lambda, 1e-12, 1000,
                                lut, offset, &it, NULL, NULL));
  /* The reference: (A^T D A + lambda I') x = A^T D r, per output. */
  for (o = 0; o < COUT; o++) {
    double *a = g_new0(double, U *U), *b = g_new0(double, U);
    for (t = 0; t < ROWS; t++) {
      int idx[CB + 1];
      for (c = 0; c < CB; c++)
        idx[c] = c * BUCKETS + codes[t * CB + c];
      idx[CB] = U - 1;
      for (u = 0; u <= CB; u++) {
        b[idx[u]] += weight[t] * target[t * COUT + o];
        for (v = 0; v <= CB; v++)
          a[idx[u] * U + idx[v]] += weight[t];
      }
    }
    for (u = 0; u < U - 1; u++)
      a[u * U + u] += lambda;
    mdn_dense_solve(a, b, U);
    for (u = 0; u < U - 1; u++)
      g_assert_cmpfloat(fabs(lut[u * COUT + o] - b[u]), <=, 1e-8);
    g_assert_cmpfloat(fabs(offset[o] - b[U - 1]), <=, 1e-8);
    g_free(a);
    g_free(b);
  }
  /* Weights of 1 are no weights, to the bit. */
  g_assert_true(mdn_ridge_solve(codes, ROWS, CB, BUCKETS, target, ones, COUT, lambda, 1e-6, 100,
                                lut1, offset1, NULL, NULL, NULL));
  g_assert_true(mdn_ridge_solve(codes, ROWS, CB, BUCKETS, target, NULL, COUT, lambda, 1e-6, 100,
                                lut0, offset0, NULL, NULL, NULL));
  g_assert_cmpmem(lut1, sizeof lut1, lut0, sizeof lut0);
  g_assert_cmpmem(offset1, sizeof offset1, offset0, sizeof offset0);
  /* ... and the weights matter. */
  g_assert_cmpfloat(fabs(lut[0] - lut0[0]) + fabs(lut[1] - lut0[1]), >, 1e-3);
  g_rand_free(rng);
  g_free(codes);
  g_free(target);
  g_free(weight);
  g_free(ones);
}

/* ---- tree ----------------------------------------------------------------- */

/* Integer weights give the tree of the rows repeated that many times. */
static void
test_tree_weighted(void)
{
  enum { N = 3000, S = 4, DEPTH = 4 };
  GRand *rng = g_rand_new_with_seed(9);
  float *x = g_new(float, N *S), *wt = g_new(float, N);
  float *xr = g_new(float, 4 * N * S);
  guint8 split_w[DEPTH], split_r[DEPTH];
  float thr_w[(1 << DEPTH) - 1], thr_r[(1 << DEPTH) - 1];
  double loss_w, loss_r;
  size_t t, n_rep = 0;
  int j, k;

  for (t = 0; t < N; t++) {
    for (j = 0; j < S; j++)
      x[t * S + j] = (float)g_rand_double_range(rng, -1, 1) * (j + 1);
    wt[t] = (float)g_rand_int_range(rng, 1, 4);
    for (k = 0; k < (int)wt[t]; k++, n_rep++)
      memcpy(xr + n_rep * S, x + t * S, sizeof(float) * S);
  }
  g_assert_true(mdn_tree_learn(x, N, S, x, S, wt, DEPTH, split_w, thr_w, &loss_w, NULL, NULL));
  g_assert_true(
      mdn_tree_learn(xr, n_rep, S, xr, S, NULL, DEPTH, split_r, thr_r, &loss_r, NULL, NULL));
  g_assert_cmpmem(split_w, sizeof split_w, split_r, sizeof split_r);
  g_assert_cmpmem(thr_w, sizeof thr_w, thr_r, sizeof thr_r);
  g_assert_cmpfloat(fabs(loss_w - loss_r), <=, 1e-6 * loss_r);
  g_rand_free(rng);
  g_free(x);
  g_free(wt);
  g_free(xr);
}

/* The summed squared error of the targets y[n][s] about the means of the
 * leaves the tree (split, thr) sends the windows x[n][s] to: the output
 * error the tree's codes leave when y = R x. */
static double
leaf_sse(const float *x, const float *y, size_t n, int s, int depth, const guint8 *split,
         const float *thr)
{
  const int leaves = 1 << depth;
  double *sum = g_new0(double, (size_t)leaves *s), *sq = g_new0(double, leaves);
  double *count = g_new0(double, leaves), sse = 0;
  size_t t;
  int l, j, node;

  for (t = 0; t < n; t++) {
    node = 0;
    for (l = 0; l < depth; l++)
      node = 2 * node + (x[t * s + split[l]] > thr[(1 << l) - 1 + node]);
    count[node]++;
    for (j = 0; j < s; j++) {
      sum[node * s + j] += y[t * s + j];
      sq[node] += (double)y[t * s + j] * y[t * s + j];
    }
  }
  for (l = 0; l < leaves; l++) {
    double m2 = 0;
    for (j = 0; j < s; j++)
      m2 += sum[l * s + j] * sum[l * s + j];
    sse += sq[l] - (count[l] > 0 ? m2 / count[l] : 0);
  }
  g_free(sum);
  g_free(sq);
  g_free(count);
  return sse;
}

/* Column 0 varies most but the metric ignores it; column 1 varies less and
 * costs the most: input splits take column 0 first, metric splits (y = R x,
 * R = diag (0.01, 1, 0.1)) column 1, and leave at most half the output
 * error the input splits leave. */
static void
test_tree_metric(void)
{
  enum { N = 4000, S = 3, DEPTH = 2 };
  static const double r[S] = { 0.01, 1.0, 0.1 };
  GRand *rng = g_rand_new_with_seed(11);
  float *x = g_new(float, N *S), *y = g_new(float, N *S);
  guint8 split_in[DEPTH], split_m[DEPTH];
  float thr_in[(1 << DEPTH) - 1], thr_m[(1 << DEPTH) - 1];
  double sse_in, sse_m;
  size_t t;
  int j;

  for (t = 0; t < N; t++)
    for (j = 0; j < S; j++) {
      x[t * S + j] = (float)(g_rand_double_range(rng, -1, 1) * (j == 0 ? 4 : 1));
      y[t * S + j] = (float)(r[j] * x[t * S + j]);
    }
  g_assert_true(mdn_tree_learn(x, N, S, x, S, NULL, DEPTH, split_in, thr_in, NULL, NULL, NULL));
  g_assert_true(mdn_tree_learn(x, N, S, y, S, NULL, DEPTH, split_m, thr_m, NULL, NULL, NULL));
  g_assert_cmpint(split_in[0], ==, 0);
  g_assert_cmpint(split_m[0], ==, 1);
  sse_in = leaf_sse(x, y, N, S, DEPTH, split_in, thr_in);
  sse_m = leaf_sse(x, y, N, S, DEPTH, split_m, thr_m);
  g_test_message("output error left: input splits %g, metric splits %g", sse_in, sse_m);
  g_assert_cmpfloat(sse_m, <=, 0.5 * sse_in);
  g_rand_free(rng);
  g_free(x);
  g_free(y);
}

/* ---- rules against rules, end to end -------------------------------------- */

static MdnModel *
fit_rules(const MdnKernel *k, const float *audio, size_t n, const char *ladder, guint64 seed,
          MdnSplitRule split, double weight_power)
{
  GError *error = NULL;
  MdnFitOptions o;
  MdnFitRules rules;
  MdnTierSpec *specs = NULL;
  MdnModel *m;

  mdn_fit_options_init(&o);
  o.seed = seed;
  o.keep_dominated = TRUE;
  o.n_specs = mdn_tier_ladder_parse(ladder, &specs, &error);
  g_assert_no_error(error);
  o.specs = specs;
  mdn_fit_rules_init(&rules);
  rules.split = split;
  rules.weight_power = weight_power;
  m = mdn_fit_with_rules(k, audio, n, &o, &rules, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, o.n_specs);
  g_free(specs);
  return m;
}

/* Loud speech and quiet noise in turns of a quarter second (noise 30 dB
 * down): the kind of audio whose level says what it holds (a voice over a
 * noise floor). Normalised by their blocks' sigma, the noise's windows are as
 * large as the speech's and, unweighted, take as much of the tables; the
 * SNR is the speech's. */
static float *
speech_over_noise(size_t n, guint32 seed)
{
  float *x = mdn_signal_speech(n, RATE, seed);
  GRand *rng = g_rand_new_with_seed(seed + 1000);
  const size_t step = (size_t)(RATE / 4);
  size_t t;

  for (t = 0; t < n; t++)
    if (t / step % 2 == 1)
      x[t] = (float)(0.5 * pow(10, -30 / 20.0) * g_rand_double_range(rng, -1, 1));
  g_rand_free(rng);
  return x;
}

/* Metric splits against input splits on lowpass64, speech, the ladder's fast
 * tiers: fitted on 12 s, measured on 4 s of another signal, per seed. */
static void
test_metric_beats_input(void)
{
  static const char *ladder = "s8d4e2q6,s8d4e6q6,s4d6e4";
  /* Measured gains over seeds 1..3 (normalisation blocks of 1024): s8d4e2q6
   * +2.21..+2.34, s8d4e6q6 +0.15..+0.36, s4d6e4 +2.50..+2.57 dB. */
  static const double margin[] = { 1.0, 0.0, 1.5 };
  const size_t n_fit = (size_t)(12 * RATE), n_test = (size_t)(4 * RATE);
  MdnKernel *k = mdn_design_lowpass(64, 6000, RATE);
  float *train = mdn_signal_speech(n_fit, RATE, 11), *test = mdn_signal_speech(n_test, RATE, 444);
  guint64 seed;
  int t;

  for (seed = 1; seed <= 3; seed++) {
    MdnModel *in = fit_rules(k, train, n_fit, ladder, seed, MDN_SPLIT_INPUT, 0);
    MdnModel *me = fit_rules(k, train, n_fit, ladder, seed, MDN_SPLIT_METRIC, 0);
    for (t = 0; t < mdn_model_n_tiers(in); t++) {
      double snr_in = mdn_test_stream_snr(in, t, test, n_test, 0),
             snr_me = mdn_test_stream_snr(me, t, test, n_test, 0);
      MdnTierInfo info;
      mdn_model_tier_info(in, t, &info);
      if (g_test_verbose())
        g_printerr("seed %d %s: input %.2f dB, metric %.2f dB (%+.2f)\n", (int)seed, info.name,
                   snr_in, snr_me, snr_me - snr_in);
      g_assert_cmpfloat(snr_me, >=, snr_in + margin[t]);
    }
    mdn_model_free(in);
    mdn_model_free(me);
  }
  g_free(train);
  g_free(test);
  mdn_kernel_free(k);
}

/* Rows weighed by sigma^2 minimise the raw output error: on speech over a
 * quiet noise floor the weighted tables beat the unweighted ones (metric
 * splits both). */
static void
test_weighted_ridge(void)
{
  static const char *ladder = "s8d4e2q6,s8d4e6q6,s4d6e4";
  /* Measured gains over seeds 1..3 (normalisation blocks of 1024): s8d4e2q6
   * +2.23..+2.39, s8d4e6q6 +1.30..+1.46, s4d6e4 +1.88..+2.08 dB. */
  static const double margin[] = { 1.0, 0.7, 1.0 };
  const size_t n_fit = (size_t)(12 * RATE), n_test = (size_t)(4 * RATE);
  MdnKernel *k = mdn_design_lowpass(64, 6000, RATE);
  float *train = speech_over_noise(n_fit, 11), *test = speech_over_noise(n_test, 444);
  guint64 seed;
  int t;

  for (seed = 1; seed <= 3; seed++) {
    MdnModel *flat = fit_rules(k, train, n_fit, ladder, seed, MDN_SPLIT_METRIC, 0);
    MdnModel *wtd = fit_rules(k, train, n_fit, ladder, seed, MDN_SPLIT_METRIC, 2);
    for (t = 0; t < mdn_model_n_tiers(flat); t++) {
      double snr_f = mdn_test_stream_snr(flat, t, test, n_test, 0),
             snr_w = mdn_test_stream_snr(wtd, t, test, n_test, 0);
      MdnTierInfo info;
      mdn_model_tier_info(flat, t, &info);
      if (g_test_verbose())
        g_printerr("seed %d %s: unweighted %.2f dB, weighted %.2f dB (%+.2f)\n", (int)seed,
                   info.name, snr_f, snr_w, snr_w - snr_f);
      g_assert_cmpfloat(snr_w, >=, snr_f + margin[t]);
    }
    mdn_model_free(flat);
    mdn_model_free(wtd);
  }
  g_free(train);
  g_free(test);
  mdn_kernel_free(k);
}

/* The fit's hyperplane tier against its axis tier at equal lookups, with
 * the default rules (metric splits, weighted rows): lowpass64 (1 -> 1, 64
 * taps; the low band weighs most in the output metric, an oblique direction
 * pays), s8d6e4h against s8d6e4 (8 lookups), fitted on 12 s of speech,
 * measured on 4 s of another, per seed. (At depth 4, s8d4e2q6h and
 * s8d4e2q6 are within 0.1 dB of each other on this audio.) */
static void
test_fit_lowpass(void)
{
  static const char *ladder = "s8d6e4,s8d6e4h";
  static const int depths[] = { 6 };
  /* Measured over seeds 1..2 (normalisation blocks of 1024): s8d6e4h
   * +2.77..+2.84 dB over s8d6e4, at 29.15..29.27 dB against the double
   * reference. */
  static const double margin[] = { 1.5 };
  static const double floor_db[] = { 28.0 };
  const size_t n_fit = (size_t)(12 * RATE), n_test = (size_t)(4 * RATE);
  MdnKernel *k = mdn_design_lowpass(64, 6000, RATE);
  float *train = mdn_signal_speech(n_fit, RATE, 11), *test = mdn_signal_speech(n_test, RATE, 444);
  guint64 seed;
  int p;

  for (seed = 1; seed <= 2; seed++) {
    MdnFitOptions o;
    MdnTierSpec *specs = NULL;
    GError *error = NULL;
    MdnModel *m;

    mdn_fit_options_init(&o);
    o.seed = seed;
    o.keep_dominated = TRUE;
    o.n_specs = mdn_tier_ladder_parse(ladder, &specs, &error);
    o.specs = specs;
    m = mdn_fit(k, train, n_fit, &o, &error);
    g_assert_no_error(error);
    for (p = 0; p < (int)G_N_ELEMENTS(depths); p++) {
      int axis = -1, hyper = -1, t;
      double snr_axis, snr_hyper;
      for (t = 0; t < mdn_model_n_tiers(m); t++) {
        const MdnTier *tier = mdn_model_tier(m, t);
        if (tier->spec.depth == depths[p])
          *(tier->hyperplanes ? &hyper : &axis) = t;
      }
      g_assert_cmpint(axis, >=, 0);
      g_assert_cmpint(hyper, >=, 0);
      snr_axis = mdn_test_stream_snr(m, axis, test, n_test, 0);
      snr_hyper = mdn_test_stream_snr(m, hyper, test, n_test, 0);
      if (g_test_verbose())
        g_printerr("seed %d %s: %.2f dB, %s: %.2f dB (%+.2f)\n", (int)seed,
                   mdn_model_tier(m, axis)->name, snr_axis, mdn_model_tier(m, hyper)->name,
                   snr_hyper, snr_hyper - snr_axis);
      g_assert_cmpfloat(snr_hyper, >=, snr_axis + margin[p]);
      g_assert_cmpfloat(snr_hyper, >=, floor_db[p]);
    }
    mdn_model_free(m);
    g_free(specs);
  }
  g_free(train);
  g_free(test);
  mdn_kernel_free(k);
}

/* An 8-microphone, 2-beam filter-and-sum kernel (256 taps): Blackman-windowed
 * fractional-delay sincs steered to -30 and +30 degrees, 4 cm apart, as
 * maddness-bench's beam8. Its tables span 256 codebooks, a few (the delays'
 * centre) with ranges 200 times the others'. */
static MdnKernel *
beam_kernel(void)
{
  const int mics = 8, beams = 2, taps = 256;
  MdnKernel *k = mdn_kernel_new(mics, beams, taps, 1, RATE, NULL);
  int o, i, j;

  for (o = 0; o < beams; o++)
    for (i = 0; i < mics; i++) {
      double angle = (o == 0 ? -30.0 : 30.0) * G_PI / 180.0;
      double delay = (i - (mics - 1) / 2.0) * 0.04 * sin(angle) / 343.0 * RATE;
      for (j = 0; j < taps; j++) {
        double x = j - (taps / 2.0 + delay);
        double w
            = 0.42 - 0.5 * cos(2 * G_PI * j / (taps - 1)) + 0.08 * cos(4 * G_PI * j / (taps - 1));
        double sinc = fabs(x) < 1e-9 ? 1.0 : sin(G_PI * x) / (G_PI * x);
        k->weights[((size_t)o * mics + i) * taps + j] = (float)(w * sinc / mics);
      }
    }
  return k;
}

/* 6-bit tables against 16-bit ones on the beam kernel: with one scale per
 * output, most codebooks' entries are a few steps of it, and their rounding
 * biases, added over 256 codebooks, cost 8 dB here (24 dB in the bench's
 * fit) before each codebook's mean rounding error went into the offset.
 * Fitted on 8 s of 8-channel music, measured on 3 s of another. */
static void
test_quantised_beam(void)
{
  static const char *ladder = "s8d4e12q6,s8d4e12q16";
  /* Measured: q6 17.54 dB, q16 18.08 dB (q6 10.08 dB without the bias in
   * the offset). */
  const double max_loss = 2.0, floor_db = 16.0;
  const size_t n_fit = (size_t)(8 * RATE), n_test = (size_t)(3 * RATE);
  MdnKernel *k = beam_kernel();
  float *train = mdn_signal_multichannel(mdn_signal_music, n_fit, k->cin, RATE, 1);
  float *test = mdn_signal_multichannel(mdn_signal_music, n_test, k->cin, RATE, 1001);
  MdnFitOptions o;
  MdnTierSpec *specs = NULL;
  GError *error = NULL;
  MdnModel *m;
  double snr6, snr16;
  int q6;

  mdn_fit_options_init(&o);
  o.seed = 1;
  o.keep_dominated = TRUE;
  o.max_train_rows = 8192;
  o.n_specs = mdn_tier_ladder_parse(ladder, &specs, &error);
  o.specs = specs;
  m = mdn_fit(k, train, n_fit, &o, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, 2);
  q6 = mdn_model_tier(m, 0)->spec.table_bits == 6 ? 0 : 1; /* equal costs: either order */
  g_assert_cmpint(mdn_model_tier(m, q6)->spec.table_bits, ==, 6);
  g_assert_cmpint(mdn_model_tier(m, 1 - q6)->spec.table_bits, ==, 16);
  snr6 = mdn_test_stream_snr(m, q6, test, n_test, 0);
  snr16 = mdn_test_stream_snr(m, 1 - q6, test, n_test, 0);
  if (g_test_verbose())
    g_printerr("s8d4e12q6 %.2f dB, s8d4e12q16 %.2f dB\n", snr6, snr16);
  g_assert_cmpfloat(snr6, >=, snr16 - max_loss);
  g_assert_cmpfloat(snr6, >=, floor_db);
  mdn_model_free(m);
  g_free(specs);
  g_free(train);
  g_free(test);
  mdn_kernel_free(k);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/fit-rules/ridge-weighted", test_ridge_weighted);
  g_test_add_func("/fit-rules/tree-weighted", test_tree_weighted);
  g_test_add_func("/fit-rules/tree-metric", test_tree_metric);
  g_test_add_func("/fit-rules/metric-beats-input", test_metric_beats_input);
  g_test_add_func("/fit-rules/weighted-ridge", test_weighted_ridge);
  g_test_add_func("/fit-rules/hyperplanes-lowpass", test_fit_lowpass);
  g_test_add_func("/fit-rules/quantised-beam", test_quantised_beam);
  return g_test_run();
}

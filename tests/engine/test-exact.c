/* test-exact: the exact path (through mdn_stream_process with
 * MDN_TIER_EXACT) against the double-precision reference conv1d.
 *
 * Bound: max over the whole output of |y - ref| <= 1e-5 * max over the whole
 * output of |ref|.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-signals.h"

#include <string.h>

#define RATE 16000.0
#define REL_BOUND 1e-5

/* Exported by exact.c and exact-plan.c for the benchmark; used here to
 * cover the FFT path at sizes and partitionings the planner would not
 * pick. */
MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);
MdnExact *mdn_exact_new_levels(const MdnKernel *kernel, const int *blocks, int n_blocks);
size_t mdn_exact_history_levels(const MdnKernel *kernel, const int *blocks, int n_blocks);
int mdn_exact_plan_blocks(const MdnKernel *kernel, int *blocks);
double mdn_exact_last_work(const MdnExact *e);
void mdn_exact_fft_steps(const MdnExact *e, guint64 *fwd, guint64 *inv);

typedef float *(*Generator)(size_t, double, guint32);

/* Max abs error relative to the reference's max abs value. */
static double
relative_error(const float *y, const double *ref, size_t n)
{
  double err = 0, peak = 0;
  size_t j;
  for (j = 0; j < n; j++) {
    err = MAX(err, fabs((double)y[j] - ref[j]));
    peak = MAX(peak, fabs(ref[j]));
  }
  g_assert_cmpfloat(peak, >, 0);
  return err / peak;
}

static void
check_kernel(const MdnKernel *k, Generator gen, size_t n_frames, guint32 seed)
{
  GError *error = NULL;
  MdnModel *model = mdn_model_new(k, &error);
  MdnStream *stream;
  float *in, *out;
  double *ref, rel;

  g_assert_no_error(error);
  stream = mdn_stream_new(model, 1, &error);
  g_assert_no_error(error);
  in = mdn_signal_multichannel(gen, n_frames, k->cin, RATE, seed);
  out = g_new(float, n_frames * k->cout);
  g_assert_true(mdn_stream_process(stream, MDN_TIER_EXACT, in, out, n_frames));
  ref = mdn_reference_conv(k, in, n_frames);
  rel = relative_error(out, ref, n_frames * k->cout);
  if (g_test_verbose())
    g_printerr("%d->%d taps %d dil %d: rel err %.3g (cost %.1f, direct %d)\n", k->cin, k->cout,
               k->taps, k->dilation, rel, mdn_exact_cost_per_frame(k), k->cin * k->cout * k->taps);
  g_assert_cmpfloat(rel, <=, REL_BOUND);

  g_free(in);
  g_free(out);
  g_free(ref);
  mdn_stream_free(stream);
  mdn_model_free(model);
}

typedef struct {
  int cin, cout;
} Shape;

static const Shape shapes[] = { { 1, 1 }, { 1, 4 }, { 3, 2 } };

static void
run_taps(int taps, size_t n_frames)
{
  guint s, d;
  const int dils[] = { 1, 3 };
  for (s = 0; s < G_N_ELEMENTS(shapes); s++)
    for (d = 0; d < G_N_ELEMENTS(dils); d++) {
      guint32 seed = 1000 * taps + 10 * s + d;
      MdnKernel *k
          = mdn_design_random_kernel(shapes[s].cin, shapes[s].cout, taps, dils[d], RATE, seed);
      check_kernel(k, (seed & 1) ? mdn_signal_music : mdn_signal_speech, n_frames, seed);
      mdn_kernel_free(k);
    }
}

static void
test_short(void)
{
  run_taps(1, 3000);
  run_taps(2, 3000);
  run_taps(7, 3000);
  run_taps(64, 3000);
}

/* The crossover of the planner (exact-plan.c; ISA-dependent, a few hundred
 * taps at most):
 * the planner's choice flips somewhere in here
 * (for 1->1, dilation 1); both sides must be exact. */
static void
test_crossover(void)
{
  const int taps[] = { 48, 64, 96, 128, 192, 256, 320, 384, 512, 768, 1024, 1536 };
  gboolean saw_direct = FALSE, saw_fft = FALSE;
  guint j;
  for (j = 0; j < G_N_ELEMENTS(taps); j++) {
    MdnKernel *k = mdn_design_random_kernel(1, 1, taps[j], 1, RATE, 7 + j);
    if (mdn_exact_cost_per_frame(k) == (double)taps[j])
      saw_direct = TRUE;
    else
      saw_fft = TRUE;
    mdn_kernel_free(k);
    run_taps(taps[j], 3000);
  }
  g_assert_true(saw_direct);
  g_assert_true(saw_fft);
}

static void
test_long(void)
{
  MdnKernel *k;
  run_taps(1000, 3000);

  k = mdn_design_room_ir(8192, 0.4, RATE, 3);
  /* The planner must use the FFT path here: far cheaper than direct. */
  g_assert_cmpfloat(mdn_exact_cost_per_frame(k), <, 0.1 * 8192);
  check_kernel(k, mdn_signal_music, 20000, 5);
  check_kernel(k, mdn_signal_speech, 20000, 6);
  mdn_kernel_free(k);
}

/* The FFT path with every partition size it may be given, on a multichannel
 * dilated kernel, straight through mdn_exact_process (the stream's layout). */
static void
test_forced_partitions(void)
{
  const int parts[] = { 0, 32, 64, 128, 512 };
  MdnKernel *k = mdn_design_random_kernel(2, 3, 300, 2, RATE, 11);
  const size_t n = 5000;
  float *in = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, RATE, 12);
  double *ref = mdn_reference_conv(k, in, n);
  guint j;

  for (j = 0; j < G_N_ELEMENTS(parts); j++) {
    size_t h = mdn_exact_history_forced(k, parts[j]);
    MdnExact *e = mdn_exact_new_forced(k, parts[j]);
    float *chan[2], *out = g_new(float, n * k->cout);
    const float *x[2];
    size_t t, done = 0;
    int i;
    for (i = 0; i < k->cin; i++) {
      chan[i] = g_new0(float, h + n);
      for (t = 0; t < n; t++)
        chan[i][h + t] = in[t * k->cin + i];
    }
    while (done < n) {
      size_t len = MIN(n - done, (size_t)777); /* not a multiple of any P */
      for (i = 0; i < k->cin; i++)
        x[i] = chan[i] + h + done;
      mdn_exact_process(e, x, done, len, out + done * k->cout);
      done += len;
    }
    g_assert_cmpfloat(relative_error(out, ref, n * k->cout), <=, REL_BOUND);
    for (i = 0; i < k->cin; i++)
      g_free(chan[i]);
    g_free(out);
    mdn_exact_free(e);
  }
  g_free(in);
  g_free(ref);
  mdn_kernel_free(k);
}

/* The input channels of interleaved `in` in the stream's layout: h frames of
 * zero history, then n frames; x[i] at the first frame. */
static float **
stream_layout(const float *in, int cin, size_t h, size_t n, const float **x)
{
  float **chan = g_new(float *, cin);
  size_t t;
  int i;
  for (i = 0; i < cin; i++) {
    chan[i] = g_new0(float, h + n);
    for (t = 0; t < n; t++)
      chan[i][h + t] = in[t * cin + i];
    x[i] = chan[i] + h;
  }
  return chan;
}

static void
free_layout(float **chan, int cin)
{
  int i;
  for (i = 0; i < cin; i++)
    g_free(chan[i]);
  g_free(chan);
}

/* n frames through e in calls of random sizes (0..max_call), into out. */
static void
run_cut(MdnExact *e, float *const *chan, int cin, int cout, size_t h, size_t n, size_t max_call,
        GRand *rng, float *out)
{
  const float *x[8];
  size_t done = 0;
  int i;
  while (done < n) {
    size_t len = (size_t)g_rand_int_range(rng, 0, (gint32)max_call + 1);
    len = MIN(len, MIN(n - done, (size_t)MDN_CHUNK));
    for (i = 0; i < cin; i++)
      x[i] = chan[i] + h + done;
    mdn_exact_process(e, x, done, len, out + done * cout);
    done += len;
  }
}

/* Non-uniform partitionings, forced, on a multichannel dilated kernel:
 * against the reference, and the same bits for any cutting of the input. */
static void
test_levels(void)
{
  static const int plans[][4] = {
    { 32, 128, 1024, 0 },  { 64, 512, 0, 0 },    { 32, 256, 2048, 0 },
    { 128, 512, 2048, 0 }, { 32, 64, 128, 256 },
  };
  MdnKernel *k = mdn_design_random_kernel(2, 3, 3000, 2, RATE, 13);
  const size_t n = 20000;
  float *in = mdn_signal_multichannel(mdn_signal_music, n, k->cin, RATE, 14);
  double *ref = mdn_reference_conv(k, in, n);
  GRand *rng = g_rand_new_with_seed(15);
  guint p;

  for (p = 0; p < G_N_ELEMENTS(plans); p++) {
    int n_blocks = 0;
    size_t h;
    const float *x[2];
    float **chan, *whole = g_new(float, n * k->cout), *cut = g_new(float, n * k->cout);
    MdnExact *e;
    while (n_blocks < 4 && plans[p][n_blocks])
      n_blocks++;
    h = mdn_exact_history_levels(k, plans[p], n_blocks);
    g_assert_cmpuint(h, >, 0);
    chan = stream_layout(in, k->cin, h, n, x);
    e = mdn_exact_new_levels(k, plans[p], n_blocks);
    g_assert_nonnull(e);
    run_cut(e, chan, k->cin, k->cout, h, n, MDN_CHUNK, rng, whole);
    g_assert_cmpfloat(relative_error(whole, ref, n * k->cout), <=, REL_BOUND);
    mdn_exact_reset(e);
    run_cut(e, chan, k->cin, k->cout, h, n, 70, rng, cut);
    g_assert_cmpint(memcmp(whole, cut, sizeof(float) * n * k->cout), ==, 0);
    mdn_exact_free(e);
    free_layout(chan, k->cin);
    g_free(whole);
    g_free(cut);
  }
  g_rand_free(rng);
  g_free(in);
  g_free(ref);
  mdn_kernel_free(k);
}

/* A cin->cout room response of `taps` taps: pair (o, i) is a room IR of its
 * own (seed 20 + o*cin + i). */
static MdnKernel *
room_kernel(int cin, int cout, int taps)
{
  MdnKernel *k = mdn_kernel_new(cin, cout, taps, 1, RATE, NULL);
  int p;
  for (p = 0; p < cin * cout; p++) {
    MdnKernel *ir = mdn_design_room_ir(taps, 0.15, RATE, 20 + p);
    memcpy(k->weights + (size_t)p * taps, ir->weights, sizeof(float) * taps);
    mdn_kernel_free(ir);
  }
  return k;
}

typedef struct {
  guint64 fwd, inv;
} Steps;

/* n frames of k (its first cin channels of `in`, interleaved by 2) through
 * a forced two-level plan in calls of 100 frames: checked against the
 * reference, and the FFT steps it ran. n is a multiple of every block, so
 * every job up to the last frame is complete and no later one started,
 * whatever the calls. */
static Steps
run_multichannel(const MdnKernel *k, const float *in2, size_t n)
{
  static const int blocks[] = { 64, 256 };
  float *in = g_new(float, n * k->cin), *out = g_new(float, n * k->cout), **chan;
  const float *x[2];
  size_t h, t, done;
  double *ref;
  MdnExact *e;
  Steps steps;
  int i;

  for (t = 0; t < n; t++)
    for (i = 0; i < k->cin; i++)
      in[t * k->cin + i] = in2[2 * t + i];
  h = mdn_exact_history_levels(k, blocks, 2);
  chan = stream_layout(in, k->cin, h, n, x);
  e = mdn_exact_new_levels(k, blocks, 2);
  g_assert_nonnull(e);
  for (done = 0; done < n; done += MIN(n - done, 100)) {
    for (i = 0; i < k->cin; i++)
      x[i] = chan[i] + h + done;
    mdn_exact_process(e, x, done, MIN(n - done, 100), out + done * k->cout);
  }
  ref = mdn_reference_conv(k, in, n);
  g_assert_cmpfloat(relative_error(out, ref, n * k->cout), <=, REL_BOUND);
  mdn_exact_fft_steps(e, &steps.fwd, &steps.inv);
  mdn_exact_free(e);
  free_layout(chan, k->cin);
  g_free(ref);
  g_free(in);
  g_free(out);
  return steps;
}

/* Multichannel responses: a stereo response on a mono input (1->2) and
 * true stereo (2->2), against the reference; each input's spectrum is made
 * once per block and used by every output: the forward FFT steps grow with
 * the inputs only, the inverse ones with the outputs only. */
static void
test_multichannel(void)
{
  const int taps = 3000;
  const size_t n = 40 * 256;
  float *in2 = mdn_signal_multichannel(mdn_signal_music, n, 2, RATE, 30);
  MdnKernel *mono = room_kernel(1, 1, taps), *stereo_ir = room_kernel(1, 2, taps);
  MdnKernel *true_stereo = room_kernel(2, 2, taps), *mixdown = room_kernel(2, 1, taps);
  const Steps s11 = run_multichannel(mono, in2, n), s12 = run_multichannel(stereo_ir, in2, n);
  const Steps s22 = run_multichannel(true_stereo, in2, n), s21 = run_multichannel(mixdown, in2, n);

  if (g_test_verbose())
    g_printerr("FFT steps fwd/inv: 1->1 %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
               ", 1->2 %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ", 2->2 %" G_GUINT64_FORMAT
               "/%" G_GUINT64_FORMAT ", 2->1 %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n",
               s11.fwd, s11.inv, s12.fwd, s12.inv, s22.fwd, s22.inv, s21.fwd, s21.inv);
  g_assert_cmpuint(s11.fwd, >, 0);
  g_assert_cmpuint(s11.inv, >, 0);
  g_assert_cmpuint(s12.fwd, ==, s11.fwd);
  g_assert_cmpuint(s12.inv, ==, 2 * s11.inv);
  g_assert_cmpuint(s22.fwd, ==, 2 * s11.fwd);
  g_assert_cmpuint(s22.inv, ==, 2 * s11.inv);
  g_assert_cmpuint(s21.fwd, ==, 2 * s11.fwd);
  g_assert_cmpuint(s21.inv, ==, s11.inv);
  mdn_kernel_free(mono);
  mdn_kernel_free(stereo_ir);
  mdn_kernel_free(true_stereo);
  mdn_kernel_free(mixdown);
  g_free(in2);
}

/* No spikes: the work of the levels' jobs per call (in the planner's cost
 * units: deterministic, unlike times) at 256-frame calls, for the plan the
 * planner picks for a 1.4 s stereo room response: the worst call does at
 * most twice the mean call's work. */
static void
test_spread(void)
{
  const int taps = 65536;
  MdnKernel *k = mdn_kernel_new(1, 2, taps, 1, RATE, NULL);
  const size_t call = 256, n = 8 * (size_t)taps;
  int blocks[16], n_blocks, o;
  size_t h, t, done, calls = 0;
  double sum = 0, worst = 0;
  const float *x[1];
  float *in, **chan, *out = g_new(float, call * 2);
  MdnExact *e;

  for (o = 0; o < 2; o++) {
    MdnKernel *side = mdn_design_room_ir(taps, 1.2, RATE, 8 + o);
    memcpy(k->weights + (size_t)o * taps, side->weights, sizeof(float) * taps);
    mdn_kernel_free(side);
  }
  n_blocks = mdn_exact_plan_blocks(k, blocks);
  g_assert_cmpint(n_blocks, >=, 2);
  /* the last level's partitions are larger than a call: their jobs are
   * spread */
  g_assert_cmpint(blocks[n_blocks - 1], >, (int)call);
  in = mdn_signal_speech(n, RATE, 16);
  h = mdn_exact_history(k);
  chan = stream_layout(in, 1, h, n, x);
  e = mdn_exact_new(k);
  for (done = 0; done < n; done += call) {
    x[0] = chan[0] + h + done;
    mdn_exact_process(e, x, done, call, out);
    if (done < 2 * (size_t)taps) /* while the delay lines fill (jobs skip zeros) */
      continue;
    sum += mdn_exact_last_work(e);
    worst = MAX(worst, mdn_exact_last_work(e));
    calls++;
  }
  if (g_test_verbose())
    g_printerr("65536 taps 1->2, %d levels, %zu-frame calls: work per call mean %.0f, worst %.0f\n",
               n_blocks, call, sum / calls, worst);
  g_assert_cmpfloat(worst, <=, 2.0 * sum / calls);
  (void)t;
  mdn_exact_free(e);
  free_layout(chan, 1);
  g_free(in);
  g_free(out);
  mdn_kernel_free(k);
}

/* The bench's reverb (8192 taps, 48 kHz) on 1 s of speech: at least 120 dB
 * of SNR against the double-precision reference, in calls of 256 frames. */
static void
test_snr(void)
{
  MdnKernel *k = mdn_design_room_ir(8192, 0.4, 48000, 8);
  const size_t n = 48000;
  float *in = mdn_signal_speech(n, 48000, 1001), *out = g_new(float, n);
  double *ref = mdn_reference_conv(k, in, n), snr;
  GError *error = NULL;
  MdnModel *m = mdn_model_new(k, &error);
  MdnStream *s = mdn_stream_new(m, 1, &error);
  size_t done;

  g_assert_no_error(error);
  for (done = 0; done < n; done += 256)
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in + done, out + done, MIN(256, n - done)));
  snr = mdn_snr_db(ref, out, n);
  if (g_test_verbose())
    g_printerr("reverb 8192 taps: %.1f dB\n", snr);
  g_assert_cmpfloat(snr, >=, 120.0);
  mdn_stream_free(s);
  mdn_model_free(m);
  g_free(in);
  g_free(out);
  g_free(ref);
  mdn_kernel_free(k);
}

/* The cost model: direct below the crossover, cheaper than direct above it. */
static void
test_cost(void)
{
  MdnKernel *k = mdn_design_random_kernel(2, 3, 5, 1, RATE, 1);
  g_assert_cmpfloat(mdn_exact_cost_per_frame(k), ==, 2 * 3 * 5);
  g_assert_cmpuint(mdn_exact_history(k), ==, 4);
  mdn_kernel_free(k);
  k = mdn_design_random_kernel(1, 1, 4096, 1, RATE, 1);
  g_assert_cmpfloat(mdn_exact_cost_per_frame(k), <, 4096);
  g_assert_cmpfloat(mdn_exact_cost_per_frame(k), >, 0);
  g_assert_cmpuint(mdn_exact_history(k), >=, 4095);
  mdn_kernel_free(k);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/exact/short", test_short);
  g_test_add_func("/exact/crossover", test_crossover);
  g_test_add_func("/exact/long", test_long);
  g_test_add_func("/exact/forced-partitions", test_forced_partitions);
  g_test_add_func("/exact/cost", test_cost);
  g_test_add_func("/exact/levels", test_levels);
  g_test_add_func("/exact/multichannel", test_multichannel);
  g_test_add_func("/exact/spread", test_spread);
  g_test_add_func("/exact/snr", test_snr);
  return g_test_run();
}

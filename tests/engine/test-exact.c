/* test-exact: the exact path (through mdn_stream_process with
 * MDN_TIER_EXACT) against the double-precision reference conv1d.
 *
 * Bound: max over the whole output of |y - ref| <= 1e-5 * max over the whole
 * output of |ref|.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-signals.h"

#define RATE 16000.0
#define REL_BOUND 1e-5

/* Exported by exact.c for the benchmark; used here to cover the FFT path
 * at sizes where the planner would pick the direct form. */
MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);

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

/* The crossover of exact.c (ISA-dependent, a few hundred taps at most):
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
  return g_test_run();
}

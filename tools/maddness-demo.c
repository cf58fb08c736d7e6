/* maddness-demo: the engine end to end on audio it makes itself.
 *
 * Designs a 64-tap lowpass, fits the default tier ladder on 20 s of
 * speech-like audio, then filters 10 s of different speech-like audio with the
 * exact path and every tier, and prints for each the SNR against a
 * double-precision reference and the speed-up against the exact path measured
 * in the same run. Writes the most accurate tier's output to demo-out.wav. */
#include "maddness.h"
#include "mdn-test-signals.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>

#define RATE 48000.0

static void
show_progress (const char *stage, double fraction, gpointer data)
{
  (void) data;
  fprintf (stderr, "\r  fitting: %-8s %3.0f%%", stage, 100 * fraction);
  fflush (stderr);
}

/* Median ns per frame of filtering `in` with `tier` over `runs` passes. */
static double
time_tier (const MdnModel *model, int tier, const float *in, float *out, size_t n, int runs)
{
  double best[16];
  int r, a, b;

  for (r = 0; r < runs && r < 16; r++) {
    MdnStream *stream = mdn_stream_new (model, 1, NULL);
    gint64 t0 = g_get_monotonic_time ();
    size_t done;
    for (done = 0; done < n; done += 1024)
      mdn_stream_process (stream, tier, in + done, out + done, MIN (1024, n - done));
    best[r] = (g_get_monotonic_time () - t0) * 1000.0 / n;
    mdn_stream_free (stream);
  }
  for (a = 0; a < r; a++) /* sort for the median */
    for (b = a + 1; b < r; b++)
      if (best[b] < best[a]) {
        double t = best[a];
        best[a] = best[b];
        best[b] = t;
      }
  return best[r / 2];
}

static gboolean
write_wav (const char *path, const float *x, size_t n, GError **error)
{
  SF_INFO info = { .samplerate = (int) RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
  SNDFILE *f = sf_open (path, SFM_WRITE, &info);
  if (!f || sf_writef_float (f, x, (sf_count_t) n) != (sf_count_t) n) {
    g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror (f));
    if (f)
      sf_close (f);
    return FALSE;
  }
  sf_close (f);
  return TRUE;
}

int
main (void)
{
  const size_t n_train = (size_t) (20 * RATE), n_test = (size_t) (10 * RATE);
  GError *error = NULL;
  MdnKernel *kernel = mdn_test_lowpass (64, 6000, RATE);
  float *train = mdn_test_speech (n_train, RATE, 1);
  float *test = mdn_test_speech (n_test, RATE, 2);
  float *out = g_new (float, n_test);
  double *ref = mdn_test_reference_conv (kernel, test, n_test);
  MdnFitOptions options;
  MdnModel *model;
  double exact_ns;
  int t, n_tiers;
  gint64 t0;

  printf ("maddness demo: 1->1 lowpass, 64 taps, cutoff 6 kHz at 48 kHz\n");
  printf ("  fitting the default ladder (%s) on 20 s of speech-like audio\n",
          mdn_default_ladder ());
  mdn_fit_options_init (&options);
  options.seed = 1;
  options.progress = show_progress;
  t0 = g_get_monotonic_time ();
  model = mdn_fit (kernel, train, n_train, &options, &error);
  fprintf (stderr, "\n");
  if (!model) {
    fprintf (stderr, "maddness-demo: fit failed: %s\n", error->message);
    return 1;
  }
  printf ("  fitted in %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);
  printf ("  filtering 10 s of other speech-like audio (SNR against a double-precision "
          "reference; speed-up against the exact path, this run)\n\n");
  printf ("  %-12s %9s %10s %9s %10s\n", "method", "snr_db", "ns/frame", "speed-up", "table_B");

  exact_ns = time_tier (model, MDN_TIER_EXACT, test, out, n_test, 5);
  printf ("  %-12s %9.1f %10.2f %9.2f %10s\n", "exact", mdn_snr_db (ref, out, n_test), exact_ns,
          1.0, "-");
  n_tiers = mdn_model_n_tiers (model);
  for (t = 0; t < n_tiers; t++) {
    MdnTierInfo info;
    double ns = time_tier (model, t, test, out, n_test, 5);
    mdn_model_tier_info (model, t, &info);
    printf ("  %-12s %9.1f %10.2f %9.2f %10zu\n", info.name, mdn_snr_db (ref, out, n_test), ns,
            exact_ns / ns, info.table_bytes);
  }
  if (n_tiers > 0) {
    time_tier (model, n_tiers - 1, test, out, n_test, 1);
    if (!write_wav ("demo-out.wav", out, n_test, &error)) {
      fprintf (stderr, "maddness-demo: %s\n", error->message);
      return 1;
    }
    printf ("\n  wrote demo-out.wav (the most accurate tier's output)\n");
  }
  mdn_model_free (model);
  mdn_kernel_free (kernel);
  g_free (train);
  g_free (test);
  g_free (out);
  g_free (ref);
  return 0;
}

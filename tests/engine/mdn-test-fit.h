/* mdn-test-fit.h: a model with real tiers for tests that stream through
 * them: `kernel` with every tier of `ladder` fitted to a second of speech;
 * a tier's SNR through a stream.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_TEST_FIT_H
#define MDN_TEST_FIT_H

#include "mdn-private.h"
#include "mdn-signals.h"

/* `seconds` of speech at `rate` made with audio_seed, the fit seeded with
 * fit_seed. */
static inline MdnModel *
mdn_test_fit_on(const MdnKernel *kernel, const char *ladder, double rate, double seconds,
                guint32 audio_seed, guint32 fit_seed)
{
  GError *error = NULL;
  MdnFitOptions options;
  MdnTierSpec *specs = NULL;
  const size_t n = (size_t)(seconds * rate);
  float *audio = mdn_signal_multichannel(mdn_signal_speech, n, kernel->cin, rate, audio_seed);
  int n_specs = mdn_tier_ladder_parse(ladder, &specs, &error);
  MdnModel *m;

  g_assert_no_error(error);
  mdn_fit_options_init(&options);
  options.specs = specs;
  options.n_specs = n_specs;
  options.seed = fit_seed;
  options.keep_dominated = TRUE;
  m = mdn_fit(kernel, audio, n, &options, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, n_specs);
  g_free(specs);
  g_free(audio);
  return m;
}

/* A second of speech, one seed for both. */
static inline MdnModel *
mdn_test_fit(const MdnKernel *kernel, const char *ladder, double rate, guint32 seed)
{
  return mdn_test_fit_on(kernel, ladder, rate, 1.0, seed, seed);
}

/* The SNR of `tier` streaming `in` (n frames, one call) against the
 * double-precision reference, over frames from `from` on. */
static inline double
mdn_test_stream_snr(const MdnModel *m, int tier, const float *in, size_t n, size_t from)
{
  GError *error = NULL;
  MdnStream *s = mdn_stream_new(m, 1, &error);
  const MdnKernel *k = mdn_model_kernel(m);
  float *out = g_new(float, n * k->cout);
  double *ref = mdn_reference_conv(k, in, n);
  double snr;

  g_assert_no_error(error);
  g_assert_true(mdn_stream_process(s, tier, in, out, n));
  snr = mdn_snr_db(ref + from * k->cout, out + from * k->cout, (n - from) * k->cout);
  mdn_stream_free(s);
  g_free(out);
  g_free(ref);
  return snr;
}

#endif /* MDN_TEST_FIT_H */

/* mdn-test-fit.h: a model with real tiers for tests that stream through
 * them: `kernel` with every tier of `ladder` fitted to a second of speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_TEST_FIT_H
#define MDN_TEST_FIT_H

#include "mdn-private.h"
#include "mdn-signals.h"

static inline MdnModel *
mdn_test_fit(const MdnKernel *kernel, const char *ladder, double rate, guint32 seed)
{
  GError *error = NULL;
  MdnFitOptions options;
  MdnTierSpec *specs = NULL;
  const size_t n = (size_t)rate;
  float *audio = mdn_signal_multichannel(mdn_signal_speech, n, kernel->cin, rate, seed);
  int n_specs = mdn_tier_ladder_parse(ladder, &specs, &error);
  MdnModel *m;

  g_assert_no_error(error);
  mdn_fit_options_init(&options);
  options.specs = specs;
  options.n_specs = n_specs;
  options.seed = seed;
  options.keep_dominated = TRUE;
  m = mdn_fit(kernel, audio, n, &options, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, n_specs);
  g_free(specs);
  g_free(audio);
  return m;
}

#endif /* MDN_TEST_FIT_H */

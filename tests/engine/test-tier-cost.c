/* test-tier-cost.c: the tier time model and the rule of which tiers quality
 * may select (engine/runtime/tier-cost.c): a tier predicted slower than
 * exact (below MDN_TIER_MIN_SPEEDUP) is never selected, quality never picks
 * a faster tier when it rises, a model without paying tiers runs exact at
 * every quality, and the model grows with the work it counts. Whether the
 * predictions match measured times is a benchmark's question (bench/
 * tier-cost --check), not a test's.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "tier-cost.h"

/* A tier of `spec` over a cin -> cout kernel of `taps` taps (tables of
 * zeros: the model reads the shape only). */
static MdnTier *
shaped_tier(const char *spec_text, int cin, int cout, int taps)
{
  MdnTierSpec spec;
  GError *error = NULL;
  MdnTier *t;
  int groups, c;

  g_assert_true(mdn_tier_spec_parse(spec_text, &spec, &error));
  groups = (taps + spec.taps_per_codebook - 1) / spec.taps_per_codebook;
  t = mdn_tier_alloc(&spec, cin, cout, taps, 1, MIN(spec.exact_taps, cin * taps), cin * groups,
                     &error);
  g_assert_no_error(error);
  for (c = 0; c < t->n_codebooks; c++) {
    t->cb_chan[c] = (guint16)(c % cin);
    t->cb_group[c] = (guint32)(c / cin);
  }
  for (c = 0; c < t->n_exact; c++) {
    t->exact_chan[c] = (guint16)(c % cin);
    t->exact_tap[c] = (guint32)(c / cin);
  }
  for (c = 0; c < cout; c++)
    t->lut_scale[c] = 1e-3f;
  return t;
}

static MdnModel *
model_with(int cin, int cout, int taps, const char *const *specs, int n_specs)
{
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(cin, cout, taps, 1, 48000, &error);
  MdnModel *m;
  int j;

  g_assert_no_error(error);
  for (j = 0; j < cin * cout * taps; j++)
    k->weights[j] = 0.01f * (float)(j % 7);
  m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  for (j = 0; j < n_specs; j++) {
    MdnTier *t = shaped_tier(specs[j], cin, cout, taps);
    t->snr_db = 10.0 * (j + 1); /* a ladder: each tier claims more */
    mdn_model_add_tier(m, t);
  }
  mdn_kernel_free(k);
  return m;
}

/* The selection rule on a model: every selected tier predicted to pay,
 * every tier that is predicted to pay and not dominated (another tier
 * claiming at least its SNR, predicted at least as fast) selected, in
 * ladder order; quality maps onto them without ever picking a faster tier
 * or a lower claim as it rises. */
static int
check_selection(const MdnModel *m)
{
  const int n = mdn_model_n_tiers(m);
  int *paying = g_new(int, MAX(n, 1));
  int n_paying = mdn_model_paying_tiers(m, paying), t, j = 0, q, prev = -1;

  for (t = 0; t < n; t++) {
    const double s = mdn_model_tier_speedup(m, t);
    gboolean dominated = FALSE;
    int u;
    g_assert_true(isfinite(s) && s > 0);
    for (u = 0; u < n; u++) {
      const double su = mdn_model_tier_speedup(m, u);
      const double cu = mdn_model_tier(m, u)->snr_db, ct = mdn_model_tier(m, t)->snr_db;
      dominated |= u != t && cu >= ct && su >= s && (cu > ct || su > s || u < t);
    }
    if (s >= MDN_TIER_MIN_SPEEDUP && !dominated) {
      g_assert_cmpint(j, <, n_paying);
      g_assert_cmpint(paying[j], ==, t);
      j++;
    }
  }
  g_assert_cmpint(j, ==, n_paying);
  for (q = 0; q <= MDN_MAX_QUALITY; q++) {
    const int tier = mdn_quality_tier(q, paying, n_paying);
    if (q == MDN_MAX_QUALITY || n_paying == 0) {
      g_assert_cmpint(tier, ==, MDN_TIER_EXACT);
      continue;
    }
    /* a tier predicted slower than the margin is never selected */
    g_assert_cmpint(tier, >=, 0);
    g_assert_cmpfloat(mdn_model_tier_speedup(m, tier), >=, MDN_TIER_MIN_SPEEDUP);
    g_assert_cmpint(tier, >=, prev);
    if (prev >= 0 && tier != prev) {
      g_assert_cmpfloat(mdn_model_tier_speedup(m, tier), <, mdn_model_tier_speedup(m, prev));
      g_assert_cmpfloat(mdn_model_tier(m, tier)->snr_db, >, mdn_model_tier(m, prev)->snr_db);
    }
    prev = tier;
  }
  /* out of range: no speed-up, never selected */
  g_assert_cmpfloat(mdn_model_tier_speedup(m, n), ==, 1.0);
  g_assert_cmpfloat(mdn_model_tier_speedup(m, -1), ==, 1.0);
  g_free(paying);
  return n_paying;
}

/* A 16-tap mono kernel: exact costs 16 multiply-adds per frame, and a deep
 * tier with many exact taps cannot beat it; a 1 -> 16 bank of 256 taps has
 * tiers that pay with any kernels the model has weights for. */
static void
test_selection(void)
{
  const char *ladder[] = { "s8d4q6", "s8d4e12q6", "s4d6e16", "s2d6e24", "s1d8e64q16" };
  MdnModel *small = model_with(1, 1, 16, ladder + 2, 3);
  MdnModel *bank = model_with(1, 16, 256, ladder, 5);
  MdnModel *none = model_with(1, 1, 16, NULL, 0);
  int n;

  /* each tier of the small kernel does at least as much as the exact path */
  g_assert_cmpint(check_selection(small), ==, 0);
  n = check_selection(bank);
  g_assert_cmpint(n, >=, 1);
  g_assert_cmpint(n, <, 5); /* the 256-bucket, 16-bit, 64-exact-tap tier does not pay */
  g_assert_cmpint(check_selection(none), ==, 0);
  g_test_message("%s: bank16-like %d of 5 tiers pay (fastest %.2fx)", mdn_isa(), n,
                 mdn_model_tier_speedup(bank, 0));
  mdn_model_free(small);
  mdn_model_free(bank);
  mdn_model_free(none);
}

/* A tier that another claiming more SNR beats in predicted speed is not
 * offered: quality would run slower at the lower setting. */
static void
test_dominated(void)
{
  const char *ladder[] = { "s1d8e64q16", "s8d4q6", "s4d6e16" };
  MdnModel *bank = model_with(1, 16, 256, ladder, 3);
  int paying[3], n = mdn_model_paying_tiers(bank, paying), j;

  g_assert_cmpfloat(mdn_model_tier_speedup(bank, 0), <, mdn_model_tier_speedup(bank, 1));
  for (j = 0; j < n; j++)
    g_assert_cmpint(paying[j], !=, 0);
  g_assert_cmpint(check_selection(bank), ==, n);
  mdn_model_free(bank);
}

/* The model grows with what it counts, for every table of kernels: more
 * exact taps, deeper trees, wider tables, more outputs, a shorter block,
 * hyperplanes for the axis splits. */
static void
test_monotone(void)
{
  const unsigned sets[]
      = { 0, MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2,
          MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 | MDN_CPU_FLAG_AVX512,
          MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 | MDN_CPU_FLAG_AVX512 | MDN_CPU_FLAG_AVX512VBMI,
          MDN_CPU_FLAG_NEON };
  const char *order[][2] = {
    { "s4d4", "s4d4e8" }, { "s4d4", "s4d6" }, { "s4d6", "s4d8" },  { "s4d4q6", "s4d4q16" },
    { "s8d4", "s4d4" },   { "s2d6", "s1d6" }, { "s4d6", "s4d6h" },
  };
  guint i, j;

  for (i = 0; i < G_N_ELEMENTS(sets); i++) {
    MdnDsp dsp;
    mdn_exact_dsp_init(&dsp.exact, sets[i]);
    mdn_tier_dsp_init(&dsp.tier, sets[i]);
    for (j = 0; j < G_N_ELEMENTS(order); j++) {
      MdnTier *a = shaped_tier(order[j][0], 2, 4, 64), *b = shaped_tier(order[j][1], 2, 4, 64);
      MdnTier *wide = shaped_tier(order[j][0], 2, 8, 64);
      const double ta = mdn_tier_time(a, &dsp);
      g_assert_cmpfloat(ta, >, 0);
      g_assert_cmpfloat(ta, <=, mdn_tier_time(b, &dsp));
      g_assert_cmpfloat(ta, <, mdn_tier_time(wide, &dsp));
      a->norm_block = 64;
      g_assert_cmpfloat(ta, <=, mdn_tier_time(a, &dsp));
      mdn_tier_free(a);
      mdn_tier_free(b);
      mdn_tier_free(wide);
    }
    {
      /* Projections cost more than column reads on every table. */
      MdnTier *axis = shaped_tier("s8d6", 1, 1, 64), *hyper = shaped_tier("s8d6h", 1, 1, 64);
      g_assert_cmpfloat(mdn_tier_time(axis, &dsp), <, mdn_tier_time(hyper, &dsp));
      mdn_tier_free(axis);
      mdn_tier_free(hyper);
    }
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tier-cost/selection", test_selection);
  g_test_add_func("/tier-cost/monotone", test_monotone);
  g_test_add_func("/tier-cost/dominated", test_dominated);
  return g_test_run();
}

/* test-tier-spec.c: the "s4d6e8q16" syntax, canonical names, ladders.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <string.h>

static void
assert_spec(const MdnTierSpec *spec, int s, int d, int e, int q)
{
  g_assert_cmpint(spec->taps_per_codebook, ==, s);
  g_assert_cmpint(spec->depth, ==, d);
  g_assert_cmpint(spec->exact_taps, ==, e);
  g_assert_cmpint(spec->table_bits, ==, q);
}

static void
test_parse_valid(void)
{
  static const struct {
    const char *text;
    int s, d, e, q;
    const char *name;
  } cases[] = {
    { "s4d6", 4, 6, 0, 8, "s4d6" },
    { "s4d6e8", 4, 6, 8, 8, "s4d6e8" },
    { "s4d6e8q16", 4, 6, 8, 16, "s4d6e8q16" },
    { "s4d6q16", 4, 6, 0, 16, "s4d6q16" },
    { "s1d1", 1, 1, 0, 8, "s1d1" },
    { "s8d8e0q8", 8, 8, 0, 8, "s8d8" },
    { "s2d4e0", 2, 4, 0, 8, "s2d4" },
    { "s2d4q8", 2, 4, 0, 8, "s2d4" },
    { "s1d6e32", 1, 6, 32, 8, "s1d6e32" },
    { "s8d4e1000q16", 8, 4, 1000, 16, "s8d4e1000q16" },
    { "s8d4e2q6", 8, 4, 2, 6, "s8d4e2q6" },
    { "s4d6q5", 4, 6, 0, 5, "s4d6q5" },
    { "s2d4e3q7", 2, 4, 3, 7, "s2d4e3q7" },
  };
  size_t k;

  for (k = 0; k < G_N_ELEMENTS(cases); k++) {
    MdnTierSpec spec;
    GError *error = NULL;
    char name[MDN_TIER_NAME_MAX];
    g_test_message("%s", cases[k].text);
    g_assert_true(mdn_tier_spec_parse(cases[k].text, &spec, &error));
    g_assert_no_error(error);
    assert_spec(&spec, cases[k].s, cases[k].d, cases[k].e, cases[k].q);
    mdn_tier_spec_name(&spec, name);
    g_assert_cmpstr(name, ==, cases[k].name);
  }
}

/* Every valid spec: name -> parse gives the spec back, and the name is the
 * canonical one. */
static void
test_round_trip(void)
{
  static const int s_values[] = { 1, 2, 4, 8 };
  static const int e_values[] = { 0, 1, 8, 17, 100, 65536 };
  static const int q_values[] = { 8, 16 };
  size_t si, ei, qi;
  int d;

  for (si = 0; si < G_N_ELEMENTS(s_values); si++)
    for (d = 1; d <= 8; d++)
      for (ei = 0; ei < G_N_ELEMENTS(e_values); ei++)
        for (qi = 0; qi < G_N_ELEMENTS(q_values); qi++) {
          MdnTierSpec spec = { s_values[si], d, e_values[ei], q_values[qi], 0 };
          MdnTierSpec back = { 0, 0, 0, 0, 0 };
          char name[MDN_TIER_NAME_MAX], expected[64], again[MDN_TIER_NAME_MAX];
          GError *error = NULL;

          g_snprintf(expected, sizeof expected, "s%dd%d", spec.taps_per_codebook, d);
          if (spec.exact_taps)
            g_snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "e%d",
                       spec.exact_taps);
          if (spec.table_bits != 8)
            g_snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "q%d",
                       spec.table_bits);
          mdn_tier_spec_name(&spec, name);
          g_assert_cmpstr(name, ==, expected);
          g_assert_true(mdn_tier_spec_parse(name, &back, &error));
          g_assert_no_error(error);
          assert_spec(&back, spec.taps_per_codebook, spec.depth, spec.exact_taps, spec.table_bits);
          mdn_tier_spec_name(&back, again);
          g_assert_cmpstr(again, ==, name);
        }
}

static void
test_parse_malformed(void)
{
  static const char *const bad[] = {
    "",          "s",          "s4",
    "d6",        "s4d",        "s3d4",
    "s0d4",      "s16d4",      "s5d4",
    "s4d0",      "s4d9",       "s4d10",
    "s4d6e",     "s4d6e-1",    "s4d6e+1",
    "s4d6q",     "s4d6q12",    "s4d6q4",
    "s4d6q9",    "s4d6q0",     "s4d6q32",
    "S4D6",      " s4d6",      "s4d6 ",
    "s4 d6",     "s4d6x",      "s4d6e8e8",
    "s4d6q16e8", "d6s4",       "s4d6e8q16q16",
    "4d6",       "s+4d6",      "s4d6e99999999999",
    "s4d6,s8d4", "s4.0d6",     "sd6",
    "s4d6\n",    "s4d6e8q16x",
  };
  size_t k;

  for (k = 0; k < G_N_ELEMENTS(bad); k++) {
    MdnTierSpec spec = { 99, 99, 99, 99, 0 };
    GError *error = NULL;
    g_test_message("\"%s\"", bad[k]);
    g_assert_false(mdn_tier_spec_parse(bad[k], &spec, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    /* The message names the text and the rule. */
    g_assert_nonnull(strstr(error->message, bad[k]));
    g_assert_nonnull(strstr(error->message, "s<1|2|4|8>"));
    /* A failed parse leaves the output alone. */
    assert_spec(&spec, 99, 99, 99, 99);
    g_clear_error(&error);
  }

  {
    MdnTierSpec spec;
    GError *error = NULL;
    g_assert_false(mdn_tier_spec_parse(NULL, &spec, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
  }
}

static void
test_ladder(void)
{
  MdnTierSpec *specs = NULL;
  GError *error = NULL;
  int n;

  n = mdn_tier_ladder_parse("s8d4,s4d4", &specs, &error);
  g_assert_no_error(error);
  g_assert_cmpint(n, ==, 2);
  assert_spec(&specs[0], 8, 4, 0, 8);
  assert_spec(&specs[1], 4, 4, 0, 8);
  g_free(specs);

  n = mdn_tier_ladder_parse("  s8d4 ,\ts4d6e8 ,\ns1d6e32q16  ", &specs, &error);
  g_assert_no_error(error);
  g_assert_cmpint(n, ==, 3);
  assert_spec(&specs[0], 8, 4, 0, 8);
  assert_spec(&specs[1], 4, 6, 8, 8);
  assert_spec(&specs[2], 1, 6, 32, 16);
  g_free(specs);

  n = mdn_tier_ladder_parse("s2d5", &specs, &error);
  g_assert_no_error(error);
  g_assert_cmpint(n, ==, 1);
  assert_spec(&specs[0], 2, 5, 0, 8);
  g_free(specs);
}

static void
test_ladder_malformed(void)
{
  static const char *const bad[] = {
    "",           " ",           ",",         "s8d4,",          ",s8d4",
    "s8d4,,s4d4", "s8d4, ,s4d4", "s8d4,s8d4", "s4d6,s4d6e0q8",  "s8d4,bad",
    "s8d4;s4d4",  "s8d4 s4d4",   "s3d4",      "s4d6,s8d4,s4d6",
  };
  size_t k;

  for (k = 0; k < G_N_ELEMENTS(bad); k++) {
    MdnTierSpec *specs = (MdnTierSpec *)&specs; /* must be reset to NULL */
    GError *error = NULL;
    g_test_message("\"%s\"", bad[k]);
    g_assert_cmpint(mdn_tier_ladder_parse(bad[k], &specs, &error), ==, -1);
    g_assert_null(specs);
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
  }

  {
    MdnTierSpec *specs = NULL;
    GError *error = NULL;
    g_assert_cmpint(mdn_tier_ladder_parse(NULL, &specs, &error), ==, -1);
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
  }
}

static void
test_default_ladder(void)
{
  MdnTierSpec *specs = NULL;
  GError *error = NULL;
  const char *ladder = mdn_default_ladder();
  int n, k;

  g_assert_nonnull(ladder);
  n = mdn_tier_ladder_parse(ladder, &specs, &error);
  g_assert_no_error(error);
  g_assert_cmpint(n, >=, 1);
  /* Each tier's canonical name is how the ladder spells it. */
  for (k = 0; k < n; k++) {
    char name[MDN_TIER_NAME_MAX];
    mdn_tier_spec_name(&specs[k], name);
    g_assert_nonnull(strstr(ladder, name));
  }
  g_free(specs);
}

/* The one spec rule (mdn_tier_spec_validate), with the error code its caller
 * asks for; the parser says the same in its own words. */
static void
test_validate(void)
{
  static const struct {
    MdnTierSpec spec;
    const char *text, *why;
  } bad[] = {
    { { 3, 4, 0, 8, 0 }, "s3d4", "taps per codebook must be 1, 2, 4 or 8 (got 3)" },
    { { 16, 4, 0, 8, 0 }, "s16d4", "taps per codebook must be 1, 2, 4 or 8 (got 16)" },
    { { 4, 0, 0, 8, 0 }, "s4d0", "tree depth must be 1..8 (got 0)" },
    { { 4, 9, 0, 8, 0 }, "s4d9", "tree depth must be 1..8 (got 9)" },
    { { 4, 4, MDN_MAX_CHANNELS * MDN_MAX_TAPS + 1, 8, 0 },
      "s4d4e268435457",
      "exact taps must be 0..268435456 (got 268435457)" },
    { { 4, 4, 0, 4, 0 }, "s4d4q4", "table bits must be 5, 6, 7, 8 or 16 (got 4)" },
    { { 4, 4, 0, 12, 0 }, "s4d4q12", "table bits must be 5, 6, 7, 8 or 16 (got 12)" },
  };
  MdnTierSpec good = { 8, 1, MDN_MAX_CHANNELS * MDN_MAX_TAPS, 16, 0 },
              negative = { 4, 4, -1, 8, 0 };
  size_t k;

  g_assert_true(mdn_tier_spec_validate(&good, MDN_ERROR_CORRUPT, NULL));
  for (k = 0; k < G_N_ELEMENTS(bad); k++) {
    GError *error = NULL;
    MdnTierSpec parsed;
    char *want = g_strdup_printf("invalid tier spec \"%s\": %s (expected", bad[k].text, bad[k].why);

    g_assert_false(mdn_tier_spec_validate(&bad[k].spec, MDN_ERROR_CORRUPT, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
    g_assert_cmpstr(error->message, ==, bad[k].why);
    g_clear_error(&error);
    g_assert_false(mdn_tier_spec_validate(&bad[k].spec, MDN_ERROR_INVALID_ARGUMENT, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_false(mdn_tier_spec_parse(bad[k].text, &parsed, &error));
    g_assert_true(g_str_has_prefix(error->message, want));
    g_clear_error(&error);
    g_free(want);
  }
  g_assert_false(mdn_tier_spec_validate(&negative, MDN_ERROR_CORRUPT, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tier-spec/parse-valid", test_parse_valid);
  g_test_add_func("/tier-spec/round-trip", test_round_trip);
  g_test_add_func("/tier-spec/parse-malformed", test_parse_malformed);
  g_test_add_func("/tier-spec/ladder", test_ladder);
  g_test_add_func("/tier-spec/ladder-malformed", test_ladder_malformed);
  g_test_add_func("/tier-spec/default-ladder", test_default_ladder);
  g_test_add_func("/tier-spec/validate", test_validate);
  return g_test_run();
}

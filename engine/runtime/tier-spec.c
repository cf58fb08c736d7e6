/* tier-spec.c: the "s4d6e8q16" tier syntax and the default ladder.
 *
 * Grammar (fields in this order, lower case, no white space):
 *   s<1|2|4|8> d<1..8> [e<exact taps, >= 0>] [q<5..8|16>] [h]
 * Defaults: e0, q8, axis encoders (h: hyperplane encoders). The canonical name
 * leaves out e0 and q8.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <string.h>

#define SPEC_RULE "s<1|2|4|8>d<1..8>[e<exact taps>=0>][q<5..8|16>][h], e.g. s4d6e8"
#define MAX_EXACT_TAPS (MDN_MAX_CHANNELS * MDN_MAX_TAPS)

/* Reads the decimal number after the field letter at *p into *value.
 * Only digits; at most 9 of them, so no overflow. */
static gboolean
read_number(const char **p, int *value)
{
  const char *s = *p;
  int digits = 0;
  long v = 0;
  while (*s >= '0' && *s <= '9') {
    if (++digits > 9)
      return FALSE;
    v = v * 10 + (*s - '0');
    s++;
  }
  if (digits == 0)
    return FALSE;
  *value = (int)v;
  *p = s;
  return TRUE;
}

gboolean
mdn_tier_spec_validate(const MdnTierSpec *spec, MdnErrorCode code, GError **error)
{
  const int s = spec->taps_per_codebook;

  if (s != 1 && s != 2 && s != 4 && s != 8) {
    g_set_error(error, MDN_ERROR, code, "taps per codebook must be 1, 2, 4 or 8 (got %d)", s);
    return FALSE;
  }
  if (spec->depth < 1 || spec->depth > 8) {
    g_set_error(error, MDN_ERROR, code, "tree depth must be 1..8 (got %d)", spec->depth);
    return FALSE;
  }
  if (spec->exact_taps < 0 || spec->exact_taps > MAX_EXACT_TAPS) {
    g_set_error(error, MDN_ERROR, code, "exact taps must be 0..%d (got %d)", MAX_EXACT_TAPS,
                spec->exact_taps);
    return FALSE;
  }
  if (!mdn_table_bits_ok(spec->table_bits)) {
    g_set_error(error, MDN_ERROR, code, "table bits must be 5, 6, 7, 8 or 16 (got %d)",
                spec->table_bits);
    return FALSE;
  }
  if (spec->hyperplanes != 0 && spec->hyperplanes != 1) {
    g_set_error(error, MDN_ERROR, code, "hyperplanes must be 0 or 1 (got %d)", spec->hyperplanes);
    return FALSE;
  }
  return TRUE;
}

static gboolean
spec_error(GError **error, const char *text, const char *why)
{
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
              "invalid tier spec \"%s\": %s (expected " SPEC_RULE ")", text, why);
  return FALSE;
}

gboolean
mdn_tier_spec_parse(const char *text, MdnTierSpec *spec, GError **error)
{
  MdnTierSpec parsed = { 0, 0, 0, 8, 0 };
  const char *p = text;
  GError *invalid = NULL;

  g_return_val_if_fail(spec != NULL, FALSE);
  if (text == NULL) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "missing tier spec (expected " SPEC_RULE ")");
    return FALSE;
  }

  /* The syntax here; the values' ranges in mdn_tier_spec_validate(). */
  if (*p != 's' || (p++, !read_number(&p, &parsed.taps_per_codebook)))
    return spec_error(error, text, "must start with s and the taps per codebook");
  if (*p != 'd' || (p++, !read_number(&p, &parsed.depth)))
    return spec_error(error, text, "s must be followed by d and the tree depth");
  if (*p == 'e' && (p++, !read_number(&p, &parsed.exact_taps)))
    return spec_error(error, text, "e must be followed by a count of exact taps >= 0");
  if (*p == 'q' && (p++, !read_number(&p, &parsed.table_bits)))
    return spec_error(error, text, "q must be followed by the table bits 5..8 or 16");
  if (*p == 'h') {
    parsed.hyperplanes = 1;
    p++;
  }
  if (*p != '\0')
    return spec_error(error, text, "unexpected text after the spec (order is s, d, e, q, h)");
  if (!mdn_tier_spec_validate(&parsed, MDN_ERROR_INVALID_ARGUMENT, &invalid)) {
    spec_error(error, text, invalid->message);
    g_error_free(invalid);
    return FALSE;
  }

  *spec = parsed;
  return TRUE;
}

void
mdn_tier_spec_name(const MdnTierSpec *spec, char name[MDN_TIER_NAME_MAX])
{
  int len = g_snprintf(name, MDN_TIER_NAME_MAX, "s%dd%d", spec->taps_per_codebook, spec->depth);
  if (spec->exact_taps != 0 && len < MDN_TIER_NAME_MAX)
    len += g_snprintf(name + len, MDN_TIER_NAME_MAX - len, "e%d", spec->exact_taps);
  if (spec->table_bits != 8 && len < MDN_TIER_NAME_MAX)
    len += g_snprintf(name + len, MDN_TIER_NAME_MAX - len, "q%d", spec->table_bits);
  if (spec->hyperplanes && len < MDN_TIER_NAME_MAX)
    g_snprintf(name + len, MDN_TIER_NAME_MAX - len, "h");
}

static gboolean
spec_equal(const MdnTierSpec *a, const MdnTierSpec *b)
{
  return a->taps_per_codebook == b->taps_per_codebook && a->depth == b->depth
         && a->exact_taps == b->exact_taps && a->table_bits == b->table_bits
         && a->hyperplanes == b->hyperplanes;
}

/* Comma-separated specs, white space around each tolerated. On error returns
 * -1 and sets *specs to NULL. */
int
mdn_tier_ladder_parse(const char *text, MdnTierSpec **specs, GError **error)
{
  gchar **items;
  MdnTierSpec *parsed;
  int n, k, j;

  g_return_val_if_fail(specs != NULL, -1);
  *specs = NULL;
  if (text == NULL) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "missing tier ladder");
    return -1;
  }

  items = g_strsplit(text, ",", -1);
  n = (int)g_strv_length(items);
  parsed = g_new0(MdnTierSpec, n > 0 ? n : 1);
  for (k = 0; k < n; k++) {
    const char *item = g_strstrip(items[k]);
    if (*item == '\0') {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "invalid tier ladder \"%s\": tier %d is empty (expected comma-separated "
                  "specs such as s8d4,s4d6e8)",
                  text, k + 1);
      goto fail;
    }
    if (!mdn_tier_spec_parse(item, &parsed[k], error))
      goto fail;
    for (j = 0; j < k; j++)
      if (spec_equal(&parsed[j], &parsed[k])) {
        char name[MDN_TIER_NAME_MAX];
        mdn_tier_spec_name(&parsed[k], name);
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                    "invalid tier ladder \"%s\": tier %s appears twice", text, name);
        goto fail;
      }
  }
  if (n == 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "invalid tier ladder \"\": no tiers (expected comma-separated specs such as "
                "s8d4,s4d6e8)");
    goto fail;
  }
  g_strfreev(items);
  *specs = parsed;
  return n;

fail:
  g_strfreev(items);
  g_free(parsed);
  return -1;
}

/* Fastest first. Measured with mdn_fit on the lowpass64 (1->1, 64 taps,
 * 6 kHz at 48 kHz), fitted on 12 s of one seed, SNR on 4 s of six other
 * seeds (min..max), speech / music; cost in ops per frame (exact: 64):
 *   s8d4e2   13.5..16.1 / 19.9..21.2 dB, cost 17.9  (issue: fastest >= 10 dB)
 *   s8d4e6   24.2..27.1 / 31.3..32.9 dB, cost 21.9
 *   s8d4e12  29.6..32.7 / 37.3..39.1 dB, cost 27.9  (issue: >= 25 dB at <= 32)
 *   s4d6e16  37.3..40.4 / 42.5..44.1 dB, cost 41.9
 *   s2d6e24  50.8..54.3 / 54.0..55.4 dB, cost 57.9  (issue: best >= 35 dB)
 * (measured with 8-bit tables). The three s8d4 tiers use 6-bit tables (q6):
 * the AVX2 scan then adds 4 lookups in 8 bits before widening. Same fits,
 * q6 against q8 (6 seeds, speech / music): s8d4e2 13.3..19.9 / 20.0..21.8
 * against 13.3..19.9 / 20.1..21.9 dB, s8d4e12 29.8..39.3 / 37.6..39.5
 * against 29.7..39.4 / 37.6..39.6 dB: within 0.1 dB. Speed (maddness-bench,
 * one run, fastest tier): bank16 19.8 -> 18.0 ns/frame, layer16 36.8 ->
 * 34.2, lowpass64 unchanged (8 codebooks: the scan is a small part).
 * Exact taps buy the most SNR per op (notes section 4): s8d4 without them
 * gave only 9.1..11.6 dB on speech. Tiers no cheaper than the exact path
 * are pruned by mdn_fit (for a 2048-tap IR the FFT path is cheaper than
 * every tier here).
 * Issue 13 added three tiers, each the best SNR at a target's speed with the
 * metric-M splits (maddness-bench --models DIR --best, AVX-512 / AVX2 on
 * the same fits): s8d6e8 (lowpass64 31.2 dB at 1.55x / 1.25x exact),
 * s8d4e24q6 (beam8 27.0 dB at 3.5x / 3.9x) and s4d6e32 (bank16 22.2 dB at
 * 2.9x the best exact on AVX-512). Which tiers quality offers on a CPU is
 * the time model's (mdn_model_paying_tiers). */
const char *
mdn_default_ladder(void)
{
  return "s8d4e2q6,s8d4e6q6,s8d4e12q6,s8d6e8,s8d4e24q6,s4d6e16,s4d6e32,s2d6e24";
}

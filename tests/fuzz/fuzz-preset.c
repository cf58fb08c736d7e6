/* fuzz-preset.c: libFuzzer target for the preset loader (make fuzz).
 *
 * Each input is handed to mdn_preset_load_from_data(). A refusal must come
 * with a GError. A preset that loads must hold 1..16 variants by rate with
 * the same channels, each tier's claim the worst of its classes, round-trip
 * to the same bytes, and give its default variant to
 * mdn_model_load_from_data(). Every variant must be usable by every engine
 * function: its info is read, it is serialised, loaded again and serialised
 * again (the second round trip must give the same bytes), and when its
 * kernel is small enough to filter quickly a stream runs a few hundred
 * frames on every tier and the exact path, with tier changes, a crossfade
 * and a reset, then with the accuracy audit on and the quality governor
 * picking the tier.
 *
 * Built with -fsanitize=fuzzer by the `fuzz` meson option (clang); the same
 * file is linked into fuzz-replay (replay.c), which runs the checked-in
 * corpus and regressions through it in the normal test suite.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Streams run only on kernels this small: a valid preset may describe a
 * kernel that takes seconds to set up (an FFT of 2^20 taps), which says
 * nothing about the loader. */
#define FUZZ_MAX_SPAN 65536
#define FUZZ_MAX_WEIGHTS (1 << 16)
#define FUZZ_FRAMES 300

static void
fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz-preset: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

static void
run_stream(const MdnModel *m, int groups)
{
  const MdnKernel *k = mdn_model_kernel(m);
  const int n_tiers = mdn_model_n_tiers(m);
  const size_t in_ch = (size_t)groups * k->cin, out_ch = (size_t)groups * k->cout;
  GError *error = NULL;
  MdnStream *s = mdn_stream_new(m, groups, &error);
  float *in, *out;
  size_t f, c;
  int tier;

  if (!s) {
    /* Allowed only for want of memory (a history too long to hold). */
    if (!error)
      fail("mdn_stream_new returned NULL without an error", NULL);
    g_error_free(error);
    return;
  }
  in = g_new(float, FUZZ_FRAMES *in_ch);
  out = g_new(float, FUZZ_FRAMES *out_ch);
  for (f = 0; f < FUZZ_FRAMES; f++)
    for (c = 0; c < in_ch; c++)
      in[f * in_ch + c] = 0.5f * sinf(0.05f * (float)(f * (c + 1)));
  in[7 * in_ch] = NAN;
  in[11 * in_ch] = INFINITY;
  in[13 * in_ch] = 1e-41f;

  for (tier = MDN_TIER_EXACT; tier < n_tiers; tier++)
    if (!mdn_stream_process(s, tier, in, out, 100))
      fail("mdn_stream_process refused a tier in range", NULL);
  mdn_stream_set_crossfade(s, 16);
  for (tier = n_tiers - 1; tier >= MDN_TIER_EXACT; tier--)
    if (!mdn_stream_process(s, tier, in + 100 * in_ch, out, 37))
      fail("mdn_stream_process refused a tier in range", NULL);
  if (mdn_stream_process(s, n_tiers, in, out, 1))
    fail("mdn_stream_process took a tier out of range", NULL);
  if (mdn_stream_nonfinite_count(s) == 0)
    fail("non-finite input was not counted", NULL);
  mdn_stream_reset(s);
  if (!mdn_stream_process(s, n_tiers > 0 ? 0 : MDN_TIER_EXACT, in, out, FUZZ_FRAMES))
    fail("mdn_stream_process after a reset", NULL);
  /* The audit at the exact path's cost, the governor choosing. */
  mdn_stream_set_audit(s, 1.0);
  tier = MDN_TIER_EXACT;
  for (f = 0; f < FUZZ_FRAMES; f += 50) {
    tier = mdn_stream_pick_tier(s, tier, 20.0);
    if (tier < MDN_TIER_EXACT || tier >= n_tiers)
      fail("mdn_stream_pick_tier picked a tier out of range", NULL);
    if (!mdn_stream_process(s, tier, in + f * in_ch, out, 50))
      fail("mdn_stream_process with the audit on", NULL);
  }
  if (mdn_stream_audit_count(s) > FUZZ_FRAMES)
    fail("the audit audited more frames than it saw", NULL);
  if (!isinf(mdn_stream_audit_snr(s, MDN_TIER_EXACT)))
    fail("the exact path's audited SNR is not infinite", NULL);
  mdn_stream_free(s);
  g_free(in);
  g_free(out);
}

static void
check_model(const MdnModel *m)
{
  const MdnKernel *k = mdn_model_kernel(m);
  GError *error = NULL;
  GBytes *once, *twice;
  MdnModel *again;
  gsize size;
  const void *bytes;
  size_t history;
  int t;

  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    MdnTierInfo info;

    mdn_model_tier_info(m, t, &info);
    if (memchr(info.name, 0, sizeof info.name) == NULL)
      fail("tier name not terminated", NULL);
  }
  (void)mdn_model_exact_cost(m);

  /* Serialise, load, serialise: the same bytes. */
  once = mdn_model_serialize(m, &error);
  if (!once)
    fail("a loaded model does not serialise", error->message);
  bytes = g_bytes_get_data(once, &size);
  again = mdn_model_load_from_data(bytes, size, &error);
  if (!again)
    fail("a serialised model does not load", error->message);
  twice = mdn_model_serialize(again, &error);
  if (!twice)
    fail("a reloaded model does not serialise", error->message);
  if (!g_bytes_equal(once, twice))
    fail("serialise(load(serialise(model))) differs from serialise(model)", NULL);
  g_bytes_unref(once);
  g_bytes_unref(twice);
  mdn_model_free(again);

  history = mdn_exact_history(k);
  for (t = 0; t < mdn_model_n_tiers(m); t++)
    history = MAX(history, mdn_tier_history(mdn_model_tier(m, t)));
  if (history > FUZZ_MAX_SPAN || (guint64)k->cin * k->cout * k->taps > FUZZ_MAX_WEIGHTS)
    return;
  run_stream(m, 1);
  if (k->cin <= MDN_MAX_CHANNELS / 2 && k->cout <= MDN_MAX_CHANNELS / 2)
    run_stream(m, 2);
}

/* Every variant's classes: names by the rule, a claim per tier that is
 * the worst of its classes. */
static void
check_classes(const MdnModel *m)
{
  int c, t;

  for (t = 0; t < mdn_model_n_tiers(m) && mdn_model_n_classes(m) > 0; t++) {
    MdnTierInfo info;
    double worst = INFINITY;

    mdn_model_tier_info(m, t, &info);
    for (c = 0; c < mdn_model_n_classes(m); c++) {
      const char *name = mdn_model_class_name(m, c);

      if (!name || !name[0] || strlen(name) >= MDN_CLASS_NAME_MAX)
        fail("a class name out of bounds", NULL);
      worst = MIN(worst, mdn_model_tier_class_snr(m, t, c));
    }
    if (worst != info.snr_db)
      fail("a tier's claim is not its worst class", info.name);
  }
}

/* The whole preset: variants by rate with the same channels, the preset's
 * own round trip, and the default variant as mdn_model_load_from_data's. */
static void
check_preset(const MdnPreset *p, const uint8_t *data, size_t size)
{
  GError *error = NULL;
  GBytes *once, *twice;
  MdnPreset *again;
  MdnModel *def;
  gsize n;
  const void *bytes;
  int v;

  if (mdn_preset_n_variants(p) < 1 || mdn_preset_n_variants(p) > MDN_MAX_VARIANTS)
    fail("a variant count out of bounds", NULL);
  for (v = 0; v < mdn_preset_n_variants(p); v++) {
    const MdnModel *m = mdn_preset_variant(p, v);

    if (v > 0
        && (lround(mdn_model_kernel(m)->rate)
                <= lround(mdn_model_kernel(mdn_preset_variant(p, v - 1))->rate)
            || mdn_model_kernel(m)->cin != mdn_model_kernel(mdn_preset_variant(p, 0))->cin))
      fail("variants out of order or of other channels", NULL);
    if (mdn_preset_variant_at_rate(p, mdn_model_kernel(m)->rate) != m)
      fail("a variant not found at its rate", NULL);
    check_classes(m);
  }
  once = mdn_preset_serialize(p, &error);
  if (!once)
    fail("a loaded preset does not serialise", error->message);
  bytes = g_bytes_get_data(once, &n);
  again = mdn_preset_load_from_data(bytes, n, &error);
  if (!again)
    fail("a serialised preset does not load", error->message);
  twice = mdn_preset_serialize(again, &error);
  if (!twice || !g_bytes_equal(once, twice))
    fail("serialise(load(serialise(preset))) differs from serialise(preset)", NULL);
  g_bytes_unref(once);
  g_bytes_unref(twice);
  mdn_preset_free(again);
  def = mdn_model_load_from_data(data, size, &error);
  if (!def)
    fail("a preset loads but not its default variant", error->message);
  if (mdn_model_kernel(def)->rate != mdn_model_kernel(mdn_preset_default_variant(p))->rate)
    fail("mdn_model_load_from_data gave another variant than the default", NULL);
  mdn_model_free(def);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GError *error = NULL;
  MdnPreset *p = mdn_preset_load_from_data(data, size, &error);
  int v;

  if (!p) {
    if (!error || error->domain != MDN_ERROR || !error->message[0])
      fail("a refused preset without an MDN_ERROR", NULL);
    g_error_free(error);
    return 0;
  }
  if (error)
    fail("a loaded preset with an error set", error->message);
  check_preset(p, data, size);
  for (v = 0; v < mdn_preset_n_variants(p); v++)
    check_model(mdn_preset_variant(p, v));
  mdn_preset_free(p);
  return 0;
}

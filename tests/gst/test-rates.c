/* test-rates.c: maddnessfilter and presets with rate variants.
 *
 * Presets made in main() (a temporary directory): `three` a 1->1 lowpass
 * designed at 44.1, 48 and 96 kHz, each variant with its own fitted tiers;
 * `pair` another kernel at 44.1 and 96 kHz only; `one` a 48 kHz-only preset;
 * `banks` a 1->4 bank at 48 and 96 kHz and `bank48` another at 48 kHz only,
 * with tiers. The element's caps offer exactly a preset's rates, it runs the
 * variant at the negotiated rate (its output against an exact convolution of
 * that variant's kernel, its tiers bit for bit against the engine's stream of
 * that variant), a missing rate is an error naming the rates, a rate change
 * and a preset swap pick the right variant. After a rate change and a preset
 * swap, the accuracy audit (measured-snr) and min-snr's governor work on the
 * new variant's stream as the engine's do on a stream of it fed the same
 * buffers (tier, expected-snr and measured-snr equal after every buffer,
 * and the output bit for bit: the governor's switches crossfaded as the
 * engine crossfades them). Then playbin with
 * audio-filter=maddnessfilter plays 44.1, 48 and 96 kHz WAV files through
 * every shipped preset (MADDNESS_SHIPPED_PRESETS) with no resampling between
 * the decoder and the element (the negotiated caps), its expected-snr the
 * variant's claim.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <sndfile.h>

#include "maddness.h"
#include "mdn-signals.h"
#include "gst-test-util.h"

static const int rates3[3] = { 44100, 48000, 96000 };
static char *tmp_dir, *three_path, *pair_path, *one_path, *banks_path, *bank48_path;
static MdnPreset *three, *pair, *banks;

/* ---- presets ---------------------------------------------------------------- */

/* The same 4 kHz lowpass designed at each rate (taps in proportion), each
 * with tiers fitted at its rate. */
static MdnPreset *
make_three(void)
{
  MdnPreset *p = mdn_preset_new();
  GError *error = NULL;
  int r;

  for (r = 0; r < 3; r++) {
    MdnKernel *k = mdn_design_lowpass(24 * rates3[r] / 48000, 4000, rates3[r]);
    MdnModel *m = mdn_gst_test_fit_tiered(k, "s4d4e1,s2d6e2", rates3[r], &error);

    if (!m || !mdn_preset_add_variant(p, m, &error))
      g_error("fit at %d Hz: %s", rates3[r], error->message);
    mdn_kernel_free(k);
  }
  return p;
}

/* A gain of 0.5 then a short echo, at 44.1 and 96 kHz (no tiers). */
static MdnPreset *
make_pair(void)
{
  MdnPreset *p = mdn_preset_new();
  GError *error = NULL;
  const int rates[2] = { 44100, 96000 };
  int r;

  for (r = 0; r < 2; r++) {
    MdnKernel *k = mdn_kernel_new(1, 1, 8, 1, rates[r], NULL);
    MdnModel *m;

    k->weights[0] = 0.5f;
    k->weights[7] = 0.25f;
    m = mdn_model_new(k, &error);
    if (!m || !mdn_preset_add_variant(p, m, &error))
      g_error("pair at %d Hz: %s", rates[r], error->message);
    mdn_kernel_free(k);
  }
  return p;
}

/* A 1->4 analysis bank at 48 and 96 kHz (96 taps at 48 kHz, in proportion
 * at 96 kHz), each variant with its own tiers: its exact path costs enough
 * that the audit's 5 % measures within about half a second. */
static MdnPreset *
make_banks(void)
{
  static const int rates[2] = { 48000, 96000 };
  MdnPreset *p = mdn_preset_new();
  GError *error = NULL;
  int r;

  for (r = 0; r < 2; r++) {
    MdnKernel *k = mdn_design_bank(4, 96 * rates[r] / 48000, rates[r]);
    MdnModel *m = mdn_gst_test_fit_tiered(k, "s8d4e2q6,s4d6e8,s2d6e16", rates[r], &error);

    if (!m || !mdn_preset_add_variant(p, m, &error))
      g_error("bank at %d Hz: %s", rates[r], error->message);
    mdn_kernel_free(k);
  }
  return p;
}

/* Another 1->4 bank (64 taps), at 48 kHz only, with two tiers. */
static MdnPreset *
make_bank48(void)
{
  MdnPreset *p = mdn_preset_new();
  GError *error = NULL;
  MdnKernel *k = mdn_design_bank(4, 64, 48000);
  MdnModel *m = mdn_gst_test_fit_tiered(k, "s8d4e2q6,s4d6e8", 48000, &error);

  if (!m || !mdn_preset_add_variant(p, m, &error))
    g_error("bank at 48 kHz: %s", error->message);
  mdn_kernel_free(k);
  return p;
}

static char *
save(const MdnPreset *p, const char *name)
{
  char *path = g_build_filename(tmp_dir, name, NULL);
  GError *error = NULL;

  if (!mdn_preset_save(p, path, &error))
    g_error("%s: %s", path, error->message);
  return path;
}

/* ---- helpers ------------------------------------------------------------------ */

static GstBus *
attach_bus(GstElement *element)
{
  GstBus *bus = gst_bus_new();

  gst_element_set_bus(element, bus);
  return bus;
}

static void
detach_bus(GstBus *bus)
{
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}

/* Pushes n frames of `in` in buffers of 1000 and appends the output to `out`. */
static void
push_frames(GstHarness *h, const float *in, size_t n, int rate, gint64 first_frame, GArray *out)
{
  size_t done;

  for (done = 0; done < n; done += 1000) {
    size_t chunk = MIN(1000, n - done);
    GstBuffer *res;
    GstMapInfo map;

    fail_unless_equals_int(
        gst_harness_push(
            h, mdn_gst_test_make_buffer(in + done, chunk, 1, rate, first_frame + (gint64)done)),
        GST_FLOW_OK);
    res = gst_harness_pull(h);
    gst_buffer_map(res, &map, GST_MAP_READ);
    fail_unless_equals_uint64(map.size, chunk * sizeof(float));
    g_array_append_vals(out, map.data, chunk);
    gst_buffer_unmap(res, &map);
    gst_buffer_unref(res);
  }
}

/* SNR of `got` (n frames) against the double-precision convolution of k. */
static double
snr_against_kernel(const MdnKernel *k, const float *in, const float *got, size_t n)
{
  double *ref = mdn_reference_conv(k, in, n), snr = mdn_snr_db(ref, got, n * k->cout);

  g_free(ref);
  return snr;
}

/* The index of the tier named `name` in m, or MDN_TIER_EXACT for "exact". */
static int
tier_named(const MdnModel *m, const char *name)
{
  int t;

  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    MdnTierInfo info;

    mdn_model_tier_info(m, t, &info);
    if (strcmp(info.name, name) == 0)
      return t;
  }
  fail_unless(strcmp(name, "exact") == 0, "no tier %s", name);
  return MDN_TIER_EXACT;
}

/* ---- caps ----------------------------------------------------------------------- */

/* The rates a caps query on the sink pad offers. */
static GArray *
queried_rates(const char *preset)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstPad *sink = gst_element_get_static_pad(element, "sink");
  GArray *rates = g_array_new(FALSE, FALSE, sizeof(int));
  GstCaps *caps;
  guint i, j;

  g_object_set(element, "preset", preset, NULL);
  fail_unless_equals_int(gst_element_set_state(element, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  /* The preset is read on READY -> PAUSED (GstBaseTransform's start). */
  gst_pad_set_active(sink, TRUE);
  gst_element_set_state(element, GST_STATE_PAUSED);
  caps = gst_pad_query_caps(sink, NULL);
  GST_INFO("%s: %" GST_PTR_FORMAT, preset, caps);
  fail_if(gst_caps_is_empty(caps) || gst_caps_is_any(caps));
  for (i = 0; i < gst_caps_get_size(caps); i++) {
    const GValue *v = gst_structure_get_value(gst_caps_get_structure(caps, i), "rate");

    fail_unless(v != NULL);
    if (G_VALUE_HOLDS_INT(v)) {
      int r = g_value_get_int(v);
      g_array_append_val(rates, r);
    } else {
      fail_unless(GST_VALUE_HOLDS_LIST(v), "rate is a %s", G_VALUE_TYPE_NAME(v));
      for (j = 0; j < gst_value_list_get_size(v); j++) {
        int r = g_value_get_int(gst_value_list_get_value(v, j));
        g_array_append_val(rates, r);
      }
    }
  }
  gst_caps_unref(caps);
  gst_element_set_state(element, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(element);
  return rates;
}

GST_START_TEST(test_caps_query_rates)
{
  GArray *rates = queried_rates(three_path);
  int r;

  /* Exactly the variants' rates (one structure; each rate once). */
  fail_unless_equals_int(rates->len, 3);
  for (r = 0; r < 3; r++)
    fail_unless_equals_int(g_array_index(rates, int, r), rates3[r]);
  g_array_free(rates, TRUE);
  rates = queried_rates(pair_path);
  fail_unless_equals_int(rates->len, 2);
  fail_unless_equals_int(g_array_index(rates, int, 0), 44100);
  fail_unless_equals_int(g_array_index(rates, int, 1), 96000);
  g_array_free(rates, TRUE);
  rates = queried_rates(one_path);
  fail_unless_equals_int(rates->len, 1);
  fail_unless_equals_int(g_array_index(rates, int, 0), 48000);
  g_array_free(rates, TRUE);
}
GST_END_TEST;

/* ---- the variant at the negotiated rate ------------------------------------------ */

/* At each rate: quality 10 against an exact convolution of that variant's
 * kernel; quality 0 bit for bit against the engine's stream of that variant
 * on its fastest tier; expected-snr and tier are the variant's. */
GST_START_TEST(test_variant_outputs)
{
  int r;

  for (r = 0; r < 3; r++) {
    const int rate = rates3[r];
    const MdnModel *variant = mdn_preset_variant_at_rate(three, rate);
    const size_t n = (size_t)rate / 4;
    float *in = mdn_signal_music(n, rate, 40 + r), *want = g_new(float, n);
    GArray *exact_out = g_array_new(FALSE, FALSE, sizeof(float));
    GArray *tier_out = g_array_new(FALSE, FALSE, sizeof(float));
    GstHarness *h = mdn_gst_test_filter_harness(three_path, 10, 1, rate);
    MdnStream *stream;
    MdnTierInfo info;
    double snr, expected;
    char *tier;
    size_t j;

    push_frames(h, in, n, rate, 0, exact_out);
    snr = snr_against_kernel(mdn_model_kernel(variant), in, (float *)exact_out->data, n);
    GST_INFO("%d Hz exact: %.1f dB against the %d-tap variant", rate, snr,
             mdn_model_kernel(variant)->taps);
    fail_unless(snr > 100, "%d Hz: exact output %.1f dB from its variant's kernel", rate, snr);
    /* ... and far from the other variants' kernels (they are other filters in samples). */
    snr = snr_against_kernel(mdn_model_kernel(mdn_preset_variant(three, (r + 1) % 3)), in,
                             (float *)exact_out->data, n);
    fail_unless(snr < 40, "%d Hz: the output matches another variant's kernel (%.1f dB)", rate,
                snr);
    gst_harness_teardown(h);

    h = mdn_gst_test_filter_harness(three_path, 0, 1, rate);
    push_frames(h, in, n, rate, 0, tier_out);
    g_object_get(h->element, "expected-snr", &expected, "tier", &tier, NULL);
    mdn_model_tier_info(variant, 0, &info);
    fail_unless_equals_string(tier, info.name);
    fail_unless(expected == info.snr_db, "%d Hz: expected-snr %g, the variant claims %g", rate,
                expected, info.snr_db);
    stream = mdn_stream_new(variant, 1, NULL);
    mdn_stream_process(stream, 0, in, want, n);
    for (j = 0; j < n; j++)
      fail_unless(g_array_index(tier_out, float, j) == want[j], "%d Hz: frame %zu differs", rate,
                  j);
    mdn_stream_free(stream);
    g_free(tier);
    gst_harness_teardown(h);
    g_array_free(exact_out, TRUE);
    g_array_free(tier_out, TRUE);
    g_free(in);
    g_free(want);
  }
}
GST_END_TEST;

/* New caps at another rate: the element switches to that rate's variant. */
GST_START_TEST(test_rate_change)
{
  GstHarness *h = mdn_gst_test_filter_harness(three_path, 10, 1, 48000);
  float *in = mdn_signal_speech(24000, 96000, 9);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  double snr;

  push_frames(h, in, 4800, 48000, 0, out);
  g_array_set_size(out, 0);
  gst_harness_set_src_caps_str(h, MDN_GST_TEST_F32 ",rate=96000,channels=1");
  push_frames(h, in, 24000, 96000, 0, out);
  snr = snr_against_kernel(mdn_model_kernel(mdn_preset_variant_at_rate(three, 96000)), in,
                           (float *)out->data, 24000);
  fail_unless(snr > 100, "after the rate change: %.1f dB from the 96 kHz variant", snr);
  g_array_free(out, TRUE);
  g_free(in);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* A rate the preset lacks: a negotiation error naming the preset's rates and
 * the nearest one to resample to. */
GST_START_TEST(test_missing_rate_error)
{
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *msg;
  GError *error = NULL;
  char *desc, *debug = NULL;

  desc = g_strdup_printf("audiotestsrc num-buffers=4 ! audio/x-raw,rate=22050,channels=1 ! "
                         "audioconvert ! maddnessfilter preset=%s ! fakesink",
                         three_path);
  pipeline = gst_parse_launch(desc, &error);
  g_assert_no_error(error);
  bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless(msg != NULL && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR, "no error");
  gst_message_parse_error(msg, &error, &debug);
  GST_INFO("%s", error->message);
  fail_unless(g_error_matches(error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION), "%s",
              error->message);
  fail_unless(strstr(error->message, "44100, 48000 and 96000 Hz") != NULL, "%s", error->message);
  fail_unless(strstr(error->message, "22050 Hz") != NULL, "%s", error->message);
  fail_unless(strstr(error->message, "audioresample ! audio/x-raw,rate=44100") != NULL, "%s",
              error->message);
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  g_free(desc);
}
GST_END_TEST;

/* Swapped while playing at 44.1 kHz: the new preset's 44.1 kHz variant runs
 * once the swap is done; a preset without 44.1 kHz is refused with a warning
 * and the running one keeps going. */
GST_START_TEST(test_swap_picks_variant)
{
  GstHarness *h = mdn_gst_test_filter_harness(three_path, 10, 1, 44100);
  GstBus *bus = attach_bus(h->element);
  const size_t n = 44100;
  float *in = mdn_signal_speech(n, 44100, 12);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  const MdnKernel *k;
  double *ref;
  char *preset;
  size_t t;

  push_frames(h, in, 4000, 44100, 0, out);
  g_object_set(h->element, "preset", pair_path, NULL);
  push_frames(h, in + 4000, n - 4000, 44100, 4000, out);
  /* Long after the swap (warm-up 8 frames, crossfade 10 ms): pair's 44.1 kHz kernel. */
  k = mdn_model_kernel(mdn_preset_variant_at_rate(pair, 44100));
  ref = mdn_reference_conv(k, in, n);
  for (t = 10000; t < n; t++)
    fail_unless(fabs(g_array_index(out, float, t) - ref[t]) < 1e-5, "frame %zu: %g, want %g", t,
                g_array_index(out, float, t), ref[t]);
  /* No 44.1 kHz in `one`: a warning, the old preset stays. */
  g_object_set(h->element, "preset", one_path, NULL);
  g_object_get(h->element, "preset", &preset, NULL);
  fail_unless_equals_string(preset, pair_path);
  {
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
    GError *error = NULL;
    char *debug = NULL;

    fail_unless(msg != NULL, "no warning");
    gst_message_parse_warning(msg, &error, &debug);
    fail_unless(strstr(error->message, "48000 Hz") != NULL, "%s", error->message);
    fail_unless(strstr(error->message, "44100 Hz") != NULL, "%s", error->message);
    g_clear_error(&error);
    g_free(debug);
    gst_message_unref(msg);
  }
  g_free(preset);
  g_free(ref);
  g_array_free(out, TRUE);
  g_free(in);
  detach_bus(bus);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- the audit and min-snr on rate variants ---------------------------------------- */

/* An engine stream of one variant fed what the element is fed, from the
 * frame its own stream starts at, its tier picked before each buffer as the
 * element picks it (mdn_stream_pick_tier at the element's min-snr; before
 * anything is measured the governor goes by the claims, whatever the
 * current tier). */
typedef struct {
  const MdnModel *variant;
  MdnStream *stream;
  int tier, switches;
  int blended; /* buffers still to come whose output is not the mirror's alone (a swap's crossfade)
                */
  float *out;  /* one buffer's output */
} Mirror;

static void
mirror_init(Mirror *m, const MdnModel *variant)
{
  GError *error = NULL;

  m->variant = variant;
  m->stream = mdn_stream_new(variant, 1, &error);
  g_assert_no_error(error);
  mdn_stream_set_audit(m->stream, MDN_AUDIT_DEFAULT_FRACTION);
  /* The element's crossfade between paths: 10 ms. */
  mdn_stream_set_crossfade(m->stream, (size_t)lround(mdn_model_kernel(variant)->rate / 100));
  m->tier = MDN_TIER_EXACT;
  m->switches = -1; /* the first pick is not a switch */
  m->out = g_new(float, (size_t)1000 * mdn_model_kernel(variant)->cout);
}

static void
mirror_clear(Mirror *m)
{
  mdn_stream_free(m->stream);
  g_free(m->out);
}

/* The element's tier, expected-snr and measured-snr are the mirror's: the
 * tier's name, its claim in the mirror's variant, its audited SNR bit for
 * bit. */
static void
assert_mirrored(GstElement *element, const Mirror *m, const char *when)
{
  char *tier = NULL;
  double expected = 0, measured = 0, want;
  MdnTierInfo info = { .name = "exact", .snr_db = INFINITY };

  g_object_get(element, "tier", &tier, "expected-snr", &expected, "measured-snr", &measured, NULL);
  if (m->tier != MDN_TIER_EXACT)
    mdn_model_tier_info(m->variant, m->tier, &info);
  want = mdn_stream_audit_snr(m->stream, m->tier);
  fail_unless_equals_string(tier, info.name);
  fail_unless(expected == info.snr_db, "%s: expected-snr %g, the variant claims %g", when, expected,
              info.snr_db);
  fail_unless(memcmp(&measured, &want, sizeof want) == 0 || (isnan(measured) && isnan(want)),
              "%s, tier %s: measured-snr %g, the engine's audit %g", when, tier, measured, want);
  g_free(tier);
}

/* Pushes n mono frames in buffers of 1000, the mirror (if any) fed each
 * buffer as the element is and checked after it: the same tier, claim and
 * audited SNR, and the same output bit for bit (tier switches crossfaded as
 * the engine's stream crossfades them). */
static void
push_mirrored(GstHarness *h, const float *in, size_t n, int rate, gint64 *frame, double min_snr,
              Mirror *m, const char *when)
{
  size_t done;

  for (done = 0; done < n; done += 1000) {
    size_t chunk = MIN(1000, n - done);
    GstBuffer *res;

    fail_unless_equals_int(
        gst_harness_push(h, mdn_gst_test_make_buffer(in + done, chunk, 1, rate, *frame)),
        GST_FLOW_OK);
    res = gst_harness_pull(h);
    fail_unless(res != NULL);
    *frame += (gint64)chunk;
    if (m) {
      int tier = mdn_stream_pick_tier(m->stream, m->tier, min_snr);
      const size_t bytes = chunk * (size_t)mdn_model_kernel(m->variant)->cout * sizeof(float);
      GstMapInfo map;

      m->switches += tier != m->tier;
      m->tier = tier;
      fail_unless(mdn_stream_process(m->stream, tier, in + done, m->out, chunk));
      assert_mirrored(h->element, m, when);
      fail_unless(gst_buffer_map(res, &map, GST_MAP_READ));
      fail_unless(map.size == bytes);
      fail_unless(m->blended > 0 || memcmp(map.data, m->out, bytes) == 0,
                  "%s: the output differs from the engine's", when);
      m->blended = MAX(m->blended - 1, 0);
      gst_buffer_unmap(res, &map);
    }
    gst_buffer_unref(res);
  }
}

/* The audit and the governor after a rate change: the 96 kHz variant's
 * stream is audited afresh (measured-snr NaN, then its audited SNRs, bit for
 * bit those of an engine stream of that variant fed the same buffers), and
 * min-snr picks among that variant's tiers by its claims then by its audit,
 * as the engine's governor does on that stream. */
GST_START_TEST(test_audit_after_rate_change)
{
  const size_t n48 = 48000, n96 = 4 * 96000;
  float *in48 = mdn_signal_speech(n48, 48000, 31);
  float *speech = mdn_signal_speech(n96 / 2, 96000, 32),
        *music = mdn_signal_music(n96 / 2, 96000, 33);
  float *in96 = g_new(float, n96);
  const MdnModel *v96 = mdn_preset_variant_at_rate(banks, 96000);
  GstHarness *h = mdn_gst_test_filter_harness(banks_path, 0, 1, 48000);
  Mirror m;
  MdnTierInfo info;
  double measured = 0, min_snr;
  gint64 first = 0;

  memcpy(in96, speech, n96 / 2 * sizeof(float));
  memcpy(in96 + n96 / 2, music, n96 / 2 * sizeof(float));
  push_mirrored(h, in48, n48, 48000, &first, 0, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isfinite(measured), "48 kHz: measured-snr %g after 1 s", measured);

  /* The 96 kHz variant, min-snr just under its middle tier's claim (the
   * element keeps min-snr as a float). */
  mdn_model_tier_info(v96, 1, &info);
  min_snr = info.snr_db - 0.01;
  g_object_set(h->element, "min-snr", min_snr, NULL);
  gst_harness_set_src_caps_str(h, MDN_GST_TEST_F32 ",rate=96000,channels=1");
  mirror_init(&m, v96);
  first = 0;
  push_mirrored(h, in96, 1000, 96000, &first, min_snr, &m, "96 kHz, first buffer");
  fail_unless(isnan(mdn_stream_audit_snr(m.stream, 0)));
  fail_unless_equals_int(m.tier, 1); /* by the claims */
  push_mirrored(h, in96 + 1000, n96 - 1000, 96000, &first, min_snr, &m, "96 kHz");
  fail_unless(isfinite(mdn_stream_audit_snr(m.stream, 0)));
  GST_INFO("96 kHz, min-snr %.1f dB: %d switches, then %s; audited %.1f, %.1f, %.1f dB", min_snr,
           m.switches, m.tier == MDN_TIER_EXACT ? "exact" : "a tier",
           mdn_stream_audit_snr(m.stream, 0), mdn_stream_audit_snr(m.stream, 1),
           mdn_stream_audit_snr(m.stream, 2));
  fail_unless(m.switches > 0, "the governor never moved on the 96 kHz variant");
  mirror_clear(&m);
  gst_harness_teardown(h);
  g_free(in48);
  g_free(in96);
  g_free(speech);
  g_free(music);
}
GST_END_TEST;

/* The audit and the governor across a live preset swap: from the swap on,
 * the new preset's stream (warming up, crossfaded in, then running alone) is
 * audited from its first buffer and min-snr picks among its tiers, as the
 * engine's audit and governor do on a stream of its variant fed the same
 * buffers; once it runs alone the element reports them. */
GST_START_TEST(test_audit_after_swap)
{
  const size_t n = 3 * 48000;
  float *in = mdn_signal_speech(n, 48000, 34);
  GstHarness *h = mdn_gst_test_filter_harness(banks_path, 0, 1, 48000);
  MdnPreset *bank48 = mdn_preset_load(bank48_path, NULL);
  const MdnModel *v48 = mdn_preset_variant_at_rate(bank48, 48000);
  Mirror m;
  MdnTierInfo info;
  double min_snr;
  gint64 first = 0;

  push_mirrored(h, in, 8000, 48000, &first, 0, NULL, NULL);
  mdn_model_tier_info(v48, 0, &info);
  min_snr = info.snr_db - 3;
  g_object_set(h->element, "min-snr", min_snr, "preset", bank48_path, NULL);
  mirror_init(&m, v48);
  /* Taken at the next buffer, warmed up (64 frames) and crossfaded in (480)
   * within it: from then on the element reports the new preset, and after
   * it its output is the new preset's alone. */
  m.blended = 1;
  push_mirrored(h, in, n, 48000, &first, min_snr, &m, "after the swap");
  fail_unless(isfinite(mdn_stream_audit_snr(m.stream, 0)));
  GST_INFO("after the swap, min-snr %.1f dB: %d switches; audited %.1f, %.1f dB", min_snr,
           m.switches, mdn_stream_audit_snr(m.stream, 0), mdn_stream_audit_snr(m.stream, 1));
  /* The new preset's fastest tier (by its claim) measures under min-snr on this speech. */
  fail_unless(m.switches > 0, "the governor never moved on the new preset");
  mirror_clear(&m);
  gst_harness_teardown(h);
  mdn_preset_free(bank48);
  g_free(in);
}
GST_END_TEST;

/* ---- playbin ------------------------------------------------------------------------ */

static gboolean
write_wav(const char *path, int rate, int channels, double seconds)
{
  SF_INFO info
      = { .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
  const size_t n = (size_t)(seconds * rate);
  float *x = mdn_signal_multichannel(mdn_signal_music, n, channels, rate, 5);
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  gboolean ok = f && sf_writef_float(f, x, (sf_count_t)n) == (sf_count_t)n;

  if (f)
    sf_close(f);
  g_free(x);
  return ok;
}

/* The rate on the source pad of the bin's element made by `factory`
 * (searched recursively), or 0. */
static int
rate_out_of(GstElement *bin, const char *factory)
{
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  int rate = 0;

  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object(&item);
    GstElementFactory *f = gst_element_get_factory(e);

    if (f && strcmp(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)), factory) == 0) {
      GstPad *src = gst_element_get_static_pad(e, "src");
      GstCaps *caps = src ? gst_pad_get_current_caps(src) : NULL;

      if (caps)
        gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate", &rate);
      if (caps)
        gst_caps_unref(caps);
      if (src)
        gst_object_unref(src);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return rate;
}

/* Plays `path` through playbin with maddnessfilter preset=name; checks the
 * filter's negotiated rate, that nothing resamples before it, its claim. */
static void
play_through(const char *name, const MdnPreset *preset, const char *path, int rate, int quality)
{
  GstElement *playbin = gst_element_factory_make("playbin", NULL);
  GstElement *filter = gst_element_factory_make("maddnessfilter", NULL);
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  char *uri = gst_filename_to_uri(path, NULL), *tier = NULL;
  GstBus *bus = gst_element_get_bus(playbin);
  GstPad *filter_sink = gst_element_get_static_pad(filter, "sink");
  GstCaps *caps;
  GstMessage *msg;
  GstStructure *s;
  int caps_rate = 0;
  double expected;
  const MdnModel *variant = mdn_preset_variant_at_rate(preset, rate);

  fail_unless(playbin && filter && sink);
  fail_unless(variant != NULL, "shipped preset %s has no %d Hz variant", name, rate);
  g_object_set(filter, "preset", name, "quality", quality, NULL);
  g_object_set(sink, "sync", FALSE, NULL);
  g_object_set(playbin, "uri", uri, "audio-filter", filter, "audio-sink", sink, NULL);
  fail_if(gst_element_set_state(playbin, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered(bus, 20 * GST_SECOND,
                                   GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "%s at %d Hz: no preroll", name, rate);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *error = NULL;
    gst_message_parse_error(msg, &error, NULL);
    fail("%s at %d Hz: %s", name, rate, error->message);
  }
  gst_message_unref(msg);
  /* Negotiated at the file's rate: nothing resampled it before the filter. */
  caps = gst_pad_get_current_caps(filter_sink);
  fail_unless(caps != NULL);
  s = gst_caps_get_structure(caps, 0);
  fail_unless(gst_structure_get_int(s, "rate", &caps_rate));
  fail_unless_equals_int(caps_rate, rate);
  gst_caps_unref(caps);
  /* The decoder's output is at that rate too: no resampler between them. */
  fail_unless_equals_int(rate_out_of(playbin, "wavparse"), rate);
  /* The claim is the variant's: expected-snr is the SNR its tier stores. */
  g_object_get(filter, "tier", &tier, "expected-snr", &expected, NULL);
  {
    int t = tier_named(variant, tier);
    MdnTierInfo info;

    if (t == MDN_TIER_EXACT) {
      fail_unless(isinf(expected));
    } else {
      mdn_model_tier_info(variant, t, &info);
      fail_unless(expected == info.snr_db, "%s at %d Hz: expected-snr %g, claim %g", name, rate,
                  expected, info.snr_db);
    }
  }
  gst_element_set_state(playbin, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "%s at %d Hz: no EOS", name, rate);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *error = NULL;
    gst_message_parse_error(msg, &error, NULL);
    fail("%s at %d Hz: %s", name, rate, error->message);
  }
  GST_INFO("%s at %d Hz, quality %d: tier %s, expected-snr %.1f dB", name, rate, quality, tier,
           expected);
  gst_message_unref(msg);
  gst_element_set_state(playbin, GST_STATE_NULL);
  g_free(tier);
  gst_object_unref(filter_sink);
  gst_object_unref(bus);
  gst_object_unref(playbin);
  g_free(uri);
}

GST_START_TEST(test_playbin_shipped)
{
  const char *dir = g_getenv("MADDNESS_SHIPPED_PRESETS");
  static const char *const names[]
      = { "lowpass", "highpass", "bank16", "crossover", "reverb", "beam8" };
  int r, quality = 0;
  guint p;

  fail_unless(dir != NULL);
  g_setenv("MADDNESS_PRESET_PATH", dir, TRUE);
  for (r = 0; r < 3; r++) {
    char *mono = g_strdup_printf("%s/mono-%d.wav", tmp_dir, rates3[r]);
    char *stereo = g_strdup_printf("%s/stereo-%d.wav", tmp_dir, rates3[r]);
    char *array = g_strdup_printf("%s/array-%d.wav", tmp_dir, rates3[r]);

    fail_unless(write_wav(mono, rates3[r], 1, 0.3) && write_wav(stereo, rates3[r], 2, 0.3)
                && write_wav(array, rates3[r], 8, 0.3));
    for (p = 0; p < G_N_ELEMENTS(names); p++) {
      char *file = g_strdup_printf("%s/%s.mdn", dir, names[p]);
      GError *error = NULL;
      MdnPreset *preset = mdn_preset_load(file, &error);
      const MdnKernel *k;

      g_assert_no_error(error);
      k = mdn_model_kernel(mdn_preset_variant(preset, 0));
      /* 1->1 presets on stereo media, the others on what they take. */
      play_through(names[p], preset,
                   k->cin == 8    ? array
                   : k->cout == 1 ? stereo
                                  : mono,
                   rates3[r], quality);
      quality = (quality + 3) % 11; /* 0, 3, 6, 9, 1, ... over the runs */
      mdn_preset_free(preset);
      g_free(file);
    }
    g_free(mono);
    g_free(stereo);
    g_free(array);
  }
  g_unsetenv("MADDNESS_PRESET_PATH");
}
GST_END_TEST;

static Suite *
rates_suite(void)
{
  Suite *s = suite_create("maddnessfilter-rates");
  TCase *tc = tcase_create("rates");

  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_caps_query_rates);
  tcase_add_test(tc, test_variant_outputs);
  tcase_add_test(tc, test_rate_change);
  tcase_add_test(tc, test_missing_rate_error);
  tcase_add_test(tc, test_swap_picks_variant);
  tcase_add_test(tc, test_audit_after_rate_change);
  tcase_add_test(tc, test_audit_after_swap);
  tcase_add_test(tc, test_playbin_shipped);
  return s;
}

int
main(int argc, char **argv)
{
  GError *error = NULL;
  MdnPreset *one;

  mdn_gst_test_init(&argc, &argv);
  tmp_dir = g_dir_make_tmp("mdn-rates-XXXXXX", &error);
  g_assert_no_error(error);
  three = make_three();
  pair = make_pair();
  one = mdn_preset_new();
  {
    MdnKernel *k = mdn_design_lowpass(8, 2000, 48000);
    mdn_preset_add_variant(one, mdn_model_new(k, NULL), NULL);
    mdn_kernel_free(k);
  }
  banks = make_banks();
  three_path = save(three, "three.mdn");
  banks_path = save(banks, "banks.mdn");
  {
    MdnPreset *bank48 = make_bank48();

    bank48_path = save(bank48, "bank48.mdn");
    mdn_preset_free(bank48);
  }
  pair_path = save(pair, "pair.mdn");
  one_path = save(one, "one.mdn");
  mdn_preset_free(one);
  return mdn_gst_test_run(rates_suite(), "maddnessfilter-rates", __FILE__, tmp_dir);
}

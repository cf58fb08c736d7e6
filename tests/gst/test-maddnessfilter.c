/* test-maddnessfilter.c: maddnessfilter element tests (GstHarness and small pipelines).
 *
 * Presets are written to a temporary directory at start-up from kernels built
 * here; the tiered preset is fitted once with mdn_fit on speech-like audio.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/controller/gstinterpolationcontrolsource.h>
#include <gst/controller/gstdirectcontrolbinding.h>
#include <glib/gstdio.h>
#include <sndfile.h>

#include "maddness.h"
#include "mdn-signals.h"
#include "gst-test-util.h"

#define RATE 48000

/* Preset files made in main (), inherited by the forked tests. */
static char *tmp_dir;
static char *p11_path, *p14_path, *p22_path, *lp_path, *lp2_path, *gain_path, *p44k_path;
static char *delay_path;
static char *tiered_path, *corrupt_path, *bank_path;
static MdnKernel *k11, *k14, *k22, *klp, *klp2, *kgain;
static char *tiered_error; /* why the tiered preset could not be made, if it could not */

/* ---- helpers ------------------------------------------------------------ */

static char *
save_preset(const MdnKernel *k, const char *name)
{
  char *path = g_build_filename(tmp_dir, name, NULL);

  mdn_gst_test_write_preset(k, path);
  return path;
}

/* A kernel whose weights are all different and easy to recognise. */
static MdnKernel *
distinct_kernel(int cin, int cout, int taps)
{
  MdnKernel *k = mdn_kernel_new(cin, cout, taps, 1, RATE, NULL);
  int o, i, t;

  for (o = 0; o < cout; o++)
    for (i = 0; i < cin; i++)
      for (t = 0; t < taps; t++)
        k->weights[((size_t)o * cin + i) * taps + t]
            = (float)((o + 1) * 0.1 + (i + 1) * 0.01 + (t + 1) * 0.001) * (t % 2 ? -1.0f : 1.0f);
  return k;
}

static void
make_tiered_preset(void)
{
  GError *error = NULL;
  MdnModel *model = mdn_gst_test_fit_tiered(klp, "s4d4,s2d6,s1d8", RATE, &error);

  if (model) {
    tiered_path = g_build_filename(tmp_dir, "tiered.mdn", NULL);
    if (!mdn_model_save(model, tiered_path, &error)) {
      tiered_error = g_strdup(error->message);
      g_clear_error(&error);
    }
    mdn_model_free(model);
  } else {
    tiered_error = g_strdup(error->message);
    g_clear_error(&error);
  }
}

/* A 1->4 analysis bank fitted on 4 s of speech: its exact path costs
 * enough that the audit's 5 % samples some 40 frames a second. */
static void
make_bank_preset(void)
{
  MdnKernel *k = mdn_design_bank(4, 96, RATE);
  MdnTierSpec *specs = NULL;
  MdnFitOptions options;
  GError *error = NULL;
  const size_t n = 4 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 7);
  MdnModel *model;

  mdn_fit_options_init(&options);
  options.n_specs = mdn_tier_ladder_parse("s8d4e2q6,s4d6e8,s2d6e16", &specs, &error);
  g_assert_no_error(error);
  options.specs = specs;
  options.seed = 3;
  options.keep_dominated = TRUE;
  model = mdn_fit(k, audio, n, &options, &error);
  g_assert_no_error(error);
  bank_path = g_build_filename(tmp_dir, "bank.mdn", NULL);
  if (!mdn_model_save(model, bank_path, &error))
    g_error("%s: %s", bank_path, error->message);
  mdn_model_free(model);
  mdn_kernel_free(k);
  g_free(specs);
  g_free(audio);
}

static const char *
tiered(void)
{
  if (!tiered_path || tiered_error)
    g_error("no tiered preset (mdn_fit): %s", tiered_error ? tiered_error : "?");
  return tiered_path;
}

#define harness_new(preset, quality, in_channels)                                                  \
  mdn_gst_test_filter_harness(preset, quality, in_channels, RATE)

static GstBuffer *
make_buffer(const float *data, size_t n_frames, int channels, guint64 first_frame)
{
  GstBuffer *buf = mdn_gst_test_make_buffer(data, n_frames, channels, RATE, (gint64)first_frame);

  GST_BUFFER_OFFSET(buf) = first_frame;
  GST_BUFFER_OFFSET_END(buf) = first_frame + n_frames;
  return buf;
}

/* Pushes `in` frames, pulls the output buffer, checks its frame count and
 * metadata, appends its samples to `out`. */
static void
push_pull(GstHarness *h, const float *in, size_t n_frames, int in_channels, int out_channels,
          guint64 first_frame, gboolean discont, GArray *out)
{
  GstBuffer *buf = make_buffer(in, n_frames, in_channels, first_frame);
  GstBuffer *res;
  GstMapInfo map;

  if (discont)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(buf)), GST_FLOW_OK);
  res = gst_harness_pull(h);
  fail_unless(res != NULL);
  fail_unless_equals_uint64(GST_BUFFER_PTS(res), GST_BUFFER_PTS(buf));
  fail_unless_equals_uint64(GST_BUFFER_DURATION(res), GST_BUFFER_DURATION(buf));
  fail_unless_equals_uint64(GST_BUFFER_OFFSET(res), GST_BUFFER_OFFSET(buf));
  fail_unless_equals_uint64(GST_BUFFER_OFFSET_END(res), GST_BUFFER_OFFSET_END(buf));
  gst_buffer_map(res, &map, GST_MAP_READ);
  fail_unless_equals_uint64(map.size, n_frames * out_channels * sizeof(float));
  g_array_append_vals(out, map.data, n_frames * out_channels);
  gst_buffer_unmap(res, &map);
  gst_buffer_unref(res);
  gst_buffer_unref(buf);
}

/* Runs `in` through a fresh element in the given buffer sizes (sizes[] cycled;
 * NULL: one buffer). Returns the output (g_free). */
static float *
run_filter(const char *preset, int quality, const float *in, size_t n_frames, int in_channels,
           int out_channels, const size_t *sizes, int n_sizes)
{
  GstHarness *h = harness_new(preset, quality, in_channels);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  size_t done = 0;
  int b = 0;

  while (done < n_frames) {
    size_t n = sizes ? MIN(sizes[b++ % n_sizes], n_frames - done) : n_frames;

    push_pull(h, in + done * in_channels, n, in_channels, out_channels, done, FALSE, out);
    done += n;
  }
  gst_harness_teardown(h);
  fail_unless_equals_uint64(out->len, n_frames * out_channels);
  return (float *)g_array_free(out, FALSE);
}

static int
caps_channels(GstPad *pad)
{
  GstCaps *caps = gst_pad_get_current_caps(pad);
  int channels = 0;

  fail_unless(caps != NULL);
  gst_structure_get_int(gst_caps_get_structure(caps, 0), "channels", &channels);
  gst_caps_unref(caps);
  return channels;
}

static double
max_step(const float *y, size_t n, int channels, int channel)
{
  double worst = 0;
  size_t t;

  for (t = 1; t < n; t++)
    worst = MAX(worst, fabs((double)y[t * channels + channel] - y[(t - 1) * channels + channel]));
  return worst;
}

static float *
sine(size_t n, double freq, double amp)
{
  float *x = g_new(float, n);
  size_t t;

  for (t = 0; t < n; t++)
    x[t] = (float)(amp * sin(2 * G_PI * freq * t / RATE));
  return x;
}

static GstBus *
attach_bus(GstElement *element)
{
  GstBus *bus = gst_bus_new();

  gst_element_set_bus(element, bus);
  return bus;
}

/* Drops queued and future messages: they hold refs to the element. */
static void
detach_bus(GstBus *bus)
{
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}

static int
count_messages(GstBus *bus, GstMessageType type)
{
  GstMessage *msg;
  int n = 0;

  while ((msg = gst_bus_pop_filtered(bus, type))) {
    n++;
    gst_message_unref(msg);
  }
  return n;
}

/* ---- element and properties ------------------------------------------- */

GST_START_TEST(test_properties)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GObjectClass *klass;
  GParamSpec *pspec;
  GParamSpecInt *ispec;
  const char *names[]
      = { "preset", "quality", "expected-snr", "tier", "measured-snr", "audit", "min-snr" };
  gsize i;

  fail_unless(element != NULL);
  klass = G_OBJECT_GET_CLASS(element);
  for (i = 0; i < G_N_ELEMENTS(names); i++) {
    pspec = g_object_class_find_property(klass, names[i]);
    fail_unless(pspec != NULL, "%s", names[i]);
    fail_unless(strlen(g_param_spec_get_blurb(pspec)) > 20, "%s has no real blurb", names[i]);
  }
  pspec = g_object_class_find_property(klass, "preset");
  fail_unless(pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  fail_unless(pspec->flags & G_PARAM_WRITABLE);
  pspec = g_object_class_find_property(klass, "quality");
  fail_unless(pspec->flags & GST_PARAM_CONTROLLABLE);
  fail_unless(pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  ispec = G_PARAM_SPEC_INT(pspec);
  fail_unless_equals_int(ispec->minimum, 0);
  fail_unless_equals_int(ispec->maximum, 10);
  fail_unless_equals_int(ispec->default_value, 5);
  fail_if(g_object_class_find_property(klass, "tier")->flags & G_PARAM_WRITABLE);
  fail_if(g_object_class_find_property(klass, "expected-snr")->flags & G_PARAM_WRITABLE);
  fail_if(g_object_class_find_property(klass, "measured-snr")->flags & G_PARAM_WRITABLE);
  pspec = g_object_class_find_property(klass, "audit");
  fail_unless(pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  fail_unless(G_PARAM_SPEC_BOOLEAN(pspec)->default_value == TRUE);
  pspec = g_object_class_find_property(klass, "min-snr");
  fail_unless(pspec->flags & GST_PARAM_CONTROLLABLE);
  fail_unless(pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  fail_unless(G_PARAM_SPEC_DOUBLE(pspec)->minimum == 0.0);
  fail_unless(G_PARAM_SPEC_DOUBLE(pspec)->default_value == 0.0);
  {
    double measured = 0;
    gboolean audit = FALSE;

    g_object_get(element, "measured-snr", &measured, "audit", &audit, NULL);
    fail_unless(isnan(measured));
    fail_unless(audit);
  }
  fail_unless_equals_string(
      gst_element_class_get_metadata(GST_ELEMENT_GET_CLASS(element), GST_ELEMENT_METADATA_KLASS),
      "Filter/Effect/Audio");
  gst_object_unref(element);
}
GST_END_TEST;

/* ---- exact path: impulse responses ---------------------------------------- */

/* An impulse on input channel i gives w[o][i][.] on every output o. */
static void
check_impulses(const char *preset, const MdnKernel *k, int channels_in)
{
  const size_t n = 64;
  int groups = channels_in / k->cin, g, i, o;
  int channels_out = groups * k->cout;

  for (g = 0; g < groups; g++) {
    for (i = 0; i < k->cin; i++) {
      float *in = g_new0(float, n *channels_in);
      GstHarness *h = harness_new(preset, 10, channels_in);
      GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
      size_t t;
      int c;

      in[g * k->cin + i] = 1.0f;
      push_pull(h, in, n, channels_in, channels_out, 0, FALSE, out);
      fail_unless_equals_int(caps_channels(h->sinkpad), channels_out);
      for (t = 0; t < n; t++) {
        for (c = 0; c < channels_out; c++) {
          float got = g_array_index(out, float, t *channels_out + c);
          float want = 0.0f;

          o = c % k->cout;
          if (c / k->cout == g && t < (size_t)k->taps)
            want = mdn_kernel_weight(k, o, i, (int)t);
          if (fabsf(got - want) > 1e-5f)
            ck_abort_msg("%s group %d in %d: out[%zu][%d] = %g, want %g", preset, g, i, t, c, got,
                         want);
        }
      }
      g_array_free(out, TRUE);
      gst_harness_teardown(h);
      g_free(in);
    }
  }
}

GST_START_TEST(test_impulse_1to1) { check_impulses(p11_path, k11, 1); }
GST_END_TEST;

GST_START_TEST(test_impulse_1to1_on_3_channels)
{
  /* 1->1 on three channels: each channel filtered on its own, no crosstalk. */
  check_impulses(p11_path, k11, 3);
}
GST_END_TEST;

GST_START_TEST(test_impulse_1to4) { check_impulses(p14_path, k14, 1); }
GST_END_TEST;

GST_START_TEST(test_impulse_2to2) { check_impulses(p22_path, k22, 2); }
GST_END_TEST;

GST_START_TEST(test_channel_mask_dropped)
{
  /* 1->4: the mono input's mask cannot describe 4 outputs. */
  GstHarness *h;
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstCaps *caps;
  GstBuffer *buf;
  float zeros[8] = { 0 };

  g_object_set(element, "preset", p14_path, NULL);
  h = gst_harness_new_with_element(element, "sink", "src");
  gst_object_unref(element);
  gst_harness_set_src_caps_str(h,
                               MDN_GST_TEST_F32 ",rate=48000,channels=1,channel-mask=(bitmask)0x4");
  buf = make_buffer(zeros, 8, 1, 0);
  fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
  caps = gst_pad_get_current_caps(h->sinkpad);
  fail_unless(caps != NULL);
  {
    guint64 mask = 1;

    /* The input's mask is gone: 4 outputs are unpositioned (mask 0). */
    fail_unless(gst_structure_get(gst_caps_get_structure(caps, 0), "channel-mask", GST_TYPE_BITMASK,
                                  &mask, NULL));
    fail_unless_equals_uint64(mask, 0);
  }
  gst_caps_unref(caps);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- buffer sizes ----------------------------------------------------- */

static void
check_buffer_sizes(const char *preset, int quality_from, int quality_to)
{
  static const size_t sizes[] = { 1, 7, 480, 3, 1023, 64, 2, 4097, 0, 129, 5000, 31 };
  const size_t n = 24000;
  float *in = mdn_signal_speech(n, RATE, 11);
  int q;

  for (q = quality_from; q <= quality_to; q++) {
    float *whole = run_filter(preset, q, in, n, 1, 1, NULL, 0);
    float *pieces = run_filter(preset, q, in, n, 1, 1, sizes, G_N_ELEMENTS(sizes));
    size_t t;

    for (t = 0; t < n; t++) {
      fail_unless(isfinite(whole[t]));
      /* Bound: 1e-5 of the 0.5 peak covers float reordering between the
       * direct and FFT partitions; a lost or repeated frame is ~1e-2. */
      if (fabsf(whole[t] - pieces[t]) > 1e-5f)
        ck_abort_msg("quality %d frame %zu: %g in one buffer, %g in pieces", q, t, whole[t],
                     pieces[t]);
    }
    g_free(whole);
    g_free(pieces);
  }
  g_free(in);
}

GST_START_TEST(test_buffer_sizes_exact) { check_buffer_sizes(lp_path, 0, 10); }
GST_END_TEST;

GST_START_TEST(test_buffer_sizes_tiers) { check_buffer_sizes(tiered(), 0, 10); }
GST_END_TEST;

/* Zero-length buffers pass through as zero-length buffers. */
GST_START_TEST(test_empty_buffer)
{
  GstHarness *h = harness_new(p11_path, 10, 1);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  float one = 1.0f;

  push_pull(h, &one, 0, 1, 1, 0, FALSE, out);
  push_pull(h, &one, 1, 1, 1, 0, FALSE, out);
  fail_unless_equals_int(out->len, 1);
  fail_unless(fabsf(g_array_index(out, float, 0) - mdn_kernel_weight(k11, 0, 0, 0)) < 1e-6f);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- quality and the read-only properties ------------------------------ */

GST_START_TEST(test_quality_mapping)
{
  GError *error = NULL;
  MdnModel *model = mdn_model_load(tiered(), &error);
  int n_tiers, n_paying, q, *paying;
  GstHarness *h;

  g_assert_no_error(error);
  n_tiers = mdn_model_n_tiers(model);
  fail_unless(n_tiers >= 2, "the fit kept %d tiers", n_tiers);
  /* quality shares the tiers that pay on this CPU (the engine's rule) */
  paying = g_new(int, n_tiers);
  n_paying = mdn_model_paying_tiers(model, paying);
  fail_unless(n_paying >= 1, "no tier of the fixture pays with the %s kernels", mdn_isa());
  h = harness_new(tiered_path, 0, 1);
  for (q = 0; q <= 10; q++) {
    float x[16] = { 0 };
    GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
    char *tier = NULL;
    double snr = 0;
    int want = mdn_quality_tier(q, paying, n_paying);
    MdnTierInfo info;

    g_object_set(h->element, "quality", q, NULL);
    push_pull(h, x, 16, 1, 1, 16 * q, FALSE, out);
    g_object_get(h->element, "tier", &tier, "expected-snr", &snr, NULL);
    if (want == MDN_TIER_EXACT) {
      fail_unless_equals_string(tier, "exact");
      fail_unless(isinf(snr) && snr > 0);
    } else {
      fail_unless(q < 10 && mdn_model_tier_speedup(model, want) >= MDN_TIER_MIN_SPEEDUP);
      mdn_model_tier_info(model, want, &info);
      fail_unless_equals_string(tier, info.name);
      fail_unless(snr == info.snr_db, "q %d: snr %g, tier %d has %g", q, snr, want, info.snr_db);
    }
    g_free(tier);
    g_array_free(out, TRUE);
  }
  gst_harness_teardown(h);
  g_free(paying);
  mdn_model_free(model);
}
GST_END_TEST;

GST_START_TEST(test_no_tiers_is_exact)
{
  GstHarness *h = harness_new(p11_path, 0, 1);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  float x[4] = { 1, 0, 0, 0 };
  char *tier = NULL;
  double snr = 0;

  push_pull(h, x, 4, 1, 1, 0, FALSE, out);
  g_object_get(h->element, "tier", &tier, "expected-snr", &snr, NULL);
  fail_unless_equals_string(tier, "exact");
  fail_unless(isinf(snr));
  /* quality 0 on a preset without tiers is still the exact kernel */
  fail_unless(fabsf(g_array_index(out, float, 1) - mdn_kernel_weight(k11, 0, 0, 1)) < 1e-6f);
  g_free(tier);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* The controller drives quality from the buffer's stream time. */
GST_START_TEST(test_quality_controller)
{
  GstHarness *h = harness_new(p11_path, 5, 1);
  GstControlSource *cs = gst_interpolation_control_source_new();
  GstTimedValueControlSource *tvcs = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  float x[480] = { 0 };
  int quality = -1;

  g_object_set(cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  gst_object_add_control_binding(
      GST_OBJECT(h->element),
      gst_direct_control_binding_new(GST_OBJECT(h->element), "quality", cs));
  gst_timed_value_control_source_set(tvcs, 0, 1.0);                /* 10 */
  gst_timed_value_control_source_set(tvcs, GST_SECOND / 100, 0.2); /* 2 */
  push_pull(h, x, 480, 1, 1, 0, FALSE, out);
  g_object_get(h->element, "quality", &quality, NULL);
  fail_unless_equals_int(quality, 10);
  push_pull(h, x, 480, 1, 1, 480, FALSE, out);
  g_object_get(h->element, "quality", &quality, NULL);
  fail_unless_equals_int(quality, 2);
  g_array_free(out, TRUE);
  gst_object_unref(cs);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- continuity: quality changes and preset swaps ------------------------ */

#define SMOOTH_FREQ 200.0
#define SMOOTH_AMP 0.5
/* The sine's own largest step is 2 pi f / rate * amp = 0.013. */
#define SMOOTH_STEP (2 * G_PI * SMOOTH_FREQ / RATE * SMOOTH_AMP)

GST_START_TEST(test_quality_changes_continuous)
{
  const size_t n = RATE, block = 480;
  float *in = sine(n, SMOOTH_FREQ, SMOOTH_AMP);
  GstHarness *h = harness_new(tiered(), 10, 1);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  size_t done;
  int b = 0;
  double step;

  for (done = 0; done < n; done += block, b++) {
    g_object_set(h->element, "quality", (b * 7) % 11, NULL);
    push_pull(h, in + done, block, 1, 1, done, FALSE, out);
  }
  for (done = 0; done < n; done++)
    fail_unless(isfinite(g_array_index(out, float, done)));
  /* Skip the kernel's start-up from silence. Bound: the sine's own step plus
   * the error of a coarse tier (about 0.05 at 20 dB SNR on a 0.5 sine); a
   * history lost at a switch steps by up to 0.5. */
  step = max_step((float *)out->data + klp->taps, n - klp->taps, 1, 0);
  fail_unless(step < SMOOTH_STEP + 0.1, "largest step %g", step);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

GST_START_TEST(test_preset_swap_continuous)
{
  /* lowpass 2 kHz -> gain 2 -> lowpass 3 kHz, swapped between buffers
   * (and once more before the previous swap has finished). */
  const size_t n = RATE / 2, block = 256;
  float *in = sine(n, SMOOTH_FREQ, SMOOTH_AMP);
  GstHarness *h = harness_new(lp_path, 10, 1);
  GstBus *bus = attach_bus(h->element);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  double *ref_last, *ref_first;
  size_t done, t;
  double step;
  char *preset = NULL;

  for (done = 0; done < n; done += block) {
    if (done == 20 * block)
      g_object_set(h->element, "preset", gain_path, NULL);
    if (done == 40 * block)
      g_object_set(h->element, "preset", lp2_path, NULL);
    if (done == 40 * block + 2 * block)
      g_object_set(h->element, "preset", lp_path, NULL);
    if (done == 60 * block)
      g_object_set(h->element, "preset", lp2_path, NULL);
    push_pull(h, in + done, MIN(block, n - done), 1, 1, done, FALSE, out);
  }
  fail_unless_equals_int(count_messages(bus, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR), 0);
  g_object_get(h->element, "preset", &preset, NULL);
  fail_unless_equals_string(preset, lp2_path);
  g_free(preset);
  for (t = 0; t < n; t++)
    fail_unless(isfinite(g_array_index(out, float, t)));
  /* Bound: a gain change from 1 to 2 crossfaded over 480 frames adds
   * 0.5 / 480 per frame to the sine's own step; a swap without a crossfade
   * steps by up to 0.5, one without warm-up by up to 0.4. */
  step = max_step((float *)out->data + klp->taps, n - klp->taps, 1, 0);
  if (g_getenv("DBG_STEP")) {
    for (t = 1; t < n; t++)
      if (fabs(g_array_index(out, float, t) - g_array_index(out, float, t - 1)) > 0.05)
        g_printerr("step at %zu: %g -> %g\n", t, g_array_index(out, float, t - 1),
                   g_array_index(out, float, t));
  }
  fail_unless(step < SMOOTH_STEP * 2 + 0.01, "largest step %g", step);
  /* Nothing lost: once the last swap is done the output is the new kernel's. */
  ref_last = mdn_reference_conv(klp2, in, n);
  for (t = 70 * block; t < n; t++)
    fail_unless(fabs(ref_last[t] - g_array_index(out, float, t)) < 1e-5, "frame %zu: %g vs %g", t,
                ref_last[t], g_array_index(out, float, t));
  /* and the gain preset did run in between */
  fail_unless(fabs(g_array_index(out, float, 39 * block) - 2 * in[39 * block]) < 1e-5);
  /* During the last swap (lowpass -> lowpass2) every frame lies between the
   * two kernels' outputs, as a crossfade of the two must. */
  ref_first = mdn_reference_conv(klp, in, n);
  for (t = 60 * block; t < n; t++) {
    double lo = MIN(ref_first[t], ref_last[t]) - 1e-5, hi = MAX(ref_first[t], ref_last[t]) + 1e-5;
    float y = g_array_index(out, float, t);

    fail_unless(y >= lo && y <= hi, "frame %zu: %g outside [%g, %g]", t, y, lo, hi);
  }
  g_free(ref_first);
  g_free(ref_last);
  detach_bus(bus);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* A new kernel longer than the crossfade (a 1500-frame delay) must have
 * seen its whole span of input before it is heard: the output never drops
 * out, and right after the swap it is the delayed input. */
GST_START_TEST(test_preset_swap_long_kernel)
{
  const size_t n = 40 * 256, block = 256, swap_at = 10 * 256;
  float *in = sine(n, SMOOTH_FREQ, SMOOTH_AMP);
  GstHarness *h = harness_new(lp_path, 10, 1);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  size_t done, t;
  double step;

  for (done = 0; done < n; done += block) {
    if (done == swap_at)
      g_object_set(h->element, "preset", delay_path, NULL);
    push_pull(h, in + done, block, 1, 1, done, FALSE, out);
  }
  /* A sine of amplitude 0.5 has an RMS of 0.35 in any 240-frame window
   * (one period); the crossfade of the lowpass (31 frames of delay) with the
   * delay (1500) dips to 0.33; a delay heard without its history is silent
   * for 1500 frames. Skip the lowpass's own start from silence. */
  for (t = 2 * klp->taps; t + 240 <= n; t += 60) {
    double sum = 0;
    size_t i;

    for (i = t; i < t + 240; i++)
      sum += (double)g_array_index(out, float, i) * g_array_index(out, float, i);
    fail_unless(sqrt(sum / 240) > 0.3, "frame %zu: rms %g", t, sqrt(sum / 240));
  }
  step = max_step((float *)out->data + klp->taps, n - klp->taps, 1, 0);
  fail_unless(step < SMOOTH_STEP * 2 + 0.01, "largest step %g", step);
  /* Swap done after warm-up (1500) and crossfade (480): the delayed input. */
  for (t = swap_at + 1500 + 480 + block; t < n; t++)
    fail_unless(fabsf(g_array_index(out, float, t) - in[t - 1500]) < 1e-5, "frame %zu", t);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* A bad preset while playing: one warning, the old preset keeps running. */
GST_START_TEST(test_preset_swap_bad_keeps_old)
{
  const size_t n = 4800, block = 480;
  float *in = mdn_signal_speech(n, RATE, 5);
  GstHarness *h = harness_new(lp_path, 10, 1);
  GstBus *bus = attach_bus(h->element);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  double *ref = mdn_reference_conv(klp, in, n);
  char *preset = NULL;
  size_t done, t;

  for (done = 0; done < n; done += block) {
    if (done == 2 * block)
      g_object_set(h->element, "preset", corrupt_path, NULL);
    if (done == 4 * block)
      g_object_set(h->element, "preset", "/nonexistent/dir/x.mdn", NULL);
    if (done == 6 * block) /* 44.1 kHz preset on a 48 kHz stream */
      g_object_set(h->element, "preset", p44k_path, NULL);
    if (done == 8 * block) /* 1->4 on a 1->1 stream */
      g_object_set(h->element, "preset", p14_path, NULL);
    push_pull(h, in + done, block, 1, 1, done, FALSE, out);
  }
  fail_unless_equals_int(count_messages(bus, GST_MESSAGE_WARNING), 4);
  fail_unless_equals_int(count_messages(bus, GST_MESSAGE_ERROR), 0);
  for (t = 0; t < n; t++)
    fail_unless(fabs(ref[t] - g_array_index(out, float, t)) < 1e-5, "frame %zu", t);
  g_object_get(h->element, "preset", &preset, NULL);
  fail_unless_equals_string(preset, lp_path);
  g_free(preset);
  g_free(ref);
  detach_bus(bus);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* Presets set from another thread while buffers flow: no crash, output finite. */
static gpointer
swapper(gpointer data)
{
  GstElement *element = data;
  int i;

  for (i = 0; i < 40; i++) {
    char *tier = NULL;
    double snr = 0;

    g_object_set(element, "preset", i % 2 ? lp_path : lp2_path, "quality", i % 11, NULL);
    /* The read-only properties read a state the streaming thread may retire. */
    g_object_get(element, "tier", &tier, "expected-snr", &snr, NULL);
    fail_unless_equals_string(tier, "exact");
    fail_unless(isinf(snr));
    g_free(tier);
    g_usleep(500);
  }
  return NULL;
}

GST_START_TEST(test_preset_swap_threaded)
{
  const size_t n = RATE, block = 128;
  float *in = sine(n, SMOOTH_FREQ, SMOOTH_AMP);
  GstHarness *h = harness_new(lp_path, 10, 1);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  GThread *thread = g_thread_new("swapper", swapper, h->element);
  size_t done;

  for (done = 0; done < n; done += block)
    push_pull(h, in + done, block, 1, 1, done, FALSE, out);
  g_thread_join(thread);
  for (done = 0; done < n; done++)
    fail_unless(isfinite(g_array_index(out, float, done)));
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* ---- errors -------------------------------------------------------------- */

/* PAUSED must fail with a resource error whose message names `needle`. */
static void
check_start_error(const char *preset, const char *needle)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstBus *bus = attach_bus(element);
  GstMessage *msg;
  GError *error = NULL;
  char *debug = NULL;

  if (preset)
    g_object_set(element, "preset", preset, NULL);
  fail_unless_equals_int(gst_element_set_state(element, GST_STATE_PAUSED),
                         GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "no error message");
  gst_message_parse_error(msg, &error, &debug);
  fail_unless(error->domain == GST_RESOURCE_ERROR, "domain %s", g_quark_to_string(error->domain));
  fail_unless(strstr(error->message, needle) != NULL, "\"%s\" does not name %s", error->message,
              needle);
  /* a file is named once: "x.mdn: x.mdn: ..." repeated what the engine's
   * message says (a preset name may recur in the list of places searched) */
  fail_unless(!g_path_is_absolute(needle)
                  || strstr(strstr(error->message, needle) + strlen(needle), needle) == NULL,
              "\"%s\" names %s twice", error->message, needle);
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(msg);
  gst_element_set_state(element, GST_STATE_NULL);
  detach_bus(bus);
  gst_object_unref(element);
}

GST_START_TEST(test_missing_preset)
{
  char *missing = g_build_filename(tmp_dir, "missing.mdn", NULL);

  check_start_error(missing, missing);
  check_start_error("no-such-shipped-preset", "no-such-shipped-preset");
  g_free(missing);
}
GST_END_TEST;

GST_START_TEST(test_corrupt_preset) { check_start_error(corrupt_path, corrupt_path); }
GST_END_TEST;

GST_START_TEST(test_no_preset) { check_start_error(NULL, "preset"); }
GST_END_TEST;

/* Caps the preset cannot take are refused: accept-caps says no, and the
 * first buffer gets not-negotiated. The right caps are accepted. */
static void
check_refused(const char *preset, const char *bad_caps, const char *good_caps, int good_channels)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstHarness *h;
  GstSegment segment;
  GstPad *sink;
  GstCaps *caps;
  float x[8 * 4] = { 0 };

  g_object_set(element, "preset", preset, NULL);
  h = gst_harness_new_with_element(element, "sink", "src");
  sink = gst_element_get_static_pad(element, "sink");
  gst_object_unref(element);
  caps = gst_caps_from_string(bad_caps);
  fail_if(gst_pad_query_accept_caps(sink, caps));
  gst_harness_push_event(h, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&segment));
  fail_unless_equals_int(gst_harness_push(h, make_buffer(x, 8, 1, 0)), GST_FLOW_NOT_NEGOTIATED);
  caps = gst_caps_from_string(good_caps);
  fail_unless(gst_pad_query_accept_caps(sink, caps));
  gst_caps_unref(caps);
  gst_harness_set_src_caps_str(h, good_caps);
  fail_unless_equals_int(gst_harness_push(h, make_buffer(x, 8, good_channels, 0)), GST_FLOW_OK);
  gst_object_unref(sink);
  gst_harness_teardown(h);
}

GST_START_TEST(test_wrong_rate)
{
  check_refused(p11_path, MDN_GST_TEST_F32 ",rate=44100,channels=1",
                MDN_GST_TEST_F32 ",rate=48000,channels=1", 1);
}
GST_END_TEST;

GST_START_TEST(test_wrong_channels)
{
  /* A 2->2 preset takes exactly 2 channels. */
  check_refused(p22_path, MDN_GST_TEST_F32 ",rate=48000,channels=3,channel-mask=(bitmask)0",
                MDN_GST_TEST_F32 ",rate=48000,channels=2", 2);
}
GST_END_TEST;

/* ---- caps the preset cannot take, in pipelines -------------------------- */

/* Runs desc (calling midway once it has prerolled, if not NULL) until its
 * first error, 10 s at most. Returns that error's message and debug, and in
 * *source the name of the element that posted it. */
static char *
first_pipeline_error(const char *desc, void (*midway)(GstElement *pipeline), char **source)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(desc, &error);
  GstBus *bus;
  GstMessage *msg;
  char *debug = NULL, *text;

  g_assert_no_error(error);
  bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  if (midway) {
    msg = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND,
                                     GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR);
    fail_unless(msg != NULL && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ASYNC_DONE, "%s did not start",
                desc);
    gst_message_unref(msg);
    g_usleep(100 * 1000); /* some buffers through */
    midway(pipeline);
  }
  msg = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "no error from %s", desc);
  gst_message_parse_error(msg, &error, &debug);
  text = g_strdup_printf("%s\n%s", error->message, debug ? debug : "");
  *source = g_strdup(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)));
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  detach_bus(bus);
  gst_object_unref(pipeline);
  return text;
}

/* The first error comes from maddnessfilter (not a bare "not-negotiated"
 * from the source) and its text holds every string of `needles`. */
static void
check_misfit(const char *desc, void (*midway)(GstElement *pipeline), const char *const *needles)
{
  char *source = NULL;
  char *text = first_pipeline_error(desc, midway, &source);

  fail_unless_equals_string(source, "f");
  for (; *needles; needles++)
    fail_unless(strstr(text, *needles) != NULL, "\"%s\" does not say \"%s\"", text, *needles);
  g_free(source);
  g_free(text);
}

GST_START_TEST(test_misfit_rate)
{
  const char *const needles[] = { "works at 48000 Hz", "the stream is 44100 Hz",
                                  "add audioresample ! audio/x-raw,rate=48000 before "
                                  "maddnessfilter",
                                  NULL };
  char *desc = g_strdup_printf("audiotestsrc num-buffers=20 ! audio/x-raw,rate=44100 ! "
                               "maddnessfilter name=f preset=%s ! fakesink",
                               lp_path);

  check_misfit(desc, NULL, needles);
  g_free(desc);
}
GST_END_TEST;

GST_START_TEST(test_misfit_channels)
{
  const char *const needles14[] = { "with 1 input channel", "the stream is 48000 Hz, 2 channels",
                                    "add audioconvert ! audio/x-raw,channels=1 before "
                                    "maddnessfilter",
                                    NULL };
  const char *const needles22[] = { "with 2 input channels", "the stream is 48000 Hz, 1 channel",
                                    "add audioconvert ! audio/x-raw,channels=2 before "
                                    "maddnessfilter",
                                    NULL };
  const char *const needles_both[]
      = { "works at 48000 Hz with 2 input channels", "the stream is 44100 Hz, 1 channel",
          "add audioconvert ! audioresample ! "
          "audio/x-raw,rate=48000,channels=2",
          NULL };
  char *desc;

  /* 1 -> 4 on stereo; 2 -> 2 on mono; 2 -> 2 on mono at 44.1 kHz. */
  desc = g_strdup_printf("audiotestsrc num-buffers=20 ! audio/x-raw,rate=48000,channels=2 ! "
                         "maddnessfilter name=f preset=%s ! fakesink",
                         p14_path);
  check_misfit(desc, NULL, needles14);
  g_free(desc);
  desc = g_strdup_printf("audiotestsrc num-buffers=20 ! audio/x-raw,rate=48000,channels=1 ! "
                         "maddnessfilter name=f preset=%s ! fakesink",
                         p22_path);
  check_misfit(desc, NULL, needles22);
  g_free(desc);
  desc = g_strdup_printf("audiotestsrc num-buffers=20 ! audio/x-raw,rate=44100,channels=1 ! "
                         "maddnessfilter name=f preset=%s ! fakesink",
                         p22_path);
  check_misfit(desc, NULL, needles_both);
  g_free(desc);
}
GST_END_TEST;

static void
switch_to_44k(GstElement *pipeline)
{
  GstElement *capsfilter = gst_bin_get_by_name(GST_BIN(pipeline), "cf");
  GstCaps *caps = gst_caps_from_string("audio/x-raw,rate=44100");

  g_object_set(capsfilter, "caps", caps, NULL);
  gst_caps_unref(caps);
  gst_object_unref(capsfilter);
}

/* The rate changes while playing (the capsfilter's caps change, the source
 * renegotiates): the same error. */
GST_START_TEST(test_misfit_rate_change)
{
  const char *const needles[] = { "works at 48000 Hz", "the stream is 44100 Hz",
                                  "add audioresample ! audio/x-raw,rate=48000", NULL };
  char *desc = g_strdup_printf("audiotestsrc num-buffers=500 ! capsfilter name=cf "
                               "caps=audio/x-raw,rate=48000 ! maddnessfilter name=f preset=%s ! "
                               "fakesink sync=true",
                               lp_path);

  check_misfit(desc, switch_to_44k, needles);
  g_free(desc);
}
GST_END_TEST;

/* ---- latency, DISCONT, flush --------------------------------------------- */

GST_START_TEST(test_latency_harness)
{
  GstHarness *h = harness_new(lp_path, 10, 1);

  gst_harness_set_upstream_latency(h, 0);
  fail_unless_equals_uint64(gst_harness_query_latency(h), 0);
  /* Upstream latency passes through with nothing added. */
  gst_harness_set_upstream_latency(h, 5 * GST_MSECOND);
  fail_unless_equals_uint64(gst_harness_query_latency(h), 5 * GST_MSECOND);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* In a pipeline the element answers exactly what its (non-live) upstream
 * answers: live FALSE and the same minimum. */
GST_START_TEST(test_latency_pipeline)
{
  char *desc = g_strdup_printf("audiotestsrc name=s is-live=false ! audio/x-raw,rate=48000 ! "
                               "maddnessfilter name=f preset=%s ! fakesink",
                               lp_path);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  GstElement *filter = gst_bin_get_by_name(GST_BIN(pipeline), "f");
  GstElement *source = gst_bin_get_by_name(GST_BIN(pipeline), "s");
  GstPad *src = gst_element_get_static_pad(filter, "src");
  GstPad *source_src = gst_element_get_static_pad(source, "src");
  GstQuery *query = gst_query_new_latency();
  gboolean live = TRUE, source_live = TRUE;
  GstClockTime min = GST_CLOCK_TIME_NONE, max = 0, source_min = 0, source_max = 0;

  fail_unless(gst_element_set_state(pipeline, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless(gst_element_get_state(pipeline, NULL, NULL, 5 * GST_SECOND)
              == GST_STATE_CHANGE_SUCCESS);
  fail_unless(gst_pad_query(src, query));
  gst_query_parse_latency(query, &live, &min, &max);
  gst_query_unref(query);
  query = gst_query_new_latency();
  fail_unless(gst_pad_query(source_src, query));
  gst_query_parse_latency(query, &source_live, &source_min, &source_max);
  gst_query_unref(query);
  fail_unless(live == FALSE);
  fail_unless(source_live == FALSE);
  fail_unless_equals_uint64(min, source_min);
  fail_unless_equals_uint64(max, source_max);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  detach_bus(gst_element_get_bus(pipeline));
  gst_object_unref(src);
  gst_object_unref(source_src);
  gst_object_unref(filter);
  gst_object_unref(source);
  gst_object_unref(pipeline);
  g_free(desc);
}
GST_END_TEST;

/* An impulse at the end of one buffer must not ring into the next buffer
 * when that one is DISCONT (or after a flush); it does otherwise. */
static float
tail_after_impulse(int how)
{
  const size_t n = 16;
  float in[16] = { 0 }, zeros[16] = { 0 }, energy = 0;
  GstHarness *h = harness_new(p11_path, 10, 1);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  size_t t;

  in[n - 1] = 1.0f;
  push_pull(h, in, n, 1, 1, 0, FALSE, out);
  if (how == 2) {
    GstSegment segment;

    fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
    fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
    gst_segment_init(&segment, GST_FORMAT_TIME);
    fail_unless(gst_harness_push_event(h, gst_event_new_segment(&segment)));
  }
  push_pull(h, zeros, n, 1, 1, n, how == 1, out);
  for (t = n; t < 2 * n; t++)
    energy += fabsf(g_array_index(out, float, t));
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  return energy;
}

GST_START_TEST(test_discont_resets)
{
  fail_unless(tail_after_impulse(0) > 0.01f); /* the test can see a tail */
  fail_unless(tail_after_impulse(1) == 0.0f);
  fail_unless(tail_after_impulse(2) == 0.0f);
}
GST_END_TEST;

/* New caps (here the same two channels, now with a mask) reset the history
 * too; the same caps pushed again do not. */
static float
tail_after_caps(gboolean change)
{
  float in[2 * 16] = { 0 }, zeros[2 * 16] = { 0 }, energy = 0;
  GstHarness *h = harness_new(p11_path, 10, 2);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  size_t t;

  in[2 * 15] = in[2 * 15 + 1] = 1.0f;
  push_pull(h, in, 16, 2, 2, 0, FALSE, out);
  gst_harness_set_src_caps_str(h, change ? MDN_GST_TEST_F32
                                      ",rate=48000,channels=2,channel-mask=(bitmask)0x3"
                                         : MDN_GST_TEST_F32 ",rate=48000,channels=2");
  push_pull(h, zeros, 16, 2, 2, 16, FALSE, out);
  for (t = 2 * 16; t < 2 * 32; t++)
    energy += fabsf(g_array_index(out, float, t));
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  return energy;
}

GST_START_TEST(test_caps_change_resets)
{
  fail_unless(tail_after_caps(FALSE) > 0.01f);
  fail_unless(tail_after_caps(TRUE) == 0.0f);
}
GST_END_TEST;

/* ---- non-finite input --------------------------------------------------- */

GST_START_TEST(test_nan_input)
{
  const size_t n = 480;
  float *in = mdn_signal_speech(3 * n, RATE, 2);
  GstHarness *h = harness_new(lp_path, 10, 1);
  GstBus *bus = attach_bus(h->element);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
  size_t t;

  in[10] = NAN;
  in[n + 3] = INFINITY;
  in[n + 4] = -INFINITY;
  in[2 * n + 100] = NAN;
  push_pull(h, in, n, 1, 1, 0, FALSE, out);
  push_pull(h, in + n, n, 1, 1, n, FALSE, out);
  push_pull(h, in + 2 * n, n, 1, 1, 2 * n, FALSE, out);
  for (t = 0; t < 3 * n; t++)
    fail_unless(isfinite(g_array_index(out, float, t)), "frame %zu", t);
  fail_unless_equals_int(count_messages(bus, GST_MESSAGE_WARNING), 1);
  /* A reset starts counting again: one more warning. */
  push_pull(h, in, n, 1, 1, 3 * n, TRUE, out);
  fail_unless_equals_int(count_messages(bus, GST_MESSAGE_WARNING), 1);
  detach_bus(bus);
  g_array_free(out, TRUE);
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* ---- the live audit, the accuracy message and min-snr ------------------- */

#define AUDIT_BUFFER 1024

/* White noise: nothing like the speech the bank preset was fitted on. */
static float *
white_noise(size_t n, guint32 seed)
{
  GRand *rng = g_rand_new_with_seed(seed);
  float *x = g_new(float, n);
  size_t t;

  for (t = 0; t < n; t++)
    x[t] = (float)g_rand_double_range(rng, -0.3, 0.3);
  g_rand_free(rng);
  return x;
}

/* Pushes n mono frames from `first` in AUDIT_BUFFER buffers; after each,
 * calls `each` (may be NULL). The output is dropped. */
static void
push_audio(GstHarness *h, const float *in, size_t n, guint64 *first,
           void (*each)(GstHarness *, guint64, gpointer), gpointer data)
{
  size_t done = 0;

  while (done < n) {
    size_t chunk = MIN(n - done, AUDIT_BUFFER);
    GstBuffer *buf = make_buffer(in + done, chunk, 1, *first), *res;

    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    res = gst_harness_pull(h);
    fail_unless(res != NULL);
    gst_buffer_unref(res);
    done += chunk;
    *first += chunk;
    if (each)
      each(h, *first, data);
  }
}

/* The maddness-accuracy messages on the bus, checked against the element's
 * properties (read right after the message came). */
static int
accuracy_messages(GstBus *bus, GstElement *element)
{
  GstMessage *msg;
  int n = 0;

  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure(msg);
    double expected = 0, measured = 0, expected_prop = 0;
    char *tier = NULL;

    if (gst_structure_has_name(st, "maddness-accuracy")) {
      n++;
      fail_unless(GST_MESSAGE_SRC(msg) == GST_OBJECT(element));
      fail_unless(gst_structure_get_double(st, "expected-snr", &expected));
      fail_unless(gst_structure_get_double(st, "measured-snr", &measured));
      g_object_get(element, "tier", &tier, "expected-snr", &expected_prop, NULL);
      fail_unless_equals_string(gst_structure_get_string(st, "tier"), tier);
      fail_unless(expected == expected_prop, "message %g, property %g", expected, expected_prop);
      fail_unless(measured < expected - 3, "measured %g, expected %g", measured, expected);
      g_free(tier);
    }
    gst_message_unref(msg);
  }
  return n;
}

/* The element reports what the engine's audit measures: measured-snr equals
 * mdn_stream_audit_snr of a stream fed the same buffers; infinity for the
 * exact path; NaN with the audit off. */
GST_START_TEST(test_measured_snr)
{
  const size_t n = 3 * RATE;
  float *in = mdn_signal_speech(n, RATE, 41);
  float *out = g_new(float, AUDIT_BUFFER * 4);
  GError *error = NULL;
  MdnModel *model = mdn_model_load(bank_path, &error);
  MdnStream *stream;
  GstHarness *h = harness_new(bank_path, 0, 1);
  double measured = 0;
  guint64 first = 0;
  size_t done;

  g_assert_no_error(error);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isnan(measured), "%g before any audio", measured);
  push_audio(h, in, n, &first, NULL, NULL);
  stream = mdn_stream_new(model, 1, &error);
  g_assert_no_error(error);
  mdn_stream_set_audit(stream, MDN_AUDIT_DEFAULT_FRACTION);
  for (done = 0; done < n; done += AUDIT_BUFFER)
    mdn_stream_process(stream, 0, in + done, out, MIN(AUDIT_BUFFER, n - done));
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isfinite(measured), "%g after %zu frames", measured, n);
  fail_unless(measured == mdn_stream_audit_snr(stream, 0), "element %g, engine %g", measured,
              mdn_stream_audit_snr(stream, 0));

  /* The exact path: infinity. */
  g_object_set(h->element, "quality", 10, NULL);
  push_audio(h, in, AUDIT_BUFFER, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isinf(measured) && measured > 0);

  /* Audit off: NaN on a tier. */
  g_object_set(h->element, "quality", 0, "audit", FALSE, NULL);
  push_audio(h, in, AUDIT_BUFFER, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isnan(measured));

  /* On again: measuring afresh, NaN, then a value. */
  g_object_set(h->element, "audit", TRUE, NULL);
  push_audio(h, in, AUDIT_BUFFER, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isnan(measured));
  push_audio(h, in, n, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isfinite(measured));

  mdn_stream_free(stream);
  mdn_model_free(model);
  gst_harness_teardown(h);
  g_free(in);
  g_free(out);
}
GST_END_TEST;

/* A claim on a class the fit never saw is flagged: the bank was fitted on
 * speech; on white noise its fastest tier falls far under its expected-snr.
 * One message (and one more only after it held on speech again and fell
 * again); none with the audit off. The speech is the fit's own audio, on
 * which the claim holds (on other speech it need not: the claim comes from
 * 0.8 s of held-out audio). */
GST_START_TEST(test_accuracy_message)
{
  const size_t n = 4 * RATE;
  float *speech = mdn_signal_speech(n, RATE, 7), *noise = white_noise(n, 52);
  GstHarness *h = harness_new(bank_path, 0, 1);
  GstBus *bus = attach_bus(h->element);
  double measured = 0, expected = 0;
  guint64 first = 0;

  push_audio(h, speech, n, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, "expected-snr", &expected, NULL);
  GST_INFO("speech: measured %.1f dB, expected %.1f dB", measured, expected);
  fail_unless(isfinite(measured));
  fail_unless(fabs(measured - expected) < 3, "speech: measured %g, expected %g", measured,
              expected);
  fail_unless_equals_int(accuracy_messages(bus, h->element), 0);

  push_audio(h, noise, n, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  GST_INFO("noise: measured %.1f dB", measured);
  fail_unless(measured < expected - 3, "noise: measured %g, expected %g", measured, expected);
  fail_unless_equals_int(accuracy_messages(bus, h->element), 1);

  /* Speech again: it recovers, no message; noise again: one more. */
  push_audio(h, speech, n, &first, NULL, NULL);
  push_audio(h, speech, n, &first, NULL, NULL);
  fail_unless_equals_int(accuracy_messages(bus, h->element), 0);
  push_audio(h, noise, n, &first, NULL, NULL);
  fail_unless_equals_int(accuracy_messages(bus, h->element), 1);
  /* Still under: no repeat. */
  push_audio(h, noise, n, &first, NULL, NULL);
  fail_unless_equals_int(accuracy_messages(bus, h->element), 0);
  detach_bus(bus);
  gst_harness_teardown(h);

  /* The audit off: nothing measured, nothing posted. */
  h = harness_new(bank_path, 0, 1);
  bus = attach_bus(h->element);
  g_object_set(h->element, "audit", FALSE, NULL);
  first = 0;
  push_audio(h, noise, n, &first, NULL, NULL);
  g_object_get(h->element, "measured-snr", &measured, NULL);
  fail_unless(isnan(measured));
  fail_unless_equals_int(accuracy_messages(bus, h->element), 0);
  detach_bus(bus);
  gst_harness_teardown(h);
  g_free(speech);
  g_free(noise);
}
GST_END_TEST;

/* The tier index the element reports, by name (MDN_TIER_EXACT for exact). */
static int
tier_index(GstElement *element, const MdnModel *model)
{
  char *name = NULL;
  int t, found = -2;

  g_object_get(element, "tier", &name, NULL);
  fail_unless(name != NULL);
  if (strcmp(name, "exact") == 0)
    found = MDN_TIER_EXACT;
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    MdnTierInfo info;

    mdn_model_tier_info(model, t, &info);
    if (strcmp(name, info.name) == 0)
      found = t;
  }
  fail_unless(found != -2, "unknown tier %s", name);
  g_free(name);
  return found;
}

typedef struct {
  const MdnModel *model;
  int *tiers; /* per buffer */
  size_t n;
} TierLog;

static void
log_tier(GstHarness *h, guint64 frame, gpointer data)
{
  TierLog *log = data;

  log->tiers[log->n++] = tier_index(h->element, log->model);
  if (log->n % 24 == 0) {
    double measured;
    g_object_get(h->element, "measured-snr", &measured, NULL);
    GST_INFO("%.2f s: tier %d measures %.1f dB", (double)frame / RATE, log->tiers[log->n - 1],
             measured);
  }
}

/* min-snr on audio whose character changes: speech, bells, the same speech
 * three times. The element runs the fastest tier on speech, moves to a better tier
 * in the bells and back to the fastest on the speech; quality is ignored
 * meanwhile and rules again at min-snr 0. (The same speech each time: how
 * well a tier does varies by several dB from one stretch of speech to
 * another.) */
GST_START_TEST(test_min_snr)
{
  const size_t phase = 4 * RATE, n = 5 * phase;
  float *speech = mdn_signal_speech(phase, RATE, 61),
        *bright = mdn_signal_bells(phase, RATE, 62, 1500, 4000, 0.05);
  float *in = g_new(float, n);
  GError *error = NULL;
  MdnModel *model = mdn_model_load(bank_path, &error);
  GstHarness *h;
  double *ref, speech_snr, bell_snr, min_snr;
  TierLog log = { model, g_new0(int, n / AUDIT_BUFFER + 2), 0 };
  guint64 first = 0;
  size_t b, per_phase = phase / AUDIT_BUFFER;

  g_assert_no_error(error);
  memcpy(in, speech, sizeof(float) * phase);
  memcpy(in + phase, bright, sizeof(float) * phase);
  memcpy(in + 2 * phase, speech, sizeof(float) * phase);
  memcpy(in + 3 * phase, speech, sizeof(float) * phase);
  memcpy(in + 4 * phase, speech, sizeof(float) * phase);
  /* The premise, offline: the fastest tier holds much more on speech than on bells. */
  {
    MdnStream *stream = mdn_stream_new(model, 1, &error);
    float *y = g_new(float, n * 4);

    g_assert_no_error(error);
    mdn_stream_process(stream, 0, in, y, n);
    ref = mdn_reference_conv(mdn_model_kernel(model), in, n);
    speech_snr = mdn_snr_db(ref, y, phase * 4);
    bell_snr = mdn_snr_db(ref + phase * 4, y + phase * 4, phase * 4);
    mdn_stream_free(stream);
    g_free(y);
  }
  min_snr = speech_snr - 4;
  GST_INFO("tier 0: %.1f dB on speech, %.1f dB on bells; min-snr %.1f", speech_snr, bell_snr,
           min_snr);
  fail_unless(bell_snr < min_snr - 3, "speech %g dB, bells %g dB", speech_snr, bell_snr);

  h = harness_new(bank_path, 10, 1);
  g_object_set(h->element, "min-snr", min_snr, NULL);
  push_audio(h, in, n, &first, log_tier, &log);
  for (b = 0; b < log.n; b++)
    if (b == 0 || log.tiers[b] != log.tiers[b - 1])
      GST_INFO("%.2f s: tier %d", (double)b * AUDIT_BUFFER / RATE, log.tiers[b]);
  /* quality 10 is ignored: the fastest tier by the end of the first speech */
  fail_unless_equals_int(log.tiers[per_phase - 1], 0);
  /* a better tier from 1.5 s into the bells to their end */
  for (b = per_phase + (size_t)(1.5 * RATE) / AUDIT_BUFFER; b < 2 * per_phase; b++)
    fail_unless(log.tiers[b] != 0, "buffer %zu (%.2f s): tier %d", b,
                (double)b * AUDIT_BUFFER / RATE, log.tiers[b]);
  /* the fastest again by the end of the speech (the bells' large errors
   * leave the smoothed SNR over a few seconds, then the tier must hold the
   * floor plus the margin for a second) */
  fail_unless_equals_int(log.tiers[log.n - 1], 0);

  /* min-snr 0: quality rules again. */
  g_object_set(h->element, "min-snr", 0.0, NULL);
  push_audio(h, in, AUDIT_BUFFER, &first, NULL, NULL);
  fail_unless_equals_int(tier_index(h->element, model), MDN_TIER_EXACT);
  gst_harness_teardown(h);

  /* The audit off: min-snr goes by the fitted claims. */
  h = harness_new(bank_path, 0, 1);
  g_object_set(h->element, "audit", FALSE, NULL);
  {
    MdnTierInfo info;
    int t;

    for (t = 0; t < mdn_model_n_tiers(model); t++) {
      mdn_model_tier_info(model, t, &info);
      g_object_set(h->element, "min-snr", info.snr_db - 0.01, NULL);
      push_audio(h, bright, AUDIT_BUFFER, &first, NULL, NULL);
      fail_unless_equals_int(tier_index(h->element, model), t);
    }
    g_object_set(h->element, "min-snr", info.snr_db + 1, NULL);
    push_audio(h, bright, AUDIT_BUFFER, &first, NULL, NULL);
    fail_unless_equals_int(tier_index(h->element, model), MDN_TIER_EXACT);
  }
  gst_harness_teardown(h);

  g_free(log.tiers);
  g_free(ref);
  g_free(in);
  g_free(speech);
  g_free(bright);
  mdn_model_free(model);
}
GST_END_TEST;

/* min-snr is controllable: a controller drives it from the stream time. */
GST_START_TEST(test_min_snr_controller)
{
  GstHarness *h = harness_new(bank_path, 5, 1);
  GstControlSource *cs = gst_interpolation_control_source_new();
  GstTimedValueControlSource *tvcs = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
  float x[480] = { 0 };
  guint64 first = 0;
  double min_snr = -1;

  g_object_set(cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  gst_object_add_control_binding(
      GST_OBJECT(h->element),
      gst_direct_control_binding_new(GST_OBJECT(h->element), "min-snr", cs));
  gst_timed_value_control_source_set(tvcs, 0, 0.0);                /* off */
  gst_timed_value_control_source_set(tvcs, GST_SECOND / 100, 0.5); /* 100 dB */
  push_audio(h, x, 480, &first, NULL, NULL);
  g_object_get(h->element, "min-snr", &min_snr, NULL);
  fail_unless(min_snr == 0.0, "%g", min_snr);
  push_audio(h, x, 480, &first, NULL, NULL);
  g_object_get(h->element, "min-snr", &min_snr, NULL);
  fail_unless(fabs(min_snr - 100.0) < 1e-9, "%g", min_snr);
  gst_object_unref(cs);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- real pipelines ------------------------------------------------------ */

static void
run_pipeline(const char *desc)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(desc, &error);
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error(error);
  bus = gst_element_get_bus(pipeline);
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered(bus, 20 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "timeout: %s", desc);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    char *debug = NULL;

    gst_message_parse_error(msg, &error, &debug);
    ck_abort_msg("%s: %s (%s)", desc, error->message, debug);
  }
  gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  detach_bus(bus);
  gst_object_unref(pipeline);
}

GST_START_TEST(test_pipeline_fakesink)
{
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=20 ! audio/x-raw,rate=48000 ! maddnessfilter preset=%s ! fakesink",
      lp_path);

  run_pipeline(desc);
  g_free(desc);
}
GST_END_TEST;

/* By name through MADDNESS_PRESET_PATH, as the documented launch lines do. */
GST_START_TEST(test_pipeline_preset_name)
{
  g_setenv("MADDNESS_PRESET_PATH", tmp_dir, TRUE);
  run_pipeline("audiotestsrc num-buffers=20 ! audio/x-raw,rate=48000 ! audioconvert ! "
               "maddnessfilter preset=lowpass quality=5 ! audioconvert ! fakesink");
  g_unsetenv("MADDNESS_PRESET_PATH");
}
GST_END_TEST;

static void
check_wav(const char *path, sf_count_t frames, int channels)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);

  fail_unless(f != NULL, "%s: %s", path, sf_strerror(NULL));
  fail_unless_equals_int64(info.frames, frames);
  fail_unless_equals_int(info.channels, channels);
  fail_unless_equals_int(info.samplerate, RATE);
  sf_close(f);
}

static void
check_wav_pipeline(const char *preset, int out_channels)
{
  char *in_wav = g_build_filename(tmp_dir, "in.wav", NULL);
  char *out_wav = g_strdup_printf("%s/out-%d.wav", tmp_dir, out_channels);
  char *desc;

  desc = g_strdup_printf("audiotestsrc num-buffers=10 samplesperbuffer=4800 ! "
                         "audio/x-raw,rate=48000,channels=2,format=S16LE ! wavenc ! "
                         "filesink location=%s",
                         in_wav);
  run_pipeline(desc);
  g_free(desc);
  check_wav(in_wav, 48000, 2);

  desc = g_strdup_printf("filesrc location=%s ! wavparse ! audioconvert ! maddnessfilter "
                         "preset=%s ! audioconvert ! audio/x-raw,format=S16LE ! wavenc ! "
                         "filesink location=%s",
                         in_wav, preset, out_wav);
  run_pipeline(desc);
  g_free(desc);
  check_wav(out_wav, 48000, out_channels);
  g_free(in_wav);
  g_free(out_wav);
}

GST_START_TEST(test_pipeline_wav)
{
  check_wav_pipeline(p11_path, 2);
  check_wav_pipeline(p14_path, 4);
}
GST_END_TEST;

/* ---- preset lookup ------------------------------------------------------- */

GST_START_TEST(test_preset_find)
{
  GError *error = NULL;
  char *other = g_build_filename(tmp_dir, "other", NULL);
  char *found, *search;

  g_mkdir(other, 0700);
  g_setenv("MADDNESS_PRESET_PATH", other, TRUE);
  found = mdn_preset_find("lowpass", &error);
  fail_unless(found == NULL);
  fail_unless(strstr(error->message, other) != NULL, "%s", error->message);
  fail_unless(strstr(error->message, mdn_preset_dir()) != NULL, "%s", error->message);
  g_clear_error(&error);

  search = g_strdup_printf("%s::%s", other, tmp_dir); /* with an empty entry */
  g_setenv("MADDNESS_PRESET_PATH", search, TRUE);
  g_free(search);
  found = mdn_preset_find("lowpass", &error);
  g_assert_no_error(error);
  fail_unless_equals_string(found, lp_path);
  g_free(found);
  found = mdn_preset_find("lowpass.mdn", &error);
  g_assert_no_error(error);
  fail_unless_equals_string(found, lp_path);
  g_free(found);
  /* A path is only a path. */
  found = mdn_preset_find("./nowhere/lowpass", &error);
  fail_unless(found == NULL);
  g_clear_error(&error);
  g_unsetenv("MADDNESS_PRESET_PATH");
  g_free(other);
}
GST_END_TEST;

static Suite *
maddnessfilter_suite(void)
{
  Suite *s = suite_create("maddnessfilter");
  TCase *tc = tcase_create("general");

  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_properties);
  tcase_add_test(tc, test_impulse_1to1);
  tcase_add_test(tc, test_impulse_1to1_on_3_channels);
  tcase_add_test(tc, test_impulse_1to4);
  tcase_add_test(tc, test_impulse_2to2);
  tcase_add_test(tc, test_channel_mask_dropped);
  tcase_add_test(tc, test_buffer_sizes_exact);
  tcase_add_test(tc, test_buffer_sizes_tiers);
  tcase_add_test(tc, test_empty_buffer);
  tcase_add_test(tc, test_quality_mapping);
  tcase_add_test(tc, test_no_tiers_is_exact);
  tcase_add_test(tc, test_quality_controller);
  tcase_add_test(tc, test_quality_changes_continuous);
  tcase_add_test(tc, test_preset_swap_continuous);
  tcase_add_test(tc, test_preset_swap_long_kernel);
  tcase_add_test(tc, test_preset_swap_bad_keeps_old);
  tcase_add_test(tc, test_preset_swap_threaded);
  tcase_add_test(tc, test_missing_preset);
  tcase_add_test(tc, test_corrupt_preset);
  tcase_add_test(tc, test_no_preset);
  tcase_add_test(tc, test_wrong_rate);
  tcase_add_test(tc, test_wrong_channels);
  tcase_add_test(tc, test_misfit_rate);
  tcase_add_test(tc, test_misfit_channels);
  tcase_add_test(tc, test_misfit_rate_change);
  tcase_add_test(tc, test_latency_harness);
  tcase_add_test(tc, test_latency_pipeline);
  tcase_add_test(tc, test_discont_resets);
  tcase_add_test(tc, test_caps_change_resets);
  tcase_add_test(tc, test_nan_input);
  tcase_add_test(tc, test_measured_snr);
  tcase_add_test(tc, test_accuracy_message);
  tcase_add_test(tc, test_min_snr);
  tcase_add_test(tc, test_min_snr_controller);
  tcase_add_test(tc, test_pipeline_fakesink);
  tcase_add_test(tc, test_pipeline_preset_name);
  tcase_add_test(tc, test_pipeline_wav);
  tcase_add_test(tc, test_preset_find);
  return s;
}

static void
make_presets(void)
{
  GError *error = NULL;
  MdnKernel *k44;

  tmp_dir = g_dir_make_tmp("test-maddnessfilter-XXXXXX", &error);
  g_assert_no_error(error);

  k11 = distinct_kernel(1, 1, 8);
  k14 = distinct_kernel(1, 4, 5);
  k22 = distinct_kernel(2, 2, 6);
  klp = mdn_design_lowpass(63, 2000, RATE);
  klp2 = mdn_design_lowpass(47, 3000, RATE);
  kgain = mdn_kernel_new(1, 1, 1, 1, RATE, NULL);
  kgain->weights[0] = 2.0f;
  k44 = mdn_design_lowpass(63, 2000, 44100);
  p11_path = save_preset(k11, "p11.mdn");
  p14_path = save_preset(k14, "p14.mdn");
  p22_path = save_preset(k22, "p22.mdn");
  lp_path = save_preset(klp, "lowpass.mdn");
  lp2_path = save_preset(klp2, "lowpass2.mdn");
  gain_path = save_preset(kgain, "gain.mdn");
  p44k_path = save_preset(k44, "lowpass-44k.mdn");
  {
    MdnKernel *kdelay = mdn_kernel_new(1, 1, 1501, 1, RATE, NULL);

    kdelay->weights[1500] = 1.0f;
    delay_path = save_preset(kdelay, "delay.mdn");
    mdn_kernel_free(kdelay);
  }
  mdn_kernel_free(k44);

  corrupt_path = g_build_filename(tmp_dir, "corrupt.mdn", NULL);
  {
    /* A real preset, truncated and with its middle scrambled. */
    char *data = NULL;
    gsize len = 0;
    gsize i;

    g_assert_true(g_file_get_contents(lp_path, &data, &len, NULL));
    for (i = len / 4; i < len / 2; i++)
      data[i] ^= 0x5a;
    g_assert_true(g_file_set_contents(corrupt_path, data, len * 3 / 4, NULL));
    g_free(data);
  }
  make_tiered_preset();
  make_bank_preset();
}

int
main(int argc, char **argv)
{
  int failed;

  mdn_gst_test_init(&argc, &argv);
  make_presets();
  failed = mdn_gst_test_run(maddnessfilter_suite(), "maddnessfilter", __FILE__, tmp_dir);
  return failed;
}

/* test-hostile.c: maddnessfilter under hostile streams and hostile control.
 *
 * Each test feeds the element what a live pipeline can: NaN, Inf and
 * denormal samples, empty and one-frame buffers, 10 s buffers, buffers
 * without timestamps, channel-count renegotiation mid-stream, flushing seeks,
 * a thousand PLAYING <-> READY cycles, and other threads changing `quality`
 * and `preset` as fast as they can while audio flows. The output must stay
 * finite and complete, and the element must keep answering. Leaks are caught
 * by LeakSanitizer when this runs in the sanitized build (make check-sanitize).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "maddness.h"
#include "mdn-signals.h"
#include "gst-test-util.h"

#define RATE 48000
#define CAPS_FMT MDN_GST_TEST_CAPS_FMT
#define CAPS_MASK_FMT MDN_GST_TEST_CAPS_MASK_FMT

static char *tmp_dir;
static char *tiered_path, *lp2_path, *room_path, *corrupt_path, *long_span_path;
static char *setup_error; /* why the presets could not be made */

/* ---- helpers -------------------------------------------------------------- */

static char *
save_model(MdnModel *model, const char *name)
{
  GError *error = NULL;
  char *path = g_build_filename(tmp_dir, name, NULL);

  if (!mdn_model_save(model, path, &error)) {
    setup_error = g_strdup(error->message);
    g_clear_error(&error);
  }
  return path;
}

static char *
save_kernel(MdnKernel *k, const char *name)
{
  MdnModel *model = mdn_model_new(k, NULL);
  char *path = save_model(model, name);

  mdn_model_free(model);
  mdn_kernel_free(k);
  return path;
}

static void
make_presets(void)
{
  GError *error = NULL;
  MdnKernel *klp = mdn_design_lowpass(63, 2000, RATE);
  MdnModel *model;

  tmp_dir = g_dir_make_tmp("test-hostile-XXXXXX", &error);
  g_assert_no_error(error);
  model = mdn_gst_test_fit_tiered(klp, "s4d4,s2d6e4,s1d8q16", RATE, &error);
  if (model) {
    tiered_path = save_model(model, "tiered.mdn");
    mdn_model_free(model);
  } else {
    setup_error = g_strdup(error->message);
    g_clear_error(&error);
  }
  mdn_kernel_free(klp);

  lp2_path = save_kernel(mdn_design_lowpass(47, 3000, RATE), "lowpass2.mdn");
  /* Long enough for the FFT path of the exact convolution. */
  room_path = save_kernel(mdn_design_room_ir(4800, 0.3, RATE, 9), "room.mdn");
  /* The longest span (MDN_MAX_SPAN frames: 256 taps at dilation 4096) in a
   * 1 KiB file: two taps, now and 1044480 frames ago. */
  {
    MdnKernel *k
        = mdn_kernel_new(1, 1, MDN_MAX_SPAN / MDN_MAX_DILATION, MDN_MAX_DILATION, RATE, &error);
    g_assert_no_error(error);
    k->weights[0] = 0.5f;
    k->weights[k->taps - 1] = 0.25f;
    long_span_path = save_kernel(k, "long-span.mdn");
  }
  corrupt_path = g_build_filename(tmp_dir, "corrupt.mdn", NULL);
  g_assert_true(g_file_set_contents(corrupt_path, "MDNPRST\0\1\0\0\0\4\0\0\0abcd", 20, NULL));
}

static const char *
tiered(void)
{
  if (setup_error || !tiered_path)
    g_error("presets not made: %s", setup_error ? setup_error : "?");
  return tiered_path;
}

#define harness_new(preset, quality, channels)                                                     \
  mdn_gst_test_filter_harness(preset, quality, channels, RATE)
/* first_frame < 0: no timestamps. */
#define make_buffer(data, n_frames, channels, first_frame)                                         \
  mdn_gst_test_make_buffer(data, n_frames, channels, RATE, first_frame)

/* Pushes n_frames (first_frame < 0: no timestamps), pulls the output, checks
 * its size and that every sample is finite; returns the output (unref). */
static GstBuffer *
push_pull(GstHarness *h, const float *in, size_t n_frames, int in_channels, int out_channels,
          gint64 first_frame)
{
  GstBuffer *res;
  GstMapInfo map;
  size_t j;

  fail_unless_equals_int(gst_harness_push(h, make_buffer(in, n_frames, in_channels, first_frame)),
                         GST_FLOW_OK);
  res = gst_harness_pull(h);
  fail_unless(res != NULL);
  fail_unless(gst_buffer_map(res, &map, GST_MAP_READ));
  fail_unless_equals_uint64(map.size, n_frames * out_channels * sizeof(float));
  for (j = 0; j < n_frames * out_channels; j++)
    fail_unless(isfinite(((const float *)map.data)[j]), "sample %zu is %g", j,
                ((const float *)map.data)[j]);
  gst_buffer_unmap(res, &map);
  return res;
}

static void
push_pull_drop(GstHarness *h, const float *in, size_t n_frames, int in_channels, int out_channels,
               gint64 first_frame)
{
  gst_buffer_unref(push_pull(h, in, n_frames, in_channels, out_channels, first_frame));
}

static double
buffer_rms(GstBuffer *buf)
{
  GstMapInfo map;
  double sum = 0;
  size_t j, n;

  gst_buffer_map(buf, &map, GST_MAP_READ);
  n = map.size / sizeof(float);
  for (j = 0; j < n; j++)
    sum += (double)((const float *)map.data)[j] * ((const float *)map.data)[j];
  gst_buffer_unmap(buf, &map);
  return n ? sqrt(sum / n) : 0;
}

/* Speech with NaN, +-Inf, denormals and huge values sprinkled in. */
static float *
hostile_audio(size_t n, int channels)
{
  float *x = mdn_signal_multichannel(mdn_signal_speech, n, channels, RATE, 5);
  size_t j;

  for (j = 0; j < n * channels; j += 97) {
    switch ((j / 97) % 7) {
    case 0:
      x[j] = NAN;
      break;
    case 1:
      x[j] = INFINITY;
      break;
    case 2:
      x[j] = -INFINITY;
      break;
    case 3:
      x[j] = 1e-40f; /* denormal */
      break;
    case 4:
      x[j] = -1.4e-45f; /* the smallest denormal */
      break;
    case 5:
      x[j] = 1e30f; /* finite, but far out of range */
      break;
    default:
      x[j] = -NAN;
      break;
    }
  }
  return x;
}

/* ---- samples -------------------------------------------------------------- */

/* NaN, Inf and denormals on every tier and the exact path: finite output,
 * and audio still gets through between the bad samples. */
GST_START_TEST(test_nonfinite_and_denormal)
{
  const size_t n = 4800;
  float *in = hostile_audio(n, 2);
  float *denormals = g_new(float, n * 2);
  /* 0, 4, 7: each of the three tiers; 10: exact. */
  static const int qualities[] = { 0, 4, 7, 10 };
  gsize qi;
  size_t j;

  for (j = 0; j < n * 2; j++)
    denormals[j] = (j % 2 ? 1 : -1) * 1e-39f * (float)(j % 13 + 1);
  for (qi = 0; qi < G_N_ELEMENTS(qualities); qi++) {
    int quality = qualities[qi];
    GstHarness *h = harness_new(tiered(), quality, 2);
    GstBuffer *out;

    push_pull_drop(h, in, n, 2, 2, 0);
    out = push_pull(h, in, n, 2, 2, n);
    /* The huge values are finite: they come through as huge values. */
    fail_unless(buffer_rms(out) > 0.01, "quality %d: silence", quality);
    gst_buffer_unref(out);
    /* Denormal-only input: tiny or zero output, never NaN. */
    push_pull_drop(h, denormals, n, 2, 2, 2 * n);
    gst_harness_teardown(h);
  }
  g_free(in);
  g_free(denormals);
}
GST_END_TEST;

/* ---- buffer sizes and timestamps ----------------------------------------- */

GST_START_TEST(test_empty_and_one_frame_buffers)
{
  float *in = mdn_signal_speech(2000, RATE, 3);
  int quality;

  for (quality = 0; quality <= 10; quality += 5) {
    GstHarness *h = harness_new(tiered(), quality, 1);
    gint64 frame = 0;
    int j;

    for (j = 0; j < 1000; j++) {
      size_t n = j % 3 == 0 ? 0 : 1;

      push_pull_drop(h, in + frame, n, 1, 1, frame);
      frame += (gint64)n;
    }
    gst_harness_teardown(h);
  }
  g_free(in);
}
GST_END_TEST;

/* 10 s in one buffer: mono on the FFT exact path, stereo on a tier. */
GST_START_TEST(test_ten_second_buffers)
{
  const size_t n = 10 * RATE;
  float *in = mdn_signal_multichannel(mdn_signal_music, n, 2, RATE, 8);
  struct {
    const char *preset;
    int quality, channels;
  } runs[] = { { room_path, 10, 1 }, { tiered(), 2, 2 } };
  gsize r;

  for (r = 0; r < G_N_ELEMENTS(runs); r++) {
    GstHarness *h = harness_new(runs[r].preset, runs[r].quality, runs[r].channels);
    int j;

    for (j = 0; j < 2; j++) {
      GstBuffer *out = push_pull(h, in, n, runs[r].channels, runs[r].channels, j * (gint64)n);

      fail_unless(buffer_rms(out) > 1e-3);
      gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
  }
  g_free(in);
}
GST_END_TEST;

/* Buffers without PTS, DTS, duration or offsets: filtered like any other. */
GST_START_TEST(test_no_timestamps)
{
  const size_t n = 480;
  float *in = mdn_signal_speech(4 * n, RATE, 4);
  GstHarness *h = harness_new(tiered(), 3, 1);
  GstHarness *ref = harness_new(tiered(), 3, 1);
  int j;

  for (j = 0; j < 4; j++) {
    GstBuffer *a = push_pull(h, in + j * n, n, 1, 1, -1);
    GstBuffer *b = push_pull(ref, in + j * n, n, 1, 1, j * (gint64)n);
    GstMapInfo ma, mb;

    fail_if(GST_BUFFER_PTS_IS_VALID(a));
    gst_buffer_map(a, &ma, GST_MAP_READ);
    gst_buffer_map(b, &mb, GST_MAP_READ);
    /* Same samples as with timestamps: they only matter to a controller. */
    fail_unless(memcmp(ma.data, mb.data, ma.size) == 0, "buffer %d differs", j);
    gst_buffer_unmap(a, &ma);
    gst_buffer_unmap(b, &mb);
    gst_buffer_unref(a);
    gst_buffer_unref(b);
  }
  gst_harness_teardown(h);
  gst_harness_teardown(ref);
  g_free(in);
}
GST_END_TEST;

/* ---- renegotiation, flushes, state changes -------------------------------- */

/* A 1->1 preset: mono, stereo, 6 channels, mono again, mid-stream. */
GST_START_TEST(test_channel_renegotiation)
{
  const int channels[] = { 1, 2, 6, 1, 2, 2, 8, 1 };
  float *in = hostile_audio(480, 8);
  GstHarness *h = harness_new(tiered(), 4, 1);
  gsize c;

  for (c = 0; c < G_N_ELEMENTS(channels); c++) {
    char *caps = g_strdup_printf(channels[c] > 2 ? CAPS_MASK_FMT : CAPS_FMT, RATE, channels[c]);
    int q;

    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
    for (q = 0; q < 3; q++)
      push_pull_drop(h, in, 480 / channels[c], channels[c], channels[c], -1);
    g_object_set(h->element, "quality", (int)(c % 11), NULL);
  }
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* Flushing seeks: after flush-start/stop and a new segment the element
 * filters from silence, like a new one. */
GST_START_TEST(test_flushing_seeks)
{
  const size_t n = 960;
  float *in = mdn_signal_speech(n * 10, RATE, 6);
  GstHarness *h = harness_new(room_path, 10, 1);
  int j;

  for (j = 0; j < 10; j++) {
    GstHarness *fresh = harness_new(room_path, 10, 1);
    GstSegment segment;
    GstBuffer *a, *b;
    GstMapInfo ma, mb;

    push_pull_drop(h, in + j * n, n, 1, 1, j * (gint64)n);
    fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
    if (j % 2)
      /* Buffers pushed while flushing are refused, not filtered. */
      fail_unless_equals_int(gst_harness_push(h, make_buffer(in, n, 1, 0)), GST_FLOW_FLUSHING);
    fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
    gst_segment_init(&segment, GST_FORMAT_TIME);
    fail_unless(gst_harness_push_event(h, gst_event_new_segment(&segment)));
    a = push_pull(h, in + (9 - j) * n, n, 1, 1, 0);
    b = push_pull(fresh, in + (9 - j) * n, n, 1, 1, 0);
    gst_buffer_map(a, &ma, GST_MAP_READ);
    gst_buffer_map(b, &mb, GST_MAP_READ);
    fail_unless(memcmp(ma.data, mb.data, ma.size) == 0, "seek %d: history not reset", j);
    gst_buffer_unmap(a, &ma);
    gst_buffer_unmap(b, &mb);
    gst_buffer_unref(a);
    gst_buffer_unref(b);
    gst_harness_teardown(fresh);
  }
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* 1000 PLAYING -> READY -> PLAYING cycles (each reloads the preset); every
 * tenth cycle filters a buffer. */
GST_START_TEST(test_state_cycles)
{
  float *in = mdn_signal_speech(480, RATE, 2);
  GstHarness *h = harness_new(tiered(), 5, 1);
  int j;

  for (j = 0; j < 1000; j++) {
    fail_unless_equals_int(gst_element_set_state(h->element, GST_STATE_READY),
                           GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int(gst_element_set_state(h->element, GST_STATE_PLAYING),
                           GST_STATE_CHANGE_SUCCESS);
    if (j % 10 == 9) {
      char *stream_id = g_strdup_printf("cycle-%d", j);
      char *caps = g_strdup_printf(CAPS_FMT, RATE, 1);

      /* Deactivated pads forgot their sticky events: send them again. */
      fail_unless(gst_harness_push_event(h, gst_event_new_stream_start(stream_id)));
      gst_harness_set_src_caps_str(h, caps);
      push_pull_drop(h, in, 480, 1, 1, 0);
      g_free(stream_id);
      g_free(caps);
    }
  }
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* ---- other threads at the controls ---------------------------------------- */

typedef struct {
  GstElement *element;
  gint stop;
  guint changes;
} Storm;

static gpointer
quality_storm(gpointer data)
{
  Storm *storm = data;
  int q = 0;

  while (!g_atomic_int_get(&storm->stop)) {
    g_object_set(storm->element, "quality", q, NULL);
    q = (q + 3) % 11;
    storm->changes++;
  }
  return NULL;
}

static gpointer
preset_storm(gpointer data)
{
  Storm *storm = data;
  const char *presets[] = { lp2_path, tiered_path, room_path, corrupt_path, "/nonexistent.mdn" };
  int j = 0;

  while (!g_atomic_int_get(&storm->stop)) {
    char *tier = NULL;
    double snr;

    g_object_set(storm->element, "preset", presets[j % G_N_ELEMENTS(presets)], NULL);
    /* The read-only properties while states come and go. */
    g_object_get(storm->element, "tier", &tier, "expected-snr", &snr, NULL);
    g_free(tier);
    j++;
    storm->changes++;
  }
  return NULL;
}

GST_START_TEST(test_property_storm)
{
  const size_t block = 256;
  float *in = hostile_audio(block * 64, 2);
  GstHarness *h = harness_new(tiered(), 5, 2);
  GstBus *bus = gst_bus_new();
  Storm quality = { h->element, 0, 0 }, preset = { h->element, 0, 0 };
  GThread *tq, *tp;
  gint64 end, frame = 0;
  guint buffers = 0;
  char *tier = NULL;
  int q;

  /* Failed swaps post warnings: give them a bus that drops them. */
  gst_element_set_bus(h->element, bus);
  gst_bus_set_flushing(bus, TRUE);
  tq = g_thread_new("quality-storm", quality_storm, &quality);
  tp = g_thread_new("preset-storm", preset_storm, &preset);
  end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < end) {
    push_pull_drop(h, in + (frame % (block * 63)) * 2, block, 2, 2, frame);
    frame += block;
    buffers++;
  }
  g_atomic_int_set(&quality.stop, 1);
  g_atomic_int_set(&preset.stop, 1);
  g_thread_join(tq);
  g_thread_join(tp);
  g_test_message("%u buffers, %u quality and %u preset changes", buffers, quality.changes,
                 preset.changes);
  fail_unless(buffers > 10 && quality.changes > 10 && preset.changes > 2);

  /* Still answering: a settled preset and quality are what runs. */
  g_object_set(h->element, "preset", tiered(), "quality", 10, NULL);
  for (q = 0; q < 16; q++) {
    push_pull_drop(h, in, block, 2, 2, frame);
    frame += block;
  }
  g_object_get(h->element, "tier", &tier, NULL);
  fail_unless_equals_string(tier, "exact");
  g_free(tier);
  gst_harness_teardown(h);
  gst_object_unref(bus);
  g_free(in);
}
GST_END_TEST;

/* A small preset whose history on many channels would be more than a stream
 * may keep (MDN_MAX_STREAM_HISTORY_BYTES): the caps fail with an error that
 * says so, instead of a huge allocation; stereo runs. */
GST_START_TEST(test_long_span_many_channels)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstBus *bus = gst_bus_new();
  float *in = hostile_audio(1024, 2);
  GstSegment segment;
  GstMessage *msg;
  GstHarness *h;
  GError *error = NULL;
  char *debug = NULL, *caps;

  if (setup_error)
    g_error("presets not made: %s", setup_error);
  g_object_set(element, "preset", long_span_path, NULL);
  gst_element_set_bus(element, bus);
  h = gst_harness_new_with_element(element, "sink", "src");
  gst_object_unref(element);
  caps = g_strdup_printf(CAPS_MASK_FMT, RATE, 64);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&segment));
  fail_unless_equals_int(gst_harness_push(h, make_buffer(in, 16, 64, 0)), GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "no error message");
  gst_message_parse_error(msg, &error, &debug);
  fail_unless(strstr(error->message, "MDN_MAX_STREAM_HISTORY_BYTES") != NULL,
              "\"%s\" does not name the limit", error->message);
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(msg);

  gst_harness_set_src_caps_str(h, MDN_GST_TEST_F32 ",rate=48000,channels=2");
  push_pull_drop(h, in, 1024, 2, 2, 0);
  gst_harness_teardown(h);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
  g_free(in);
}
GST_END_TEST;

static Suite *
hostile_suite(void)
{
  Suite *s = suite_create("maddnessfilter-hostile");
  TCase *tc = tcase_create("general");

  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_nonfinite_and_denormal);
  tcase_add_test(tc, test_empty_and_one_frame_buffers);
  tcase_add_test(tc, test_ten_second_buffers);
  tcase_add_test(tc, test_no_timestamps);
  tcase_add_test(tc, test_channel_renegotiation);
  tcase_add_test(tc, test_flushing_seeks);
  tcase_add_test(tc, test_state_cycles);
  tcase_add_test(tc, test_property_storm);
  tcase_add_test(tc, test_long_span_many_channels);
  return s;
}

int
main(int argc, char **argv)
{
  int failed;

  mdn_gst_test_init(&argc, &argv);
  make_presets();
  failed = mdn_gst_test_run(hostile_suite(), "maddnessfilter-hostile", __FILE__, tmp_dir);
  g_free(tmp_dir);
  g_free(tiered_path);
  g_free(lp2_path);
  g_free(room_path);
  g_free(corrupt_path);
  g_free(long_span_path);
  g_free(setup_error);
  return failed;
}

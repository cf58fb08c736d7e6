/* test-rt-element.c: maddnessfilter's buffer path never allocates, frees or
 * opens files.
 *
 * The executable counts allocations and opens per thread (mdn-alloc-count.c).
 * The element's GstBaseTransform vfuncs that run per buffer (transform and
 * before_transform) are wrapped in the class so that only their work is
 * counted: GstBaseTransform allocating the output buffer and GstHarness
 * queueing it are GStreamer's business, not the element's. After the caps
 * are set, at every quality and through quality changes, preset swaps
 * (loaded on this thread by the property setter, picked up, warmed up,
 * crossfaded in and retired by the streaming thread), flushes, DISCONT
 * buffers and 0- to 4800-frame buffers, with the accuracy audit measuring
 * (on by default), switched off and on, and min-snr picking the tier, the
 * wrapped calls must make no allocation, free or open. (Non-finite input is
 * left out, and so is audio unlike the preset's fit: the one warning
 * message per stream, and the one accuracy message per fall under the
 * claim, are documented as the only allocations on this path.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "maddness.h"
#include "mdn-signals.h"
#include "gst-test-util.h"
#include "mdn-alloc-count.h"

#define RATE 48000

static char *tmp_dir, *tiered_path, *lp2_path, *room_path, *bank_path;

static GstFlowReturn (*real_transform)(GstBaseTransform *, GstBuffer *, GstBuffer *);
static void (*real_before_transform)(GstBaseTransform *, GstBuffer *);
/* What the wrapped calls did (streaming thread = this thread here). */
static MdnAllocCount seen;
static guint transform_calls;

static void
add_count(const MdnAllocCount *c)
{
  seen.allocs += c->allocs;
  seen.frees += c->frees;
  seen.opens += c->opens;
  seen.max_size = MAX(seen.max_size, c->max_size);
}

static GstFlowReturn
counted_transform(GstBaseTransform *trans, GstBuffer *in, GstBuffer *out)
{
  MdnAllocCount c;
  GstFlowReturn ret;

  mdn_alloc_count_begin();
  ret = real_transform(trans, in, out);
  mdn_alloc_count_end(&c);
  add_count(&c);
  transform_calls++;
  return ret;
}

static void
counted_before_transform(GstBaseTransform *trans, GstBuffer *buffer)
{
  MdnAllocCount c;

  mdn_alloc_count_begin();
  real_before_transform(trans, buffer);
  mdn_alloc_count_end(&c);
  add_count(&c);
}

static void
hook_class(void)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstBaseTransformClass *klass;

  g_assert_nonnull(element);
  klass = GST_BASE_TRANSFORM_GET_CLASS(element);
  real_transform = klass->transform;
  real_before_transform = klass->before_transform;
  g_assert_nonnull(real_transform);
  klass->transform = counted_transform;
  if (real_before_transform)
    klass->before_transform = counted_before_transform;
  gst_object_unref(element);
}

#define harness_new(preset, quality, channels)                                                     \
  mdn_gst_test_filter_harness(preset, quality, channels, RATE)

static void
push_pull_io(GstHarness *h, const float *in, size_t n_frames, int channels, int out_channels,
             guint64 frame, gboolean discont)
{
  GstBuffer *buf = n_frames ? gst_buffer_new_memdup(in, n_frames * channels * sizeof(float))
                            : gst_buffer_new();
  GstBuffer *out;

  GST_BUFFER_PTS(buf) = gst_util_uint64_scale_int(frame, GST_SECOND, RATE);
  if (discont)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
  out = gst_harness_pull(h);
  fail_unless(out != NULL);
  fail_unless_equals_uint64(gst_buffer_get_size(out), n_frames * out_channels * sizeof(float));
  gst_buffer_unref(out);
}

static void
push_pull(GstHarness *h, const float *in, size_t n_frames, int channels, guint64 frame,
          gboolean discont)
{
  push_pull_io(h, in, n_frames, channels, channels, frame, discont);
}

static void
reset_seen(void)
{
  memset(&seen, 0, sizeof seen);
  transform_calls = 0;
}

static void
assert_none_seen(const char *what)
{
  g_test_message("%s: %u transforms, %" G_GUINT64_FORMAT " allocations, %" G_GUINT64_FORMAT
                 " frees, %" G_GUINT64_FORMAT " opens",
                 what, transform_calls, seen.allocs, seen.frees, seen.opens);
  fail_unless(transform_calls > 0, "%s: the wrapper did not run", what);
  fail_unless(seen.allocs == 0 && seen.frees == 0 && seen.opens == 0,
              "%s: %" G_GUINT64_FORMAT " allocations (largest %" G_GUINT64_FORMAT
              "), %" G_GUINT64_FORMAT " frees, %" G_GUINT64_FORMAT " opens in the buffer path",
              what, seen.allocs, seen.max_size, seen.frees, seen.opens);
}

static const size_t sizes[] = { 480, 1, 0, 64, 4800, 1024, 7 };

/* Every quality, each on a fresh element: buffers of every size. */
GST_START_TEST(test_every_quality)
{
  float *in = mdn_signal_multichannel(mdn_signal_speech, 4800, 2, RATE, 1);
  int quality;

  for (quality = 0; quality <= 10; quality++) {
    GstHarness *h = harness_new(tiered_path, quality, 2);
    guint64 frame = 0;
    gsize j;
    char what[32];

    reset_seen();
    for (j = 0; j < 3 * G_N_ELEMENTS(sizes); j++) {
      size_t n = sizes[j % G_N_ELEMENTS(sizes)];

      push_pull(h, in, n, 2, frame, FALSE);
      frame += n;
    }
    g_snprintf(what, sizeof what, "quality %d", quality);
    assert_none_seen(what);
    gst_harness_teardown(h);
  }
  g_free(in);
}
GST_END_TEST;

/* Quality changes (crossfades), preset swaps, flushes and DISCONT on one
 * running element. */
GST_START_TEST(test_changes_while_running)
{
  float *in = mdn_signal_speech(4800, RATE, 2);
  const char *presets[] = { lp2_path, room_path, tiered_path };
  GstHarness *h = harness_new(tiered_path, 5, 1);
  guint64 frame = 0;
  int j;

  push_pull(h, in, 480, 1, frame, FALSE);
  frame += 480;
  reset_seen();
  for (j = 0; j < 60; j++) {
    size_t n = sizes[j % G_N_ELEMENTS(sizes)];

    if (j % 3 == 0)
      g_object_set(h->element, "quality", (j / 3) % 11, NULL);
    if (j % 20 == 10) /* the setter loads it here, outside the buffer path */
      g_object_set(h->element, "preset", presets[(j / 20) % G_N_ELEMENTS(presets)], NULL);
    if (j % 17 == 16) {
      GstSegment segment;

      fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
      fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
      gst_segment_init(&segment, GST_FORMAT_TIME);
      fail_unless(gst_harness_push_event(h, gst_event_new_segment(&segment)));
    }
    push_pull(h, in, n, 1, frame, j % 13 == 12);
    frame += n;
  }
  /* The last swap (room: 4800 taps) finished: it is the one running. */
  for (j = 0; j < 4; j++)
    push_pull(h, in, 4800, 1, frame, FALSE);
  assert_none_seen("quality changes, preset swaps, flushes, DISCONT");
  gst_harness_teardown(h);
  g_free(in);
}
GST_END_TEST;

/* The audit measuring, min-snr choosing the tier (through several tiers and
 * switches), the audit off and on again, quality and min-snr changes, live
 * preset swaps (the same preset loaded again: a new stream warming up and
 * crossfading in with the audit and the governor on). The
 * audio is the held-out part of the bank preset's fit audio, looped: the
 * tiers' claims were measured on it, so no accuracy message is due. */
GST_START_TEST(test_audit_and_min_snr)
{
  float *fit_audio = mdn_signal_speech(RATE, RATE, 7); /* mdn_gst_test_fit_tiered's audio */
  const float *speech = fit_audio + RATE - RATE / 5;   /* its last 20 %, held out */
  GstHarness *h = harness_new(bank_path, 0, 1);
  GstBus *bus = gst_bus_new();
  static const double floors[] = { 0, 5, 40, 5, 12, 0 };
  GstMessage *msg;
  double measured = NAN;
  guint64 frame = 0;
  int j, messages = 0;

  gst_element_set_bus(h->element, bus);
  push_pull_io(h, speech, 480, 1, 4, frame, FALSE);
  frame += 480;
  reset_seen();
  for (j = 0; j < 60; j++) {
    size_t n = 4800, k;

    if (j % 10 == 0)
      g_object_set(h->element, "min-snr", floors[j / 10], NULL);
    if (j == 25)
      g_object_set(h->element, "audit", FALSE, NULL);
    if (j == 27)
      g_object_set(h->element, "audit", TRUE, NULL);
    if (j % 7 == 3)
      g_object_set(h->element, "quality", j % 11, NULL);
    if (j % 30 == 15) /* a live swap: the new stream audited and governed from its start */
      g_object_set(h->element, "preset", bank_path, NULL);
    for (k = 0; k < RATE / n; k++) {
      push_pull_io(h, speech + k % 2 * n, n, 1, 4, frame, FALSE);
      frame += n;
    }
    if (j == 9)
      g_object_get(h->element, "measured-snr", &measured, NULL);
  }
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
    messages++;
    gst_message_unref(msg);
  }
  fail_unless(messages == 0, "%d element messages: the claim did not hold", messages);
  fail_unless(isfinite(measured), "measured-snr %g after 10 s", measured);
  assert_none_seen("audit, min-snr");
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
  gst_harness_teardown(h);
  g_free(fit_audio);
}
GST_END_TEST;

/* The counter sees what the buffer path does: the documented one warning for
 * non-finite input allocates, and is counted. */
GST_START_TEST(test_counter_sees_the_warning)
{
  float in[480] = { 0 };
  GstHarness *h = harness_new(tiered_path, 10, 1);

  reset_seen();
  in[100] = NAN;
  push_pull(h, in, 480, 1, 0, FALSE);
  fail_unless(transform_calls == 1);
  fail_unless(seen.allocs > 0, "the warning's allocations were not counted");
  gst_harness_teardown(h);
}
GST_END_TEST;

static Suite *
rt_suite(void)
{
  Suite *s = suite_create("maddnessfilter-rt");
  TCase *tc = tcase_create("general");

  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_every_quality);
  tcase_add_test(tc, test_changes_while_running);
  tcase_add_test(tc, test_audit_and_min_snr);
  tcase_add_test(tc, test_counter_sees_the_warning);
  return s;
}

static char *
save(MdnModel *m, const char *name)
{
  GError *error = NULL;
  char *path = g_build_filename(tmp_dir, name, NULL);

  if (!mdn_model_save(m, path, &error))
    g_error("%s: %s", path, error->message);
  return path;
}

static void
make_presets(void)
{
  GError *error = NULL;
  MdnKernel *klp = mdn_design_lowpass(63, 2000, RATE), *k;
  MdnModel *m;

  tmp_dir = g_dir_make_tmp("test-rt-element-XXXXXX", &error);
  g_assert_no_error(error);
  m = mdn_gst_test_fit_tiered(klp, "s4d4,s2d6e4,s1d8q16", RATE, &error);
  g_assert_no_error(error);
  tiered_path = save(m, "tiered.mdn");
  mdn_model_free(m);
  mdn_kernel_free(klp);

  k = mdn_design_bank(4, 96, RATE);
  m = mdn_gst_test_fit_tiered(k, "s8d4e2q6,s4d6e8,s2d6e16", RATE, &error);
  g_assert_no_error(error);
  bank_path = save(m, "bank.mdn");
  mdn_model_free(m);
  mdn_kernel_free(k);

  k = mdn_design_lowpass(47, 3000, RATE);
  lp2_path = g_build_filename(tmp_dir, "lp2.mdn", NULL);
  mdn_gst_test_write_preset(k, lp2_path);
  mdn_kernel_free(k);
  k = mdn_design_room_ir(4800, 0.3, RATE, 9);
  room_path = g_build_filename(tmp_dir, "room.mdn", NULL);
  mdn_gst_test_write_preset(k, room_path);
  mdn_kernel_free(k);
}

int
main(int argc, char **argv)
{
  int failed;

  mdn_gst_test_init(&argc, &argv);
  if (!mdn_alloc_count_works())
    g_error("the allocation counter is not in use");
  make_presets();
  hook_class();
  failed = mdn_gst_test_run(rt_suite(), "maddnessfilter-rt", __FILE__, tmp_dir);
  g_free(tmp_dir);
  g_free(tiered_path);
  g_free(lp2_path);
  g_free(room_path);
  g_free(bank_path);
  return failed;
}

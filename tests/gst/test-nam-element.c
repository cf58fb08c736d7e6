/* test-nam-element.c: maddnessfilter running a trained model (.nam).
 *
 * The models are written by tests/engine/make-nam-models.py into a
 * temporary directory. Asserts: the element's output is the engine's
 * (mdn_net_stream_process on the same buffers, bitwise); the caps rate is
 * the file's (48 kHz accepted, 44.1 kHz refused for a 48 kHz model, 44.1 kHz
 * for a 44.1 kHz one); the read-only level properties carry the metadata;
 * quality picks a slimmable file's submodel as NAM's size quality / 10;
 * the audit and min-snr do not apply to a trained model (quality still
 * picks the submodel, measured-snr is NaN, the output is the engine's).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gst-test-util.h"
#include "mdn-signals.h"

#include <math.h>
#include <string.h>

static char *models_dir;

static char *
model(const char *name)
{
  return g_build_filename(models_dir, name, NULL);
}

/* Pushes n frames in buffers of `block` and collects the output. */
static float *
run_element(GstHarness *h, const float *in, size_t n, size_t block)
{
  float *out = g_new0(float, n);
  size_t pos = 0, got = 0;
  while (pos < n) {
    const size_t m = MIN(block, n - pos);
    GstBuffer *b = mdn_gst_test_make_buffer(in + pos, m, 1, 48000, (gint64)pos);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    pos += m;
    while (gst_harness_buffers_in_queue(h) > 0) {
      GstBuffer *o = gst_harness_pull(h);
      GstMapInfo map;
      fail_unless(gst_buffer_map(o, &map, GST_MAP_READ));
      fail_unless(got + map.size / sizeof(float) <= n);
      memcpy(out + got, map.data, map.size);
      got += map.size / sizeof(float);
      gst_buffer_unmap(o, &map);
      gst_buffer_unref(o);
    }
  }
  fail_unless_equals_uint64(got, n);
  return out;
}

GST_START_TEST(test_output_and_levels)
{
  char *path = model("a1-standard.nam");
  GstHarness *h = mdn_gst_test_filter_harness(path, 10, 1, 48000);
  const size_t n = 4800;
  float *in = mdn_signal_music(n, 48000, 5), *ref = g_new(float, n), *out;
  GError *error = NULL;
  MdnNet *net = mdn_net_load(path, &error);
  MdnNetStream *s;
  double loudness, in_level, out_level;
  char *tier;
  size_t p;

  fail_unless(net != NULL);
  s = mdn_net_stream_new(net, 1, &error);
  fail_unless(s != NULL);
  for (p = 0; p < n; p += 480)
    mdn_net_stream_process(s, 0, in + p, ref + p, 480);
  out = run_element(h, in, n, 480);
  fail_unless(memcmp(out, ref, n * sizeof(float)) == 0, "element output is not the engine's");

  g_object_get(h->element, "loudness", &loudness, "input-level", &in_level, "output-level",
               &out_level, "tier", &tier, NULL);
  fail_unless(loudness == -18.5 && in_level == 12.0 && out_level == 6.5);
  fail_unless_equals_string(tier, "model-0");
  g_free(tier);
  gst_harness_teardown(h);
  mdn_net_stream_free(s);
  mdn_net_free(net);
  g_free(in);
  g_free(ref);
  g_free(out);
  g_free(path);
}
GST_END_TEST;

/* The caps rate is the file's: a 48 kHz model refuses 44.1 kHz. */
GST_START_TEST(test_rate)
{
  char *path = model("a1-standard.nam"), *p441 = model("rate-44100.nam");
  GstHarness *h = mdn_gst_test_filter_harness(path, 10, 1, 44100);
  float in[64] = { 0 };
  GstBuffer *b = mdn_gst_test_make_buffer(in, 64, 1, 44100, 0);
  fail_unless(gst_harness_push(h, b) == GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown(h);

  h = mdn_gst_test_filter_harness(p441, 10, 1, 44100);
  b = mdn_gst_test_make_buffer(in, 64, 1, 44100, 0);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  gst_harness_teardown(h);
  g_free(path);
  g_free(p441);
}
GST_END_TEST;

/* quality q: NAM's slimmable size q / 10 (0-2, 3, 4, 5-6, 7, 8-10 here). */
GST_START_TEST(test_quality)
{
  static const char *const expect[11]
      = { "model-0", "model-0", "model-0", "model-1", "model-2", "model-3",
          "model-3", "model-4", "model-5", "model-5", "model-5" };
  char *path = model("slimmable.nam");
  float in[480] = { 0 };
  int q;

  for (q = 0; q <= 10; q++) {
    GstHarness *h = mdn_gst_test_filter_harness(path, q, 1, 48000);
    char *tier;
    float *out = run_element(h, in, 480, 480);
    g_object_get(h->element, "tier", &tier, NULL);
    fail_unless_equals_string(tier, expect[q]);
    g_free(tier);
    g_free(out);
    gst_harness_teardown(h);
  }
  g_free(path);
}
GST_END_TEST;

/* min-snr and the audit are for a preset's tiers: with a trained model,
 * quality still picks the submodel, measured-snr is NaN (nothing audited)
 * and the output is the engine's. */
GST_START_TEST(test_min_snr_ignored)
{
  char *path = model("slimmable.nam");
  GstHarness *h = mdn_gst_test_filter_harness(path, 4, 1, 48000);
  const size_t n = 4800;
  float *in = mdn_signal_music(n, 48000, 6), *ref = g_new(float, n), *out;
  MdnNet *net = mdn_net_load(path, NULL);
  MdnNetStream *s;
  double measured = 0;
  char *tier;
  size_t p;

  fail_unless(net != NULL);
  s = mdn_net_stream_new(net, 1, NULL);
  fail_unless(s != NULL);
  for (p = 0; p < n; p += 480)
    mdn_net_stream_process(s, 2, in + p, ref + p, 480); /* quality 4: model-2 */
  g_object_set(h->element, "min-snr", 30.0, "audit", TRUE, NULL);
  out = run_element(h, in, n, 480);
  fail_unless(memcmp(out, ref, n * sizeof(float)) == 0, "element output is not model-2's");
  g_object_get(h->element, "tier", &tier, "measured-snr", &measured, NULL);
  fail_unless_equals_string(tier, "model-2");
  fail_unless(isnan(measured), "measured-snr %g for a trained model", measured);
  g_free(tier);
  gst_harness_teardown(h);
  mdn_net_stream_free(s);
  mdn_net_free(net);
  g_free(in);
  g_free(ref);
  g_free(out);
  g_free(path);
}
GST_END_TEST;

static Suite *
nam_suite(void)
{
  Suite *s = suite_create("maddnessfilter-nam");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_output_and_levels);
  tcase_add_test(tc, test_rate);
  tcase_add_test(tc, test_quality);
  tcase_add_test(tc, test_min_snr_ignored);
  return s;
}

int
main(int argc, char **argv)
{
  const char *argv_gen[] = { g_getenv("MDN_PYTHON"), g_getenv("MDN_NAM_GENERATOR"), NULL, NULL };
  int status = 0, result;

  mdn_gst_test_init(&argc, &argv);
  models_dir = g_dir_make_tmp("mdn-nam-gst-XXXXXX", NULL);
  argv_gen[2] = models_dir;
  if (!argv_gen[0] || !argv_gen[1]
      || !g_spawn_sync(NULL, (char **)argv_gen, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                       &status, NULL)
      || !g_spawn_check_wait_status(status, NULL)) {
    g_printerr("cannot run the model generator (MDN_PYTHON, MDN_NAM_GENERATOR)\n");
    return 1;
  }
  result = mdn_gst_test_run(nam_suite(), "maddnessfilter-nam", __FILE__, models_dir);
  g_free(models_dir);
  return result;
}

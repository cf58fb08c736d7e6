/* gst-test-util.c: helpers shared by the gst-check element tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gst-test-util.h"

#include <glib/gstdio.h>

#include "mdn-signals.h"

void
mdn_gst_test_init(int *argc, char ***argv)
{
  gst_check_init(argc, argv);
  g_unsetenv("MADDNESS_PRESET_PATH");
}

int
mdn_gst_test_run(Suite *suite, const char *name, const char *file, const char *tmp_dir)
{
  int failed = gst_check_run_suite(suite, name, file);

  mdn_gst_test_remove_tree(tmp_dir);
  return failed;
}

void
mdn_gst_test_remove_tree(const char *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;

  if (!d)
    return;
  while ((name = g_dir_read_name(d))) {
    char *path = g_build_filename(dir, name, NULL);

    if (g_file_test(path, G_FILE_TEST_IS_DIR))
      mdn_gst_test_remove_tree(path);
    else
      g_unlink(path);
    g_free(path);
  }
  g_dir_close(d);
  g_rmdir(dir);
}

void
mdn_gst_test_write_preset(const MdnKernel *k, const char *path)
{
  GError *error = NULL;
  MdnModel *model = mdn_model_new(k, &error);

  g_assert_no_error(error);
  if (!mdn_model_save(model, path, &error))
    g_error("mdn_model_save %s: %s", path, error->message);
  mdn_model_free(model);
}

GstHarness *
mdn_gst_test_filter_harness(const char *preset, int quality, int channels, int rate)
{
  GstElement *element = gst_element_factory_make("maddnessfilter", NULL);
  GstHarness *h;
  char *caps;

  fail_unless(element != NULL, "maddnessfilter not found (GST_PLUGIN_PATH?)");
  g_object_set(element, "preset", preset, "quality", quality, NULL);
  h = gst_harness_new_with_element(element, "sink", "src");
  gst_object_unref(element);
  caps = g_strdup_printf(channels > 2 ? MDN_GST_TEST_CAPS_MASK_FMT : MDN_GST_TEST_CAPS_FMT, rate,
                         channels);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
  return h;
}

GstBuffer *
mdn_gst_test_make_buffer(const float *data, size_t n_frames, int channels, int rate,
                         gint64 first_frame)
{
  GstBuffer *buf = n_frames ? gst_buffer_new_memdup(data, n_frames * channels * sizeof(float))
                            : gst_buffer_new();

  if (first_frame >= 0) {
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale_int(first_frame, GST_SECOND, rate);
    GST_BUFFER_DURATION(buf)
        = gst_util_uint64_scale_int(first_frame + n_frames, GST_SECOND, rate) - GST_BUFFER_PTS(buf);
  }
  return buf;
}

MdnModel *
mdn_gst_test_fit_tiered(const MdnKernel *k, const char *ladder, int rate, GError **error)
{
  MdnFitOptions options;
  MdnTierSpec *specs = NULL;
  MdnModel *model;
  float *audio;
  int n_specs = mdn_tier_ladder_parse(ladder, &specs, error);

  if (n_specs < 0)
    return NULL;
  audio = mdn_signal_speech(rate, rate, 7);
  mdn_fit_options_init(&options);
  options.specs = specs;
  options.n_specs = n_specs;
  options.seed = 3;
  options.keep_dominated = TRUE;
  model = mdn_fit(k, audio, rate, &options, error);
  g_free(specs);
  g_free(audio);
  return model;
}

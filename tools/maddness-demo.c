/* maddness-demo: `make demo`. A shipped sample through a shipped preset with
 * maddnessfilter in real GStreamer pipelines, at every quality level.
 *
 *   maddness-demo [SAMPLE.wav [PRESET]]
 *
 * Defaults: presets/sample-speech.wav and the preset "lowpass" (found through
 * MADDNESS_PRESET_PATH, which the Makefile sets to presets/; the plugin comes
 * from GST_PLUGIN_PATH, set to the build tree). For each quality 0..10 it runs
 *   filesrc ! wavparse ! audioconvert ! audioresample ! maddnessfilter ! fakesink
 * and prints the tier the element reports, its expected-snr property, the SNR
 * of its output against the quality-10 (exact) output, and the speed-up of the
 * element's processing time (from buffer in to buffer out, measured by pad
 * probes) against quality 10's, all measured in this run (the best of RUNS
 * runs per level, interleaved: on a busy machine the best run is the one
 * least disturbed). Then writes demo-out.wav with wavenc.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <gst/audio/audio-format.h>
#include <gst/gst.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 7
#define LEVELS 11 /* quality 0..10 */
#define OUT_QUALITY 0

typedef struct {
  GstClockTime entered; /* when the buffer being filtered reached the sink pad */
  GstClockTime busy;    /* sum of the element's time per buffer */
  GArray *samples;      /* float output, or NULL when not kept */
} Probe;

typedef struct {
  char tier[MDN_TIER_NAME_MAX];
  double expected_snr;
  double measured_snr;
  double ns_per_frame[RUNS];
  double best_ns;
  float *out;
  size_t n;
} Level;

static GstPadProbeReturn
on_sink_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Probe *probe = data;

  (void)pad;
  (void)info;
  probe->entered = gst_util_get_timestamp();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_src_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Probe *probe = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);

  (void)pad;
  probe->busy += gst_util_get_timestamp() - probe->entered;
  if (probe->samples) {
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      g_array_append_vals(probe->samples, map.data, map.size / sizeof(float));
      gst_buffer_unmap(buffer, &map);
    }
  }
  return GST_PAD_PROBE_OK;
}

/* Runs `description` (with an element named "f") to EOS. */
static gboolean
run_pipeline(const char *description, Probe *probe, char tier[MDN_TIER_NAME_MAX],
             double *expected_snr, GError **error)
{
  GstElement *pipeline = gst_parse_launch(description, error);
  GstElement *filter;
  GstBus *bus;
  GstMessage *message;
  gboolean ok = TRUE;

  if (!pipeline)
    return FALSE;
  filter = gst_bin_get_by_name(GST_BIN(pipeline), "f");
  if (probe) {
    GstPad *sink = gst_element_get_static_pad(filter, "sink");
    GstPad *src = gst_element_get_static_pad(filter, "src");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, on_sink_buffer, probe, NULL);
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_src_buffer, probe, NULL);
    gst_object_unref(sink);
    gst_object_unref(src);
  }
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus(pipeline);
  message
      = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    char *debug = NULL;
    gst_message_parse_error(message, error, &debug);
    g_prefix_error(error, "%s: ", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)));
    g_free(debug);
    ok = FALSE;
  } else if (tier) {
    char *name = NULL;
    /* The path the last buffer went through: the one this quality picks. */
    g_object_get(filter, "tier", &name, "expected-snr", expected_snr, NULL);
    g_strlcpy(tier, name ? name : "-", MDN_TIER_NAME_MAX);
    g_free(name);
  }
  gst_message_unref(message);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(filter);
  gst_object_unref(pipeline);
  return ok;
}

static char *
filter_pipeline(const char *sample, const char *preset, int quality, const char *sink)
{
  char *location = g_strescape(sample, NULL);
  char *description = g_strdup_printf(
      "filesrc location=\"%s\" ! wavparse ! audioconvert ! audioresample ! "
      "audio/x-raw,format=" GST_AUDIO_NE(F32) " ! maddnessfilter name=f preset=\"%s\" "
                                              "quality=%d ! %s",
      location, preset, quality, sink);
  g_free(location);
  return description;
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
  const char *sample = argc > 1 ? argv[1] : "presets/sample-speech.wav";
  const char *preset = argc > 2 ? argv[2] : "lowpass";
  Level levels[LEVELS];
  GError *error = NULL;
  MdnModel *model;
  const MdnKernel *k;
  char *path, *description;
  double *exact;
  int q, r, status = 1;
  size_t i;

  gst_init(&argc, &argv);
  memset(levels, 0, sizeof levels);
  if (!g_file_test(sample, G_FILE_TEST_IS_REGULAR)) {
    fprintf(stderr, "maddness-demo: no sample \"%s\" (run from the source tree)\n", sample);
    return 1;
  }
  path = mdn_preset_find(preset, &error);
  model = path ? mdn_model_load(path, &error) : NULL;
  if (!model) {
    fprintf(stderr, "maddness-demo: %s\n", error->message);
    g_error_free(error);
    g_free(path);
    return 1;
  }
  k = mdn_model_kernel(model);
  if (!gst_element_factory_find("maddnessfilter")) {
    fprintf(stderr, "maddness-demo: no maddnessfilter element: set GST_PLUGIN_PATH to the "
                    "build's gst/ directory (`make demo` does)\n");
    goto out;
  }

  printf("maddness demo: %s through the shipped preset \"%s\"\n", sample, preset);
  printf("  %s: %d->%d channels, %d taps at %g Hz, %d tiers (fitted on %g s of audio)\n", path,
         k->cin, k->cout, k->taps, k->rate, mdn_model_n_tiers(model),
         mdn_model_provenance(model)->seconds);
  description = filter_pipeline(sample, preset, 0, "fakesink");
  for (i = 0; description[i]; i++) /* print it as the quality-Q template it is */
    if (g_str_has_prefix(description + i, "quality=0 "))
      description[i + 8] = 'Q';
  printf("  pipeline, for each quality Q in 0..10:\n    %s\n", description);
  printf("  measured SNR: against the quality-10 (exact) output; speed-up: the element's time from "
         "buffer in to buffer out against quality 10's; best of %d interleaved runs\n\n",
         RUNS);
  g_free(description);

  /* A first run loads the plugin and warms the caches; not counted. */
  description = filter_pipeline(sample, preset, 10, "fakesink sync=false");
  if (!run_pipeline(description, NULL, NULL, NULL, &error)) {
    fprintf(stderr, "maddness-demo: %s\n", error->message);
    g_free(description);
    goto out;
  }
  g_free(description);

  for (r = 0; r < RUNS; r++)
    for (q = 0; q < LEVELS; q++) {
      Level *level = &levels[q];
      Probe probe = { 0, 0, NULL };

      if (r == 0)
        probe.samples = g_array_new(FALSE, FALSE, sizeof(float));
      description = filter_pipeline(sample, preset, q, "fakesink sync=false");
      if (!run_pipeline(description, &probe, level->tier, &level->expected_snr, &error)) {
        fprintf(stderr, "maddness-demo: quality %d: %s\n", q, error->message);
        g_free(description);
        if (probe.samples)
          g_array_free(probe.samples, TRUE);
        goto out;
      }
      g_free(description);
      if (probe.samples) {
        level->n = probe.samples->len;
        level->out = (float *)g_array_free(probe.samples, FALSE);
      }
      level->ns_per_frame[r] = (double)probe.busy / (level->n / k->cout);
    }

  exact = g_new(double, levels[LEVELS - 1].n);
  for (i = 0; i < levels[LEVELS - 1].n; i++)
    exact[i] = levels[LEVELS - 1].out[i];
  printf("  %7s  %-8s  %12s  %12s  %9s  %8s\n", "quality", "tier", "expected_snr", "measured_snr",
         "ns/frame", "speed-up");
  for (q = 0; q < LEVELS; q++) {
    Level *level = &levels[q];
    qsort(level->ns_per_frame, RUNS, sizeof(double), compare_double);
    level->best_ns = level->ns_per_frame[0];
  }
  for (q = 0; q < LEVELS; q++) {
    Level *level = &levels[q];
    level->measured_snr = level->n == levels[LEVELS - 1].n
                              ? mdn_snr_db(exact, level->out, level->n)
                              : NAN; /* cannot happen: same file, same element */
    printf("  %7d  %-8s  %9.1f dB  %9.1f dB  %9.2f  %7.2fx\n", q, level->tier, level->expected_snr,
           level->measured_snr, level->best_ns, levels[LEVELS - 1].best_ns / level->best_ns);
  }
  g_free(exact);

  description = filter_pipeline(sample, preset, OUT_QUALITY,
                                "audioconvert ! wavenc ! filesink location=demo-out.wav");
  if (!run_pipeline(description, NULL, NULL, NULL, &error)) {
    fprintf(stderr, "maddness-demo: writing demo-out.wav: %s\n", error->message);
    g_free(description);
    goto out;
  }
  g_free(description);
  printf("\n  wrote demo-out.wav: the sample at quality %d (%s, the fastest tier; %.1f dB "
         "against exact), to compare by ear with %s\n",
         OUT_QUALITY, levels[OUT_QUALITY].tier, levels[OUT_QUALITY].measured_snr, sample);
  status = 0;

out:
  if (error)
    g_error_free(error);
  for (q = 0; q < LEVELS; q++)
    g_free(levels[q].out);
  mdn_model_free(model);
  g_free(path);
  return status;
}

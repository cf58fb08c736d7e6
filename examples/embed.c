/* embed: maddnessfilter inside an application.
 *
 *   embed [PRESET] [SECONDS]
 *
 * Builds audiotestsrc ! maddnessfilter ! fakesink (white noise), sets the
 * preset (default "lowpass", found through MADDNESS_PRESET_PATH then the
 * installed presets), and drives it with GstControllers (interpolation
 * control sources bound directly to the properties):
 *   - for SECONDS (default 3), `quality` ramps from 0 to 10;
 *   - for 2 * SECONDS more, `min-snr` is 20 dB: the element picks the
 *     cheapest tier whose SNR, measured on this audio, holds 20 dB.
 * It prints the tier in use, its `expected-snr` (the SNR it reached when the
 * preset was fitted) and its `measured-snr` (what the live audit measures on
 * the audio flowing: NaN until it has seen enough, infinity for the exact
 * path) each time the tier changes and once per second:
 *   t=0.000 quality=0 min-snr=0 tier=s8d4e2q6 expected-snr=9.6 measured-snr=nan
 *   ...
 *   t=4.011 quality=10 min-snr=20 tier=s4d6e16 expected-snr=31.5 measured-snr=27.8
 * and each `maddness-accuracy` message the element posts (a tier measuring
 * more than 3 dB under its expected-snr for a second: minutes of white noise
 * are harder for the lowpass's tiers than the noise class its claims cover,
 * segments of white, pink and brown noise):
 *   maddness-accuracy: tier=s4d6e16 expected-snr=31.5 measured-snr=27.0
 * The audio is not played: fakesink does not sync to the clock, so the run
 * takes as long as the filtering does.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/audio/audio-format.h>
#include <gst/controller/controller.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

#define RATE 48000
#define BUFFER_FRAMES 1024
#define MIN_SNR 20.0
#define MAX_MIN_SNR 200.0 /* the range of min-snr, which a direct binding maps onto 0..1 */

typedef struct {
  GstElement *filter;
  double last_snr;
  char *last_tier;
  gboolean printed;
  GstClockTime last_print;
} Watch;

/* Runs on the streaming thread after maddnessfilter produced a buffer: the
 * properties now describe the path that buffer went through. */
static GstPadProbeReturn
on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Watch *watch = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  double snr, measured, min_snr;
  char *tier;
  int quality;

  (void)pad;
  g_object_get(watch->filter, "expected-snr", &snr, "measured-snr", &measured, "tier", &tier,
               "quality", &quality, "min-snr", &min_snr, NULL);
  if (!watch->printed || snr != watch->last_snr || g_strcmp0(tier, watch->last_tier) != 0
      || pts >= watch->last_print + GST_SECOND) {
    printf("t=%.3f quality=%d min-snr=%.0f tier=%s expected-snr=%.1f measured-snr=%.1f\n",
           (double)pts / GST_SECOND, quality, min_snr, tier ? tier : "-", snr, measured);
    fflush(stdout);
    watch->printed = TRUE;
    watch->last_print = pts;
    watch->last_snr = snr;
    g_free(watch->last_tier);
    watch->last_tier = tier;
  } else {
    g_free(tier);
  }
  return GST_PAD_PROBE_OK;
}

int
main(int argc, char **argv)
{
  const char *preset = argc > 1 ? argv[1] : "lowpass";
  double seconds = argc > 2 ? g_ascii_strtod(argv[2], NULL) : 3.0;
  GstElement *pipeline, *src, *capsfilter, *filter, *sink;
  GstControlSource *ramp, *floor;
  GstTimedValueControlSource *points;
  GstCaps *caps;
  GstPad *pad;
  GstBus *bus;
  GstMessage *message;
  Watch watch = { NULL, 0, NULL, FALSE, 0 };
  int status = 0;

  gst_init(&argc, &argv);
  if (!(seconds > 0 && seconds <= 3600)) {
    fprintf(stderr, "usage: embed [PRESET] [SECONDS (0..3600]]\n");
    return 2;
  }

  pipeline = gst_pipeline_new("embed");
  src = gst_element_factory_make("audiotestsrc", NULL);
  capsfilter = gst_element_factory_make("capsfilter", NULL);
  filter = gst_element_factory_make("maddnessfilter", NULL);
  sink = gst_element_factory_make("fakesink", NULL);
  if (!pipeline || !src || !capsfilter || !filter || !sink) {
    fprintf(stderr, "embed: missing element (is the maddness plugin in GST_PLUGIN_PATH?)\n");
    return 1;
  }
  g_object_set(src, "wave", 5 /* white noise */, "volume", 0.3, "samplesperbuffer", BUFFER_FRAMES,
               "num-buffers", (int)(3 * seconds * RATE / BUFFER_FRAMES) + 1, NULL);
  caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, GST_AUDIO_NE(F32), "rate",
                             G_TYPE_INT, RATE, "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING,
                             "interleaved", NULL);
  g_object_set(capsfilter, "caps", caps, NULL);
  gst_caps_unref(caps);
  g_object_set(filter, "preset", preset, NULL);
  g_object_set(sink, "sync", FALSE, NULL);
  gst_bin_add_many(GST_BIN(pipeline), src, capsfilter, filter, sink, NULL);
  if (!gst_element_link_many(src, capsfilter, filter, sink, NULL)) {
    fprintf(stderr, "embed: cannot link the pipeline\n");
    gst_object_unref(pipeline);
    return 1;
  }

  /* quality follows a line from 0 at t=0 to 10 at the end: a direct binding
   * maps the control value 0..1 onto the property's range 0..10. */
  ramp = gst_interpolation_control_source_new();
  g_object_set(ramp, "mode", GST_INTERPOLATION_MODE_LINEAR, NULL);
  points = GST_TIMED_VALUE_CONTROL_SOURCE(ramp);
  gst_timed_value_control_source_set(points, 0, 0.0);
  gst_timed_value_control_source_set(points, (GstClockTime)(seconds * GST_SECOND), 1.0);
  gst_object_add_control_binding(
      GST_OBJECT(filter), gst_direct_control_binding_new(GST_OBJECT(filter), "quality", ramp));
  gst_object_unref(ramp);

  /* min-snr: off (0) during the ramp, then 20 dB: a step (no interpolation). */
  floor = gst_interpolation_control_source_new();
  g_object_set(floor, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  points = GST_TIMED_VALUE_CONTROL_SOURCE(floor);
  gst_timed_value_control_source_set(points, 0, 0.0);
  gst_timed_value_control_source_set(points, (GstClockTime)(seconds * GST_SECOND),
                                     MIN_SNR / MAX_MIN_SNR);
  gst_object_add_control_binding(
      GST_OBJECT(filter), gst_direct_control_binding_new(GST_OBJECT(filter), "min-snr", floor));
  gst_object_unref(floor);

  watch.filter = filter;
  pad = gst_element_get_static_pad(filter, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &watch, NULL);
  gst_object_unref(pad);

  printf("embed: preset %s, quality ramped 0 -> 10 over %.1f s, then min-snr %.0f dB for %.1f s\n",
         preset, seconds, MIN_SNR, 2 * seconds);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fprintf(stderr, "embed: the pipeline did not start\n"); /* the bus says why */
  bus = gst_element_get_bus(pipeline);
  /* The element's messages (the accuracy message) until the end. */
  for (;;) {
    const GstStructure *st;

    message = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                         GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ELEMENT)
      break;
    st = gst_message_get_structure(message);
    if (gst_structure_has_name(st, "maddness-accuracy")) {
      double expected = 0, measured = 0;

      gst_structure_get_double(st, "expected-snr", &expected);
      gst_structure_get_double(st, "measured-snr", &measured);
      printf("maddness-accuracy: tier=%s expected-snr=%.1f measured-snr=%.1f\n",
             gst_structure_get_string(st, "tier"), expected, measured);
      fflush(stdout);
    }
    gst_message_unref(message);
  }
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError *error = NULL;
    char *debug = NULL;

    gst_message_parse_error(message, &error, &debug);
    fprintf(stderr, "embed: %s (%s)\n", error->message, debug ? debug : "no details");
    g_error_free(error);
    g_free(debug);
    status = 1;
  }
  gst_message_unref(message);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  g_free(watch.last_tier);
  return status;
}

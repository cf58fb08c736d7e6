/* peer-gst.c: GStreamer's audiofirfilter (the `audiofirfilter` method).
 *
 * A real pipeline, appsrc ! audiofirfilter ! appsink, fed bench_block-frame
 * buffers that wrap the signal without copying; the output is copied out of
 * appsink. The time is the wall time from the first push to the end of
 * stream, for the whole signal, with nothing subtracted: it includes the
 * pipeline's own overhead. audiofirfilter computes in doubles and picks the
 * direct form below 32 taps and FFT overlap-save from 32.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-peers.h"

#ifdef BENCH_HAVE_GST

#include <gst/app/gstappsink.h>
#include <gst/audio/audio-format.h>
#include <gst/app/gstappsrc.h>
#include <string.h>

typedef struct {
  GstElement *pipeline, *src, *sink;
  double rate;
} Fir;

static gboolean
fir_fail(GstElement *pipeline, const char *what, GError **error)
{
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  GError *gerr = NULL;

  if (msg)
    gst_message_parse_error(msg, &gerr, NULL);
  g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "audiofirfilter pipeline: %s%s%s", what,
              gerr ? ": " : "", gerr ? gerr->message : "");
  g_clear_error(&gerr);
  if (msg)
    gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return FALSE;
}

static gboolean
fir_run(gpointer state, const float *in, float *out, size_t n_frames, double *seconds,
        GError **error)
{
  Fir *g = state;
  size_t done, got = 0;
  GstSample *sample;
  gint64 t0;

  if (gst_element_set_state(g->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return fir_fail(g->pipeline, "cannot start", error);
  /* No waiting for PLAYING here: appsink prerolls only on the first buffer. */

  t0 = g_get_monotonic_time();
  for (done = 0; done < n_frames; done += (size_t)bench_block) {
    size_t n = MIN((size_t)bench_block, n_frames - done);
    GstBuffer *buf
        = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, (gpointer)(in + done),
                                      n * sizeof(float), 0, n * sizeof(float), NULL, NULL);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale_round(done, GST_SECOND, (guint64)g->rate);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale_round(n, GST_SECOND, (guint64)g->rate);
    GST_BUFFER_OFFSET(buf) = done;
    GST_BUFFER_OFFSET_END(buf) = done + n;
    if (gst_app_src_push_buffer(GST_APP_SRC(g->src), buf) != GST_FLOW_OK)
      return fir_fail(g->pipeline, "push refused", error);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(g->src));
  while ((sample = gst_app_sink_pull_sample(GST_APP_SINK(g->sink)))) {
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
      size_t n = map.size / sizeof(float);
      if (got + n > n_frames)
        n = n_frames - got; /* never more than the signal */
      memcpy(out + got, map.data, n * sizeof(float));
      got += n;
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
  }
  *seconds = (g_get_monotonic_time() - t0) / 1e6;

  if (!gst_app_sink_is_eos(GST_APP_SINK(g->sink)))
    return fir_fail(g->pipeline, "stopped before the end of stream", error);
  gst_element_set_state(g->pipeline, GST_STATE_NULL);
  if (got != n_frames) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO,
                "audiofirfilter returned %zu frames for %zu frames in", got, n_frames);
    return FALSE;
  }
  return TRUE;
}

static void
fir_free(gpointer state)
{
  Fir *g = state;
  gst_element_set_state(g->pipeline, GST_STATE_NULL);
  gst_object_unref(g->pipeline);
  g_free(g);
}

gboolean
bench_peer_gst_new(const MdnKernel *k, BenchPeer *peer, GError **error)
{
  GstElement *fir;
  GstCaps *caps;
  GValueArray *taps;
  GValue tap = G_VALUE_INIT;
  Fir *g;
  int j;

  if (k->cin != 1 || k->cout != 1 || k->dilation != 1) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "audiofirfilter takes 1->1 undilated kernels only");
    return FALSE;
  }
  if (k->bias[0] != 0.0f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "audiofirfilter has no bias");
    return FALSE;
  }
  if (!gst_init_check(NULL, NULL, error))
    return FALSE;
  fir = gst_element_factory_make("audiofirfilter", NULL);
  if (!fir) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO,
                "no audiofirfilter element (install gstreamer1.0-plugins-good)");
    return FALSE;
  }

  g = g_new0(Fir, 1);
  g->rate = k->rate;
  g->pipeline = gst_pipeline_new("bench");
  g->src = gst_element_factory_make("appsrc", NULL);
  g->sink = gst_element_factory_make("appsink", NULL);
  caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, GST_AUDIO_NE(F32), "rate",
                             G_TYPE_INT, (int)k->rate, "channels", G_TYPE_INT, 1, "layout",
                             G_TYPE_STRING, "interleaved", NULL);
  /* max-bytes 0: an unbounded queue, so pushing never waits on the filter. */
  g_object_set(g->src, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes", (guint64)0, NULL);
  g_object_set(g->sink, "caps", caps, "sync", FALSE, NULL);
  gst_caps_unref(caps);

  /* The kernel property is a GValueArray of doubles: the element's API. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  taps = g_value_array_new(k->taps);
  g_value_init(&tap, G_TYPE_DOUBLE);
  for (j = 0; j < k->taps; j++) {
    g_value_set_double(&tap, k->weights[j]);
    g_value_array_append(taps, &tap);
  }
  g_object_set(fir, "kernel", taps, "latency", (guint64)0, NULL);
  g_value_array_free(taps);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_value_unset(&tap);

  gst_bin_add_many(GST_BIN(g->pipeline), g->src, fir, g->sink, NULL);
  if (!gst_element_link_many(g->src, fir, g->sink, NULL)) {
    fir_free(g);
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "cannot link appsrc ! audiofirfilter ! appsink");
    return FALSE;
  }
  peer->state = g;
  peer->run = fir_run;
  peer->free = fir_free;
  return TRUE;
}

gboolean
bench_peer_gst_available(void)
{
  return TRUE;
}

const char *
bench_peer_gst_describe(void)
{
  static char text[64];
  guint major, minor, micro, nano;
  gst_version(&major, &minor, &micro, &nano);
  g_snprintf(text, sizeof text, "GStreamer %u.%u.%u", major, minor, micro);
  return text;
}

#else /* !BENCH_HAVE_GST */

gboolean
bench_peer_gst_new(const MdnKernel *k, BenchPeer *peer, GError **error)
{
  (void)k;
  (void)peer;
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "built without GStreamer");
  return FALSE;
}

gboolean
bench_peer_gst_available(void)
{
  return FALSE;
}

const char *
bench_peer_gst_describe(void)
{
  return "not built in (GStreamer not found)";
}

#endif

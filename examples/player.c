/* player: a media player with maddnessfilter as playbin's audio filter,
 * moving `quality` while it plays.
 *
 *   player [--preset NAME] [--sink DESCRIPTION] [--step-ms MS] FILE|URI
 *
 * playbin decodes the file and hands its audio to maddnessfilter at the
 * file's own rate (the shipped presets have 44.1, 48 and 96 kHz variants:
 * nothing is resampled before the filter). Every --step-ms (250) the
 * quality moves one step along 0, 1, ..., 10, 9, ..., 0, ... and the player
 * prints what runs: the tier, its `expected-snr` (the preset's claim for
 * that tier at this rate) and, if the element has it, `measured-snr` (the
 * accuracy audited live on this audio):
 *   rate=44100 channels=2 preset=lowpass
 *   t=0.25 quality=1 tier=s8d4e2q6 expected-snr=12.3 measured-snr=15.1
 * --sink sets playbin's audio sink (default: autoaudiosink, your speakers);
 * e.g. "fakesink sync=true" plays silently in real time.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  GstElement *playbin, *filter;
  GMainLoop *loop;
  int quality, direction;
  gboolean has_measured, printed_format, stepping;
  int status;
} Player;

static gchar *opt_preset = NULL;
static gchar *opt_sink = NULL;
static gint opt_step_ms = 250;

static const GOptionEntry entries[] = {
  { "preset", 'p', 0, G_OPTION_ARG_STRING, &opt_preset, "The preset (default: lowpass)", "NAME" },
  { "sink", 's', 0, G_OPTION_ARG_STRING, &opt_sink,
    "playbin's audio sink, as a launch description (default: autoaudiosink)", "DESCRIPTION" },
  { "step-ms", 0, 0, G_OPTION_ARG_INT, &opt_step_ms, "Milliseconds between quality steps (250)",
    "MS" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* The negotiated format at the filter's input: the file's own rate. */
static void
print_format(Player *p)
{
  GstPad *pad = gst_element_get_static_pad(p->filter, "sink");
  GstCaps *caps = gst_pad_get_current_caps(pad);
  int rate = 0, channels = 0;

  if (caps) {
    GstStructure *s = gst_caps_get_structure(caps, 0);

    gst_structure_get_int(s, "rate", &rate);
    gst_structure_get_int(s, "channels", &channels);
    printf("rate=%d channels=%d preset=%s\n", rate, channels, opt_preset);
    p->printed_format = TRUE;
    gst_caps_unref(caps);
  }
  gst_object_unref(pad);
}

/* Moves quality one step and prints what the filter runs. */
static gboolean
step(gpointer data)
{
  Player *p = data;
  gint64 position = 0;
  double expected, measured = 0;
  char *tier = NULL;

  if (!p->printed_format)
    print_format(p);
  p->quality += p->direction;
  if (p->quality == 10 || p->quality == 0)
    p->direction = -p->direction;
  g_object_set(p->filter, "quality", p->quality, NULL);
  gst_element_query_position(p->playbin, GST_FORMAT_TIME, &position);
  g_object_get(p->filter, "tier", &tier, "expected-snr", &expected, NULL);
  printf("t=%.2f quality=%d tier=%s expected-snr=%.1f", (double)position / GST_SECOND, p->quality,
         tier ? tier : "-", expected);
  /* Read only where the element has it (it is newer than this example). */
  if (p->has_measured) {
    g_object_get(p->filter, "measured-snr", &measured, NULL);
    printf(" measured-snr=%.1f", measured);
  }
  printf("\n");
  fflush(stdout);
  g_free(tier);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_message(GstBus *bus, GstMessage *msg, gpointer data)
{
  Player *p = data;

  (void)bus;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *error = NULL;
    char *debug = NULL;

    gst_message_parse_error(msg, &error, &debug);
    fprintf(stderr, "player: %s\n", error->message);
    g_error_free(error);
    g_free(debug);
    p->status = 1;
    g_main_loop_quit(p->loop);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ASYNC_DONE && !p->stepping) {
    /* Prerolled: the caps are negotiated and the variant picked. */
    print_format(p);
    p->stepping = TRUE;
    g_timeout_add(opt_step_ms, step, p);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    printf("eos\n");
    g_main_loop_quit(p->loop);
  }
  return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
  GOptionContext *context = g_option_context_new("FILE|URI - play through maddnessfilter");
  Player p = { .quality = 0, .direction = 1 };
  GError *error = NULL;
  GstBus *bus;
  char *uri;

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_add_group(context, gst_init_get_option_group());
  if (!g_option_context_parse(context, &argc, &argv, &error) || argc != 2 || opt_step_ms < 10) {
    fprintf(stderr, "usage: player [--preset NAME] [--sink DESCRIPTION] FILE|URI%s%s\n",
            error ? ": " : "", error ? error->message : "");
    return 2;
  }
  g_option_context_free(context);
  if (!opt_preset)
    opt_preset = g_strdup("lowpass");
  uri = gst_uri_is_valid(argv[1]) ? g_strdup(argv[1]) : gst_filename_to_uri(argv[1], &error);
  p.playbin = gst_element_factory_make("playbin", NULL);
  p.filter = gst_element_factory_make("maddnessfilter", NULL);
  if (!uri || !p.playbin || !p.filter) {
    fprintf(stderr, "player: %s\n",
            !uri ? error->message : "missing element (is the maddness plugin in GST_PLUGIN_PATH?)");
    return 1;
  }
  g_object_set(p.filter, "preset", opt_preset, "quality", p.quality, NULL);
  p.has_measured
      = g_object_class_find_property(G_OBJECT_GET_CLASS(p.filter), "measured-snr") != NULL;
  /* playbin owns the filter from here. */
  g_object_set(p.playbin, "uri", uri, "audio-filter", p.filter, NULL);
  if (opt_sink) {
    GstElement *sink = gst_parse_bin_from_description(opt_sink, TRUE, &error);

    if (!sink) {
      fprintf(stderr, "player: --sink: %s\n", error->message);
      return 2;
    }
    g_object_set(p.playbin, "audio-sink", sink, NULL);
  }

  p.loop = g_main_loop_new(NULL, FALSE);
  bus = gst_element_get_bus(p.playbin);
  gst_bus_add_watch(bus, on_message, &p);
  if (gst_element_set_state(p.playbin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fprintf(stderr, "player: could not start\n"); /* the bus says why */
  g_main_loop_run(p.loop);

  gst_element_set_state(p.playbin, GST_STATE_NULL);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(p.playbin);
  g_main_loop_unref(p.loop);
  g_free(uri);
  g_free(opt_preset);
  g_free(opt_sink);
  return p.status;
}

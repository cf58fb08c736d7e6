/* playbin-claims: the presets' claims through playbin, as a media application
 * runs them.
 *
 *   playbin-claims [--tolerance DB] [--quality Q] --corpus DIR [--corpus DIR ...] PRESET...
 *
 * The held-out corpus of preset-claims (one directory per rate:
 * heldout-CLASS.wav, and heldout-CLASS-Nch.wav for a preset of N > 1 inputs).
 * For every variant of every preset, every class at the variant's rate is
 * played through `playbin` with `audio-filter` a maddnessfilter (preset=the
 * file, quality Q; every quality 0..10 unless --quality) and a fakesink as
 * `audio-sink` (its handoffs keep the output). Checked per play: the filter's
 * sink caps are at the file's rate (nothing resampled before it), the whole
 * file came out, and the output's SNR against a double-precision
 * convolution of the variant's kernel (mdn_reference_conv, independent of
 * the engine's paths). One line per play:
 *
 *   playbin: PRESET RATE QUALITY TIER CLASS expected=X measured=Y [LOW]
 *
 * expected is the filter's expected-snr while it played; LOW marks measured
 * < expected - tolerance (3 dB), or for the exact path (expected inf)
 * measured < 100 dB. The last line is
 * "checked: N, low: M"; the exit status is 1 when M > 0 or a play failed, 2
 * for bad arguments or files. Needs the maddness plugin on GST_PLUGIN_PATH.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>

static const char *const classes[] = { "speech", "music", "bright", "noise" };
#define N_CLASSES 4
/* What quality 10 (the exact path, expected-snr inf) must reach against the
 * double-precision convolution: float rounding only (130-137 dB measured). */
#define EXACT_FLOOR_DB 100.0

static double opt_tolerance = 3.0;
static int opt_quality = -1;
static char **opt_corpus = NULL;

static const GOptionEntry entries[] = {
  { "tolerance", 't', 0, G_OPTION_ARG_DOUBLE, &opt_tolerance,
    "dB a measured SNR may fall below the claim (3)", "DB" },
  { "quality", 'q', 0, G_OPTION_ARG_INT, &opt_quality, "Only this quality (default: 0..10)", "Q" },
  { "corpus", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_corpus,
    "A directory of held-out audio at one rate (repeat for each rate)", "DIR" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* A WAV file's frames (interleaved floats), checked for channels and rate. */
static float *
read_wav(const char *path, int channels, int rate, size_t *frames, GError **error)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  float *x;

  if (!f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
    return NULL;
  }
  if (info.channels != channels || info.samplerate != rate) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %d channels at %d Hz, expected %d at %d Hz", path, info.channels,
                info.samplerate, channels, rate);
    sf_close(f);
    return NULL;
  }
  x = g_new(float, (size_t)info.frames *info.channels + 1);
  *frames = (size_t)sf_readf_float(f, x, info.frames);
  sf_close(f);
  return x;
}

static void
on_handoff(GstElement *sink, GstBuffer *buffer, GstPad *pad, gpointer user_data)
{
  GByteArray *out = user_data;
  GstMapInfo map;

  (void)sink;
  (void)pad;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    g_byte_array_append(out, map.data, (guint)map.size);
    gst_buffer_unmap(buffer, &map);
  }
}

/* Waits for one of `types`; an error message becomes a GError. */
static gboolean
wait_for(GstBus *bus, GstMessageType types, const char *what, GError **error)
{
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND, types | GST_MESSAGE_ERROR);
  gboolean ok = msg && GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR;

  if (!msg) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "no %s within 300 s", what);
  } else if (!ok) {
    GError *e = NULL;

    gst_message_parse_error(msg, &e, NULL);
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s", e->message);
    g_error_free(e);
  }
  if (msg)
    gst_message_unref(msg);
  return ok;
}

/* What one play gave: the output (interleaved floats), the filter's rate,
 * tier and expected-snr. */
typedef struct {
  GByteArray *out;
  int rate;
  char *tier;
  double expected;
} Play;

/* Plays `file` through playbin with maddnessfilter preset=`preset` at `quality`. */
static gboolean
play(const char *file, const char *preset, int quality, Play *result, GError **error)
{
  GstElement *playbin = gst_element_factory_make("playbin", NULL);
  GstElement *filter = gst_element_factory_make("maddnessfilter", NULL);
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  GstBus *bus;
  GstPad *pad;
  GstCaps *caps;
  char *uri;
  gboolean ok;

  if (!playbin || !filter || !sink) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "playbin, maddnessfilter or fakesink missing");
    return FALSE;
  }
  result->out = g_byte_array_new();
  result->rate = 0;
  result->tier = NULL;
  g_object_set(filter, "preset", preset, "quality", quality, NULL);
  g_object_set(sink, "sync", FALSE, "signal-handoffs", TRUE, NULL);
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), result->out);
  uri = gst_filename_to_uri(file, error);
  if (!uri) {
    gst_object_unref(playbin);
    gst_object_unref(filter);
    gst_object_unref(sink);
    return FALSE;
  }
  g_object_set(playbin, "uri", uri, "audio-filter", filter, "audio-sink", sink, NULL);
  g_free(uri);
  bus = gst_element_get_bus(playbin);
  ok = gst_element_set_state(playbin, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE
       && wait_for(bus, GST_MESSAGE_ASYNC_DONE, "preroll", error);
  if (ok) {
    pad = gst_element_get_static_pad(filter, "sink");
    caps = gst_pad_get_current_caps(pad);
    if (caps)
      gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate", &result->rate);
    g_clear_pointer(&caps, gst_caps_unref);
    gst_object_unref(pad);
    g_object_get(filter, "tier", &result->tier, "expected-snr", &result->expected, NULL);
    ok = gst_element_set_state(playbin, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE
         && wait_for(bus, GST_MESSAGE_EOS, "EOS", error);
  } else if (error && !*error) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "playbin does not start");
  }
  gst_element_set_state(playbin, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(playbin);
  return ok;
}

/* Plays class `cls` (its file at `path`) at every quality asked; counts and prints. */
static gboolean
check_class(const char *name, const char *preset, const MdnModel *model, const char *cls,
            const char *path, int *checked, int *low, GError **error)
{
  const MdnKernel *k = mdn_model_kernel(model);
  const int rate = (int)lround(k->rate);
  const int q_first = opt_quality < 0 ? 0 : opt_quality,
            q_last = opt_quality < 0 ? 10 : opt_quality;
  size_t frames = 0;
  float *in = read_wav(path, k->cin, rate, &frames, error);
  double *ref;
  int q;
  gboolean ok = TRUE;

  if (!in)
    return FALSE;
  ref = mdn_reference_conv(k, in, frames);
  for (q = q_first; ok && q <= q_last; q++) {
    Play p = { NULL, 0, NULL, 0 };

    ok = play(path, preset, q, &p, error);
    if (ok && p.rate != rate) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "%s: the filter ran at %d Hz, the file is at %d Hz", path, p.rate, rate);
      ok = FALSE;
    }
    if (ok && p.out->len != frames * k->cout * sizeof(float)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %u bytes out, expected %zu", path,
                  p.out->len, frames * k->cout * sizeof(float));
      ok = FALSE;
    }
    if (ok) {
      double measured = mdn_snr_db(ref, (const float *)p.out->data, frames * k->cout);
      /* The exact path claims no finite SNR: it must be exact in float. */
      double bound = isinf(p.expected) ? EXACT_FLOOR_DB : p.expected - opt_tolerance;
      gboolean is_low = !(measured >= bound);

      printf("playbin: %s %d %d %s %s expected=%.2f measured=%.2f%s\n", name, rate, q, p.tier, cls,
             p.expected, measured, is_low ? " LOW" : "");
      fflush(stdout);
      (*checked)++;
      *low += is_low;
    }
    if (p.out)
      g_byte_array_unref(p.out);
    g_free(p.tier);
  }
  g_free(ref);
  g_free(in);
  return ok;
}

/* The corpus directory at `rate` (the one whose speech file is at that rate), or NULL. */
static const char *
corpus_at(int rate, GError **error)
{
  int i;

  for (i = 0; opt_corpus && opt_corpus[i]; i++) {
    char *path = g_build_filename(opt_corpus[i], "heldout-speech.wav", NULL);
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);

    g_free(path);
    if (f)
      sf_close(f);
    if (f && info.samplerate == rate)
      return opt_corpus[i];
  }
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no --corpus at %d Hz", rate);
  return NULL;
}

static gboolean
check_preset(const char *arg, int *checked, int *low, GError **error)
{
  char *path = mdn_preset_find(arg, error);
  MdnPreset *preset = path ? mdn_preset_load(path, error) : NULL;
  char *name = g_path_get_basename(arg);
  gboolean ok = preset != NULL;
  int v, c;

  if (g_str_has_suffix(name, ".mdn"))
    name[strlen(name) - 4] = '\0';
  for (v = 0; ok && v < mdn_preset_n_variants(preset); v++) {
    const MdnModel *model = mdn_preset_variant(preset, v);
    const MdnKernel *k = mdn_model_kernel(model);
    const char *dir = corpus_at((int)lround(k->rate), error);

    ok = dir != NULL;
    for (c = 0; ok && c < N_CLASSES; c++) {
      char *file = k->cin == 1 ? g_strdup_printf("heldout-%s.wav", classes[c])
                               : g_strdup_printf("heldout-%s-%dch.wav", classes[c], k->cin);
      char *wav = g_build_filename(dir, file, NULL);

      ok = check_class(name, path, model, classes[c], wav, checked, low, error);
      g_free(wav);
      g_free(file);
    }
  }
  if (preset)
    mdn_preset_free(preset);
  g_free(name);
  g_free(path);
  return ok;
}

int
main(int argc, char **argv)
{
  GOptionContext *context
      = g_option_context_new("PRESET... - check the presets' claims through playbin");
  GError *error = NULL;
  int a, checked = 0, low = 0;

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_add_group(context, gst_init_get_option_group());
  if (!g_option_context_parse(context, &argc, &argv, &error) || argc < 2 || !opt_corpus
      || opt_quality > 10) {
    fprintf(stderr,
            "usage: playbin-claims [--tolerance DB] [--quality Q] --corpus DIR... "
            "PRESET...%s%s\n",
            error ? ": " : "", error ? error->message : "");
    return 2;
  }
  g_option_context_free(context);
  for (a = 1; a < argc; a++) {
    if (!check_preset(argv[a], &checked, &low, &error)) {
      fprintf(stderr, "playbin-claims: %s: %s\n", argv[a], error->message);
      g_error_free(error);
      return 1;
    }
  }
  printf("checked: %d, low: %d\n", checked, low);
  return low > 0;
}

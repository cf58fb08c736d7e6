/* maddness-demo: `make demo`. Shipped samples through shipped presets with
 * maddnessfilter in real GStreamer pipelines, at every quality level.
 *
 *   maddness-demo [--sample FILE.wav]... [--class NAME] [--runs N] [--out FILE.wav] [PRESET]...
 *
 * Defaults: the sample presets/sample-speech.wav and the preset "lowpass"
 * (presets are found through MADDNESS_PRESET_PATH, which the Makefile sets to
 * presets/; the plugin comes from GST_PLUGIN_PATH, set to the build tree).
 * Each preset takes the first sample with its input channels (a 1->1 preset
 * any sample: it filters each channel). For each quality 0..10 it runs
 *   filesrc ! wavparse ! audioconvert ! maddnessfilter ! fakesink
 * and prints:
 *   - the tier the element reports and its expected-snr (the tier's claim,
 *     its worst class of held-out audio) and the SNR the preset stores for
 *     the class --class (default speech: what the sample is);
 *   - the measured SNR of the element's output against an exact
 *     double-precision convolution of the input the element received with
 *     the kernel of the variant at the stream's rate (mdn_reference_conv),
 *     and the element's own measured-snr (its live audit) at the end;
 *   - the element's processing time per frame (the streaming thread's CPU
 *     time from buffer in to buffer out, pad probes) and its speed-up
 *     against quality 10 (the exact path), best of --runs runs per level,
 *     the levels interleaved, all in this run.
 * Then whether each claim held on the sample (no tier more than 3 dB under
 * its expected-snr) and which tiers are faster than the exact path on this
 * CPU (by 10 % at least), saying so plainly when none is. With --out, writes the first preset's
 * output at quality 0 with wavenc (a 1->1 or 1->2 preset).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <gst/audio/audio.h>
#include <gst/gst.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_RUNS 5
#define LEVELS 11 /* quality 0..10 */
#define CLAIM_MARGIN_DB 3.0
/* A tier pays when it runs at least this much faster than exact: closer
 * than 10 % is within what timing on a shared machine tells apart. */
#define PAYS_SPEEDUP 1.1

typedef struct {
  gint64 entered;   /* thread CPU time when the buffer being filtered reached the sink pad */
  gint64 busy;      /* sum of the element's CPU time per buffer, ns */
  GArray *in, *out; /* float samples in and out, or NULL when not kept */
} Probe;

/* What a run reports once the stream has ended. */
typedef struct {
  char tier[MDN_TIER_NAME_MAX];
  double expected_snr, audit_snr;
  int rate, in_channels, out_channels;
} RunInfo;

typedef struct {
  RunInfo info;
  double class_snr; /* the preset's SNR for the tier on --class, NaN if none */
  double snr;       /* measured against the exact convolution */
  double *ns;       /* per run */
  double best_ns;
  float *out;
  size_t n_out;
} Level;

typedef struct {
  const char *path;
  int channels, rate;
} Sample;

/* The streaming thread's CPU time in ns: what the element spends, not what
 * other processes on a busy machine take from it meanwhile. The element
 * filters on the thread that carries the buffer through both pads. */
static gint64
thread_cpu_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static GstPadProbeReturn
on_sink_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Probe *probe = data;
  GstMapInfo map;

  (void)pad;
  if (probe->in && gst_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), &map, GST_MAP_READ)) {
    g_array_append_vals(probe->in, map.data, map.size / sizeof(float));
    gst_buffer_unmap(GST_PAD_PROBE_INFO_BUFFER(info), &map);
  }
  probe->entered = thread_cpu_ns();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_src_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Probe *probe = data;
  GstMapInfo map;

  (void)pad;
  probe->busy += thread_cpu_ns() - probe->entered;
  if (probe->out && gst_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), &map, GST_MAP_READ)) {
    g_array_append_vals(probe->out, map.data, map.size / sizeof(float));
    gst_buffer_unmap(GST_PAD_PROBE_INFO_BUFFER(info), &map);
  }
  return GST_PAD_PROBE_OK;
}

static void
add_probes(GstElement *filter, Probe *probe)
{
  GstPad *sink = gst_element_get_static_pad(filter, "sink");
  GstPad *src = gst_element_get_static_pad(filter, "src");

  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, on_sink_buffer, probe, NULL);
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_src_buffer, probe, NULL);
  gst_object_unref(sink);
  gst_object_unref(src);
}

/* The properties and negotiated caps of the filter once the stream ended. */
static void
read_run_info(GstElement *filter, RunInfo *info)
{
  GstPad *sink = gst_element_get_static_pad(filter, "sink");
  GstPad *src = gst_element_get_static_pad(filter, "src");
  GstCaps *in_caps = gst_pad_get_current_caps(sink), *out_caps = gst_pad_get_current_caps(src);
  GstAudioInfo in_info, out_info;
  char *name = NULL;

  /* The path the last buffer went through: the one this quality picks. */
  g_object_get(filter, "tier", &name, "expected-snr", &info->expected_snr, "measured-snr",
               &info->audit_snr, NULL);
  g_strlcpy(info->tier, name ? name : "-", MDN_TIER_NAME_MAX);
  g_free(name);
  if (in_caps && out_caps && gst_audio_info_from_caps(&in_info, in_caps)
      && gst_audio_info_from_caps(&out_info, out_caps)) {
    info->rate = GST_AUDIO_INFO_RATE(&in_info);
    info->in_channels = GST_AUDIO_INFO_CHANNELS(&in_info);
    info->out_channels = GST_AUDIO_INFO_CHANNELS(&out_info);
  }
  if (in_caps)
    gst_caps_unref(in_caps);
  if (out_caps)
    gst_caps_unref(out_caps);
  gst_object_unref(sink);
  gst_object_unref(src);
}

/* Runs `description` (with an element named "f") to EOS; probe and info may be NULL. */
static gboolean
run_pipeline(const char *description, Probe *probe, RunInfo *info, GError **error)
{
  GstElement *pipeline = gst_parse_launch(description, error);
  GstElement *filter;
  GstBus *bus;
  GstMessage *message;
  gboolean ok = TRUE;

  if (!pipeline)
    return FALSE;
  filter = gst_bin_get_by_name(GST_BIN(pipeline), "f");
  if (probe)
    add_probes(filter, probe);
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
  } else if (info) {
    read_run_info(filter, info);
  }
  gst_message_unref(message);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(filter);
  gst_object_unref(pipeline);
  return ok;
}

/* quality < 0: "quality=Q", the template printed above the table. */
static char *
filter_pipeline(const char *sample, const char *preset, int quality, const char *sink)
{
  char *location = g_strescape(sample, NULL);
  char *q = quality < 0 ? g_strdup("Q") : g_strdup_printf("%d", quality);
  char *description
      = g_strdup_printf("filesrc location=\"%s\" ! wavparse ! audioconvert ! "
                        "audio/x-raw,format=" GST_AUDIO_NE(
                            F32) " ! maddnessfilter name=f preset=\"%s\" quality=%s ! %s",
                        location, preset, q, sink);
  g_free(location);
  g_free(q);
  return description;
}

/* ---- measuring -------------------------------------------------------------- */

/* SNR of out against the double-precision convolution of in with k: a 1->1
 * kernel on each of `channels` channels, else k's own channels. */
static double
snr_against_exact(const MdnKernel *k, const float *in, const float *out, size_t n_frames,
                  int channels)
{
  double *ref, signal = 0, noise = 0;
  float *x;
  size_t t;
  int c;

  if (k->cin != 1 || k->cout != 1 || channels == 1) {
    ref = mdn_reference_conv(k, in, n_frames);
    signal = mdn_snr_db(ref, out, n_frames * k->cout);
    g_free(ref);
    return signal;
  }
  x = g_new(float, n_frames);
  for (c = 0; c < channels; c++) {
    for (t = 0; t < n_frames; t++)
      x[t] = in[t * channels + c];
    ref = mdn_reference_conv(k, x, n_frames);
    for (t = 0; t < n_frames; t++) {
      double e = ref[t] - out[t * channels + c];
      signal += ref[t] * ref[t];
      noise += e * e;
    }
    g_free(ref);
  }
  g_free(x);
  return noise > 0 ? 10 * log10(signal / noise) : INFINITY;
}

/* The SNR a variant stores for the tier named `tier` on class `name`. */
static double
class_snr(const MdnModel *variant, const char *tier, const char *name)
{
  int t, c;

  for (t = 0; t < mdn_model_n_tiers(variant); t++) {
    MdnTierInfo info;

    mdn_model_tier_info(variant, t, &info);
    if (strcmp(info.name, tier) != 0)
      continue;
    for (c = 0; c < mdn_model_n_classes(variant); c++)
      if (strcmp(mdn_model_class_name(variant, c), name) == 0)
        return mdn_model_tier_class_snr(variant, t, c);
  }
  return NAN;
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Runs every level `runs` times, interleaved; keeps the first run's input
 * (*in, *n_in) and each level's output and run information. */
static gboolean
run_levels(const char *sample, const char *preset, Level *levels, int runs, GArray **in,
           GError **error)
{
  int q, r;

  for (r = 0; r < runs; r++)
    for (q = 0; q < LEVELS; q++) {
      Level *level = &levels[q];
      Probe probe = { 0, 0, NULL, NULL };
      char *description = filter_pipeline(sample, preset, q, "fakesink sync=false");
      gboolean ok;

      if (r == 0) {
        probe.out = g_array_new(FALSE, FALSE, sizeof(float));
        probe.in = q == LEVELS - 1 ? g_array_new(FALSE, FALSE, sizeof(float)) : NULL;
      }
      ok = run_pipeline(description, &probe, r == 0 ? &level->info : NULL, error);
      g_free(description);
      if (probe.out) {
        level->n_out = probe.out->len;
        level->out = (float *)g_array_free(probe.out, !ok);
      }
      if (probe.in)
        *in = probe.in;
      if (!ok) {
        g_prefix_error(error, "quality %d: ", q);
        return FALSE;
      }
      level->ns[r] = (double)probe.busy / ((double)level->n_out / level->info.out_channels);
    }
  return TRUE;
}

/* ---- one preset --------------------------------------------------------------- */

static void
print_header(const char *sample, const char *preset, const MdnPreset *p, const Sample *s,
             const char *class_name, int runs)
{
  const MdnModel *variant = mdn_preset_variant_at_rate(p, s->rate);
  const MdnKernel *k = mdn_model_kernel(variant);
  char *description = filter_pipeline(sample, preset, -1, "fakesink");

  printf("== %s: %d->%d channels, %d taps; the %d Hz variant (of %d), %d tiers, engine "
         "kernels %s\n",
         preset, k->cin, k->cout, k->taps, s->rate, mdn_preset_n_variants(p),
         mdn_model_n_tiers(variant), mdn_isa());
  printf("   sample %s (%d channel(s), %d Hz); for each quality Q in 0..10:\n     %s\n", sample,
         s->channels, s->rate, description);
  printf("   expected: the tier's claim (worst held-out class); %s: the preset's SNR on that "
         "class;\n   measured: against an exact convolution of the element's input; audit: "
         "measured-snr at the end;\n   speed-up: the element's CPU time per frame (its "
         "streaming thread) against quality 10's, best of %d interleaved runs\n\n",
         class_name, runs);
  printf("  %7s  %-10s  %8s  %8s  %8s  %8s  %9s  %8s\n", "quality", "tier", "expected", class_name,
         "measured", "audit", "ns/frame", "speed-up");
  g_free(description);
}

/* Prints the table's rows; returns the number of tiers (quality < 10) more
 * than CLAIM_MARGIN_DB under their claim. */
static int
print_rows(const Level *levels)
{
  const double exact_ns = levels[LEVELS - 1].best_ns;
  int q, misses = 0;

  for (q = 0; q < LEVELS; q++) {
    const Level *l = &levels[q];

    char class_snr[16] = "       -";

    if (isfinite(l->class_snr))
      g_snprintf(class_snr, sizeof class_snr, "%5.1f dB", l->class_snr);
    printf("  %7d  %-10s  %5.1f dB  %8s  %5.1f dB  %5.1f dB  %9.2f  %7.2fx\n", q, l->info.tier,
           l->info.expected_snr, class_snr, l->snr, l->info.audit_snr, l->best_ns,
           exact_ns / l->best_ns);
    if (q < LEVELS - 1 && strcmp(l->info.tier, "exact") != 0
        && !(l->snr >= l->info.expected_snr - CLAIM_MARGIN_DB))
      misses++;
  }
  return misses;
}

/* The verdicts under the table: claims, and whether any tier pays here. */
static void
print_verdicts(const char *preset, const Level *levels, int misses)
{
  const double exact_ns = levels[LEVELS - 1].best_ns;
  double lo = INFINITY, hi = -INFINITY, best = 0;
  int q, paying = 0;

  for (q = 0; q < LEVELS - 1; q++)
    if (strcmp(levels[q].info.tier, "exact") != 0) {
      lo = MIN(lo, levels[q].snr - levels[q].info.expected_snr);
      hi = MAX(hi, levels[q].snr - levels[q].info.expected_snr);
    }
  if (isfinite(lo))
    printf("\n  claims: measured minus expected-snr %+.1f to %+.1f dB: %s\n", lo, hi,
           misses == 0 ? "every claim held on this sample (none more than 3 dB under)"
                       : "SOME TIERS FELL MORE THAN 3 dB UNDER THEIR CLAIM on this sample");
  printf("  speed: ");
  for (q = 0; q < LEVELS - 1; q++) {
    const double speedup = exact_ns / levels[q].best_ns;

    if (strcmp(levels[q].info.tier, "exact") == 0
        || (q > 0 && strcmp(levels[q].info.tier, levels[q - 1].info.tier) == 0))
      continue;
    best = MAX(best, speedup);
    if (speedup >= PAYS_SPEEDUP) {
      printf("%s%s %.2fx at %.1f dB",
             paying ? ", " : "tiers faster than exact here: ", levels[q].info.tier, speedup,
             levels[q].snr);
      paying++;
    }
  }
  if (!paying)
    printf("NO TIER of %s is faster than the exact path on this CPU (%s kernels; the best "
           "%.2fx, and %.0f %% is within this timing's noise): lowering quality buys no CPU "
           "here, only error",
           preset, mdn_isa(), best, (PAYS_SPEEDUP - 1) * 100);
  printf("\n\n");
}

/* The sample's channels and rate (libsndfile). */
static gboolean
sample_open(Sample *s, const char *path)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);

  if (!f) {
    fprintf(stderr, "maddness-demo: %s: %s\n", path, sf_strerror(NULL));
    return FALSE;
  }
  s->path = path;
  s->channels = info.channels;
  s->rate = info.samplerate;
  sf_close(f);
  return TRUE;
}

/* The first sample a preset of cin->cout channels can take. */
static const Sample *
sample_for(const Sample *samples, int n_samples, const MdnKernel *k)
{
  int i;

  for (i = 0; i < n_samples; i++)
    if (samples[i].channels == k->cin || (k->cin == 1 && k->cout == 1))
      return &samples[i];
  return NULL;
}

static gboolean
demo_preset(const char *preset, const Sample *samples, int n_samples, const char *class_name,
            int runs, GError **error)
{
  char *path = mdn_preset_find(preset, error);
  MdnPreset *p = path ? mdn_preset_load(path, error) : NULL;
  const MdnModel *variant;
  const Sample *s;
  Level levels[LEVELS];
  GArray *in = NULL;
  gboolean ok = FALSE;
  int q;

  memset(levels, 0, sizeof levels);
  for (q = 0; q < LEVELS; q++)
    levels[q].ns = g_new0(double, runs);
  if (!p)
    goto out;
  s = sample_for(samples, n_samples, mdn_model_kernel(mdn_preset_default_variant(p)));
  variant = s ? mdn_preset_variant_at_rate(p, s->rate) : NULL;
  if (!variant) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: no --sample with its input channels at one of its rates", preset);
    goto out;
  }
  print_header(s->path, preset, p, s, class_name, runs);
  if (!run_levels(s->path, preset, levels, runs, &in, error))
    goto out;
  for (q = 0; q < LEVELS; q++) {
    Level *l = &levels[q];
    const size_t n_frames = in->len / (size_t)l->info.in_channels;

    qsort(l->ns, (size_t)runs, sizeof(double), compare_double);
    l->best_ns = l->ns[0];
    l->class_snr = class_snr(variant, l->info.tier, class_name);
    l->snr = l->n_out == n_frames * (size_t)l->info.out_channels
                 ? snr_against_exact(mdn_model_kernel(variant), (const float *)in->data, l->out,
                                     n_frames, l->info.in_channels)
                 : NAN; /* cannot happen: same file, same element */
  }
  print_verdicts(preset, levels, print_rows(levels));
  ok = TRUE;
out:
  for (q = 0; q < LEVELS; q++) {
    g_free(levels[q].ns);
    g_free(levels[q].out);
  }
  if (in)
    g_array_free(in, TRUE);
  mdn_preset_free(p);
  g_free(path);
  return ok;
}

/* The first preset's output at quality 0, for listening. */
static gboolean
write_output(const char *out, const char *preset, const Sample *sample, GError **error)
{
  char *location = g_strescape(out, NULL);
  char *sink = g_strdup_printf("audioconvert ! wavenc ! filesink location=\"%s\"", location);
  char *description = filter_pipeline(sample->path, preset, 0, sink);
  gboolean ok = run_pipeline(description, NULL, NULL, error);

  if (ok)
    printf("wrote %s: %s through %s at quality 0 (its fastest tier), to compare by ear\n", out,
           sample->path, preset);
  g_free(description);
  g_free(sink);
  g_free(location);
  return ok;
}

int
main(int argc, char **argv)
{
  char **sample_paths = NULL, *class_name = NULL, *out = NULL;
  int runs = DEFAULT_RUNS, n_samples, i, status = 0;
  const GOptionEntry entries[]
      = { { "sample", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &sample_paths,
            "A WAV file to filter (repeatable; default presets/sample-speech.wav)", "FILE" },
          { "class", 'c', 0, G_OPTION_ARG_STRING, &class_name,
            "The held-out class whose stored SNR to show beside the claim (default speech)",
            "NAME" },
          { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Timed runs per quality (default 5)", "N" },
          { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
            "Write the first preset's output at quality 0 to FILE", "FILE" },
          { NULL } };
  GOptionContext *context = g_option_context_new("[PRESET...] - the quality knob, measured");
  GError *error = NULL;
  Sample *samples;

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_add_group(context, gst_init_get_option_group());
  if (!g_option_context_parse(context, &argc, &argv, &error) || runs < 1) {
    fprintf(stderr, "maddness-demo: %s\n", error ? error->message : "--runs must be at least 1");
    return 2;
  }
  g_option_context_free(context);
  if (!sample_paths)
    sample_paths = g_strdupv((char *[]){ "presets/sample-speech.wav", NULL });
  n_samples = (int)g_strv_length(sample_paths);
  samples = g_new0(Sample, n_samples);
  for (i = 0; i < n_samples; i++)
    if (!sample_open(&samples[i], sample_paths[i]))
      return 1;
  if (!gst_element_factory_find("maddnessfilter")) {
    fprintf(stderr, "maddness-demo: no maddnessfilter element: set GST_PLUGIN_PATH to the "
                    "build's gst/ directory (`make demo` does)\n");
    return 1;
  }
  /* A first run loads the plugin and warms the caches; not counted. */
  {
    char *description = filter_pipeline(samples[0].path, argc > 1 ? argv[1] : "lowpass", 10,
                                        "fakesink sync=false");
    run_pipeline(description, NULL, NULL, NULL);
    g_free(description);
  }
  for (i = 1; i < MAX(argc, 2) && status == 0; i++)
    if (!demo_preset(argc > 1 ? argv[i] : "lowpass", samples, n_samples,
                     class_name ? class_name : "speech", runs, &error))
      status = 1;
  if (status == 0 && out && !write_output(out, argc > 1 ? argv[1] : "lowpass", &samples[0], &error))
    status = 1;
  if (error) {
    fprintf(stderr, "maddness-demo: %s\n", error->message);
    g_error_free(error);
  }
  g_free(samples);
  g_strfreev(sample_paths);
  g_free(class_name);
  g_free(out);
  return status;
}

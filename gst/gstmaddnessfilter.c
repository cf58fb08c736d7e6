/* gstmaddnessfilter.c: zero-latency conv1d audio filter over a maddness preset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-maddnessfilter
 * @title: maddnessfilter
 * @short_description: zero-latency conv1d filter with an exact path and MADDNESS tiers
 *
 * maddnessfilter runs the causal 1-D convolution stored in a maddness preset
 * (a `.mdn` file: a kernel of cin inputs, cout outputs, taps and dilation,
 * plus an optional ladder of fitted MADDNESS approximation tiers, fastest
 * first, at each sample rate the preset has a variant for). It adds no
 * latency: every output frame depends only on the current and past input
 * frames.
 *
 * The element's caps offer exactly the rates of the preset's variants (the
 * shipped presets have 44100, 48000 and 96000 Hz), and it runs the variant
 * at the negotiated rate: nothing is resampled, in the element or before it
 * (a decoder's 44.1 kHz goes straight through `audioconvert` to the filter,
 * as in playbin's `audio-filter`). A rate change while playing switches the
 * variant (off the buffer path, at the caps). The input has cin channels and
 * the output cout channels; a 1->1 preset on an N-channel stream filters each
 * channel on its own (N groups of 1). The channel-mask is kept when the
 * channel count does not change, and dropped when it does (more than 2
 * output channels are then unpositioned: channel-mask 0). A stream whose
 * rate or channel count the preset cannot take (at the start, or when it
 * changes while playing) gets an error message
 * (#GST_CORE_ERROR_NEGOTIATION) that names the preset's rates and channels,
 * the stream's, and what to put before the element, such as
 * `audioresample ! audio/x-raw,rate=44100` (the preset's rate nearest the
 * stream's).
 *
 * #GstMaddnessFilter:quality picks the path: 10 runs the exact convolution,
 * lower values pick cheaper approximate tiers, among those predicted faster
 * than exact on this CPU (none: exact at every quality). #GstMaddnessFilter:tier and
 * #GstMaddnessFilter:expected-snr report what is in use.
 *
 * expected-snr is what the tier reached on the audio the preset was fitted
 * on; audio unlike it (a bright, tonal recording through a preset fitted on
 * speech) can get much less. So the element audits itself while it runs
 * (#GstMaddnessFilter:audit, on by default): on a sparse sample of frames,
 * about 5 % of the exact path's work, it computes the exact output and every
 * tier's output and keeps each tier's SNR on the audio flowing.
 * #GstMaddnessFilter:measured-snr reports the running path's. When the
 * running tier measures more than 3 dB under its expected-snr for a second of
 * audio, beyond the audit's sampling noise (the highest SNR the audited
 * frames do not rule out is under the claim less 3 dB: a cheap kernel buys a
 * few audited frames a second, whose estimate moves by several dB on speech),
 * the element posts one element message `maddness-accuracy` with the
 * fields `tier` (string), `expected-snr`, `measured-snr` and
 * `measured-snr-high` (doubles, dB: the estimate and that highest SNR),
 * and logs a warning (GST_WARNING); it posts again for that tier only after
 * the tier has held within 3 dB of its claim for a second and then fallen
 * under it again.
 *
 * #GstMaddnessFilter:min-snr turns the choice over to the element: above 0
 * it runs the fastest tier whose measured SNR holds min-snr on the audio
 * flowing (among the tiers that pay on this CPU, as for quality), moving up at once when the audio
 * gets harder and back down when a faster tier has held min-snr + 1 dB for a second, and reports
 * its choice through #GstMaddnessFilter:tier. quality is ignored meanwhile.
 *
 * The preset can be changed while PLAYING. The new preset is loaded on the
 * thread that sets the property; the streaming thread then runs the new
 * filter beside the old one (twice the work meanwhile) until the new one has
 * seen as much input as its kernel spans (at most 2 s), and crossfades to it
 * over 10 ms, so no audio is lost and no step is heard. The new preset runs
 * its variant at the negotiated rate. A preset that fails to load, that has
 * no variant at the negotiated rate, or whose channel counts do not fit the
 * negotiated caps, posts a warning and the old preset keeps running: the
 * element does not renegotiate for a new preset while running.
 *
 * Non-finite input samples (NaN, Inf) are replaced by 0; the first one after
 * the stream starts or is reset posts one warning message on the bus.
 *
 * DISCONT buffers, flushes and caps changes reset the filter history.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 audiotestsrc ! audio/x-raw,rate=48000 ! audioconvert ! maddnessfilter
 * preset=lowpass quality=5 ! audioconvert ! autoaudiosink
 * ]| Filters a test tone with the shipped preset `lowpass` (found in
 * MADDNESS_PRESET_PATH, then in the installed presets directory) on its
 * middle tier.
 * |[
 * gst-launch-1.0 filesrc location=in.wav ! wavparse ! audioconvert ! audioresample !
 * audio/x-raw,rate=48000 ! maddnessfilter preset=/path/to/room.mdn quality=10 ! audioconvert !
 * wavenc ! filesink location=out.wav
 * ]| Convolves a WAV file exactly with a preset file made for 48 kHz only.
 * |[
 * gst-launch-1.0 playbin uri=file:///music/song.flac audio-filter="maddnessfilter
 * preset=lowpass quality=3"
 * ]| Plays a file through the shipped lowpass at the file's own rate (44.1,
 * 48 or 96 kHz: the preset has a variant for each).
 * |[
 * gst-launch-1.0 filesrc location=in.wav ! wavparse ! audioconvert ! maddnessfilter
 * preset=lowpass min-snr=30 ! audioconvert ! autoaudiosink
 * ]| Plays a file through the shipped lowpass on the cheapest tier that holds 30 dB
 * on that file, switching tiers as its character changes (GST_DEBUG=maddnessfilter:4
 * logs each switch with the measured SNRs).
 * |[
 * gst-launch-1.0 -m audiotestsrc wave=violet-noise num-buffers=300 ! audio/x-raw,rate=48000 !
 * audioconvert ! maddnessfilter preset=lowpass quality=0 ! fakesink
 * ]| Runs violet noise (its energy rising 6 dB an octave to the top), unlike every
 * class of audio the shipped lowpass was fitted on, through its fastest tier; `-m`
 * prints the accuracy message when it comes, about 4 s of audio in (this 1->1
 * kernel's exact path is so cheap that 5 % of it audits a few frames a second, so
 * the audit smooths over about 6 s and reports after 3 s), e.g.:
 * |[
 * Got message #54 from element "maddnessfilter0" (element): maddness-accuracy,
 * tier=(string)s8d4e2q6, expected-snr=(double)9.630286324426848,
 * measured-snr=(double)-17.022565841674805;
 * ]|
 * gst-launch-1.0 alsasrc ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 !
 * maddnessfilter preset=/path/to/capture.nam ! audioconvert ! autoaudiosink
 * ]| Runs a Neural Amp Modeler capture (.nam) on a guitar input. A trained
 * model runs exact at the rate of its file (48 kHz when it gives none; other
 * rates do not negotiate: hence audioresample); quality picks the submodel
 * of a slimmable file (NAM's size quality / 10; the tier property names it
 * model-N); its level metadata are the loudness, input-level and
 * output-level properties.
 */

#include "gstmaddness-common.h"

#include "gstmaddnessfilter.h"

#include <math.h>
#include <string.h>

#include <gst/audio/audio.h>

#include "maddness.h"

GST_DEBUG_CATEGORY_STATIC(gst_maddness_filter_debug);
#define GST_CAT_DEFAULT gst_maddness_filter_debug

#define DEFAULT_QUALITY 5
#define DEFAULT_AUDIT TRUE
#define DEFAULT_MIN_SNR 0.0
#define MAX_MIN_SNR 200.0
/* The accuracy message: the running tier measures more than this many dB
 * under its expected-snr for ACCURACY_SECONDS of audio. */
#define ACCURACY_MARGIN_DB 3.0
#define ACCURACY_SECONDS 1
/* Frames per chunk of the incoming filter's output during a preset swap. */
#define SWAP_SCRATCH_FRAMES 1024
/* Longer kernels are crossfaded in with a history this long: their far tail
 * fades in with the crossfade instead of doubling the work for minutes. */
#define SWAP_MAX_WARMUP_SECONDS 2
/* Crossfade length of a preset swap or a tier change, as a fraction of a second. */
#define SWAP_CROSSFADE_PER_SECOND 100

enum {
  PROP_0,
  PROP_PRESET,
  PROP_QUALITY,
  PROP_EXPECTED_SNR,
  PROP_TIER,
  PROP_MEASURED_SNR,
  PROP_AUDIT,
  PROP_MIN_SNR,
  PROP_LOUDNESS,
  PROP_INPUT_LEVEL,
  PROP_OUTPUT_LEVEL,
};

/* What the read-only properties report for one path of a preset. */
typedef struct {
  char name[MDN_TIER_NAME_MAX];
  double snr_db;
} TierDesc;

/* What caps a preset takes: its channels and the rates of its variants
 * (lowest first). */
typedef struct {
  int cin, cout;
  int n_rates;
  int rates[MDN_MAX_VARIANTS];
} PresetShape;

/* The accuracy watch of one tier (streaming thread): audio the tier ran
 * more than ACCURACY_MARGIN_DB under its claim, then within it; whether the
 * message was posted since it last recovered. */
typedef struct {
  gint64 under, within;
  gboolean flagged;
} TierWatch;

typedef struct _PresetState PresetState;

/* PresetState.running before the state has run or been given caps. */
#define NOT_RUN (-2)

/* A loaded preset and the stream running it: made off the streaming thread,
 * handed over through `pending`, handed back through `retired`. The preset
 * holds a variant per rate; the fields from `model` to `warmup` describe the
 * variant in use (picked by rate from the caps, off the buffer path; the
 * default variant until caps are known). */
struct _PresetState {
  MdnPreset *preset;
  /* Or a trained model (a .nam file), run exact at one rate; its "tiers" are
   * its submodels (quality picks one, as NAM's slimmable size quality / 10). */
  MdnNet *net;
  MdnNetStream *net_stream;
  PresetShape shape;
  TierDesc **variant_tiers; /* per variant (one for a trained model): n_tiers + 1 descriptors */
  /* Per variant of a preset: the tiers quality may select on this CPU
   * (mdn_model_paying_tiers, at load) and their number. */
  int **variant_paying;
  int *variant_n_paying;
  char *path;
  const MdnModel *model; /* the variant in use, inside `preset` */
  int cin, cout, rate, n_tiers;
  const int *paying; /* the variant's paying tiers, n_paying of them */
  int n_paying;
  /* Frames a new stream runs unheard before its crossfade: the kernel span
   * (taps - 1) * dilation + 1, at most SWAP_MAX_WARMUP_SECONDS. */
  gint64 warmup;
  TierDesc *tiers; /* the variant's: n_tiers + 1, index n_tiers is the exact path */
  /* For `groups` (0: caps not known yet, no stream). */
  int groups;
  MdnStream *stream;
  float *scratch; /* SWAP_SCRATCH_FRAMES * groups * cout */
  gboolean nonfinite_warned;
  /* Streaming thread: the audit as applied to `stream`, the path it ran
   * last (before any: the one set_caps expects, or NOT_RUN), and the
   * accuracy watch per tier. */
  gboolean audit_on;
  int running;      /* or NOT_RUN */
  int watched;      /* the tier `watch` last counted for, or MDN_TIER_EXACT */
  TierWatch *watch; /* n_tiers */
  PresetState *next_retired;
};

struct _GstMaddnessFilter {
  GstBaseTransform parent;

  gchar *preset; /* object lock */
  gint quality;  /* atomic: read per buffer */

  /* Configuration shared by the property setters, caps functions, start and
   * stop. The buffer path (transform) never takes it. */
  GMutex config_lock;
  gboolean started;
  gboolean have_shape; /* shape: the preset the caps follow */
  PresetShape shape;
  /* The stream's caps did not fit the preset, and the error saying so was
   * posted; again only after caps that fit (or a restart). */
  gboolean misfit_reported;
  gboolean negotiated;
  int in_channels, out_channels, rate, groups; /* of the negotiated caps */
  guint generation;                            /* bumped at every caps change */

  /* Streaming thread only (and start/stop when it does not run). */
  PresetState *active;
  PresetState *incoming; /* the next preset, warming up beside `active` */
  gint64 incoming_frames;

  gint audit;         /* atomic gboolean: the audit property */
  gint min_snr_bits;  /* atomic: float bits of min-snr (0: off) */
  gint measured_bits; /* atomic: float bits of measured-snr */

  gint reset_pending;   /* atomic: a flush asks for a history reset */
  gpointer pending;     /* atomic PresetState *: the newest loaded preset */
  gpointer retired;     /* atomic PresetState * list: to free off the streaming thread */
  gpointer tier_in_use; /* atomic const TierDesc *, inside a live state */
  /* A trained model's levels (NAN: none, or a preset): object lock */
  double loudness, input_level, output_level;
};

static const TierDesc exact_desc = { "exact", INFINITY };

/* Native-endian float, interleaved; any rate and channels until a preset is loaded. */
#define CAPS_STR GST_AUDIO_CAPS_MAKE(GST_AUDIO_NE(F32)) ", layout = (string) interleaved"

static GstStaticPadTemplate sink_template
    = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(CAPS_STR));
static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(CAPS_STR));

#define gst_maddness_filter_parent_class parent_class
G_DEFINE_TYPE(GstMaddnessFilter, gst_maddness_filter, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(maddnessfilter, "maddnessfilter", GST_RANK_NONE,
                            GST_TYPE_MADDNESS_FILTER);

/* ---- quality -> tier ----------------------------------------------------- */

static const TierDesc *
state_desc(const PresetState *state, int tier)
{
  return tier == MDN_TIER_EXACT ? &state->tiers[state->n_tiers] : &state->tiers[tier];
}

/* What the tier getters report; the pointer stays inside a live state. */
static void
publish_tier(GstMaddnessFilter *self, const PresetState *state, int tier)
{
  const TierDesc *desc = state_desc(state, tier);

  if (g_atomic_pointer_get(&self->tier_in_use) != (gpointer)desc)
    g_atomic_pointer_set(&self->tier_in_use, (gpointer)desc);
}

/* ---- trained models (.nam) beside presets -------------------------------- */

/* The path quality runs: a preset's tier, or a trained model's submodel. */
static int
quality_tier(const PresetState *state, int quality)
{
  if (state->net)
    return mdn_net_submodel_for_quality(state->net, quality);
  return mdn_quality_tier(quality, state->paying, state->n_paying);
}

static void
state_process(PresetState *state, int tier, const float *in, float *out, size_t n_frames)
{
  if (state->net)
    mdn_net_stream_process(state->net_stream, tier, in, out, n_frames);
  else
    mdn_stream_process(state->stream, tier, in, out, n_frames);
}

static void
state_reset(PresetState *state)
{
  if (state->net)
    mdn_net_stream_reset(state->net_stream);
  else
    mdn_stream_reset(state->stream);
}

static guint64
state_nonfinite(const PresetState *state)
{
  return state->net ? mdn_net_stream_nonfinite_count(state->net_stream)
                    : mdn_stream_nonfinite_count(state->stream);
}

/* A .nam file: its submodels as the state's paths. */
static PresetState *
state_load_net(char *path, GError **error)
{
  PresetState *state;
  MdnNet *net = mdn_net_load(path, error);
  MdnNetInfo info;
  int i;

  if (!net) {
    g_free(path);
    return NULL;
  }
  state = g_new0(PresetState, 1);
  state->net = net;
  state->path = path;
  state->cin = mdn_net_in_channels(net);
  state->cout = mdn_net_out_channels(net);
  state->rate = (int)lround(mdn_net_rate(net));
  state->n_tiers = mdn_net_n_submodels(net);
  state->tiers = g_new0(TierDesc, state->n_tiers + 1);
  for (i = 0; i < state->n_tiers; i++) {
    mdn_net_submodel_info(net, i, &info);
    g_snprintf(state->tiers[i].name, MDN_TIER_NAME_MAX, "model-%d", i);
    state->tiers[i].snr_db = INFINITY; /* each submodel runs exact */
    state->warmup = MAX(state->warmup, (gint64)info.receptive_field);
  }
  state->warmup = MIN(state->warmup, (gint64)state->rate * SWAP_MAX_WARMUP_SECONDS);
  state->tiers[state->n_tiers] = exact_desc;
  /* One variant, at the file's rate. */
  state->shape.cin = state->cin;
  state->shape.cout = state->cout;
  state->shape.n_rates = 1;
  state->shape.rates[0] = state->rate;
  state->variant_tiers = g_new(TierDesc *, 1);
  state->variant_tiers[0] = state->tiers;
  state->watch = g_new0(TierWatch, 1); /* not used: nothing to audit */
  state->running = NOT_RUN;
  state->watched = MDN_TIER_EXACT;
  return state;
}

/* The trained model's levels as read-only properties (NAN for a preset). */
static void
publish_levels(GstMaddnessFilter *self, const PresetState *state)
{
  const MdnNetMetadata *m = state->net ? mdn_net_metadata(state->net) : NULL;
  GST_OBJECT_LOCK(self);
  self->loudness = m ? m->loudness : NAN;
  self->input_level = m ? m->input_level_dbu : NAN;
  self->output_level = m ? m->output_level_dbu : NAN;
  GST_OBJECT_UNLOCK(self);
}

/* Floats shared with the streaming thread as bits in atomic ints. */
static float
atomic_float_get(gint *bits)
{
  gint v = g_atomic_int_get(bits);
  float f;

  memcpy(&f, &v, sizeof f);
  return f;
}

static void
atomic_float_set(gint *bits, float f)
{
  gint v;

  memcpy(&v, &f, sizeof v);
  g_atomic_int_set(bits, v);
}

/* min-snr with nothing measured yet: the fastest paying tier whose fitted
 * SNR holds it, as mdn_stream_pick_tier() does then. */
static int
claim_to_tier(const PresetState *state, double min_snr)
{
  int j;

  for (j = 0; j < state->n_paying; j++)
    if (state->tiers[state->paying[j]].snr_db >= min_snr)
      return state->paying[j];
  return MDN_TIER_EXACT;
}

/* The path a state runs before its stream has run: what `tier` reports.
 * min-snr does not apply to a trained model (nothing to audit, each
 * submodel runs exact). */
static int
initial_tier(const PresetState *state, int quality, double min_snr)
{
  return min_snr > 0 && !state->net ? claim_to_tier(state, min_snr) : quality_tier(state, quality);
}

/* What the `tier` property reports for a state: the path it runs. */
static int
state_tier(const PresetState *state, int quality, double min_snr)
{
  return state->running != NOT_RUN ? state->running : initial_tier(state, quality, min_snr);
}

/* ---- preset states ------------------------------------------------------- */

static void
state_drop_stream(PresetState *state)
{
  mdn_net_stream_free(state->net_stream);
  state->net_stream = NULL;
  mdn_stream_free(state->stream);
  g_free(state->scratch);
  state->stream = NULL;
  state->scratch = NULL;
  state->groups = 0;
}

static void
state_free(PresetState *state)
{
  int v;

  if (!state)
    return;
  state_drop_stream(state);
  for (v = 0; v < state->shape.n_rates; v++) {
    g_free(state->variant_tiers[v]);
    if (state->variant_paying)
      g_free(state->variant_paying[v]);
  }
  g_free(state->variant_tiers);
  g_free(state->variant_paying);
  g_free(state->variant_n_paying);
  mdn_preset_free(state->preset);
  mdn_net_free(state->net);
  g_free(state->watch);
  g_free(state->path);
  g_free(state);
}

/* Makes variant `index` the one in use; its stream, if any, is dropped when
 * the variant changes. Allocates nothing. */
static void
state_select(PresetState *state, int index)
{
  const MdnModel *model;
  const MdnKernel *k;
  gboolean changed;

  if (state->net)
    return; /* one variant, selected at load */
  model = mdn_preset_variant(state->preset, index);
  k = mdn_model_kernel(model);
  changed = model != state->model;
  if (changed)
    state_drop_stream(state);
  state->model = model;
  state->rate = state->shape.rates[index];
  state->n_tiers = mdn_model_n_tiers(model);
  if (changed) {
    /* Another variant's tiers: nothing run or watched yet. */
    state->running = NOT_RUN;
    state->watched = MDN_TIER_EXACT;
    memset(state->watch, 0, sizeof *state->watch * (size_t)state->n_tiers);
  }
  state->tiers = state->variant_tiers[index];
  state->paying = state->variant_paying[index];
  state->n_paying = state->variant_n_paying[index];
  state->warmup
      = MIN((gint64)(k->taps - 1) * k->dilation + 1, (gint64)state->rate * SWAP_MAX_WARMUP_SECONDS);
}

/* The index of the variant at `rate`, or -1. */
static int
shape_rate_index(const PresetShape *shape, int rate)
{
  int v;

  for (v = 0; v < shape->n_rates; v++)
    if (shape->rates[v] == rate)
      return v;
  return -1;
}

/* Loads what `name` names. Allocates and reads files: never on the streaming thread. */
static PresetState *
state_load(const char *name, GError **error)
{
  PresetState *state;
  MdnPreset *preset;
  char *path;
  int v, t, max_tiers = 0;

  path = mdn_preset_find(name, error);
  if (!path)
    return NULL;
  if (mdn_net_file_is_model(path))
    return state_load_net(path, error);
  preset = mdn_preset_load(path, error); /* its errors name the file */
  if (!preset) {
    g_free(path);
    return NULL;
  }
  state = g_new0(PresetState, 1);
  state->preset = preset;
  state->path = path;
  state->cin = state->shape.cin = mdn_model_kernel(mdn_preset_variant(preset, 0))->cin;
  state->cout = state->shape.cout = mdn_model_kernel(mdn_preset_variant(preset, 0))->cout;
  state->shape.n_rates = mdn_preset_n_variants(preset);
  state->variant_tiers = g_new0(TierDesc *, state->shape.n_rates);
  state->variant_paying = g_new0(int *, state->shape.n_rates);
  state->variant_n_paying = g_new0(int, state->shape.n_rates);
  for (v = 0; v < state->shape.n_rates; v++) {
    const MdnModel *model = mdn_preset_variant(preset, v);
    int n_tiers = mdn_model_n_tiers(model);

    /* Quality selects only tiers predicted faster than exact here. */
    state->variant_paying[v] = g_new(int, MAX(n_tiers, 1));
    state->variant_n_paying[v] = mdn_model_paying_tiers(model, state->variant_paying[v]);
    if (n_tiers > 0 && state->variant_n_paying[v] == 0)
      GST_INFO("%s at %.0f Hz: no tier is predicted faster than exact with the %s kernels: "
               "every quality runs exact",
               path, mdn_model_kernel(model)->rate, mdn_isa());

    max_tiers = MAX(max_tiers, n_tiers);
    state->shape.rates[v] = (int)lround(mdn_model_kernel(model)->rate);
    state->variant_tiers[v] = g_new0(TierDesc, n_tiers + 1);
    for (t = 0; t < n_tiers; t++) {
      MdnTierInfo info;

      mdn_model_tier_info(model, t, &info);
      g_strlcpy(state->variant_tiers[v][t].name, info.name, MDN_TIER_NAME_MAX);
      state->variant_tiers[v][t].snr_db = info.snr_db;
    }
    state->variant_tiers[v][n_tiers] = exact_desc;
  }
  /* The accuracy watch covers the variant with the most tiers. */
  state->watch = g_new0(TierWatch, MAX(max_tiers, 1));
  /* Until caps pick one, the default variant says what runs. */
  for (v = 0; v < state->shape.n_rates; v++)
    if (mdn_preset_variant(preset, v) == mdn_preset_default_variant(preset))
      state_select(state, v);
  return state;
}

static gboolean
state_make_stream(PresetState *state, int groups, gboolean audit, GError **error)
{
  MdnStream *stream;

  if (state->net) {
    MdnNetStream *net_stream = mdn_net_stream_new(state->net, groups, error);
    if (!net_stream)
      return FALSE;
    state_drop_stream(state);
    state->net_stream = net_stream;
    state->groups = groups;
    state->scratch = g_new(float, (gsize)SWAP_SCRATCH_FRAMES *groups * state->cout);
    state->nonfinite_warned = FALSE;
    return TRUE;
  }
  stream = mdn_stream_new(state->model, groups, error);
  if (!stream)
    return FALSE;
  /* Quality changes crossfade between paths like preset swaps do. */
  mdn_stream_set_crossfade(stream, (size_t)MAX(1, state->rate / SWAP_CROSSFADE_PER_SECOND));
  mdn_stream_set_audit(stream, audit ? MDN_AUDIT_DEFAULT_FRACTION : 0);
  state->audit_on = audit;
  state_drop_stream(state);
  state->stream = stream;
  state->groups = groups;
  state->scratch = g_new(float, (gsize)SWAP_SCRATCH_FRAMES *groups * state->cout);
  state->nonfinite_warned = FALSE;
  return TRUE;
}

/* Whether a preset of that shape runs on these caps, and with how many groups. */
static gboolean
shape_fits(const PresetShape *shape, int in_channels, int out_channels, int caps_rate, int *groups)
{
  if (shape_rate_index(shape, caps_rate) < 0)
    return FALSE;
  if (shape->cin == 1 && shape->cout == 1) {
    if (in_channels != out_channels || in_channels < 1)
      return FALSE;
    *groups = in_channels;
    return TRUE;
  }
  if (in_channels != shape->cin || out_channels != shape->cout)
    return FALSE;
  *groups = 1;
  return TRUE;
}

/* "44100, 48000 and 96000 Hz" (g_free it). */
static gchar *
shape_describe_rates(const PresetShape *shape)
{
  GString *text = g_string_new(NULL);
  int v;

  for (v = 0; v < shape->n_rates; v++)
    g_string_append_printf(text, "%s%d",
                           v == 0                    ? ""
                           : v + 1 == shape->n_rates ? " and "
                                                     : ", ",
                           shape->rates[v]);
  g_string_append(text, " Hz");
  return g_string_free(text, FALSE);
}

/* Streaming thread: hands a state back for freeing elsewhere. Lock-free push;
 * the collector takes the whole list at once, so there is no ABA. */
static void
retire(GstMaddnessFilter *self, PresetState *state)
{
  gpointer head;

  if (!state)
    return;
  do {
    head = g_atomic_pointer_get(&self->retired);
    state->next_retired = head;
  } while (!g_atomic_pointer_compare_and_exchange(&self->retired, head, state));
}

/* Frees the retired states. Call with config_lock held (the tier getters read
 * descriptors inside states under it), never on the streaming thread. */
static void
collect_retired_locked(GstMaddnessFilter *self)
{
  PresetState *state = g_atomic_pointer_exchange(&self->retired, NULL);

  while (state) {
    PresetState *next = state->next_retired;

    state_free(state);
    state = next;
  }
}

/* Frees everything; streaming must not be running. config_lock held. */
static void
free_states_locked(GstMaddnessFilter *self)
{
  g_atomic_pointer_set(&self->tier_in_use, NULL);
  state_free(g_atomic_pointer_exchange(&self->pending, NULL));
  state_free(self->incoming);
  state_free(self->active);
  self->incoming = NULL;
  self->active = NULL;
  collect_retired_locked(self);
}

/* ---- preset property ----------------------------------------------------- */

/* While started: load on this thread, check it against the caps, build its
 * stream and publish it in `pending`. FALSE (with a warning posted) keeps the
 * old preset. */
static gboolean
swap_preset(GstMaddnessFilter *self, const char *name)
{
  GError *error = NULL;
  PresetState *state, *old;

  g_mutex_lock(&self->config_lock);
  collect_retired_locked(self);
  g_mutex_unlock(&self->config_lock);

  if (!name || !*name) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Cannot remove the preset while running."),
                        ("keeping the current preset"));
    return FALSE;
  }
  state = state_load(name, &error);
  if (!state) {
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_READ,
                        ("Could not load the preset: %s", error->message),
                        ("keeping the current preset"));
    g_clear_error(&error);
    return FALSE;
  }

  for (;;) {
    gboolean negotiated;
    int in_channels, out_channels, rate, groups = 0;
    guint generation;

    g_mutex_lock(&self->config_lock);
    negotiated = self->negotiated;
    in_channels = self->in_channels;
    out_channels = self->out_channels;
    rate = self->rate;
    generation = self->generation;
    g_mutex_unlock(&self->config_lock);

    if (negotiated) {
      if (!shape_fits(&state->shape, in_channels, out_channels, rate, &groups)) {
        gchar *rates = shape_describe_rates(&state->shape);

        GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                            ("Preset \"%s\" (%d -> %d channels at %s) does not fit the running "
                             "stream (%d -> %d channels at %d Hz).",
                             state->path, state->cin, state->cout, rates, in_channels, out_channels,
                             rate),
                            ("keeping the current preset"));
        g_free(rates);
        state_free(state);
        return FALSE;
      }
      /* The variant at the stream's rate (a new stream if it changes). */
      state_select(state, shape_rate_index(&state->shape, rate));
      if (groups != state->groups
          && !state_make_stream(state, groups, g_atomic_int_get(&self->audit), &error)) {
        GST_ELEMENT_WARNING(self, RESOURCE, FAILED,
                            ("Could not run preset \"%s\": %s", state->path, error->message),
                            ("keeping the current preset"));
        g_clear_error(&error);
        state_free(state);
        return FALSE;
      }
    }

    g_mutex_lock(&self->config_lock);
    if (generation != self->generation || !self->started) {
      /* Caps changed (or streaming stopped) meanwhile: check again. */
      gboolean started = self->started;

      g_mutex_unlock(&self->config_lock);
      if (!started) {
        state_free(state);
        return TRUE;
      }
      continue;
    }
    GST_INFO_OBJECT(self, "preset %s loaded, taken at the next buffer", state->path);
    publish_levels(self, state);
    self->have_shape = TRUE;
    self->shape = state->shape;
    /* From here on the streaming thread owns `state`. */
    old = g_atomic_pointer_exchange(&self->pending, state);
    g_mutex_unlock(&self->config_lock);
    /* The streaming thread never saw `old`: it is ours to free. */
    state_free(old);
    return TRUE;
  }
}

/* ---- GObject ------------------------------------------------------------- */

static void
gst_maddness_filter_set_property(GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(object);

  switch (prop_id) {
  case PROP_PRESET: {
    const char *name = g_value_get_string(value);
    gboolean started;

    g_mutex_lock(&self->config_lock);
    started = self->started;
    g_mutex_unlock(&self->config_lock);
    /* Before start the name is only stored: start() loads it and reports errors. */
    if (!started || swap_preset(self, name)) {
      GST_OBJECT_LOCK(self);
      g_free(self->preset);
      self->preset = g_strdup(name);
      GST_OBJECT_UNLOCK(self);
    }
    break;
  }
  case PROP_QUALITY:
    g_atomic_int_set(&self->quality, g_value_get_int(value));
    break;
  case PROP_AUDIT:
    g_atomic_int_set(&self->audit, g_value_get_boolean(value));
    break;
  case PROP_MIN_SNR:
    atomic_float_set(&self->min_snr_bits, (float)g_value_get_double(value));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
}

static void
gst_maddness_filter_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(object);

  switch (prop_id) {
  case PROP_PRESET:
    GST_OBJECT_LOCK(self);
    g_value_set_string(value, self->preset);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_QUALITY:
    g_value_set_int(value, g_atomic_int_get(&self->quality));
    break;
  case PROP_AUDIT:
    g_value_set_boolean(value, g_atomic_int_get(&self->audit));
    break;
  case PROP_MIN_SNR:
    g_value_set_double(value, atomic_float_get(&self->min_snr_bits));
    break;
  case PROP_MEASURED_SNR:
    g_value_set_double(value, atomic_float_get(&self->measured_bits));
    break;
  case PROP_EXPECTED_SNR:
  case PROP_TIER: {
    const TierDesc *desc;

    /* States are freed under config_lock only: the descriptor stays valid here. */
    g_mutex_lock(&self->config_lock);
    desc = g_atomic_pointer_get(&self->tier_in_use);
    if (prop_id == PROP_TIER)
      g_value_set_string(value, desc ? desc->name : NULL);
    else
      g_value_set_double(value, desc ? desc->snr_db : NAN);
    g_mutex_unlock(&self->config_lock);
    break;
  }
  case PROP_LOUDNESS:
  case PROP_INPUT_LEVEL:
  case PROP_OUTPUT_LEVEL:
    GST_OBJECT_LOCK(self);
    g_value_set_double(value, prop_id == PROP_LOUDNESS      ? self->loudness
                              : prop_id == PROP_INPUT_LEVEL ? self->input_level
                                                            : self->output_level);
    GST_OBJECT_UNLOCK(self);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
}

static void
gst_maddness_filter_finalize(GObject *object)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(object);

  g_mutex_lock(&self->config_lock);
  free_states_locked(self);
  g_mutex_unlock(&self->config_lock);
  g_mutex_clear(&self->config_lock);
  g_free(self->preset);

  G_OBJECT_CLASS(parent_class)->finalize(object);
}

/* ---- GstBaseTransform ---------------------------------------------------- */

static gboolean
gst_maddness_filter_start(GstBaseTransform *trans)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);
  GError *error = NULL;
  PresetState *state;
  gchar *name;

  GST_OBJECT_LOCK(self);
  name = g_strdup(self->preset);
  GST_OBJECT_UNLOCK(self);

  if (!name || !*name) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No preset set."),
                      ("set the \"preset\" property to a .mdn file or a shipped preset name"));
    g_free(name);
    return FALSE;
  }
  state = state_load(name, &error);
  if (!state) {
    if (g_error_matches(error, MDN_ERROR, MDN_ERROR_IO))
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                        ("Could not load the preset: %s", error->message), (NULL));
    else
      GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not load the preset: %s", error->message),
                        (NULL));
    g_clear_error(&error);
    g_free(name);
    return FALSE;
  }
  publish_levels(self, state);
  GST_INFO_OBJECT(self, "preset %s: %d -> %d channels, %d rate variants", state->path, state->cin,
                  state->cout, state->shape.n_rates);
  g_free(name);

  g_mutex_lock(&self->config_lock);
  free_states_locked(self);
  self->active = state;
  self->have_shape = TRUE;
  self->shape = state->shape;
  self->negotiated = FALSE;
  self->misfit_reported = FALSE;
  self->started = TRUE;
  publish_tier(
      self, state,
      initial_tier(state, g_atomic_int_get(&self->quality), atomic_float_get(&self->min_snr_bits)));
  atomic_float_set(&self->measured_bits, NAN);
  g_mutex_unlock(&self->config_lock);
  g_atomic_int_set(&self->reset_pending, 0);
  return TRUE;
}

static gboolean
gst_maddness_filter_stop(GstBaseTransform *trans)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);

  g_mutex_lock(&self->config_lock);
  free_states_locked(self);
  self->started = FALSE;
  self->have_shape = FALSE;
  self->negotiated = FALSE;
  atomic_float_set(&self->measured_bits, NAN);
  g_mutex_unlock(&self->config_lock);
  return TRUE;
}

/* Caps of the format and rates the preset takes, with `channels` channels
 * (0: any number). */
static GstCaps *
shape_caps(const PresetShape *shape, int channels)
{
  GstCaps *caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, GST_AUDIO_NE(F32),
                                      "layout", G_TYPE_STRING, "interleaved", NULL);
  GstStructure *s = gst_caps_get_structure(caps, 0);

  if (shape->n_rates == 1) {
    gst_structure_set(s, "rate", G_TYPE_INT, shape->rates[0], NULL);
  } else {
    GValue list = G_VALUE_INIT, rate = G_VALUE_INIT;
    int v;

    g_value_init(&list, GST_TYPE_LIST);
    g_value_init(&rate, G_TYPE_INT);
    for (v = 0; v < shape->n_rates; v++) {
      g_value_set_int(&rate, shape->rates[v]);
      gst_value_list_append_value(&list, &rate);
    }
    gst_structure_take_value(s, "rate", &list);
    g_value_unset(&rate);
  }
  if (channels > 0)
    gst_caps_set_simple(caps, "channels", G_TYPE_INT, channels, NULL);
  return caps;
}

/* The values of an int field in caps, for a message: "44100", "8000-16000",
 * "1 or 2"; NULL when some structure takes any value (or has no such field). */
static gchar *
describe_int_field(const GstCaps *caps, const char *field)
{
  GString *text = g_string_new(NULL);
  guint i;

  for (i = 0; i < gst_caps_get_size(caps); i++) {
    const GValue *value = gst_structure_get_value(gst_caps_get_structure(caps, i), field);
    guint n_values, k;

    if (!value)
      goto any;
    n_values = GST_VALUE_HOLDS_LIST(value) ? gst_value_list_get_size(value) : 1;
    for (k = 0; k < n_values; k++) {
      const GValue *v = GST_VALUE_HOLDS_LIST(value) ? gst_value_list_get_value(value, k) : value;
      gchar *item;

      if (G_VALUE_HOLDS_INT(v)) {
        item = g_strdup_printf("%d", g_value_get_int(v));
      } else if (GST_VALUE_HOLDS_INT_RANGE(v)) {
        if (gst_value_get_int_range_min(v) <= 1 && gst_value_get_int_range_max(v) == G_MAXINT)
          goto any;
        item = g_strdup_printf("%d-%d", gst_value_get_int_range_min(v),
                               gst_value_get_int_range_max(v));
      } else {
        goto any;
      }
      /* Structures that differ elsewhere repeat values: each once. */
      if (!strstr(text->str, item)) {
        if (text->len)
          g_string_append(text, " or ");
        g_string_append(text, item);
      }
      g_free(item);
    }
  }
  return g_string_free(text, FALSE);
any:
  g_string_free(text, TRUE);
  return NULL;
}

/* The preset's rate to resample a stream to: the one nearest (in octaves) to
 * the first fixed rate the stream offers, else 48000 if the preset has it,
 * else its highest. */
static int
suggest_rate(const PresetShape *shape, const GstCaps *usable)
{
  int target = 48000, best = shape->rates[shape->n_rates - 1], v;
  guint i;

  for (i = 0; i < gst_caps_get_size(usable); i++)
    if (gst_structure_get_int(gst_caps_get_structure(usable, i), "rate", &target))
      break;
  for (v = 0; v < shape->n_rates; v++)
    if (fabs(log((double)shape->rates[v] / target)) <= fabs(log((double)best / target)))
      best = shape->rates[v];
  return best;
}

/* The stream offers `offer` on the sink pad (in a caps event, an accept-caps
 * query, or as the filter of a caps query that found nothing). If it is our
 * format but the preset cannot take its rate or channels, posts an element
 * error saying what each side has and what to put before the element: else
 * upstream only reports "not-negotiated". Once, until caps that fit are set.
 * Other misfits (another format, a downstream that refuses) are left to
 * GStreamer's own messages. Caps queries and events only: never on the
 * buffer path. */
static void
report_misfit(GstMaddnessFilter *self, GstCaps *offer)
{
  GstCaps *template_caps, *usable, *constraint;
  PresetShape shape;
  int cin, cout, rate;
  gboolean have_shape, reported, one_to_one, rate_ok, channels_ok;
  gchar *preset, *rates, *channels, *preset_part, *stream_part, *fix, *preset_rates;
  GString *stream;

  g_mutex_lock(&self->config_lock);
  have_shape = self->have_shape;
  reported = self->misfit_reported;
  shape = self->shape;
  g_mutex_unlock(&self->config_lock);
  cin = shape.cin;
  cout = shape.cout;
  if (!have_shape || reported || !offer || gst_caps_is_any(offer))
    return;

  template_caps = gst_static_pad_template_get_caps(&sink_template);
  usable = gst_caps_intersect(offer, template_caps);
  gst_caps_unref(template_caps);
  one_to_one = cin == 1 && cout == 1;
  constraint = shape_caps(&shape, one_to_one ? 0 : cin);
  if (gst_caps_is_empty(usable) || gst_caps_can_intersect(usable, constraint)) {
    gst_caps_unref(constraint);
    gst_caps_unref(usable);
    return;
  }
  gst_caps_unref(constraint);

  /* What is wrong: the rate, the channels, or only the two together. */
  constraint = shape_caps(&shape, 0);
  rate_ok = gst_caps_can_intersect(usable, constraint);
  gst_caps_unref(constraint);
  channels_ok = one_to_one;
  if (!channels_ok) {
    GstCaps *any_rate = gst_caps_copy(usable);
    guint i;

    for (i = 0; i < gst_caps_get_size(any_rate); i++)
      gst_structure_remove_field(gst_caps_get_structure(any_rate, i), "rate");
    constraint = shape_caps(&shape, cin);
    gst_structure_remove_field(gst_caps_get_structure(constraint, 0), "rate");
    channels_ok = gst_caps_can_intersect(any_rate, constraint);
    gst_caps_unref(constraint);
    gst_caps_unref(any_rate);
  }
  if (rate_ok && channels_ok)
    rate_ok = channels_ok = FALSE; /* each fits alone, not together: fix both */

  GST_OBJECT_LOCK(self);
  preset = g_strdup(self->preset);
  GST_OBJECT_UNLOCK(self);
  preset_rates = shape_describe_rates(&shape);
  rate = suggest_rate(&shape, usable);
  if (one_to_one)
    preset_part = g_strdup_printf("Preset \"%s\" works at %s, on any number of channels "
                                  "(each channel filtered on its own)",
                                  preset, preset_rates);
  else
    preset_part = g_strdup_printf("Preset \"%s\" works at %s with %d input channel%s (it "
                                  "makes %d output channel%s)",
                                  preset, preset_rates, cin, cin == 1 ? "" : "s", cout,
                                  cout == 1 ? "" : "s");
  g_free(preset_rates);
  rates = describe_int_field(usable, "rate");
  channels = describe_int_field(usable, "channels");
  stream = g_string_new(NULL);
  if (rates)
    g_string_append_printf(stream, "%s Hz", rates);
  if (channels)
    g_string_append_printf(stream, "%s%s channel%s", stream->len ? ", " : "", channels,
                           strcmp(channels, "1") == 0 ? "" : "s");
  stream_part = g_string_free(stream, FALSE);
  if (rate_ok)
    fix = g_strdup_printf("audioconvert ! audio/x-raw,channels=%d", cin);
  else if (channels_ok)
    fix = g_strdup_printf("audioresample ! audio/x-raw,rate=%d", rate);
  else
    fix = g_strdup_printf("audioconvert ! audioresample ! audio/x-raw,rate=%d,channels=%d", rate,
                          cin);

  g_mutex_lock(&self->config_lock);
  reported = self->misfit_reported;
  self->misfit_reported = TRUE;
  g_mutex_unlock(&self->config_lock);
  if (!reported)
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s; the stream is %s: add %s before maddnessfilter.", preset_part,
                       *stream_part ? stream_part : "in another shape", fix),
                      ("the stream offers %" GST_PTR_FORMAT, offer));

  g_free(fix);
  g_free(stream_part);
  g_free(channels);
  g_free(rates);
  g_free(preset_part);
  g_free(preset);
  gst_caps_unref(usable);
}

static GstCaps *
gst_maddness_filter_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                   GstCaps *caps, GstCaps *filter)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);
  gboolean have_shape;
  PresetShape shape;
  int cin, cout, from_channels, to_channels;
  GstCaps *constraint, *res;
  guint i;

  g_mutex_lock(&self->config_lock);
  have_shape = self->have_shape;
  shape = self->shape;
  g_mutex_unlock(&self->config_lock);
  cin = shape.cin;
  cout = shape.cout;

  if (!have_shape) {
    /* No preset yet: any rate and channel count, start() refuses later. */
    res = gst_caps_copy(caps);
  } else {
    from_channels = direction == GST_PAD_SINK ? cin : cout;
    to_channels = direction == GST_PAD_SINK ? cout : cin;
    constraint = shape_caps(&shape, cin == 1 && cout == 1 ? 0 : from_channels);
    res = gst_caps_intersect(caps, constraint);
    gst_caps_unref(constraint);
    if (from_channels != to_channels) {
      res = gst_caps_make_writable(res);
      for (i = 0; i < gst_caps_get_size(res); i++) {
        GstStructure *s = gst_caps_get_structure(res, i);

        gst_structure_set(s, "channels", G_TYPE_INT, to_channels, NULL);
        /* The mask described the other side's channels. Up to 2 channels have
         * a default layout. More outputs must say they are unpositioned (mask
         * 0); more inputs may come in any layout (the kernel takes them in
         * order): audioconvert, as playbin puts before an audio filter, warns
         * about a mask of 0 asked of it for a positioned stream. */
        if (to_channels > 2 && direction == GST_PAD_SINK)
          gst_structure_set(s, "channel-mask", GST_TYPE_BITMASK, (guint64)0, NULL);
        else
          gst_structure_remove_field(s, "channel-mask");
      }
      /* Structures that differed only by their mask are now the same. */
      res = gst_caps_simplify(res);
    }
  }

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full(filter, res, GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref(res);
    res = tmp;
  }
  GST_DEBUG_OBJECT(self, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

static gboolean
gst_maddness_filter_get_unit_size(GstBaseTransform *trans, GstCaps *caps, gsize *size)
{
  GstAudioInfo info;

  (void)trans;
  if (!gst_audio_info_from_caps(&info, caps))
    return FALSE;
  *size = GST_AUDIO_INFO_BPF(&info);
  return TRUE;
}

static gboolean
gst_maddness_filter_set_caps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);
  GstAudioInfo in_info, out_info;
  PresetState *pending, *state;
  GError *error = NULL;
  int groups;

  if (!gst_audio_info_from_caps(&in_info, incaps)
      || !gst_audio_info_from_caps(&out_info, outcaps)) {
    GST_WARNING_OBJECT(self, "caps not understood");
    return FALSE;
  }

  /* Caps change: runs at negotiation, not per buffer, so it may build a
   * stream for a new channel count. */
  g_mutex_lock(&self->config_lock);
  /* Until these caps are taken, a preset set meanwhile is not checked against old ones. */
  self->negotiated = FALSE;
  self->generation++;
  pending = g_atomic_pointer_exchange(&self->pending, NULL);
  if (self->incoming) {
    /* The history is reset anyway: no need to finish warming up. */
    retire(self, self->active);
    self->active = self->incoming;
    self->incoming = NULL;
  }
  if (pending) {
    retire(self, self->active);
    self->active = pending;
  }
  state = self->active;
  if (!state) {
    g_mutex_unlock(&self->config_lock);
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No preset set."), (NULL));
    return FALSE;
  }
  if (!shape_fits(&state->shape, GST_AUDIO_INFO_CHANNELS(&in_info),
                  GST_AUDIO_INFO_CHANNELS(&out_info), GST_AUDIO_INFO_RATE(&in_info), &groups)
      || GST_AUDIO_INFO_RATE(&in_info) != GST_AUDIO_INFO_RATE(&out_info)) {
    g_mutex_unlock(&self->config_lock);
    GST_WARNING_OBJECT(self,
                       "preset %s (%d -> %d channels, %d rates) does not fit %" GST_PTR_FORMAT
                       " -> %" GST_PTR_FORMAT,
                       state->path, state->cin, state->cout, state->shape.n_rates, incaps, outcaps);
    report_misfit(self, incaps);
    return FALSE;
  }
  /* The variant at the negotiated rate: a rate change picks another one
   * (and drops the old variant's stream, rebuilt below). */
  state_select(state, shape_rate_index(&state->shape, GST_AUDIO_INFO_RATE(&in_info)));
  if (state->groups != groups) {
    if (!state_make_stream(state, groups, g_atomic_int_get(&self->audit), &error)) {
      g_mutex_unlock(&self->config_lock);
      GST_ELEMENT_ERROR(self, RESOURCE, FAILED,
                        ("Could not run preset \"%s\": %s", state->path, error->message), (NULL));
      g_clear_error(&error);
      return FALSE;
    }
  } else {
    state_reset(state);
    state->nonfinite_warned = FALSE;
  }
  self->negotiated = TRUE;
  self->misfit_reported = FALSE;
  self->in_channels = GST_AUDIO_INFO_CHANNELS(&in_info);
  self->out_channels = GST_AUDIO_INFO_CHANNELS(&out_info);
  self->rate = GST_AUDIO_INFO_RATE(&in_info);
  self->groups = groups;
  self->generation++;
  state->running = initial_tier(state, g_atomic_int_get(&self->quality),
                                atomic_float_get(&self->min_snr_bits));
  publish_tier(self, state, state->running);
  atomic_float_set(&self->measured_bits, NAN);
  g_mutex_unlock(&self->config_lock);

  GST_DEBUG_OBJECT(self, "running %s on %d group(s)", state->path, groups);
  return TRUE;
}

static gboolean
gst_maddness_filter_sink_event(GstBaseTransform *trans, GstEvent *event)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);

  /* The flush may come from another thread: the streaming thread resets. */
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP)
    g_atomic_int_set(&self->reset_pending, 1);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps(event, &caps);
    report_misfit(self, caps);
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

/* Upstream asks what the sink pad takes: when its offer does not fit the
 * preset, say so with an element error (report_misfit), before upstream
 * gives up with a bare "not-negotiated". */
static gboolean
gst_maddness_filter_query(GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);
  gboolean ret = GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query);

  if (direction != GST_PAD_SINK)
    return ret;
  if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS && ret) {
    GstCaps *filter = NULL, *result = NULL;

    gst_query_parse_caps(query, &filter);
    gst_query_parse_caps_result(query, &result);
    if (filter && result && gst_caps_is_empty(result))
      report_misfit(self, filter);
  } else if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
    GstCaps *caps = NULL;
    gboolean accepted = FALSE;

    gst_query_parse_accept_caps(query, &caps);
    gst_query_parse_accept_caps_result(query, &accepted);
    if (!ret || !accepted)
      report_misfit(self, caps);
  }
  return ret;
}

static void
gst_maddness_filter_before_transform(GstBaseTransform *trans, GstBuffer *buffer)
{
  GstClockTime timestamp = GST_BUFFER_TIMESTAMP(buffer);
  GstClockTime stream_time;

  if (!GST_CLOCK_TIME_IS_VALID(timestamp))
    return;
  stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, timestamp);
  if (GST_CLOCK_TIME_IS_VALID(stream_time))
    gst_object_sync_values(GST_OBJECT(trans), stream_time);
}

/* Streaming thread: the audit property onto a state's stream (no allocation). */
static void
apply_audit(PresetState *state, gboolean audit)
{
  if (state->net || state->audit_on == audit)
    return;
  mdn_stream_set_audit(state->stream, audit ? MDN_AUDIT_DEFAULT_FRACTION : 0);
  state->audit_on = audit;
}

/* Streaming thread: the path for the next buffer. With min-snr the engine's
 * governor picks a preset's tier from the audited SNRs (the fitted claims
 * until the audit has measured, or with the audit off); else quality does. */
static int
choose_tier(GstMaddnessFilter *self, PresetState *state, int quality, double min_snr)
{
  int tier;

  if (min_snr > 0 && !state->net) {
    tier = mdn_stream_pick_tier(state->stream, state->running, min_snr);
    if (tier != state->running && state->running != NOT_RUN)
      GST_INFO_OBJECT(self, "min-snr %.1f dB: %s (measured %.1f dB) -> %s (measured %.1f dB)",
                      min_snr, state_desc(state, state->running)->name,
                      mdn_stream_audit_snr(state->stream, state->running),
                      state_desc(state, tier)->name, mdn_stream_audit_snr(state->stream, tier));
  } else {
    tier = quality_tier(state, quality);
  }
  state->running = tier;
  return tier;
}

/* What measured-snr reports for a state running `tier`: the audit's SNR of
 * a preset's tier (infinity for its exact path); NaN for a trained model,
 * which has nothing to audit. */
static double
state_measured_snr(const PresetState *state, int tier)
{
  return state->net ? NAN : mdn_stream_audit_snr(state->stream, tier);
}

/* What the accuracy message says. */
typedef struct {
  char tier[MDN_TIER_NAME_MAX];
  double expected, measured, high;
} AccuracyReport;

/* Streaming thread, after `state` ran `tier` over n_frames: TRUE (with
 * *report filled) when the tier has measured more than ACCURACY_MARGIN_DB
 * under its expected-snr for ACCURACY_SECONDS, for the first time since it
 * last held within that margin for as long. */
static gboolean
watch_accuracy(PresetState *state, int tier, size_t n_frames, AccuracyReport *report)
{
  TierWatch *w;
  double measured, high, expected;

  if (state->net || tier < 0 || tier >= state->n_tiers)
    return FALSE;
  w = &state->watch[tier];
  if (tier != state->watched) {
    /* Another tier ran meanwhile: count afresh. */
    w->under = w->within = 0;
    state->watched = tier;
  }
  measured = mdn_stream_audit_snr(state->stream, tier);
  /* Under the claim beyond the audit's sampling noise: a few audited frames
   * a second move the estimate by several dB on speech. */
  high = mdn_stream_audit_snr_high(state->stream, tier);
  expected = state->tiers[tier].snr_db;
  if (isnan(measured)) {
    /* Audit off, or not enough audio since it started or the stream reset. */
    w->under = w->within = 0;
    return FALSE;
  }
  if (high < expected - ACCURACY_MARGIN_DB) {
    w->within = 0;
    w->under += (gint64)n_frames;
    if (w->flagged || w->under < (gint64)state->rate * ACCURACY_SECONDS)
      return FALSE;
    w->flagged = TRUE;
    g_strlcpy(report->tier, state->tiers[tier].name, sizeof report->tier);
    report->expected = expected;
    report->measured = measured;
    report->high = high;
    return TRUE;
  }
  w->under = 0;
  w->within += (gint64)n_frames;
  if (w->flagged && w->within >= (gint64)state->rate * ACCURACY_SECONDS)
    w->flagged = FALSE;
  return FALSE;
}

/* Posts the accuracy message and a warning in the debug log: allocates, but
 * once per fall under the claim. */
static void
post_accuracy(GstMaddnessFilter *self, const AccuracyReport *report)
{
  GST_WARNING_OBJECT(self,
                     "tier %s measures %.1f dB (at most %.1f dB) on this audio, more than %.0f dB "
                     "under its expected-snr of %.1f dB (measured when the preset was fitted)",
                     report->tier, report->measured, report->high, ACCURACY_MARGIN_DB,
                     report->expected);
  gst_element_post_message(
      GST_ELEMENT(self),
      gst_message_new_element(GST_OBJECT(self),
                              gst_structure_new("maddness-accuracy", "tier", G_TYPE_STRING,
                                                report->tier, "expected-snr", G_TYPE_DOUBLE,
                                                report->expected, "measured-snr", G_TYPE_DOUBLE,
                                                report->measured, "measured-snr-high",
                                                G_TYPE_DOUBLE, report->high, NULL)));
}

/* Streaming thread: the switch to the incoming state, with no allocation. */
static void
promote_incoming(GstMaddnessFilter *self)
{
  PresetState *old = self->active;

  self->incoming->nonfinite_warned = old->nonfinite_warned;
  self->active = self->incoming;
  self->incoming = NULL;
  /* Publish before retiring: the getter must never see a freed descriptor. */
  publish_tier(self, self->active,
               state_tier(self->active, g_atomic_int_get(&self->quality),
                          atomic_float_get(&self->min_snr_bits)));
  retire(self, old);
}

static void
reset_history(GstMaddnessFilter *self)
{
  state_reset(self->active);
  self->active->nonfinite_warned = FALSE;
  if (self->incoming) {
    /* Both now start from silence: the new one is ready at once. */
    state_reset(self->incoming);
    promote_incoming(self);
    self->active->nonfinite_warned = FALSE;
  }
}

/* Runs the incoming preset on the same input: while it has seen less than its
 * kernel span (its warm-up) its output is dropped; then `out` crossfades to it. */
static void
run_incoming(GstMaddnessFilter *self, int quality, double min_snr, gboolean audit, const float *in,
             float *out, size_t n_frames)
{
  PresetState *next = self->incoming;
  int tier;
  size_t in_channels = (size_t)self->in_channels, out_channels = (size_t)self->out_channels;
  gint64 fade = MAX(1, next->rate / SWAP_CROSSFADE_PER_SECOND);
  size_t done = 0;

  apply_audit(next, audit);
  tier = choose_tier(self, next, quality, min_snr);
  while (done < n_frames) {
    size_t chunk = MIN(n_frames - done, SWAP_SCRATCH_FRAMES), f, c;

    state_process(next, tier, in + done * in_channels, next->scratch, chunk);
    for (f = 0; f < chunk; f++) {
      gint64 pos = self->incoming_frames + (gint64)f - next->warmup;
      float *o = out + (done + f) * out_channels;
      const float *s = next->scratch + f * out_channels;
      float a;

      if (pos < 0)
        continue;
      a = pos >= fade ? 1.0f : (float)(pos + 1) / (float)(fade + 1);
      for (c = 0; c < out_channels; c++)
        o[c] += a * (s[c] - o[c]);
    }
    self->incoming_frames += (gint64)chunk;
    done += chunk;
  }
  if (self->incoming_frames >= next->warmup + fade)
    promote_incoming(self);
}

static GstFlowReturn
gst_maddness_filter_transform(GstBaseTransform *trans, GstBuffer *inbuf, GstBuffer *outbuf)
{
  GstMaddnessFilter *self = GST_MADDNESS_FILTER(trans);
  PresetState *pending, *state;
  GstMapInfo in_map, out_map;
  size_t n_frames;
  int quality, tier;
  double min_snr;
  guint64 nonfinite;
  gboolean warn_nonfinite, audit, report_accuracy;
  AccuracyReport report;

  /* A preset loaded by the property setter: start warming it up. One already
   * being crossfaded in finishes first (the newest preset waits in `pending`);
   * one still warming up is not audible yet and is simply replaced. */
  pending = NULL;
  if (!self->incoming || self->incoming_frames < self->incoming->warmup)
    pending = g_atomic_pointer_exchange(&self->pending, NULL);
  if (pending) {
    if (!self->active || pending->groups != self->groups
        || (!pending->stream && !pending->net_stream)) {
      /* Cannot happen: set_caps takes pending states first. Keep it safe. */
      retire(self, pending);
    } else {
      retire(self, self->incoming);
      self->incoming = pending;
      self->incoming_frames = 0;
    }
  }
  state = self->active;
  if (G_UNLIKELY(!state || (!state->stream && !state->net_stream))) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No caps negotiated."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  if (g_atomic_int_compare_and_exchange(&self->reset_pending, 1, 0)
      || GST_BUFFER_FLAG_IS_SET(inbuf, GST_BUFFER_FLAG_DISCONT))
    reset_history(self);

  if (!gst_buffer_map(inbuf, &in_map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input buffer."), (NULL));
    return GST_FLOW_ERROR;
  }
  if (!gst_buffer_map(outbuf, &out_map, GST_MAP_WRITE)) {
    gst_buffer_unmap(inbuf, &in_map);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output buffer."), (NULL));
    return GST_FLOW_ERROR;
  }
  n_frames = in_map.size / (sizeof(float) * (size_t)self->in_channels);
  n_frames = MIN(n_frames, out_map.size / (sizeof(float) * (size_t)self->out_channels));

  quality = g_atomic_int_get(&self->quality);
  min_snr = atomic_float_get(&self->min_snr_bits);
  audit = g_atomic_int_get(&self->audit);
  state = self->active;
  apply_audit(state, audit);
  tier = choose_tier(self, state, quality, min_snr);
  state_process(state, tier, (const float *)in_map.data, (float *)out_map.data, n_frames);
  nonfinite = state_nonfinite(state);
  warn_nonfinite = nonfinite > 0 && !state->nonfinite_warned;
  if (warn_nonfinite)
    state->nonfinite_warned = TRUE;
  report_accuracy = n_frames > 0 && watch_accuracy(state, tier, n_frames, &report);
  /* May retire `state` (the flag goes with the swap): not used below. */
  if (self->incoming)
    run_incoming(self, quality, min_snr, audit, (const float *)in_map.data, (float *)out_map.data,
                 n_frames);

  gst_buffer_unmap(outbuf, &out_map);
  gst_buffer_unmap(inbuf, &in_map);

  state = self->active;
  tier = state_tier(state, quality, min_snr);
  publish_tier(self, state, tier);
  atomic_float_set(&self->measured_bits, (float)state_measured_snr(state, tier));
  if (G_UNLIKELY(report_accuracy))
    post_accuracy(self, &report);
  if (G_UNLIKELY(warn_nonfinite)) {
    /* Once per stream or reset: the only allocation on this path. */
    GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                        ("Non-finite input samples (NaN or Inf) were replaced by 0."),
                        ("%" G_GUINT64_FORMAT " non-finite samples so far", nonfinite));
  }
  return GST_FLOW_OK;
}

/* ---- class --------------------------------------------------------------- */

static void
gst_maddness_filter_class_init(GstMaddnessFilterClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_maddness_filter_debug, "maddnessfilter", 0,
                          "maddness conv1d audio filter");

  gobject_class->set_property = gst_maddness_filter_set_property;
  gobject_class->get_property = gst_maddness_filter_get_property;
  gobject_class->finalize = gst_maddness_filter_finalize;

  /**
   * GstMaddnessFilter:preset:
   *
   * The preset to run: a path to a `.mdn` file, or the name of a shipped
   * preset (NAME or NAME.mdn in the directories of MADDNESS_PRESET_PATH, then
   * in the installed presets directory). A name with a '/' is a path only.
   * A preset that cannot be loaded is an error at start. Set while PLAYING,
   * the new preset is loaded on the calling thread and crossfaded in; if it
   * cannot be loaded or does not fit the running caps, a warning is posted,
   * the old preset keeps running and the property keeps its old value.
   *
   * Default: NULL (the element does not start without a preset).
   */
  g_object_class_install_property(
      gobject_class, PROP_PRESET,
      g_param_spec_string("preset", "Preset",
                          "Path to a .mdn preset file, or the name of a shipped preset "
                          "(looked up in MADDNESS_PRESET_PATH, then the installed presets)",
                          NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessFilter:quality:
   *
   * Speed against accuracy. 0 runs the preset's fastest (least accurate)
   * tier, higher values run slower and more accurate tiers, and 10 runs the
   * exact convolution. Only the tiers that pay on this CPU take part: those
   * the engine's time model predicts at least 1.3x faster than exact with
   * the kernels this CPU runs (`maddness-info PRESET` lists each tier's
   * predicted speed-up; mdn_model_paying_tiers()). Those n tiers share 0..9
   * evenly: quality q runs the paying tier min (n - 1, q * n / 10), so more
   * quality never picks a faster tier. A preset without tiers, or none that
   * pays here, runs exact at every quality (the element logs it at INFO
   * level, and maddness-info says so). The #GstMaddnessFilter:tier
   * and #GstMaddnessFilter:expected-snr properties say what runs. Read per
   * buffer; controllable. A change of path crossfades over 10 ms. Ignored
   * while #GstMaddnessFilter:min-snr is above 0 (the element then picks the
   * path from the audited SNRs).
   *
   * Range: 0 - 10. Default: 5.
   */
  g_object_class_install_property(
      gobject_class, PROP_QUALITY,
      g_param_spec_int("quality", "Quality",
                       "Speed against accuracy: 0 runs the preset's fastest tier, higher values "
                       "slower and more accurate tiers, 10 the exact convolution (only tiers "
                       "predicted faster than exact on this CPU take part; without any, every "
                       "quality is exact)",
                       0, MDN_MAX_QUALITY, DEFAULT_QUALITY,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE
                           | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessFilter:expected-snr:
   *
   * The signal-to-noise ratio in dB the tier in use measured on held-out audio
   * when it was fitted, for the variant at the negotiated rate (before caps,
   * the preset's default variant's). When the preset was measured on classes
   * of held-out audio (speech, music, bright/tonal and noise for the shipped
   * presets) it is the worst class's: a conservative claim (`maddness-info`
   * lists each class). Infinity for the exact path; NaN before a preset is
   * loaded (before the PAUSED state).
   *
   * Range: -inf - inf. Default: inf.
   */
  g_object_class_install_property(
      gobject_class, PROP_EXPECTED_SNR,
      g_param_spec_double("expected-snr", "Expected SNR",
                          "SNR in dB of the tier in use, measured when it was fitted "
                          "(infinity for the exact path, NaN before a preset is loaded)",
                          -INFINITY, INFINITY, INFINITY,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMaddnessFilter:tier:
   *
   * The name of the path in use: "exact" for the exact convolution, else the
   * tier's spec name (such as "s4d6e8"). NULL before a preset is loaded.
   *
   * Default: NULL.
   */
  g_object_class_install_property(
      gobject_class, PROP_TIER,
      g_param_spec_string("tier", "Tier",
                          "Name of the path in use: \"exact\", or the tier's spec (e.g. s4d6e8); "
                          "NULL before a preset is loaded",
                          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /* A trained model's (.nam) levels, from its metadata. */
  g_object_class_install_property(
      gobject_class, PROP_LOUDNESS,
      g_param_spec_double("loudness", "Loudness",
                          "A .nam model's loudness metadata (dB of its output for NAM's standard "
                          "input); NaN when the file gives none or for a preset",
                          -INFINITY, INFINITY, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(
      gobject_class, PROP_INPUT_LEVEL,
      g_param_spec_double("input-level", "Input level",
                          "A .nam model's input_level_dbu: the analog level (dBu) its 0 dBFS input "
                          "stands for; NaN when unknown",
                          -INFINITY, INFINITY, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(
      gobject_class, PROP_OUTPUT_LEVEL,
      g_param_spec_double("output-level", "Output level",
                          "A .nam model's output_level_dbu: the analog level (dBu) of its 0 dBFS "
                          "output; NaN when unknown",
                          -INFINITY, INFINITY, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMaddnessFilter:measured-snr:
   *
   * The signal-to-noise ratio in dB the path in use reaches on the audio
   * flowing now, measured by the live audit (#GstMaddnessFilter:audit)
   * against the exact convolution: each tier's error energy is smoothed over
   * about a second of audio (longer when the exact path is so cheap that the
   * audit's 5 % budget buys few frames: the estimate always rests on about
   * 32 audited frames). Infinity for the exact path. NaN before the audit has
   * seen enough audio (half its smoothing time: 0.5 s, up to a few seconds
   * for cheap 1->1 kernels) after the stream starts, a flush, a DISCONT
   * buffer or a caps change; NaN with the audit off; NaN before a preset is
   * loaded and for a trained model (.nam: nothing to audit). Updated per
   * buffer.
   *
   * Range: -inf - inf. Read before any measurement: NaN (the parameter's
   * nominal default is inf, as NaN cannot be one).
   */
  g_object_class_install_property(
      gobject_class, PROP_MEASURED_SNR,
      g_param_spec_double("measured-snr", "Measured SNR",
                          "SNR in dB of the path in use on the audio flowing, from the live audit "
                          "(infinity for the exact path; NaN with the audit off or before it has "
                          "seen enough audio)",
                          -INFINITY, INFINITY, INFINITY,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMaddnessFilter:audit:
   *
   * The live accuracy audit. While any path runs, the engine also computes,
   * for a sparse sample of frames (one in N, N chosen so that the audit costs
   * about 5 % of the exact path's work), the exact output and every tier's
   * output, and keeps each tier's smoothed SNR on the audio flowing. It feeds
   * #GstMaddnessFilter:measured-snr, #GstMaddnessFilter:min-snr and the
   * `maddness-accuracy` message. The audit allocates nothing while running
   * and does not change the output. Off, it costs nothing (no audited
   * frames); measured-snr is then NaN and min-snr goes by the fitted claims.
   * Read per buffer: it can be switched while playing (on again, it starts
   * measuring afresh).
   *
   * Default: true.
   */
  g_object_class_install_property(
      gobject_class, PROP_AUDIT,
      g_param_spec_boolean("audit", "Audit",
                           "Measure every tier's SNR on the audio flowing, on a sparse sample "
                           "of frames costing about 5 % of the exact path (measured-snr, "
                           "min-snr, the maddness-accuracy message)",
                           DEFAULT_AUDIT,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessFilter:min-snr:
   *
   * The automatic quality mode: above 0, the element picks the path itself,
   * the fastest tier whose audited SNR on the audio flowing holds at least
   * min-snr dB ("as cheap as possible, never worse than 30 dB"), and reports
   * it through #GstMaddnessFilter:tier. #GstMaddnessFilter:quality is then
   * ignored; it rules again when min-snr goes back to 0.
   *
   * Switching has hysteresis: when the running tier's measured SNR falls
   * under min-snr the element moves at once to the fastest slower tier that
   * holds it (or the exact path); it moves to a faster tier only once that
   * tier's measured SNR has held min-snr + 1 dB for a second. Each switch
   * crossfades over 10 ms, like a quality change. Until the audit has
   * measured (the first half second or more of audio, after a flush, a
   * DISCONT buffer or a caps change), and with #GstMaddnessFilter:audit off,
   * the element takes the fastest tier whose expected-snr (the SNR measured
   * when the preset was fitted) is at least min-snr. A min-snr above every
   * tier runs the exact path. A trained model (.nam) has no tiers to audit:
   * quality picks its submodel whatever min-snr says. Read per buffer; controllable. Kept as a
   * float (shared with the streaming thread without a lock): reads back rounded to about 1e-6 dB.
   *
   * Range: 0 - 200. Default: 0 (off: quality picks the path).
   */
  g_object_class_install_property(
      gobject_class, PROP_MIN_SNR,
      g_param_spec_double("min-snr", "Minimum SNR",
                          "Automatic quality: above 0, run the fastest tier whose SNR measured on "
                          "the audio flowing holds at least this many dB, among the tiers "
                          "predicted faster than exact on this CPU (quality is then ignored); "
                          "0 = off",
                          0, MAX_MIN_SNR, DEFAULT_MIN_SNR,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE
                              | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "MADDNESS conv1d audio filter", "Filter/Effect/Audio",
      "Zero-latency causal 1-D convolution (FIR filter, impulse response, conv layer) from a "
      "maddness preset, exact or through faster MADDNESS lookup-table tiers picked by quality",
      GST_MADDNESS_AUTHOR);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_maddness_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_maddness_filter_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_maddness_filter_transform_caps);
  trans_class->get_unit_size = GST_DEBUG_FUNCPTR(gst_maddness_filter_get_unit_size);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_maddness_filter_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_maddness_filter_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_maddness_filter_query);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(gst_maddness_filter_before_transform);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_maddness_filter_transform);
}

static void
gst_maddness_filter_init(GstMaddnessFilter *self)
{
  g_mutex_init(&self->config_lock);
  self->quality = DEFAULT_QUALITY;
  self->audit = DEFAULT_AUDIT;
  atomic_float_set(&self->min_snr_bits, (float)DEFAULT_MIN_SNR);
  atomic_float_set(&self->measured_bits, NAN);
  self->loudness = self->input_level = self->output_level = NAN;
  /* Never in place: the input and output channel counts may differ. */
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), FALSE);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), FALSE);
}

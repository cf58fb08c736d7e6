/* maddness.h: streaming conv1d with an exact path and MADDNESS tiers.
 *
 * The public API of libmaddness. No GStreamer here; GLib is used for
 * GError (every fallible call reports why) and for preset files (GVariant).
 *
 * The operation (causal, stride 1):
 *   y[t][o] = bias[o] + sum_{i < cin, k < taps} w[o][i][k] * x[t - k*dilation][i]
 *
 * Frames are interleaved floats: in[t*cin + i], out[t*cout + o].
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MADDNESS_H
#define MADDNESS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

/* The library exports only what is marked so; everything else is internal
 * (built with hidden visibility). */
#if defined(__GNUC__) || defined(__clang__)
#define MDN_API __attribute__((visibility("default")))
#else
#define MDN_API
#endif

#define MDN_ERROR (mdn_error_quark())
MDN_API GQuark mdn_error_quark(void);

typedef enum {
  MDN_ERROR_INVALID_ARGUMENT, /* a shape or value out of range */
  MDN_ERROR_CORRUPT,          /* a file that is not what it claims to be */
  MDN_ERROR_VERSION,          /* a preset written by an unknown format version */
  MDN_ERROR_IO,               /* the file system said no */
  MDN_ERROR_CANCELLED,        /* a fit was cancelled */
  MDN_ERROR_TOO_LITTLE_AUDIO, /* not enough audio to fit a tier */
} MdnErrorCode;

/* Limits that keep hostile inputs from asking for unbounded memory. */
#define MDN_MAX_CHANNELS 256
#define MDN_MAX_TAPS (1 << 20)
#define MDN_MAX_DILATION 4096
#define MDN_MAX_WEIGHTS (1 << 26) /* cin*cout*taps */
/* Frames a kernel covers, (taps-1)*dilation + 1: a dilated kernel reaches no
 * further back than the longest dense one (21.8 s at 48 kHz, 5.46 s at
 * 192 kHz), whatever its taps and dilation within the limits above. */
#define MDN_MAX_SPAN MDN_MAX_TAPS
/* A kernel's sample rate in Hz: above 0, at most this. */
#define MDN_MAX_RATE 1e7
/* The history memory one stream may allocate (mdn_stream_new): as much as the
 * largest kernel's weights, 256 MiB. See docs/preset-format.md, "Limits". */
#define MDN_MAX_STREAM_HISTORY_BYTES ((guint64)MDN_MAX_WEIGHTS * sizeof(float))

/* ---- kernel --------------------------------------------------------- */

typedef struct {
  int cin;        /* input channels, 1..MDN_MAX_CHANNELS */
  int cout;       /* output channels, 1..MDN_MAX_CHANNELS */
  int taps;       /* K, 1..MDN_MAX_TAPS */
  int dilation;   /* 1..MDN_MAX_DILATION, (taps-1)*dilation+1 <= MDN_MAX_SPAN */
  double rate;    /* sample rate in Hz, (0, MDN_MAX_RATE] */
  float *weights; /* [cout][cin][taps] */
  float *bias;    /* [cout] */
} MdnKernel;

/* A zeroed kernel of that shape, or NULL with error for a bad shape. */
MDN_API MdnKernel *mdn_kernel_new(int cin, int cout, int taps, int dilation, double rate,
                                  GError **error);
MDN_API MdnKernel *mdn_kernel_copy(const MdnKernel *kernel);
MDN_API void mdn_kernel_free(MdnKernel *kernel);
/* Checks shape limits and that every weight and bias is finite. */
MDN_API gboolean mdn_kernel_validate(const MdnKernel *kernel, GError **error);
static inline float
mdn_kernel_weight(const MdnKernel *k, int o, int i, int tap)
{
  return k->weights[((size_t)o * k->cin + i) * k->taps + tap];
}

/* The kernel a kernel argument names, as maddness-fit --kernel and
 * maddnesstrainer's `kernel` take it (kernel-source.c): a .mdn preset (its
 * kernel), a WAV impulse response or a taps file, or a preset's name
 * (mdn_preset_find). A preset is told by its magic or a .mdn suffix, a WAV
 * file by a RIFF, RIFX or RF64 header or a .wav suffix; anything else is read
 * as a taps file. Only regular files are read (mdn_file_open_regular), and
 * errors name the file once ("FILE: reason", "FILE:LINE: reason").
 * WAV impulse response: a mono file gives 1->1, N channels give 1->N;
 * its rate is the kernel's rate.
 * Taps file: first line "cin cout taps [dilation]", then cout*cin lines in
 * output-major order (o = 0: i = 0..cin-1, then o = 1 ...), taps separated by
 * white space; '#' starts a comment. An optional line "bias b0 b1 ..." after
 * the taps sets the bias. It carries no rate: it gets `taps_rate` (checked
 * whatever the kind). A preset with rate variants gives its variant at
 * `taps_rate` if it has one, else its default variant
 * (mdn_preset_default_variant). *has_rate (may be NULL) says whether the
 * kernel's rate came from the file. */
MDN_API MdnKernel *mdn_kernel_load(const char *source, double taps_rate, gboolean *has_rate,
                                   GError **error);
/* The kernel at another sample rate (both whole numbers of Hz), its impulse
 * responses resampled with libsoxr (very high quality, linear phase,
 * band-limited to the lower Nyquist frequency) and scaled by old_rate /
 * new_rate so that the frequency response keeps its gain. Taps become
 * ceil(taps * new_rate / old_rate); the result is causal and adds no delay.
 * A band-limited resampler rings a little before each feature of a
 * response: a response that starts at its first samples would lose that
 * ringing and its frequency response with it, so a kernel that puts more
 * than -60 dB of its resampled energy before its first sample is refused
 * (a measured room response starts with silence, the sound's travel time).
 * A dilated kernel is refused too. Meant for impulse responses at fit time;
 * a filter you can design is better designed at each rate. */
MDN_API MdnKernel *mdn_kernel_resample(const MdnKernel *kernel, double new_rate, GError **error);
/* Writes the taps-file body (one line per (o, i) pair, no header line). */
MDN_API gboolean mdn_kernel_write_taps_body(const MdnKernel *kernel, FILE *out, GError **error);

/* ---- tiers ----------------------------------------------------------- */

#define MDN_TIER_EXACT (-1) /* the tier index of the exact path */
#define MDN_TIER_NAME_MAX 32

/* What a tier is made of. Spec syntax: "s<taps per codebook>d<tree depth>"
 * then optional "e<exact taps>", "q<table bits 5..8|16>" and "h" (hyperplane
 * encoders), e.g. "s4d6e8", "s8d4e2q6", "s8d4e2q6h". */
typedef struct {
  int taps_per_codebook; /* s: 1, 2, 4, 8 */
  int depth;             /* tree depth 1..8: 2^depth buckets (16 at 4, 64 at 6) */
  int exact_taps;        /* input dims (channel, tap) computed exactly */
  int table_bits;        /* 5..8 (one byte per entry) or 16 */
  /* h: 1 when each tree level compares a learned projection of the window
   * (a hyperplane: s multiply-adds per level and input sample, shared by
   * every codebook and output) instead of one of its samples; 0 (the
   * default) for the paper's axis-aligned splits. */
  int hyperplanes;
} MdnTierSpec;

/* Parses "s4d6e8q8h"; defaults: e0, q8, no h. */
MDN_API gboolean mdn_tier_spec_parse(const char *text, MdnTierSpec *spec, GError **error);
/* Writes the canonical name ("s4d6e8"; q only when not 8, h for hyperplanes). */
MDN_API void mdn_tier_spec_name(const MdnTierSpec *spec, char name[MDN_TIER_NAME_MAX]);
/* Parses a comma-separated ladder "s8d4,s4d6e8". Returns the count, or -1. */
MDN_API int mdn_tier_ladder_parse(const char *text, MdnTierSpec **specs, GError **error);
/* The engine's default ladder, fastest first. */
MDN_API const char *mdn_default_ladder(void);

/* What a fitted tier reports. */
typedef struct {
  char name[MDN_TIER_NAME_MAX];
  MdnTierSpec spec;
  int buckets;   /* 1 << depth */
  int codebooks; /* approximated codebooks read per output frame and output */
  double snr_db; /* the claim: measured on held-out audio; the worst class when the
                  * model has classes (mdn_model_n_classes) */
  double cost;   /* operations per frame: lookups + exact multiply-adds + encode steps */
  size_t table_bytes;
  int norm_block; /* frames of a row-normalisation block (64 for tiers of
                   * preset format versions 1 and 2) */
} MdnTierInfo;

/* ---- model ------------------------------------------------------------ */

typedef struct _MdnTier MdnTier; /* opaque: encoders and tables */
typedef struct _MdnModel MdnModel;

typedef struct {
  double seconds; /* seconds of audio the tiers were fitted on (0 for none) */
  char date[32];  /* ISO 8601, UTC, of the fit */
  guint64 seed;
} MdnProvenance;

/* A model holding a copy of the kernel and no tiers. */
MDN_API MdnModel *mdn_model_new(const MdnKernel *kernel, GError **error);
MDN_API void mdn_model_free(MdnModel *model);
MDN_API const MdnKernel *mdn_model_kernel(const MdnModel *model);
MDN_API int mdn_model_n_tiers(const MdnModel *model);
/* Tier `index` (0 = fastest), or NULL when out of range. */
MDN_API const MdnTier *mdn_model_tier(const MdnModel *model, int index);
MDN_API void mdn_model_tier_info(const MdnModel *model, int index, MdnTierInfo *info);
MDN_API const MdnProvenance *mdn_model_provenance(const MdnModel *model);
/* The cost per frame of the exact path (multiply-adds, FFT work counted). */
MDN_API double mdn_model_exact_cost(const MdnModel *model);
/* The tier's predicted speed-up over the exact path with this process's
 * kernels (those mdn_isa() names): a time model of each kind of operation
 * a tier does, weighed by the measured cost of the kernel doing it, against
 * the exact path's (engine/runtime/tier-cost.c). > 1: predicted faster. 1
 * for an index out of range. */
MDN_API double mdn_model_tier_speedup(const MdnModel *model, int tier);
/* The least predicted speed-up a tier needs for quality to select it (the
 * model's error on the benchmark's tiers stays within this margin). */
#define MDN_TIER_MIN_SPEEDUP 1.3
/* The tiers quality may select with this process's kernels: those whose
 * mdn_model_tier_speedup() is at least MDN_TIER_MIN_SPEEDUP and that no
 * other tier dominates (claiming at least its SNR, predicted at least as
 * fast), in ladder order, into tiers[] (room for mdn_model_n_tiers()).
 * Returns their number: 0 means that no tier pays here and every quality
 * runs exact. Call it when a stream is made, not per buffer. */
MDN_API int mdn_model_paying_tiers(const MdnModel *model, int *tiers);
/* Quality 0..MDN_MAX_QUALITY over the n_tiers paying tiers[]: MDN_TIER_EXACT
 * at MDN_MAX_QUALITY or when n_tiers is 0; else tiers[min (n - 1,
 * q * n / 10)], so more quality never picks a faster tier. */
#define MDN_MAX_QUALITY 10
MDN_API int mdn_quality_tier(int quality, const int *tiers, int n_tiers);
/* Takes ownership of tier; appends at the end of the ladder. In a model
 * with classes, a tier without class SNRs gets its claim for each. */
MDN_API void mdn_model_add_tier(MdnModel *model, MdnTier *tier);

/* Held-out classes: a model's tiers may carry one SNR per class of held-out
 * audio they were measured on (speech, music, ...; mdn_fit with
 * options->heldout). A tier's claim (MdnTierInfo.snr_db) is then the worst
 * of them. A model without classes (0) has the one SNR of each tier. */
#define MDN_MAX_CLASSES 16
#define MDN_CLASS_NAME_MAX 32
MDN_API int mdn_model_n_classes(const MdnModel *model);
/* Class `index` (0..n_classes-1): its name, and the SNR tier `tier` measured on it. */
MDN_API const char *mdn_model_class_name(const MdnModel *model, int index);
MDN_API double mdn_model_tier_class_snr(const MdnModel *model, int tier, int index);
/* Sets the classes of a model: names[n_classes] (1..31 bytes of [a-z0-9_-],
 * distinct) and snr[tier * n_classes + class] for each of its tiers (not NaN).
 * Each tier's claim becomes its worst class. n_classes = 0 clears them
 * (claims stay). */
MDN_API gboolean mdn_model_set_classes(MdnModel *model, int n_classes, const char *const *names,
                                       const double *snr, GError **error);

/* Preset files (.mdn, see docs/preset-format.md). A file holds one model per
 * sample rate (its rate variants, MdnPreset below). mdn_model_load() and
 * mdn_model_load_from_data() give the file's default variant: the one at
 * 48 kHz, else the highest rate. mdn_model_save() and
 * mdn_model_serialize() write a preset of that one model. */
MDN_API MdnModel *mdn_model_load(const char *path, GError **error);
MDN_API MdnModel *mdn_model_load_from_data(const void *data, size_t size, GError **error);
MDN_API gboolean mdn_model_save(const MdnModel *model, const char *path, GError **error);
/* Serialised bytes (g_bytes_unref when done). */
MDN_API GBytes *mdn_model_serialize(const MdnModel *model, GError **error);
#define MDN_PRESET_MAX_BYTES ((size_t)512 << 20)

/* ---- presets with rate variants (preset.c) ------------------------------------ */

/* A filter designed in hertz exists at every rate: a preset holds one model
 * (kernel and tiers) per sample rate, its variants, 1..MDN_MAX_VARIANTS of
 * them, at distinct rates (integer Hz), every one with the same input and
 * output channel counts. Variants are kept by rate, lowest first. */
typedef struct _MdnPreset MdnPreset;
#define MDN_MAX_VARIANTS 16

/* An empty preset (no variant: it cannot be saved until it has one). */
MDN_API MdnPreset *mdn_preset_new(void);
MDN_API void mdn_preset_free(MdnPreset *preset);
MDN_API int mdn_preset_n_variants(const MdnPreset *preset);
/* Variant `index` (0 = lowest rate), or NULL when out of range. */
MDN_API const MdnModel *mdn_preset_variant(const MdnPreset *preset, int index);
/* The variant at `rate` Hz (within 0.5 Hz), or NULL. */
MDN_API const MdnModel *mdn_preset_variant_at_rate(const MdnPreset *preset, double rate);
/* The default variant (48 kHz, else the highest rate), NULL when empty. */
MDN_API const MdnModel *mdn_preset_default_variant(const MdnPreset *preset);
/* Takes `model` as the variant at its kernel's rate, replacing one at the
 * same rate. FALSE (model freed) when the rate is not a whole number of Hz,
 * its channels differ from the other variants', or the preset is full. */
MDN_API gboolean mdn_preset_add_variant(MdnPreset *preset, MdnModel *model, GError **error);
/* The variants' rates in Hz, lowest first, as a string such as
 * "44100, 48000 and 96000 Hz" (g_free it). */
MDN_API char *mdn_preset_describe_rates(const MdnPreset *preset);
MDN_API MdnPreset *mdn_preset_load(const char *path, GError **error);
MDN_API MdnPreset *mdn_preset_load_from_data(const void *data, size_t size, GError **error);
MDN_API GBytes *mdn_preset_serialize(const MdnPreset *preset, GError **error);
MDN_API gboolean mdn_preset_save(const MdnPreset *preset, const char *path, GError **error);

/* Opens `path` for reading, a regular file only: a FIFO would block the
 * reader and a device (/dev/zero) never end. Returns a file descriptor
 * (close() it), or -1 with an MDN_ERROR_IO error "PATH: reason". Every
 * loader of the engine opens its files through this. */
MDN_API int mdn_file_open_regular(const char *path, GError **error);

/* ---- stream ------------------------------------------------------------ */

typedef struct _MdnStream MdnStream;

/* A stream over `groups` independent copies of the model's channels:
 * input frames have groups*cin channels, output frames groups*cout, and
 * group g reads input channels g*cin.. and writes output channels g*cout..
 * (a 1->1 model on stereo: groups = 2). All memory is allocated here.
 * NULL with an error when the stream's history (groups * cin input channels
 * times the frames the kernel and tiers read back, plus the paths' state
 * for them) would take more than MDN_MAX_STREAM_HISTORY_BYTES.
 * The model must outlive the stream and not gain tiers meanwhile. */
MDN_API MdnStream *mdn_stream_new(const MdnModel *model, int groups, GError **error);
MDN_API void mdn_stream_free(MdnStream *stream);
/* Filters n_frames (any count, 0 included). tier: MDN_TIER_EXACT or
 * 0..n_tiers-1. Zero latency, causal, no allocation; `in` and `out` must not
 * overlap. Changing tier between calls keeps the output continuous.
 * Returns FALSE only for a tier index out of range. */
MDN_API gboolean mdn_stream_process(MdnStream *stream, int tier, const float *in, float *out,
                                    size_t n_frames);
/* Forgets the history: as if the stream had seen only zeros. */
MDN_API void mdn_stream_reset(MdnStream *stream);
MDN_API int mdn_stream_groups(const MdnStream *stream);
/* Non-finite input samples (NaN, Inf) are replaced by 0 before they enter
 * the history, so one bad sample cannot poison the stream. This counts them
 * since the stream was made or reset. */
MDN_API guint64 mdn_stream_nonfinite_count(const MdnStream *stream);
/* When the tier changes between calls, fade linearly from the old path's
 * output to the new one's over `frames` frames (both run meanwhile), so a
 * quality change does not click. 0 (the default) switches at once. */
MDN_API void mdn_stream_set_crossfade(MdnStream *stream, size_t frames);

/* ---- accuracy audit and quality governor (audit.c) --------------------------- */

/* The live audit: while any path runs, the stream also computes, for a sparse
 * sample of frames, the exact output (a direct dot product over its input
 * history) and every tier's output, and smooths the energies of the exact
 * output and of each tier's error exponentially. So each tier's SNR is known
 * on the audio that actually flows, not only on the audio the preset was
 * fitted on. The smoothing's time constant is MDN_AUDIT_SECONDS of audio, or
 * the time of MDN_AUDIT_TAU_FRAMES audited frames when the audit is sparser
 * (a cheap exact path buys few audited frames: the estimate then rests on
 * as many frames, and follows the audio more slowly). An SNR is reported
 * once the audit has seen half a time constant of audio and
 * MDN_AUDIT_MIN_FRAMES audited frames. */
#define MDN_AUDIT_SECONDS 1.0
#define MDN_AUDIT_TAU_FRAMES 32
#define MDN_AUDIT_MIN_FRAMES 16
/* The cost fraction maddnessfilter asks for (5 % of the exact path). */
#define MDN_AUDIT_DEFAULT_FRACTION 0.05
/* The governor (mdn_stream_pick_tier) moves to a faster tier only when that
 * tier's audited SNR has held min_snr + MDN_GOVERNOR_MARGIN_DB for
 * MDN_GOVERNOR_HOLD_SECONDS of audio. */
#define MDN_GOVERNOR_MARGIN_DB 1.0
#define MDN_GOVERNOR_HOLD_SECONDS 1.0
/* Turns the audit on, audited frames spaced so that the audit costs about
 * cost_fraction of the exact path's work (0.05: 5 %), or off (0, negative or
 * NaN; the default). Off, the stream does no audit work. Turning it on
 * starts from no measurement; changing the fraction keeps the sums. A model
 * without tiers has nothing to audit (the audit stays off). Allocates
 * nothing: call between mdn_stream_process() calls, on their thread. */
MDN_API void mdn_stream_set_audit(MdnStream *stream, double cost_fraction);
/* Mean frames between audited frames (one frame in N), 0 when off. */
MDN_API guint64 mdn_stream_audit_period(const MdnStream *stream);
/* The smoothing's time constant in seconds (see above), 0 when off. */
MDN_API double mdn_stream_audit_time_constant(const MdnStream *stream);
/* Frames audited since the stream was made (each covers every group). */
MDN_API guint64 mdn_stream_audit_count(const MdnStream *stream);
/* The smoothed SNR in dB of `tier` against the exact output, over every
 * group and output, on the audio the stream processed: INFINITY for
 * MDN_TIER_EXACT; NaN with the audit off, for a tier out of range, until
 * the audit has seen enough audio since it was turned on or the stream
 * reset (see above), and while the exact output has been digital silence
 * for so long that its smoothed energy underflowed to 0. Updated at the end of each
 * mdn_stream_process() call; may be read from any thread. */
MDN_API double mdn_stream_audit_snr(const MdnStream *stream, int tier);
/* The highest SNR of `tier` the audited frames do not rule out: the upper
 * end of an approximate one-sided interval, MDN_AUDIT_BOUND_Z standard
 * errors of the error-to-signal ratio above the estimate (+inf while they
 * cannot rule out a perfect tier, and before MDN_AUDIT_TAU_FRAMES audited
 * frames). With few audited frames (a cheap exact
 * path buys few) the estimate mdn_stream_audit_snr() moves by several dB on
 * speech while the true SNR holds; a tier whose high bound is under a claim
 * is under it beyond that noise. NaN as mdn_stream_audit_snr(). Any thread. */
#define MDN_AUDIT_BOUND_Z 2.0
MDN_API double mdn_stream_audit_snr_high(const MdnStream *stream, int tier);
/* The quality governor: the path to run next, given the path `current`
 * that ran (MDN_TIER_EXACT or a tier) and a floor min_snr_db. Tiers are
 * tried fastest first, among those that pay with this process's kernels
 * (mdn_model_paying_tiers(); a current tier that does not pay counts as
 * exact).
 *  - Nothing measured yet (audit off, or too little audio): the fastest tier
 *    whose fitted SNR (MdnTierInfo.snr_db) is at least min_snr_db, else exact.
 *  - The current tier's audited SNR under min_snr_db: at once, the fastest
 *    slower tier whose audited SNR holds min_snr_db, else exact.
 *  - Else the fastest tier faster than `current` whose audited SNR has held
 *    min_snr_db + MDN_GOVERNOR_MARGIN_DB for MDN_GOVERNOR_HOLD_SECONDS,
 *    else `current`.
 * Call between mdn_stream_process() calls, on their thread (once per call:
 * it keeps the hold times); allocates nothing. The stream's crossfade
 * (mdn_stream_set_crossfade) smooths the switch. */
MDN_API int mdn_stream_pick_tier(MdnStream *stream, int current, double min_snr_db);

/* ---- shipped presets (preset-path.c) ---------------------------------------- */

/* The file a preset argument names: a path (an argument with a directory
 * part, or naming something that exists) as it is, else NAME or NAME.mdn
 * looked up in the directories of MADDNESS_PRESET_PATH (colon-separated),
 * then in the installed presets directory. NULL with an error: "PATH: No such
 * file or directory" for a missing path, else the places searched. Whether
 * the file can be read is the loader's to say (mdn_file_open_regular).
 * g_free the result. */
MDN_API char *mdn_preset_find(const char *name_or_path, GError **error);
/* The installed presets directory (a build-time constant). */
MDN_API const char *mdn_preset_dir(void);

/* ---- fitting (fit.c) ------------------------------------------------------ */

/* Progress: stage ("trees", "tables", "measure"), fraction 0..1 of the whole fit.
 * Return nothing; cancelling is done through the cancel flag. */
typedef void (*MdnProgressFunc)(const char *stage, double fraction, gpointer user_data);

/* The seed mdn_fit_options_init() sets, so that maddness-fit and
 * maddnesstrainer give the same preset for the same audio. */
#define MDN_DEFAULT_SEED G_GUINT64_CONSTANT(0x6d61646472656e)

/* A class of held-out audio to measure the tiers on (mdn_fit): interleaved,
 * the kernel's cin channels. */
typedef struct {
  const char *name; /* 1..31 bytes of [a-z0-9_-], e.g. "speech" */
  const float *audio;
  size_t n_frames;
} MdnHeldOut;

typedef struct {
  const MdnTierSpec *specs; /* the ladder to fit, fastest first */
  int n_specs;
  guint64 seed;             /* default MDN_DEFAULT_SEED */
  double holdout_fraction;  /* of the audio kept for measuring SNR; default 0.2 */
  size_t max_train_rows;    /* row subsample cap; 0: default */
  MdnProgressFunc progress; /* may be NULL */
  gpointer progress_data;
  const volatile gint *cancel; /* fit stops with MDN_ERROR_CANCELLED when *cancel != 0 */
  gboolean keep_dominated;     /* keep tiers off the SNR/cost Pareto front */
  /* Classes of held-out audio (0..MDN_MAX_CLASSES, distinct names). When
   * given, the tiers are fitted on all of `audio` and measured on each class
   * (the exact path's output as the reference), and a tier's claim is its
   * worst class; holdout_fraction is not used. When not, the last
   * holdout_fraction of `audio` is held out and measured on. */
  const MdnHeldOut *heldout;
  int n_heldout;
} MdnFitOptions;

MDN_API void mdn_fit_options_init(MdnFitOptions *options);

/* Fits the tiers of `options` to `audio` (interleaved, kernel->cin channels,
 * n_frames frames) and returns a model with the kernel and those tiers, each
 * with its SNR measured on the held-out tail of the audio, or on each class
 * of options->heldout (the model's classes). */
MDN_API MdnModel *mdn_fit(const MdnKernel *kernel, const float *audio, size_t n_frames,
                          const MdnFitOptions *options, GError **error);

/* The instruction set the engine's kernels use: "scalar", "avx2", "avx512"
 * or "neon" (the best this CPU has, or what MADDNESS_ISA forces). */
MDN_API const char *mdn_isa(void);

/* SNR in dB of `test` against `reference` (n values): 10 log10(sum r^2 / sum (r-t)^2). */
MDN_API double mdn_snr_db(const double *reference, const float *test, size_t n);

/* ---- trained models (engine/net, engine/nam) -------------------------------- */

/* A trained model run exact: a graph of conv1d layers with activations,
 * gating, residual and skip sums (Neural Amp Modeler WaveNets, read from
 * .nam files). One file may hold several submodels (a slimmable file: the
 * same capture at smaller sizes, for less CPU); `quality` 0..10 picks one,
 * 10 the full model. Models are never approximated with MADDNESS tiers
 * (docs/tiers.md says why). */
typedef struct _MdnNet MdnNet;
typedef struct _MdnNetStream MdnNetStream;

/* What the file says about levels; NAN when absent. */
typedef struct {
  double loudness;         /* dB of the output for NAM's standard input */
  double input_level_dbu;  /* the input level (dBu) that the capture's 0 dBFS means */
  double output_level_dbu; /* the same at the output */
  double gain;             /* NAM's "gain" metadata */
  char name[128];          /* "name" of the capture, "" when absent */
  char modeled_by[128];
  char gear[256]; /* "gear_make gear_model (gear_type)" when present */
} MdnNetMetadata;

/* One submodel, as maddness-info shows it. */
typedef struct {
  const char *summary; /* e.g. "WaveNet: 16ch x10, 8ch x10" */
  int in_channels, out_channels;
  int layers;             /* dilated convs */
  size_t receptive_field; /* frames of input each output depends on */
  size_t weights;         /* weights in the file for it */
  double macs_per_frame;  /* multiply-adds per frame the engine computes */
} MdnNetInfo;

/* Limits on .nam files (hostile input): bytes, JSON nesting, JSON values. */
#define MDN_NAM_MAX_BYTES ((size_t)32 << 20)
#define MDN_NAM_MAX_DEPTH 64
#define MDN_NAM_MAX_VALUES ((size_t)4 << 20)

/* Loads a .nam file (JSON: WaveNet A1/A2, SlimmableContainer of WaveNets,
 * slimmable WaveNets). Errors: MDN_ERROR_CORRUPT (not JSON, bad shapes,
 * wrong weight count, NaN weights), MDN_ERROR_VERSION (a file version this
 * engine does not know), MDN_ERROR_INVALID_ARGUMENT (an architecture or
 * feature it does not run: LSTM, ConvNet, FiLM, condition DSP, over limits),
 * MDN_ERROR_IO. */
MDN_API MdnNet *mdn_net_load(const char *path, GError **error);
MDN_API MdnNet *mdn_net_load_from_data(const void *data, size_t size, GError **error);
MDN_API void mdn_net_free(MdnNet *net);
/* TRUE when the file (by its first bytes) is a JSON model file, not a preset. */
MDN_API gboolean mdn_net_file_is_model(const char *path);
MDN_API const char *mdn_net_architecture(const MdnNet *net);
MDN_API const char *mdn_net_version(const MdnNet *net);
/* The rate the model was trained at, Hz (48000 when the file says none). */
MDN_API double mdn_net_rate(const MdnNet *net);
MDN_API gboolean mdn_net_rate_from_file(const MdnNet *net);
MDN_API const MdnNetMetadata *mdn_net_metadata(const MdnNet *net);
MDN_API int mdn_net_in_channels(const MdnNet *net);
MDN_API int mdn_net_out_channels(const MdnNet *net);
MDN_API int mdn_net_n_submodels(const MdnNet *net);
/* The submodel quality 0..10 runs (10: the full model); NAM's slimmable
 * size quality / 10. */
MDN_API int mdn_net_submodel_for_quality(const MdnNet *net, int quality);
MDN_API void mdn_net_submodel_info(const MdnNet *net, int submodel, MdnNetInfo *info);

/* A stream over `groups` independent copies of the model (stereo: 2), input
 * frames of groups * in_channels floats, output groups * out_channels. All
 * memory is allocated here; the state starts warm (as after a long silence,
 * NAM's prewarm). The net must outlive the stream. */
MDN_API MdnNetStream *mdn_net_stream_new(const MdnNet *net, int groups, GError **error);
MDN_API void mdn_net_stream_free(MdnNetStream *stream);
/* Runs n_frames through submodel `submodel`. Zero latency, no allocation,
 * lock or I/O; output identical for any split of the input into calls.
 * Changing submodel warms the new one (its state as after silence). Non-finite
 * input samples are replaced by 0. FALSE only for a submodel out of range. */
MDN_API gboolean mdn_net_stream_process(MdnNetStream *stream, int submodel, const float *in,
                                        float *out, size_t n_frames);
/* Back to the warm state. No allocation. */
MDN_API void mdn_net_stream_reset(MdnNetStream *stream);
MDN_API guint64 mdn_net_stream_nonfinite_count(const MdnNetStream *stream);

G_END_DECLS

#endif /* MADDNESS_H */

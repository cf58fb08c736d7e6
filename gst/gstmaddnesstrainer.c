/* gstmaddnesstrainer.c: fits a MADDNESS preset to the audio passing through.
 *
 * Copyright (C) 2026 gst-maddness authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-maddnesstrainer
 * @title: maddnesstrainer
 * @see_also: maddnessfilter
 *
 * The companion of maddnessfilter: it lets audio through untouched and fits
 * a MADDNESS preset (the kernel plus a ladder of approximate tiers) to that
 * audio, then writes it to #GstMaddnessTrainer:location.
 *
 * Audio passes in place and bit-exact, and is never delayed: the streaming
 * thread only copies each buffer into a bounded reservoir under a short lock.
 * Like any GstAudioFilter, the element clips buffers to the segment: audio
 * outside it is neither passed on nor recorded.
 * The reservoir keeps the most recent max-seconds of audio: for a live
 * source that is the audio closest to what the preset will be used on, and
 * for a file longer than max-seconds its end. Its memory grows with the
 * audio, a block of about a second (64 KiB to 4 MiB) at a time, allocated by
 * the streaming thread outside the lock, up to max-seconds * rate * channels
 * floats: a long max-seconds costs nothing until the audio is there. If a
 * block cannot be allocated, one error is posted and the element refuses
 * further buffers; nothing is fitted. Fitting runs on a worker thread, on a
 * snapshot of the reservoir (a second copy of the recording).
 *
 * About 20 % of the recording (its tail) is held out of the fit and used only
 * to measure each tier's SNR.
 *
 * The kernel (#GstMaddnessTrainer:kernel) is read when the element goes from
 * READY to PAUSED; the kind of file is decided by its contents: an existing
 * .mdn preset (the kernel of its variant at the stream's rate is fitted
 * again, to this audio), a WAV impulse response (starts with "RIFF") or a
 * taps file (anything else). A taps file carries no rate and takes the
 * stream's. A WAV IR carries a rate, and a preset the rates of its variants:
 * the stream's must be one of them, unless
 * #GstMaddnessTrainer:resample-kernel is set: then the IR (or the preset's
 * default variant's kernel) is resampled to the stream's rate with libsoxr
 * when the caps are set. The stream must have as many channels as the
 * kernel has inputs, or the kernel must have one input: then each channel of
 * the N-channel stream is used as more mono audio, the channels concatenated
 * one after the other. New caps with another rate or channel count start a
 * new recording.
 *
 * The preset written is a variant at the stream's rate. When the kernel is a
 * preset, the file written holds that preset's other rate variants too (the
 * new variant replaces its variant at the stream's rate, if any): with
 * `kernel=my.mdn location=my.mdn` a preset gains the stream's rate.
 *
 * When #GstMaddnessTrainer:fit-on-eos is %TRUE (the default), EOS makes the
 * element fit, write the preset, and only then forward EOS, so that
 * gst-launch-1.0 returns once the preset exists (a fit started by the action
 * signal and still running is let finish first; the EOS fit then uses all
 * that was recorded). The #GstMaddnessTrainer::fit action signal starts a fit
 * while audio keeps flowing; its thread runs at a lower priority (nice +10 on
 * Linux) so that it does not take the CPU from the audio. Going to READY or
 * NULL during a fit cancels it (a flush cancels an EOS fit); no file is
 * written then.
 *
 * The preset is written atomically (temporary file and rename): a failed or
 * cancelled fit never leaves a partial file. That the location's directory
 * accepts new files is checked when going to PAUSED and again before each fit.
 *
 * ## Messages
 *
 * `maddness-progress` (element message), at least every second during a fit:
 * on each change of stage, at most every 200 ms otherwise, and from a timer
 * when the engine has not reported for 500 ms.
 * - `stage` (string): "start" until the engine's first report, then the
 *   engine's stage ("prepare", "trees", "tables", "measure"), "done" at the end.
 * - `percent` (double): 0 to 100, of the whole fit.
 *
 * `maddness-trained` (element message), once the preset is written:
 * - `location` (string): the file written.
 * - `rate` (int): the rate of the variant fitted (the stream's).
 * - `rates` (#GstValueArray of int): the rates of every variant in the file.
 * - `seconds` (double): seconds of audio the fit used (for a mono kernel on an
 *   N-channel stream, N times the recorded duration).
 * - `tiers` (#GstValueArray of #GstStructure named `tier`): one per tier,
 *   fastest first, with `name` (string, e.g. "s4d6e8"), `snr-db` (double,
 *   measured on the held-out audio) and `cost` (double, operations per frame).
 *
 * Errors (#GST_MESSAGE_ERROR): no kernel or location set, an invalid
 * #GstMaddnessTrainer:tiers ladder, an unreadable kernel,
 * a kernel whose rate or channels do not match the stream, a location whose
 * directory does not accept new files, no memory left for the recording, too
 * little audio to fit, a failed fit or write.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=voice.wav ! wavparse ! audioconvert ! \
 *     maddnesstrainer kernel=room-ir.wav location=room.mdn ! fakesink
 * ]| Fits room.mdn to the room impulse response room-ir.wav and the voice in
 * voice.wav; gst-launch-1.0 returns once room.mdn is written.
 * |[
 * gst-launch-1.0 audiotestsrc wave=pink-noise num-buffers=400 ! \
 *     audio/x-raw,rate=48000,channels=1 ! audioconvert ! \
 *     maddnesstrainer kernel=lowpass.taps location=lowpass.mdn tiers=s4d4,s2d6e8 ! fakesink
 * ]| Fits two tiers of the taps-file kernel lowpass.taps (which takes the
 * stream's 48 kHz) to 8.5 s of pink noise.
 */

#include "gstmaddness-common.h"

#include "gstmaddnesstrainer.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#endif

#include <glib/gstdio.h>

#include "gstmaddnessreservoir.h"

GST_DEBUG_CATEGORY_STATIC(gst_maddness_trainer_debug);
#define GST_CAT_DEFAULT gst_maddness_trainer_debug

#define DEFAULT_MAX_SECONDS 60.0
#define MIN_MAX_SECONDS 1.0
#define MAX_MAX_SECONDS 3600.0
#define DEFAULT_FIT_ON_EOS TRUE
/* The recording grows in blocks of about a second of audio, at least
 * BLOCK_MIN_BYTES and at most BLOCK_MAX_BYTES (more when max-seconds would
 * take more than MAX_BLOCKS of those: the block table stays small). */
#define BLOCK_MIN_BYTES ((gsize)64 << 10)
#define BLOCK_MAX_BYTES ((gsize)4 << 20)
#define MAX_BLOCKS 65536
#define HOLDOUT_FRACTION 0.2
/* How much nicer than the streaming thread the fitting thread runs. */
#define FIT_NICE 10
/* Engine callbacks are posted at most this often (stage changes always). */
#define PROGRESS_MIN_INTERVAL (200 * G_TIME_SPAN_MILLISECOND)
/* The ticker wakes this often and posts when nothing was posted for
 * PROGRESS_MAX_SILENCE, so a message comes at least every second. */
#define PROGRESS_TICK (250 * G_TIME_SPAN_MILLISECOND)
#define PROGRESS_MAX_SILENCE (500 * G_TIME_SPAN_MILLISECOND)

enum {
  PROP_0,
  PROP_KERNEL,
  PROP_LOCATION,
  PROP_TIERS,
  PROP_MAX_SECONDS,
  PROP_FIT_ON_EOS,
  PROP_PROGRESS,
  PROP_RESAMPLE_KERNEL,
};

enum { SIGNAL_FIT, N_SIGNALS };

static guint trainer_signals[N_SIGNALS];

struct _GstMaddnessTrainer {
  GstAudioFilter parent;

  /* Properties, under the object lock. */
  gchar *kernel_path;
  gchar *location;
  gchar *tiers;
  gdouble max_seconds;
  gboolean fit_on_eos;
  gboolean resample_kernel;

  /* The kernel as read from the file in start(); freed in stop(). Only the
   * state-change and streaming threads touch it, never at the same time. */
  MdnKernel *file_kernel;
  gboolean file_kernel_has_rate;
  /* When the kernel is a preset: its bytes (every variant), to take the
   * variant at the stream's rate from and to write the others back with. */
  GBytes *file_preset;
  /* The last format refused, so that negotiation retries post one error. */
  gint refused_rate;
  gint refused_channels;

  /* reservoir_lock: the recording and the format it was recorded in. The
   * streaming thread holds it only for a memcpy (or to add a block it has
   * allocated without it). Only the streaming thread (and setup, stop) change
   * the reservoir; fits read it. */
  GMutex reservoir_lock;
  MdnKernel *kernel; /* file_kernel matched to the stream (rate filled in) */
  gint rate;
  gint channels;
  /* A ring of bytes, so that a buffer's memories are copied one by one
   * whatever their sizes; each buffer adds whole frames. Holds max-seconds of
   * whole frames at most, in blocks allocated as the audio comes. */
  GstMaddnessReservoir *reservoir;
  guint reservoir_generation; /* bumped when the reservoir is replaced */
  /* Memory for the recording ran out: the error is posted, buffers are
   * refused and no fit runs until new caps start a new recording. */
  gboolean record_failed;

  /* fit_lock: the worker thread. */
  GMutex fit_lock;
  GCond fit_cond;
  GThread *worker; /* running or finished but not joined yet */
  gboolean worker_done;
  gboolean eos_fit;     /* the worker is fitting for EOS */
  gboolean refuse_fits; /* outside PAUSED/PLAYING, or stopping */
  volatile gint cancel; /* mdn_fit's cancel flag */

  /* progress_lock: the current fit's progress and the ticker. */
  GMutex progress_lock;
  GCond progress_cond;
  gchar stage[16];
  gdouble percent;
  gint64 last_post; /* monotonic time of the last progress message */
  gboolean ticking;
};

#define gst_maddness_trainer_parent_class parent_class
G_DEFINE_TYPE(GstMaddnessTrainer, gst_maddness_trainer, GST_TYPE_AUDIO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(maddnesstrainer, "maddnesstrainer", GST_RANK_NONE,
                            GST_TYPE_MADDNESS_TRAINER);

/* Native-endian float, interleaved, any rate and channels (GstAudioFilter
 * makes both pads from it). */
#define TRAINER_CAPS GST_AUDIO_CAPS_MAKE(GST_AUDIO_NE(F32)) ", layout = (string) interleaved"

/* What one fit works with, taken when it starts. */
typedef struct {
  GstMaddnessTrainer *self; /* not a reference: stop() and finalize join the worker */
  gchar *location;
  MdnTierSpec *specs;
  int n_specs;
  gboolean for_eos;
  GBytes *preset; /* the kernel's preset (its variants are written too), or NULL */
} FitJob;

static void
fit_job_free(FitJob *job)
{
  g_free(job->location);
  g_free(job->specs);
  if (job->preset)
    g_bytes_unref(job->preset);
  g_free(job);
}

/* ---- kernel and location checks ----------------------------------------- */

/* Checks that the preset can be created: the location is not a directory and
 * its directory accepts a new file (the save writes a temporary file there
 * and renames it). */
static gboolean
check_location_writable(const gchar *location, GError **error)
{
  gchar *dir, *probe;
  int fd, saved;

  if (g_file_test(location, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_ISDIR, "%s is a directory", location);
    return FALSE;
  }
  dir = g_path_get_dirname(location);
  probe = g_build_filename(dir, ".maddnesstrainer-probe-XXXXXX", NULL);
  fd = g_mkstemp(probe);
  saved = errno;
  if (fd < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                "cannot create files in %s: %s", dir, g_strerror(saved));
  } else {
    close(fd);
    g_unlink(probe);
  }
  g_free(probe);
  g_free(dir);
  return fd >= 0;
}

/* Parses the tiers property (copied by the caller) into specs; "" is the
 * engine's default ladder. An invalid ladder is an element error naming it
 * and its syntax; returns -1 then. */
static int
parse_tiers(GstMaddnessTrainer *self, const gchar *tiers, MdnTierSpec **specs)
{
  GError *error = NULL;
  int n_specs
      = mdn_tier_ladder_parse(tiers && tiers[0] ? tiers : mdn_default_ladder(), specs, &error);

  if (n_specs < 0) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("Invalid tiers \"%s\": %s. The tiers property takes tier specs separated "
                       "by commas, fastest first, such as s8d4,s4d6e8, or \"\" for the default "
                       "ladder.",
                       tiers, error->message),
                      ("nothing is fitted or written"));
    g_clear_error(&error);
  }
  return n_specs;
}

/* ---- progress ------------------------------------------------------------ */

static void
post_progress(GstMaddnessTrainer *self, const gchar *stage, gdouble percent)
{
  GstStructure *s = gst_structure_new("maddness-progress", "stage", G_TYPE_STRING, stage, "percent",
                                      G_TYPE_DOUBLE, percent, NULL);

  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* Sets the progress and posts it when `force`, when the stage changed, or
 * when the last message is older than PROGRESS_MIN_INTERVAL. */
static void
update_progress(GstMaddnessTrainer *self, const gchar *stage, gdouble percent, gboolean force)
{
  gchar stage_copy[sizeof self->stage];
  gboolean post;
  gint64 now = g_get_monotonic_time();

  g_mutex_lock(&self->progress_lock);
  post = force || strcmp(stage, self->stage) != 0 || now - self->last_post >= PROGRESS_MIN_INTERVAL;
  g_strlcpy(self->stage, stage, sizeof self->stage);
  self->percent = CLAMP(percent, 0.0, 100.0);
  percent = self->percent;
  if (post)
    self->last_post = now;
  g_strlcpy(stage_copy, self->stage, sizeof stage_copy);
  g_mutex_unlock(&self->progress_lock);

  if (post)
    post_progress(self, stage_copy, percent);
}

static void
on_fit_progress(const char *stage, double fraction, gpointer user_data)
{
  update_progress(GST_MADDNESS_TRAINER(user_data), stage, fraction * 100.0, FALSE);
}

/* Posts the progress when the engine has been silent for too long. */
static gpointer
progress_ticker(gpointer user_data)
{
  GstMaddnessTrainer *self = user_data;
  gchar stage[sizeof self->stage];
  gdouble percent;

  g_mutex_lock(&self->progress_lock);
  while (self->ticking) {
    gint64 now = g_get_monotonic_time();

    if (now - self->last_post >= PROGRESS_MAX_SILENCE) {
      self->last_post = now;
      g_strlcpy(stage, self->stage, sizeof stage);
      percent = self->percent;
      g_mutex_unlock(&self->progress_lock);
      post_progress(self, stage, percent);
      g_mutex_lock(&self->progress_lock);
      continue;
    }
    g_cond_wait_until(&self->progress_cond, &self->progress_lock, now + PROGRESS_TICK);
  }
  g_mutex_unlock(&self->progress_lock);
  return NULL;
}

/* ---- recording ------------------------------------------------------------ */

/* Copies the recording, oldest first, into audio for mdn_fit: interleaved
 * with kernel->cin channels, or for a mono kernel on an N-channel stream the
 * N channels one after the other. The large allocation happens outside the
 * lock; the lock is held for the copy only. Returns the frame count (0 when
 * nothing was recorded) and the matched kernel in *kernel. */
static gsize
snapshot_reservoir(GstMaddnessTrainer *self, gfloat **audio, MdnKernel **kernel, gint *rate,
                   GError **error)
{
  gfloat *copy;
  gsize bytes, filled, frames, i, nonfinite = 0;
  guint generation;
  gint channels;

  *audio = NULL;
  *kernel = NULL;
  for (;;) {
    g_mutex_lock(&self->reservoir_lock);
    bytes = self->reservoir ? gst_maddness_reservoir_filled(self->reservoir) : 0;
    generation = self->reservoir_generation;
    g_mutex_unlock(&self->reservoir_lock);
    if (bytes == 0)
      return 0;

    copy = g_try_malloc(bytes);
    if (!copy) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "cannot allocate %" G_GSIZE_FORMAT " bytes for the recording", bytes);
      return 0;
    }
    /* Touch the pages now, not under the lock. */
    memset(copy, 0, bytes);

    g_mutex_lock(&self->reservoir_lock);
    if (self->reservoir_generation != generation || !self->reservoir) {
      /* The caps changed meanwhile: try again with the new recording. */
      g_mutex_unlock(&self->reservoir_lock);
      g_free(copy);
      continue;
    }
    /* The newest `bytes`: the recording only grew since (whole frames). */
    gst_maddness_reservoir_read_latest(self->reservoir, (guint8 *)copy, bytes);
    filled = bytes / sizeof(gfloat);
    channels = self->channels;
    *rate = self->rate;
    *kernel = mdn_kernel_copy(self->kernel);
    g_mutex_unlock(&self->reservoir_lock);
    break;
  }

  /* A NaN or Inf would poison the fit: count them and use silence. */
  for (i = 0; i < filled; i++) {
    if (!isfinite(copy[i])) {
      copy[i] = 0.0f;
      nonfinite++;
    }
  }
  if (nonfinite)
    GST_WARNING_OBJECT(self, "%" G_GSIZE_FORMAT " non-finite samples replaced by 0", nonfinite);

  frames = filled / channels;
  if ((*kernel)->cin == 1 && channels > 1) {
    gfloat *mono = g_try_new(gfloat, frames * channels);
    gsize t;
    gint c;

    if (!mono) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "cannot allocate %" G_GSIZE_FORMAT " floats for the recording",
                  frames * channels);
      g_free(copy);
      mdn_kernel_free(*kernel);
      *kernel = NULL;
      return 0;
    }
    for (c = 0; c < channels; c++)
      for (t = 0; t < frames; t++)
        mono[c * frames + t] = copy[t * channels + c];
    g_free(copy);
    copy = mono;
    frames *= channels;
  }
  *audio = copy;
  return frames;
}

/* ---- kernel presets -------------------------------------------------------- */

/* The bytes of the preset `kernel_path` names, or NULL when it is no preset
 * (a WAV IR; mdn_kernel_load has reported any other problem already). */
static GBytes *
preset_bytes(const gchar *kernel_path)
{
  gchar *path = mdn_preset_find(kernel_path, NULL);
  MdnPreset *preset = path ? mdn_preset_load(path, NULL) : NULL;
  GBytes *bytes = preset ? mdn_preset_serialize(preset, NULL) : NULL;

  mdn_preset_free(preset);
  g_free(path);
  return bytes;
}

static MdnPreset *
preset_of_bytes(GBytes *bytes)
{
  gsize size;
  const void *data = g_bytes_get_data(bytes, &size);

  return mdn_preset_load_from_data(data, size, NULL);
}

/* The kernel to record for at `rate`: a taps file's with the stream's rate,
 * a preset's variant at that rate, or an IR (or the preset's default
 * variant) at its own rate, resampled when resample-kernel allows it. NULL
 * with an element error posted. */
static MdnKernel *
kernel_at_rate(GstMaddnessTrainer *self, gint rate)
{
  MdnKernel *kernel = NULL;
  GError *error = NULL;
  gboolean resample;
  gchar *rates = NULL;

  GST_OBJECT_LOCK(self);
  resample = self->resample_kernel;
  GST_OBJECT_UNLOCK(self);
  if (!self->file_kernel_has_rate) {
    kernel = mdn_kernel_copy(self->file_kernel);
    kernel->rate = rate;
    return kernel;
  }
  if (self->file_preset) {
    MdnPreset *preset = preset_of_bytes(self->file_preset);
    const MdnModel *variant = preset ? mdn_preset_variant_at_rate(preset, rate) : NULL;

    if (variant)
      kernel = mdn_kernel_copy(mdn_model_kernel(variant));
    else if (preset)
      rates = mdn_preset_describe_rates(preset);
    mdn_preset_free(preset);
    if (kernel)
      return kernel;
  } else if (fabs(self->file_kernel->rate - rate) <= 1e-6 * rate) {
    return mdn_kernel_copy(self->file_kernel);
  }
  if (!resample) {
    if (rates)
      GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                        ("The kernel preset has no variant at the stream's rate (%d Hz), only at "
                         "%s",
                         rate, rates),
                        ("resample the stream (audioresample), set resample-kernel=true to "
                         "resample its default variant to %d Hz, or add a variant made for %d Hz",
                         rate, rate));
    else
      GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                        ("The kernel's rate (%g Hz) does not match the stream's (%d Hz)",
                         self->file_kernel->rate, rate),
                        ("resample the stream (audioresample), set resample-kernel=true to "
                         "resample the kernel to %d Hz, or use a kernel made for %d Hz",
                         rate, rate));
  } else if (!(kernel = mdn_kernel_resample(self->file_kernel, rate, &error))) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Cannot resample the kernel to %d Hz: %s", rate, error->message), (NULL));
    g_clear_error(&error);
  } else {
    GST_INFO_OBJECT(self, "kernel resampled from %g to %d Hz (libsoxr): %d taps",
                    self->file_kernel->rate, rate, kernel->taps);
  }
  g_free(rates);
  return kernel;
}

/* ---- fitting ---------------------------------------------------------------- */

static void
post_trained(GstMaddnessTrainer *self, const MdnModel *model, const MdnPreset *preset,
             const gchar *location, gdouble seconds)
{
  GValue tiers = G_VALUE_INIT, rates = G_VALUE_INIT;
  GstStructure *s;
  int t;

  g_value_init(&rates, GST_TYPE_ARRAY);
  for (t = 0; t < mdn_preset_n_variants(preset); t++) {
    GValue rate = G_VALUE_INIT;

    g_value_init(&rate, G_TYPE_INT);
    g_value_set_int(&rate, (int)lround(mdn_model_kernel(mdn_preset_variant(preset, t))->rate));
    gst_value_array_append_and_take_value(&rates, &rate);
  }

  g_value_init(&tiers, GST_TYPE_ARRAY);
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    GValue tier = G_VALUE_INIT;
    MdnTierInfo info;

    mdn_model_tier_info(model, t, &info);
    g_value_init(&tier, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&tier, gst_structure_new("tier", "name", G_TYPE_STRING, info.name, "snr-db",
                                                G_TYPE_DOUBLE, info.snr_db, "cost", G_TYPE_DOUBLE,
                                                info.cost, NULL));
    gst_value_array_append_and_take_value(&tiers, &tier);
  }
  s = gst_structure_new("maddness-trained", "location", G_TYPE_STRING, location, "seconds",
                        G_TYPE_DOUBLE, seconds, "rate", G_TYPE_INT,
                        (int)lround(mdn_model_kernel(model)->rate), NULL);
  gst_structure_take_value(s, "tiers", &tiers);
  gst_structure_take_value(s, "rates", &rates);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* Snapshot, fit, save, tell. Errors go to the bus. */
static void
run_fit(GstMaddnessTrainer *self, FitJob *job)
{
  GError *error = NULL;
  MdnFitOptions options;
  MdnKernel *kernel = NULL;
  MdnModel *model = NULL;
  MdnModel *variant;
  MdnPreset *preset = NULL;
  GThread *ticker;
  gfloat *audio = NULL;
  gsize frames;
  gint rate = 0;

  if (!check_location_writable(job->location, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("Cannot write the preset to \"%s\": %s", job->location, error->message),
                      (NULL));
    goto done;
  }

  frames = snapshot_reservoir(self, &audio, &kernel, &rate, &error);
  if (error) {
    GST_ELEMENT_ERROR(self, CORE, FAILED, ("Cannot copy the recording: %s", error->message),
                      (NULL));
    goto done;
  }
  if (frames == 0) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Too little audio to fit a preset: none recorded"),
                      (NULL));
    goto done;
  }
  GST_INFO_OBJECT(self, "fitting %d tiers to %" G_GSIZE_FORMAT " frames (%.2f s)", job->n_specs,
                  frames, frames / (double)rate);

  mdn_fit_options_init(&options);
  options.specs = job->specs;
  options.n_specs = job->n_specs;
  /* options.seed stays the engine's default (mdn_fit_options_init), the one
   * maddness-fit uses: the same audio gives the same preset either way. */
  options.holdout_fraction = HOLDOUT_FRACTION;
  options.progress = on_fit_progress;
  options.progress_data = self;
  options.cancel = &self->cancel;

  g_mutex_lock(&self->progress_lock);
  self->ticking = TRUE;
  self->last_post = 0; /* the ticker posts "start" at once */
  g_strlcpy(self->stage, "start", sizeof self->stage);
  self->percent = 0.0;
  g_mutex_unlock(&self->progress_lock);
  ticker = g_thread_try_new("maddness-tick", progress_ticker, self, NULL);
  if (!ticker)
    GST_WARNING_OBJECT(self, "no progress timer: progress comes from the engine only");

  model = mdn_fit(kernel, audio, frames, &options, &error);

  g_mutex_lock(&self->progress_lock);
  self->ticking = FALSE;
  g_cond_broadcast(&self->progress_cond);
  g_mutex_unlock(&self->progress_lock);
  if (ticker)
    g_thread_join(ticker);

  if (!model || g_atomic_int_get(&self->cancel)) {
    if (g_atomic_int_get(&self->cancel) || g_error_matches(error, MDN_ERROR, MDN_ERROR_CANCELLED)) {
      GST_INFO_OBJECT(self, "fit cancelled, nothing written");
    } else if (g_error_matches(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO)) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED,
                        ("Too little audio to fit a preset (%.2f s recorded): %s",
                         frames / (double)rate, error->message),
                        (NULL));
    } else {
      GST_ELEMENT_ERROR(self, STREAM, FAILED,
                        ("Fitting the preset failed: %s", error ? error->message : "unknown"),
                        (NULL));
    }
    goto done;
  }

  /* The kernel's preset's other variants, and the new one at the stream's rate. */
  preset = job->preset ? preset_of_bytes(job->preset) : mdn_preset_new();
  if (!preset) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, WRITE,
        ("Cannot write the preset to \"%s\": the kernel's preset does not load", job->location),
        (NULL));
    goto done;
  }
  variant = model;
  model = NULL; /* the preset's from here (freed by it on failure) */
  if (!mdn_preset_add_variant(preset, variant, &error)
      || !mdn_preset_save(preset, job->location, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Cannot write the preset to \"%s\": %s", job->location, error->message),
                      (NULL));
    goto done;
  }
  update_progress(self, "done", 100.0, FALSE);
  GST_INFO_OBJECT(self, "wrote %s with %d tiers at %d Hz (%d rate variants)", job->location,
                  mdn_model_n_tiers(variant), rate, mdn_preset_n_variants(preset));
  post_trained(self, variant, preset, job->location, frames / (double)rate);

done:
  g_clear_error(&error);
  mdn_model_free(model);
  mdn_preset_free(preset);
  mdn_kernel_free(kernel);
  g_free(audio);
}

/* A fit started by the action signal runs while audio flows: it should not
 * take the CPU from the streaming threads, so its worker (and the ticker it
 * starts, which inherits it) runs niced. An EOS fit is what the pipeline
 * waits for: it keeps the normal priority. Linux sets nice per thread. */
static void
lower_thread_priority(GstMaddnessTrainer *self)
{
#ifdef __linux__
  id_t tid = (id_t)syscall(SYS_gettid);
  int nice_now;

  errno = 0;
  nice_now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && setpriority(PRIO_PROCESS, tid, MIN(nice_now + FIT_NICE, 19)) != 0)
    GST_DEBUG_OBJECT(self, "cannot lower the fitting thread's priority: %s", g_strerror(errno));
#else
  (void)self;
#endif
}

static gpointer
fit_worker(gpointer user_data)
{
  FitJob *job = user_data;
  GstMaddnessTrainer *self = job->self;

  if (!job->for_eos)
    lower_thread_priority(self);
  run_fit(self, job);
  fit_job_free(job);

  /* After this the thread touches nothing of self: joining it is quick. */
  g_mutex_lock(&self->fit_lock);
  self->worker_done = TRUE;
  g_cond_broadcast(&self->fit_cond);
  g_mutex_unlock(&self->fit_lock);
  return NULL;
}

/* Waits for the worker, if any, to finish, and joins it. */
static void
join_worker(GstMaddnessTrainer *self)
{
  GThread *worker;

  g_mutex_lock(&self->fit_lock);
  while (self->worker && !self->worker_done)
    g_cond_wait(&self->fit_cond, &self->fit_lock);
  worker = self->worker;
  self->worker = NULL;
  g_mutex_unlock(&self->fit_lock);
  if (worker)
    g_thread_join(worker);
}

typedef enum {
  FIT_STARTED,
  FIT_BUSY,   /* a fit is running */
  FIT_REFUSED /* not in PAUSED/PLAYING, or an error was posted */
} FitStart;

/* Starts a fit on a worker thread. */
static FitStart
start_fit(GstMaddnessTrainer *self, gboolean for_eos)
{
  GError *error = NULL;
  GThread *worker;
  FitJob *job;
  gchar *tiers;

  job = g_new0(FitJob, 1);
  job->self = self;
  job->for_eos = for_eos;
  GST_OBJECT_LOCK(self);
  job->location = g_strdup(self->location);
  tiers = g_strdup(self->tiers);
  GST_OBJECT_UNLOCK(self);
  /* Set in start(), freed in stop() after the worker is joined. */
  job->preset = self->file_preset ? g_bytes_ref(self->file_preset) : NULL;
  /* Checked at start too; this catches a ladder set while running. */
  job->n_specs = parse_tiers(self, tiers, &job->specs);
  g_free(tiers);
  if (job->n_specs < 0) {
    fit_job_free(job);
    return FIT_REFUSED;
  }
  if (!job->location) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No location set for the preset"), (NULL));
    fit_job_free(job);
    return FIT_REFUSED;
  }

  g_mutex_lock(&self->fit_lock);
  for (;;) {
    GThread *finished;

    if (self->refuse_fits) {
      g_mutex_unlock(&self->fit_lock);
      GST_DEBUG_OBJECT(self, "not fitting: not in PAUSED or PLAYING");
      fit_job_free(job);
      return FIT_REFUSED;
    }
    if (!self->worker)
      break;
    if (!self->worker_done) {
      g_mutex_unlock(&self->fit_lock);
      GST_INFO_OBJECT(self, "a fit is already running");
      fit_job_free(job);
      return FIT_BUSY;
    }
    finished = self->worker;
    self->worker = NULL;
    g_mutex_unlock(&self->fit_lock);
    g_thread_join(finished);
    g_mutex_lock(&self->fit_lock);
  }
  g_atomic_int_set(&self->cancel, 0);
  self->worker_done = FALSE;
  self->eos_fit = for_eos;
  worker = g_thread_try_new("maddness-fit", fit_worker, job, &error);
  self->worker = worker;
  g_mutex_unlock(&self->fit_lock);

  if (!worker) {
    GST_ELEMENT_ERROR(self, CORE, FAILED, ("Cannot start the fitting thread: %s", error->message),
                      (NULL));
    g_clear_error(&error);
    fit_job_free(job);
    return FIT_REFUSED;
  }
  return FIT_STARTED;
}

static gboolean
gst_maddness_trainer_fit_action(GstMaddnessTrainer *self)
{
  gboolean recorded;

  g_mutex_lock(&self->reservoir_lock);
  recorded = self->reservoir && gst_maddness_reservoir_filled(self->reservoir) > 0
             && !self->record_failed;
  g_mutex_unlock(&self->reservoir_lock);
  if (!recorded) {
    GST_WARNING_OBJECT(self, "fit requested before any audio was recorded, or after the "
                             "recording failed");
    return FALSE;
  }
  return start_fit(self, FALSE) == FIT_STARTED;
}

/* ---- GstBaseTransform ----------------------------------------------------- */

static gboolean
gst_maddness_trainer_start(GstBaseTransform *trans)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  GError *error = NULL;
  gchar *kernel_path, *location, *tiers;
  MdnTierSpec *specs = NULL;
  gboolean ok = FALSE;

  GST_OBJECT_LOCK(self);
  kernel_path = g_strdup(self->kernel_path);
  location = g_strdup(self->location);
  tiers = g_strdup(self->tiers);
  GST_OBJECT_UNLOCK(self);

  if (parse_tiers(self, tiers, &specs) < 0)
    goto out;

  if (!kernel_path || !kernel_path[0]) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No kernel set"),
                      ("set the kernel property to a preset, a WAV IR or a taps file"));
    goto out;
  }
  if (!location || !location[0]) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No location set for the preset"), (NULL));
    goto out;
  }
  /* A taps file carries no rate: 1 Hz until set_caps() puts the stream's in. */
  self->file_kernel = mdn_kernel_load(kernel_path, 1.0, &self->file_kernel_has_rate, &error);
  if (!self->file_kernel) {
    /* The message names the file. */
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Cannot read the kernel: %s", error->message),
                      (NULL));
    goto out;
  }
  if (!check_location_writable(location, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("Cannot write the preset to \"%s\": %s", location, error->message), (NULL));
    g_clear_pointer(&self->file_kernel, mdn_kernel_free);
    goto out;
  }
  GST_DEBUG_OBJECT(self, "kernel %s: %d->%d, %d taps", kernel_path, self->file_kernel->cin,
                   self->file_kernel->cout, self->file_kernel->taps);
  if (self->file_kernel_has_rate)
    self->file_preset = preset_bytes(kernel_path);

  self->refused_rate = self->refused_channels = 0;
  g_mutex_lock(&self->progress_lock);
  self->percent = 0.0;
  g_mutex_unlock(&self->progress_lock);
  ok = TRUE;

out:
  g_clear_error(&error);
  g_free(specs);
  g_free(tiers);
  g_free(kernel_path);
  g_free(location);
  return ok;
}

static gboolean
gst_maddness_trainer_stop(GstBaseTransform *trans)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  GstMaddnessReservoir *reservoir;
  MdnKernel *kernel;

  /* change_state set the cancel flag before the pads were deactivated. */
  join_worker(self);

  g_mutex_lock(&self->reservoir_lock);
  reservoir = self->reservoir;
  kernel = self->kernel;
  self->reservoir = NULL;
  self->reservoir_generation++;
  self->record_failed = FALSE;
  self->kernel = NULL;
  self->rate = self->channels = 0;
  g_mutex_unlock(&self->reservoir_lock);
  gst_maddness_reservoir_free(reservoir);
  mdn_kernel_free(kernel);
  g_clear_pointer(&self->file_kernel, mdn_kernel_free);
  g_clear_pointer(&self->file_preset, g_bytes_unref);
  return TRUE;
}

/* New caps: matches the kernel to the stream's rate and channels and
 * prepares the recording. GstAudioFilter has parsed the caps into info. */
static gboolean
gst_maddness_trainer_setup(GstAudioFilter *filter, const GstAudioInfo *info)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(filter);
  GstMaddnessReservoir *reservoir = NULL, *old_reservoir;
  MdnKernel *kernel, *old_kernel;
  gdouble max_seconds, frames, bytes_per_second;
  gsize capacity = 0, block_size = 0;
  GError *error = NULL;
  gint rate = GST_AUDIO_INFO_RATE(info), channels = GST_AUDIO_INFO_CHANNELS(info);

  if (!self->file_kernel)
    return FALSE;
  if (rate == self->refused_rate && channels == self->refused_channels)
    return FALSE;

  kernel = kernel_at_rate(self, rate);
  if (!kernel) {
    self->refused_rate = rate;
    self->refused_channels = channels;
    return FALSE;
  }
  if (kernel->cin != channels && kernel->cin != 1) {
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT,
        ("The kernel has %d input channels but the stream has %d", kernel->cin, channels),
        ("the stream must have %d channels (audioconvert)", kernel->cin));
    mdn_kernel_free(kernel);
    self->refused_rate = rate;
    self->refused_channels = channels;
    return FALSE;
  }

  GST_OBJECT_LOCK(self);
  max_seconds = self->max_seconds;
  GST_OBJECT_UNLOCK(self);
  frames = ceil(max_seconds * rate);
  bytes_per_second = (gdouble)rate * channels * sizeof(gfloat);
  if (frames * channels > (gdouble)(G_MAXSIZE / sizeof(gfloat))) {
    g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_NOMEM, "%g s of it would not fit in memory",
                max_seconds);
  } else {
    capacity = (gsize)frames * (gsize)channels * sizeof(gfloat);
    g_mutex_lock(&self->reservoir_lock);
    if (self->reservoir && gst_maddness_reservoir_capacity(self->reservoir) == capacity
        && self->channels == channels) {
      /* Same format: keep what was recorded, update the kernel only. */
      old_kernel = self->kernel;
      self->kernel = kernel;
      self->rate = rate;
      g_mutex_unlock(&self->reservoir_lock);
      mdn_kernel_free(old_kernel);
      return TRUE;
    }
    g_mutex_unlock(&self->reservoir_lock);
    /* Only the block table now; the blocks come with the audio. */
    block_size = (gsize)CLAMP(bytes_per_second, (gdouble)BLOCK_MIN_BYTES, (gdouble)BLOCK_MAX_BYTES);
    block_size = MAX(block_size, capacity / MAX_BLOCKS + 1);
    reservoir = gst_maddness_reservoir_new(capacity, block_size, &error);
  }
  if (!reservoir) {
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT,
                      ("Cannot record %g s of %d-channel audio at %d Hz: %s. Lower max-seconds.",
                       max_seconds, channels, rate, error->message),
                      (NULL));
    g_clear_error(&error);
    mdn_kernel_free(kernel);
    self->refused_rate = rate;
    self->refused_channels = channels;
    return FALSE;
  }

  g_mutex_lock(&self->reservoir_lock);
  old_reservoir = self->reservoir;
  old_kernel = self->kernel;
  self->reservoir = reservoir;
  self->reservoir_generation++;
  self->record_failed = FALSE;
  self->kernel = kernel;
  self->rate = rate;
  self->channels = channels;
  g_mutex_unlock(&self->reservoir_lock);
  gst_maddness_reservoir_free(old_reservoir);
  mdn_kernel_free(old_kernel);

  GST_INFO_OBJECT(self,
                  "recording up to %g s (%" G_GSIZE_FORMAT " bytes) in blocks of %" G_GSIZE_FORMAT
                  " bytes",
                  max_seconds, capacity, block_size);
  return TRUE;
}

/* Streaming thread: allocates the blocks the recording needs for n more
 * bytes, each outside the lock. The trainer is a recorder, not a real-time
 * filter: it allocates as the audio comes, a block (about a second of audio,
 * 64 KiB to 4 MiB) at a time, rather than max-seconds up front. A block that
 * cannot be allocated posts one error; FALSE then. */
static gboolean
grow_reservoir(GstMaddnessTrainer *self, GstMaddnessReservoir *reservoir, gsize n)
{
  for (;;) {
    gsize size, recorded;
    gint channels, rate;
    guint8 *block;

    g_mutex_lock(&self->reservoir_lock);
    size = gst_maddness_reservoir_next_block(reservoir, n);
    recorded = gst_maddness_reservoir_filled(reservoir);
    channels = self->channels;
    rate = self->rate;
    g_mutex_unlock(&self->reservoir_lock);
    if (size == 0)
      return TRUE;

    block = g_try_malloc(size);
    if (!block) {
      gdouble max_seconds;

      GST_OBJECT_LOCK(self);
      max_seconds = self->max_seconds;
      GST_OBJECT_UNLOCK(self);
      g_mutex_lock(&self->reservoir_lock);
      self->record_failed = TRUE;
      g_mutex_unlock(&self->reservoir_lock);
      GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT,
                        ("Out of memory for the recording: cannot allocate %" G_GSIZE_FORMAT
                         " more bytes after %.1f s of %d-channel audio at %d Hz. Lower "
                         "max-seconds (%g s).",
                         size, recorded / ((gdouble)channels * sizeof(gfloat) * rate), channels,
                         rate, max_seconds),
                        ("the recording stops; no preset is fitted"));
      return FALSE;
    }
    /* Fault its pages in here, not in the copy under the lock. */
    memset(block, 0, size);
    g_mutex_lock(&self->reservoir_lock);
    gst_maddness_reservoir_add_block(reservoir, block);
    g_mutex_unlock(&self->reservoir_lock);
  }
}

static GstFlowReturn
gst_maddness_trainer_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  guint i, n_memory = gst_buffer_n_memory(buf);
  GstMaddnessReservoir *reservoir;
  gsize frame_bytes, left;
  gboolean failed;

  /* Only this thread (and setup, on it too) replaces the reservoir. */
  g_mutex_lock(&self->reservoir_lock);
  reservoir = self->reservoir;
  failed = self->record_failed;
  frame_bytes = (gsize)self->channels * sizeof(gfloat);
  g_mutex_unlock(&self->reservoir_lock);
  if (failed)
    return GST_FLOW_ERROR; /* posted once, when it failed */
  if (!reservoir)
    return GST_FLOW_OK;
  left = gst_buffer_get_size(buf) / frame_bytes * frame_bytes;
  if (!grow_reservoir(self, reservoir, left))
    return GST_FLOW_ERROR;

  /* Passthrough: the buffer may be read-only, and is only read. Each memory
   * is mapped on its own (gst_buffer_map would merge them: an allocation). */
  g_mutex_lock(&self->reservoir_lock);
  for (i = 0; i < n_memory && left > 0; i++) {
    GstMemory *memory = gst_buffer_peek_memory(buf, i);
    GstMapInfo map;
    gsize n;

    if (!gst_memory_map(memory, &map, GST_MAP_READ)) {
      g_mutex_unlock(&self->reservoir_lock);
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot map a buffer for reading"), (NULL));
      return GST_FLOW_ERROR;
    }
    n = MIN(map.size, left);
    gst_maddness_reservoir_write(reservoir, map.data, n);
    left -= n;
    gst_memory_unmap(memory, &map);
  }
  g_mutex_unlock(&self->reservoir_lock);
  return GST_FLOW_OK;
}

static gboolean
gst_maddness_trainer_sink_event(GstBaseTransform *trans, GstEvent *event)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  gboolean fit_on_eos;

  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_FLUSH_START:
    /* A seek or a flush: do not keep the streaming thread in an EOS fit. */
    g_mutex_lock(&self->fit_lock);
    if (self->worker && !self->worker_done && self->eos_fit)
      g_atomic_int_set(&self->cancel, 1);
    g_mutex_unlock(&self->fit_lock);
    break;
  case GST_EVENT_EOS:
    GST_OBJECT_LOCK(self);
    fit_on_eos = self->fit_on_eos;
    GST_OBJECT_UNLOCK(self);
    g_mutex_lock(&self->reservoir_lock);
    if (self->record_failed)
      fit_on_eos = FALSE; /* its error is posted: nothing to fit */
    g_mutex_unlock(&self->reservoir_lock);
    if (fit_on_eos) {
      /* Let a fit started by the action signal finish first, then fit on
       * everything recorded; EOS goes on once the preset is written. */
      FitStart started;

      do {
        join_worker(self);
        started = start_fit(self, TRUE);
      } while (started == FIT_BUSY);
      if (started == FIT_STARTED)
        join_worker(self);
    }
    break;
  default:
    break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

/* ---- GstElement ----------------------------------------------------------- */

static GstStateChangeReturn
gst_maddness_trainer_change_state(GstElement *element, GstStateChange transition)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* Before the pads are deactivated: the streaming thread may be waiting
     * in an EOS fit, holding the stream lock the deactivation needs. */
    g_mutex_lock(&self->fit_lock);
    self->refuse_fits = TRUE;
    g_atomic_int_set(&self->cancel, 1);
    g_mutex_unlock(&self->fit_lock);
  }

  ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret != GST_STATE_CHANGE_FAILURE) {
    g_mutex_lock(&self->fit_lock);
    self->refuse_fits = FALSE;
    g_mutex_unlock(&self->fit_lock);
  }
  return ret;
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_maddness_trainer_set_property(GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(object);

  switch (prop_id) {
  case PROP_KERNEL:
    GST_OBJECT_LOCK(self);
    g_free(self->kernel_path);
    self->kernel_path = g_value_dup_string(value);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_LOCATION:
    GST_OBJECT_LOCK(self);
    g_free(self->location);
    self->location = g_value_dup_string(value);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_TIERS: {
    const gchar *tiers = g_value_get_string(value);

    /* Kept as given: it is parsed (and an invalid ladder is an element
     * error) when going to PAUSED and when a fit starts. */
    GST_OBJECT_LOCK(self);
    g_free(self->tiers);
    self->tiers = g_strdup(tiers ? tiers : "");
    GST_OBJECT_UNLOCK(self);
    break;
  }
  case PROP_MAX_SECONDS:
    GST_OBJECT_LOCK(self);
    self->max_seconds = g_value_get_double(value);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_FIT_ON_EOS:
    GST_OBJECT_LOCK(self);
    self->fit_on_eos = g_value_get_boolean(value);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_RESAMPLE_KERNEL:
    GST_OBJECT_LOCK(self);
    self->resample_kernel = g_value_get_boolean(value);
    GST_OBJECT_UNLOCK(self);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
}

static void
gst_maddness_trainer_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(object);

  switch (prop_id) {
  case PROP_KERNEL:
    GST_OBJECT_LOCK(self);
    g_value_set_string(value, self->kernel_path);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_LOCATION:
    GST_OBJECT_LOCK(self);
    g_value_set_string(value, self->location);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_TIERS:
    GST_OBJECT_LOCK(self);
    g_value_set_string(value, self->tiers);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_MAX_SECONDS:
    GST_OBJECT_LOCK(self);
    g_value_set_double(value, self->max_seconds);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_FIT_ON_EOS:
    GST_OBJECT_LOCK(self);
    g_value_set_boolean(value, self->fit_on_eos);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_RESAMPLE_KERNEL:
    GST_OBJECT_LOCK(self);
    g_value_set_boolean(value, self->resample_kernel);
    GST_OBJECT_UNLOCK(self);
    break;
  case PROP_PROGRESS:
    g_mutex_lock(&self->progress_lock);
    g_value_set_double(value, self->percent);
    g_mutex_unlock(&self->progress_lock);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
}

static void
gst_maddness_trainer_finalize(GObject *object)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(object);

  /* stop() has joined the worker already; this is a safety net. */
  g_atomic_int_set(&self->cancel, 1);
  join_worker(self);
  gst_maddness_reservoir_free(self->reservoir);
  mdn_kernel_free(self->kernel);
  mdn_kernel_free(self->file_kernel);
  if (self->file_preset)
    g_bytes_unref(self->file_preset);
  g_free(self->kernel_path);
  g_free(self->location);
  g_free(self->tiers);
  g_mutex_clear(&self->reservoir_lock);
  g_mutex_clear(&self->fit_lock);
  g_cond_clear(&self->fit_cond);
  g_mutex_clear(&self->progress_lock);
  g_cond_clear(&self->progress_cond);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void
gst_maddness_trainer_class_init(GstMaddnessTrainerClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstAudioFilterClass *audio_filter_class = GST_AUDIO_FILTER_CLASS(klass);
  GstCaps *caps;

  GST_DEBUG_CATEGORY_INIT(gst_maddness_trainer_debug, "maddnesstrainer", 0,
                          "MADDNESS preset trainer");

  gobject_class->set_property = gst_maddness_trainer_set_property;
  gobject_class->get_property = gst_maddness_trainer_get_property;
  gobject_class->finalize = gst_maddness_trainer_finalize;

  /**
   * GstMaddnessTrainer:kernel:
   *
   * The kernel to fit: an existing .mdn preset (its kernel is fitted again,
   * to this audio), a WAV impulse response, or a taps file (it takes the
   * stream's rate). Read when going from READY to PAUSED. Default: none
   * (required).
   */
  g_object_class_install_property(
      gobject_class, PROP_KERNEL,
      g_param_spec_string("kernel", "Kernel",
                          "The kernel to fit: a .mdn preset, a WAV impulse response or a "
                          "taps file",
                          NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstMaddnessTrainer:location:
   *
   * The preset file to write, replaced atomically. Its directory must accept
   * new files. Default: none (required).
   */
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location", "The preset (.mdn) file to write", NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessTrainer:tiers:
   *
   * The ladder of tiers to fit, fastest first, in the engine's syntax, e.g.
   * "s8d4,s4d6e8" (docs/tiers.md). An invalid ladder is an element error
   * when going to PAUSED (the state change fails), or, when set while
   * running, when the next fit starts; nothing is written then. Default: ""
   * (the engine's default ladder).
   */
  g_object_class_install_property(
      gobject_class, PROP_TIERS,
      g_param_spec_string(
          "tiers", "Tiers",
          "Tier specs to fit, fastest first, separated by commas, e.g. s8d4,s4d6e8 (\"\": the "
          "engine's default ladder)",
          "", G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessTrainer:max-seconds:
   *
   * How much audio is kept for fitting: the most recent max-seconds. Takes
   * effect when the caps are set. The memory for it is taken as the audio
   * comes, not up front. Range 1 to 3600, default 60.
   */
  g_object_class_install_property(
      gobject_class, PROP_MAX_SECONDS,
      g_param_spec_double("max-seconds", "Maximum seconds",
                          "Seconds of the most recent audio kept for fitting", MIN_MAX_SECONDS,
                          MAX_MAX_SECONDS, DEFAULT_MAX_SECONDS,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstMaddnessTrainer:fit-on-eos:
   *
   * Fit and write the preset on EOS, before forwarding EOS. Default: %TRUE.
   */
  g_object_class_install_property(
      gobject_class, PROP_FIT_ON_EOS,
      g_param_spec_boolean("fit-on-eos", "Fit on EOS",
                           "Fit and write the preset on EOS, then forward EOS", DEFAULT_FIT_ON_EOS,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessTrainer:resample-kernel:
   *
   * A kernel with a rate of its own (a WAV impulse response, a preset
   * without a variant at the stream's rate) at another rate than the
   * stream's is resampled to the stream's rate with libsoxr when the caps
   * are set (mdn_kernel_resample: an IR needs a little leading silence).
   * When %FALSE (the default) such a stream is an error.
   */
  g_object_class_install_property(
      gobject_class, PROP_RESAMPLE_KERNEL,
      g_param_spec_boolean("resample-kernel", "Resample kernel",
                           "Resample a kernel at another rate than the stream's to the stream's "
                           "rate (libsoxr)",
                           FALSE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstMaddnessTrainer:progress:
   *
   * Progress of the current (or last) fit, in percent. Read-only, range 0 to
   * 100, default 0.
   */
  g_object_class_install_property(
      gobject_class, PROP_PROGRESS,
      g_param_spec_double("progress", "Progress", "Progress of the current fit in percent", 0.0,
                          100.0, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMaddnessTrainer::fit:
   * @trainer: the element
   *
   * Starts a fit on what has been recorded so far, on a worker thread, while
   * audio keeps flowing. The result is a `maddness-trained` message (or an
   * error message).
   *
   * Returns: %TRUE if a fit was started; %FALSE when nothing was recorded
   * yet, a fit is already running, or the element is not in PAUSED or
   * PLAYING.
   */
  trainer_signals[SIGNAL_FIT] = g_signal_new_class_handler(
      "fit", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK(gst_maddness_trainer_fit_action), NULL, NULL, NULL, G_TYPE_BOOLEAN, 0);

  caps = gst_caps_from_string(TRAINER_CAPS);
  gst_audio_filter_class_add_pad_templates(audio_filter_class, caps);
  gst_caps_unref(caps);
  gst_element_class_set_static_metadata(
      element_class, "MADDNESS trainer", "Filter/Analyzer/Audio",
      "Passes audio through and fits a MADDNESS preset (conv1d kernel and approximate tiers) "
      "to it",
      GST_MADDNESS_AUTHOR);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_maddness_trainer_change_state);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_maddness_trainer_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_maddness_trainer_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_maddness_trainer_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_maddness_trainer_sink_event);
  audio_filter_class->setup = GST_DEBUG_FUNCPTR(gst_maddness_trainer_setup);
  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
}

static void
gst_maddness_trainer_init(GstMaddnessTrainer *self)
{
  self->max_seconds = DEFAULT_MAX_SECONDS;
  self->fit_on_eos = DEFAULT_FIT_ON_EOS;
  self->tiers = g_strdup("");
  self->refuse_fits = TRUE;
  g_mutex_init(&self->reservoir_lock);
  g_mutex_init(&self->fit_lock);
  g_cond_init(&self->fit_cond);
  g_mutex_init(&self->progress_lock);
  g_cond_init(&self->progress_cond);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}

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
 * The reservoir is allocated when the caps are set (max-seconds * rate *
 * channels floats) and keeps the most recent max-seconds of audio: for a
 * live source that is the audio closest to what the preset will be used on,
 * and for a file longer than max-seconds its end. Fitting runs on a worker
 * thread, on a snapshot of the reservoir.
 *
 * About 20 % of the recording (its tail) is held out of the fit and used only
 * to measure each tier's SNR.
 *
 * The kernel (#GstMaddnessTrainer:kernel) is read when the element goes from
 * READY to PAUSED; the kind of file is decided by its contents: an existing
 * .mdn preset (its kernel is fitted again, to this audio), a WAV impulse
 * response (starts with "RIFF") or a taps file (anything else). A WAV IR or a
 * preset carries a rate, which must equal the stream's; a taps file carries
 * none and takes the stream's. The stream must have as many channels as the
 * kernel has inputs, or the kernel must have one input: then each channel of
 * the N-channel stream is used as more mono audio, the channels concatenated
 * one after the other. New caps with another rate or channel count start a
 * new recording.
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
 * - `seconds` (double): seconds of audio the fit used (for a mono kernel on an
 *   N-channel stream, N times the recorded duration).
 * - `tiers` (#GstValueArray of #GstStructure named `tier`): one per tier,
 *   fastest first, with `name` (string, e.g. "s4d6e8"), `snr-db` (double,
 *   measured on the held-out audio) and `cost` (double, operations per frame).
 *
 * Errors (#GST_MESSAGE_ERROR): no kernel or location set, an unreadable kernel,
 * a kernel whose rate or channels do not match the stream, a location whose
 * directory does not accept new files, too little audio to fit, a failed fit
 * or write.
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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

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

GST_DEBUG_CATEGORY_STATIC(gst_maddness_trainer_debug);
#define GST_CAT_DEFAULT gst_maddness_trainer_debug

#define DEFAULT_MAX_SECONDS 60.0
#define MIN_MAX_SECONDS 1.0
#define MAX_MAX_SECONDS 3600.0
#define DEFAULT_FIT_ON_EOS TRUE
#define HOLDOUT_FRACTION 0.2
/* How much nicer than the streaming thread the fitting thread runs. */
#define FIT_NICE 10
/* A fixed seed: the same audio gives the same preset. */
#define FIT_SEED G_GUINT64_CONSTANT(0x6d61646472656e)
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
};

enum { SIGNAL_FIT, N_SIGNALS };

static guint trainer_signals[N_SIGNALS];

struct _GstMaddnessTrainer {
  GstBaseTransform parent;

  /* Properties, under the object lock. */
  gchar *kernel_path;
  gchar *location;
  gchar *tiers;
  gdouble max_seconds;
  gboolean fit_on_eos;

  /* The kernel as read from the file in start(); freed in stop(). Only the
   * state-change and streaming threads touch it, never at the same time. */
  MdnKernel *file_kernel;
  gboolean file_kernel_has_rate;
  /* The last format refused, so that negotiation retries post one error. */
  gint refused_rate;
  gint refused_channels;

  /* reservoir_lock: the recording and the format it was recorded in. The
   * streaming thread holds it only for a memcpy. */
  GMutex reservoir_lock;
  MdnKernel *kernel; /* file_kernel matched to the stream (rate filled in) */
  gint rate;
  gint channels;
  /* A ring of bytes, so that a buffer's memories are copied one by one
   * whatever their sizes; each buffer adds whole frames. */
  guint8 *reservoir;
  gsize capacity;  /* bytes: max-seconds of whole frames */
  gsize write_pos; /* next byte to write */
  gsize filled;    /* bytes recorded, <= capacity */

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
G_DEFINE_TYPE(GstMaddnessTrainer, gst_maddness_trainer, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(maddnesstrainer, "maddnesstrainer", GST_RANK_NONE,
                            GST_TYPE_MADDNESS_TRAINER);

#define TRAINER_CAPS                                                                               \
  "audio/x-raw, format = (string) F32LE, layout = (string) interleaved, "                          \
  "rate = (int) [ 1, MAX ], channels = (int) [ 1, MAX ]"

static GstStaticPadTemplate sink_template
    = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(TRAINER_CAPS));
static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(TRAINER_CAPS));

/* What one fit works with, taken when it starts. */
typedef struct {
  GstMaddnessTrainer *self; /* not a reference: stop() and finalize join the worker */
  gchar *location;
  MdnTierSpec *specs;
  int n_specs;
  gboolean for_eos;
} FitJob;

static void
fit_job_free(FitJob *job)
{
  g_free(job->location);
  g_free(job->specs);
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

/* Appends n bytes to the ring, keeping the most recent capacity bytes.
 * Called with reservoir_lock held. */
static void
reservoir_write(GstMaddnessTrainer *self, const guint8 *data, gsize n)
{
  gsize first;

  if (n >= self->capacity) {
    memcpy(self->reservoir, data + (n - self->capacity), self->capacity);
    self->write_pos = 0;
    self->filled = self->capacity;
    return;
  }
  first = MIN(n, self->capacity - self->write_pos);
  memcpy(self->reservoir + self->write_pos, data, first);
  memcpy(self->reservoir, data + first, n - first);
  self->write_pos = (self->write_pos + n) % self->capacity;
  self->filled = MIN(self->filled + n, self->capacity);
}

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
  gsize capacity, filled, frames, i, nonfinite = 0;
  gint channels;

  *audio = NULL;
  *kernel = NULL;
  for (;;) {
    g_mutex_lock(&self->reservoir_lock);
    capacity = self->capacity;
    g_mutex_unlock(&self->reservoir_lock);
    if (capacity == 0)
      return 0;

    copy = g_try_malloc(capacity);
    if (!copy) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "cannot allocate %" G_GSIZE_FORMAT " bytes for the recording", capacity);
      return 0;
    }
    /* Touch the pages now, not under the lock. */
    memset(copy, 0, capacity);

    g_mutex_lock(&self->reservoir_lock);
    if (self->capacity != capacity) {
      /* The caps changed meanwhile: try again with the new size. */
      g_mutex_unlock(&self->reservoir_lock);
      g_free(copy);
      continue;
    }
    filled = self->filled / sizeof(gfloat);
    if (self->filled < capacity) {
      memcpy(copy, self->reservoir, self->filled);
    } else {
      gsize tail = capacity - self->write_pos;

      memcpy(copy, self->reservoir + self->write_pos, tail);
      memcpy((guint8 *)copy + tail, self->reservoir, self->write_pos);
    }
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

/* ---- fitting ---------------------------------------------------------------- */

static void
post_trained(GstMaddnessTrainer *self, const MdnModel *model, const gchar *location,
             gdouble seconds)
{
  GValue tiers = G_VALUE_INIT;
  GstStructure *s;
  int t;

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
                        G_TYPE_DOUBLE, seconds, NULL);
  gst_structure_take_value(s, "tiers", &tiers);
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
  options.seed = FIT_SEED;
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

  if (!mdn_model_save(model, job->location, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Cannot write the preset to \"%s\": %s", job->location, error->message),
                      (NULL));
    goto done;
  }
  update_progress(self, "done", 100.0, FALSE);
  GST_INFO_OBJECT(self, "wrote %s with %d tiers", job->location, mdn_model_n_tiers(model));
  post_trained(self, model, job->location, frames / (double)rate);

done:
  g_clear_error(&error);
  mdn_model_free(model);
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
  const gchar *ladder;

  job = g_new0(FitJob, 1);
  job->self = self;
  job->for_eos = for_eos;
  GST_OBJECT_LOCK(self);
  job->location = g_strdup(self->location);
  ladder = self->tiers && self->tiers[0] ? self->tiers : mdn_default_ladder();
  job->n_specs = mdn_tier_ladder_parse(ladder, &job->specs, &error);
  GST_OBJECT_UNLOCK(self);
  if (job->n_specs < 0) {
    /* set_property keeps only valid ladders: this is the engine's default. */
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("Invalid tier ladder: %s", error->message), (NULL));
    g_clear_error(&error);
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
  recorded = self->filled > 0;
  g_mutex_unlock(&self->reservoir_lock);
  if (!recorded) {
    GST_WARNING_OBJECT(self, "fit requested before any audio was recorded");
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
  gchar *kernel_path, *location;
  gboolean ok = FALSE;

  GST_OBJECT_LOCK(self);
  kernel_path = g_strdup(self->kernel_path);
  location = g_strdup(self->location);
  GST_OBJECT_UNLOCK(self);

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

  self->refused_rate = self->refused_channels = 0;
  g_mutex_lock(&self->progress_lock);
  self->percent = 0.0;
  g_mutex_unlock(&self->progress_lock);
  ok = TRUE;

out:
  g_clear_error(&error);
  g_free(kernel_path);
  g_free(location);
  return ok;
}

static gboolean
gst_maddness_trainer_stop(GstBaseTransform *trans)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  MdnKernel *kernel;
  guint8 *reservoir;

  /* change_state set the cancel flag before the pads were deactivated. */
  join_worker(self);

  g_mutex_lock(&self->reservoir_lock);
  reservoir = self->reservoir;
  kernel = self->kernel;
  self->reservoir = NULL;
  self->kernel = NULL;
  self->capacity = self->write_pos = self->filled = 0;
  self->rate = self->channels = 0;
  g_mutex_unlock(&self->reservoir_lock);
  g_free(reservoir);
  mdn_kernel_free(kernel);
  g_clear_pointer(&self->file_kernel, mdn_kernel_free);
  return TRUE;
}

static gboolean
gst_maddness_trainer_set_caps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  GstStructure *structure;
  MdnKernel *kernel, *old_kernel;
  guint8 *reservoir = NULL, *old_reservoir = NULL;
  gdouble max_seconds, frames;
  gsize capacity;
  gint rate, channels;

  (void)outcaps;
  /* Only rate and channels matter: channel positions (a missing mask for
   * more than 2 channels included) do not change how the audio is used. */
  structure = gst_caps_get_structure(incaps, 0);
  if (!gst_structure_get_int(structure, "rate", &rate)
      || !gst_structure_get_int(structure, "channels", &channels) || rate <= 0 || channels <= 0)
    return FALSE;
  if (!self->file_kernel)
    return FALSE;
  if (rate == self->refused_rate && channels == self->refused_channels)
    return FALSE;

  kernel = mdn_kernel_copy(self->file_kernel);
  if (!self->file_kernel_has_rate) {
    kernel->rate = rate;
  } else if (fabs(kernel->rate - rate) > 1e-6 * rate) {
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT,
        ("The kernel's rate (%g Hz) does not match the stream's (%d Hz)", kernel->rate, rate),
        ("resample the stream to %g Hz (audioresample), or use a kernel made for "
         "%d Hz",
         kernel->rate, rate));
    mdn_kernel_free(kernel);
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
  capacity = (gsize)frames * channels * sizeof(gfloat);
  if (frames * channels > (gdouble)(G_MAXSIZE / sizeof(gfloat))) {
    reservoir = NULL;
  } else {
    g_mutex_lock(&self->reservoir_lock);
    if (self->reservoir && self->capacity == capacity && self->channels == channels) {
      /* Same format: keep what was recorded, update the kernel only. */
      old_kernel = self->kernel;
      self->kernel = kernel;
      self->rate = rate;
      g_mutex_unlock(&self->reservoir_lock);
      mdn_kernel_free(old_kernel);
      return TRUE;
    }
    g_mutex_unlock(&self->reservoir_lock);
    reservoir = g_try_malloc(capacity);
  }
  if (!reservoir) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, NO_SPACE_LEFT,
        ("Cannot allocate %g s of %d-channel audio at %d Hz", max_seconds, channels, rate),
        ("lower max-seconds"));
    mdn_kernel_free(kernel);
    return FALSE;
  }
  /* Touch the pages here, so the streaming path never faults them in. */
  memset(reservoir, 0, capacity);

  g_mutex_lock(&self->reservoir_lock);
  old_reservoir = self->reservoir;
  old_kernel = self->kernel;
  self->reservoir = reservoir;
  self->kernel = kernel;
  self->capacity = capacity;
  self->write_pos = self->filled = 0;
  self->rate = rate;
  self->channels = channels;
  g_mutex_unlock(&self->reservoir_lock);
  g_free(old_reservoir);
  mdn_kernel_free(old_kernel);

  GST_INFO_OBJECT(self, "recording up to %g s: %" G_GSIZE_FORMAT " bytes", max_seconds, capacity);
  return TRUE;
}

static GstFlowReturn
gst_maddness_trainer_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstMaddnessTrainer *self = GST_MADDNESS_TRAINER(trans);
  guint i, n_memory = gst_buffer_n_memory(buf);
  gsize frame_bytes, left;

  /* Passthrough: the buffer may be read-only, and is only read. Each memory
   * is mapped on its own (gst_buffer_map would merge them: an allocation). */
  g_mutex_lock(&self->reservoir_lock);
  if (!self->reservoir) {
    g_mutex_unlock(&self->reservoir_lock);
    return GST_FLOW_OK;
  }
  frame_bytes = (gsize)self->channels * sizeof(gfloat);
  left = gst_buffer_get_size(buf) / frame_bytes * frame_bytes;
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
    reservoir_write(self, map.data, n);
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
    GError *error = NULL;
    MdnTierSpec *specs = NULL;

    if (tiers && tiers[0] && mdn_tier_ladder_parse(tiers, &specs, &error) < 0) {
      g_warning("maddnesstrainer: tiers \"%s\" ignored: %s", tiers, error->message);
      g_clear_error(&error);
      break;
    }
    g_free(specs);
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
  g_free(self->reservoir);
  mdn_kernel_free(self->kernel);
  mdn_kernel_free(self->file_kernel);
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
   * "s8d4,s4d6e8". An invalid ladder is refused with a warning (the previous
   * value stays). Default: "" (the engine's default ladder).
   */
  g_object_class_install_property(
      gobject_class, PROP_TIERS,
      g_param_spec_string(
          "tiers", "Tiers", "Comma-separated tier specs, fastest first (\"\": the default ladder)",
          "", G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMaddnessTrainer:max-seconds:
   *
   * How much audio is kept for fitting: the most recent max-seconds. Takes
   * effect when the caps are set. Range 1 to 3600, default 60.
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

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "MADDNESS trainer", "Filter/Analyzer/Audio",
      "Passes audio through and fits a MADDNESS preset (conv1d kernel and approximate tiers) "
      "to it",
      "gst-maddness authors");

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_maddness_trainer_change_state);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_maddness_trainer_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_maddness_trainer_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_maddness_trainer_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_maddness_trainer_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_maddness_trainer_sink_event);
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

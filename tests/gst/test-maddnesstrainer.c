/* test-maddnesstrainer.c: maddnesstrainer element tests (GstHarness and small pipelines).
 *
 * Kernel files (taps, .mdn, WAV) are written to a temporary directory at
 * start-up; every test fits on a few seconds of the test signals with a small
 * ladder, so the suite stays fast.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <sndfile.h>

#include "maddness.h"
#include "mdn-signals.h"
#include "gst-test-util.h"

#define RATE 16000
#define CAPS_FMT MDN_GST_TEST_CAPS_FMT
#define LADDER "s4d4,s2d6e8"
#define CHUNK 1024 /* frames per pushed buffer */

/* Files made in main (), inherited by the forked tests. */
static char *tmp_dir;
static char *lp_taps;   /* 31-tap lowpass, taps file (no rate) */
static char *lp_preset; /* the same kernel as a .mdn preset without tiers (16 kHz) */
static char *lp_wav;    /* the same kernel as a float WAV impulse response (16 kHz) */
static char *k21_taps;  /* a 2-input, 1-output kernel, taps file */
static char *long_taps; /* a 1024-tap room response: its fit takes long enough to cancel */
static MdnKernel *klp;

/* ---- the plugin's GLib allocations -----------------------------------------
 *
 * This executable defines GLib's allocators and exports them (export_dynamic
 * in meson.build), so the plugin's calls to them land here first, and go on
 * to GLib's (dlsym RTLD_NEXT). Requests made from the plugin's own code
 * (the caller's address is inside libgstmaddness) are recorded; try-variants
 * fail when a test asks (hook_fail_after), and always above HOOK_REFUSE_BYTES
 * so that no test can make the plugin take a large part of the machine. */
#define HOOK_REFUSE_BYTES ((gsize)256 << 20)

G_LOCK_DEFINE_STATIC(hook);
static gsize hook_largest;        /* the largest single request */
static gsize hook_total;          /* the sum of all requests */
static gsize hook_fail_min;       /* requests of this size or more count as large */
static gint hook_fail_after = -1; /* large try-requests let through before failing; -1: none fail */
static guint hook_failed;         /* requests failed */

/* Starts recording afresh; from now on, large (>= fail_min bytes)
 * try-requests fail after fail_after of them (-1: never). */
static void
hook_reset(gsize fail_min, gint fail_after)
{
  G_LOCK(hook);
  hook_largest = hook_total = 0;
  hook_fail_min = fail_min;
  hook_fail_after = fail_after;
  hook_failed = 0;
  G_UNLOCK(hook);
}

static gboolean
from_plugin(const void *caller)
{
  Dl_info info;

  return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libgstmaddness.so");
}

/* Records a request; FALSE when a try-variant must fail. */
static gboolean
hook_request(const void *caller, gsize n, gboolean can_fail)
{
  gboolean ok = TRUE;

  if (!from_plugin(caller))
    return TRUE;
  G_LOCK(hook);
  hook_largest = MAX(hook_largest, n);
  hook_total += n;
  if (can_fail && n > HOOK_REFUSE_BYTES) {
    ok = FALSE;
  } else if (can_fail && hook_fail_after >= 0 && n >= hook_fail_min) {
    if (hook_fail_after == 0)
      ok = FALSE;
    else
      hook_fail_after--;
  }
  hook_failed += !ok;
  G_UNLOCK(hook);
  return ok;
}

typedef gpointer (*Alloc1Fn)(gsize);
typedef gpointer (*Alloc2Fn)(gsize, gsize);

#define HOOK1(name, can_fail)                                                                      \
  gpointer name(gsize n)                                                                           \
  {                                                                                                \
    static Alloc1Fn real;                                                                          \
    if (!hook_request(__builtin_return_address(0), n, can_fail))                                   \
      return NULL;                                                                                 \
    if (!real)                                                                                     \
      real = (Alloc1Fn)dlsym(RTLD_NEXT, #name);                                                    \
    return real(n);                                                                                \
  }
#define HOOK2(name, can_fail)                                                                      \
  gpointer name(gsize n, gsize size)                                                               \
  {                                                                                                \
    static Alloc2Fn real;                                                                          \
    if (!hook_request(__builtin_return_address(0),                                                 \
                      size && n > G_MAXSIZE / size ? G_MAXSIZE : n * size, can_fail))              \
      return NULL;                                                                                 \
    if (!real)                                                                                     \
      real = (Alloc2Fn)dlsym(RTLD_NEXT, #name);                                                    \
    return real(n, size);                                                                          \
  }

HOOK1(g_malloc, FALSE)
HOOK1(g_malloc0, FALSE)
HOOK1(g_try_malloc, TRUE)
HOOK1(g_try_malloc0, TRUE)
HOOK2(g_malloc_n, FALSE)
HOOK2(g_malloc0_n, FALSE)
HOOK2(g_try_malloc_n, TRUE)
HOOK2(g_try_malloc0_n, TRUE)

/* ---- messages ------------------------------------------------------------- */

/* Every message the element posts, with the monotonic time it was posted. */
typedef struct {
  GMutex lock;
  GCond cond;
  GPtrArray *messages; /* GstMessage */
  GArray *times;       /* gint64 */
  GstBus *bus;
  /* When > 0: the fitting thread's first progress message past 0 % is held
   * this long in the handler, so a test can cancel a fit that would
   * otherwise end before it gets there (fits get faster as the engine does). */
  gint64 hold_fit_us;
  gboolean held;
} MsgLog;

/* TRUE on the trainer's fitting thread (named "maddness-fit"). */
static gboolean
on_fit_thread(void)
{
  char name[16] = "";

  pthread_getname_np(pthread_self(), name, sizeof name);
  return g_str_has_prefix(name, "maddness-fit");
}

static GstBusSyncReply
log_message(GstBus *bus, GstMessage *message, gpointer user_data)
{
  MsgLog *log = user_data;
  gint64 now = g_get_monotonic_time();

  (void)bus;
  g_mutex_lock(&log->lock);
  /* A handler returning GST_BUS_DROP owns the message. */
  gboolean hold = FALSE;
  double percent = 0;

  g_ptr_array_add(log->messages, message);
  g_array_append_val(log->times, now);
  if (log->hold_fit_us > 0 && !log->held && GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT
      && gst_structure_has_name(gst_message_get_structure(message), "maddness-progress")
      && gst_structure_get_double(gst_message_get_structure(message), "percent", &percent)
      && percent > 0.0 && on_fit_thread()) {
    log->held = TRUE;
    hold = TRUE;
  }
  g_cond_broadcast(&log->cond);
  g_mutex_unlock(&log->lock);
  if (hold)
    g_usleep(log->hold_fit_us);
  return GST_BUS_DROP;
}

static MsgLog *
msg_log_new(void)
{
  MsgLog *log = g_new0(MsgLog, 1);

  g_mutex_init(&log->lock);
  g_cond_init(&log->cond);
  log->messages = g_ptr_array_new_with_free_func((GDestroyNotify)gst_message_unref);
  log->times = g_array_new(FALSE, FALSE, sizeof(gint64));
  return log;
}

static void
msg_log_free(MsgLog *log)
{
  /* Messages posted from now on (the element's own, as it is freed) are
   * dropped: the bus stops calling us. */
  if (log->bus) {
    gst_bus_set_flushing(log->bus, TRUE);
    gst_bus_set_sync_handler(log->bus, NULL, NULL, NULL);
    gst_object_unref(log->bus);
  }
  g_ptr_array_unref(log->messages);
  g_array_unref(log->times);
  g_mutex_clear(&log->lock);
  g_cond_clear(&log->cond);
  g_free(log);
}

/* Gives element a bus whose messages go to log. */
static void
attach_log(GstElement *element, MsgLog *log)
{
  GstBus *bus = gst_bus_new();

  g_assert_null(log->bus);
  gst_bus_set_sync_handler(bus, log_message, log, NULL);
  gst_element_set_bus(element, bus);
  log->bus = bus;
}

static gboolean
is_element_message(GstMessage *m, const char *name)
{
  return GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT
         && gst_structure_has_name(gst_message_get_structure(m), name);
}

static int
count_named(MsgLog *log, const char *name)
{
  int n = 0;
  guint i;

  g_mutex_lock(&log->lock);
  for (i = 0; i < log->messages->len; i++)
    n += is_element_message(g_ptr_array_index(log->messages, i), name);
  g_mutex_unlock(&log->lock);
  return n;
}

static int
count_type(MsgLog *log, GstMessageType type)
{
  int n = 0;
  guint i;

  g_mutex_lock(&log->lock);
  for (i = 0; i < log->messages->len; i++)
    n += GST_MESSAGE_TYPE(g_ptr_array_index(log->messages, i)) == type;
  g_mutex_unlock(&log->lock);
  return n;
}

/* The first error's text (g_free), or NULL. */
static char *
first_error(MsgLog *log)
{
  char *text = NULL;
  guint i;

  g_mutex_lock(&log->lock);
  for (i = 0; i < log->messages->len && !text; i++) {
    GstMessage *m = g_ptr_array_index(log->messages, i);

    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *error = NULL;

      gst_message_parse_error(m, &error, NULL);
      text = g_strdup(error->message);
      g_error_free(error);
    }
  }
  g_mutex_unlock(&log->lock);
  return text;
}

/* Waits up to timeout_s for an element message `name`, or an error. TRUE when
 * the named message came. */
static gboolean
wait_for(MsgLog *log, const char *name, double timeout_s)
{
  gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_TIME_SPAN_SECOND);
  gboolean found = FALSE;

  g_mutex_lock(&log->lock);
  for (;;) {
    guint i;

    for (i = 0; i < log->messages->len; i++) {
      GstMessage *m = g_ptr_array_index(log->messages, i);

      if (is_element_message(m, name))
        found = TRUE;
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
        goto out;
    }
    if (found || !g_cond_wait_until(&log->cond, &log->lock, end))
      break;
  }
out:
  g_mutex_unlock(&log->lock);
  return found;
}

/* ---- helpers ---------------------------------------------------------------- */

static char *
tmp_path(const char *name)
{
  return g_build_filename(tmp_dir, name, NULL);
}

static void
write_taps(const MdnKernel *k, const char *path)
{
  GError *error = NULL;
  FILE *f = g_fopen(path, "w");

  g_assert_nonnull(f);
  fprintf(f, "# test kernel\n%d %d %d %d\n", k->cin, k->cout, k->taps, k->dilation);
  if (!mdn_kernel_write_taps_body(k, f, &error))
    g_error("write taps %s: %s", path, error->message);
  fclose(f);
}

static void
write_wav(const MdnKernel *k, const char *path)
{
  SF_INFO info = { 0 };
  SNDFILE *sf;

  info.samplerate = (int)k->rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  sf = sf_open(path, SFM_WRITE, &info);
  g_assert_nonnull(sf);
  g_assert_cmpint(sf_writef_float(sf, k->weights, k->taps), ==, k->taps);
  sf_close(sf);
}

static GstElement *
make_trainer(const char *kernel, const char *location, const char *tiers)
{
  GstElement *e = gst_element_factory_make("maddnesstrainer", NULL);

  fail_unless(e != NULL, "maddnesstrainer not found (GST_PLUGIN_PATH?)");
  g_object_set(e, "kernel", kernel, "location", location, "tiers", tiers, NULL);
  return e;
}

/* A harness around trainer (which it takes), its messages going to log. */
static GstHarness *
trainer_harness(GstElement *trainer, MsgLog *log, int rate, int channels)
{
  GstHarness *h;
  char *caps;

  attach_log(trainer, log);
  h = gst_harness_new_with_element(trainer, "sink", "src");
  gst_object_unref(trainer);
  /* Caps of more than 2 channels say where they are (GstAudioInfo needs it). */
  caps = g_strdup_printf(channels > 2 ? MDN_GST_TEST_CAPS_MASK_FMT : CAPS_FMT, rate, channels);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
  return h;
}

/* Pushes one buffer, pulls what came out and checks it is bit-exact.
 * Returns how long the push took, in microseconds. */
static gint64
push_check(GstHarness *h, const float *data, size_t n_frames, int channels, int rate,
           guint64 first_frame)
{
  GstBuffer *out;
  GstMapInfo map;
  gint64 start, took;
  GstFlowReturn flow;

  start = g_get_monotonic_time();
  flow = gst_harness_push(h, mdn_gst_test_make_buffer(data, n_frames, channels, rate, first_frame));
  took = g_get_monotonic_time() - start;
  fail_unless_equals_int(flow, GST_FLOW_OK);
  out = gst_harness_pull(h);
  fail_unless(out != NULL);
  gst_buffer_map(out, &map, GST_MAP_READ);
  fail_unless_equals_uint64(map.size, n_frames * channels * sizeof(float));
  fail_unless(memcmp(map.data, data, map.size) == 0, "passthrough is not bit-exact");
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(out);
  return took;
}

/* Pushes all of audio in CHUNK-frame buffers, each checked bit-exact. */
static void
push_all(GstHarness *h, const float *audio, size_t n_frames, int channels, int rate)
{
  size_t done = 0;

  while (done < n_frames) {
    size_t n = MIN(CHUNK, n_frames - done);

    push_check(h, audio + done * channels, n, channels, rate, done);
    done += n;
  }
}

/* Pushes EOS (the trainer fits before it returns) and checks EOS came out. */
static void
push_eos(GstHarness *h)
{
  GstEvent *event;
  gboolean saw_eos = FALSE;

  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  while ((event = gst_harness_try_pull_event(h))) {
    saw_eos |= GST_EVENT_TYPE(event) == GST_EVENT_EOS;
    gst_event_unref(event);
  }
  fail_unless(saw_eos, "EOS was not forwarded");
}

static void
assert_no_file(const char *path)
{
  fail_if(g_file_test(path, G_FILE_TEST_EXISTS), "%s exists", path);
}

static MdnModel *
load_model(const char *path)
{
  GError *error = NULL;
  MdnModel *model = mdn_model_load(path, &error);

  fail_unless(model != NULL, "%s: %s", path, error ? error->message : "?");
  return model;
}

static void
assert_same_kernel(const MdnKernel *a, const MdnKernel *b)
{
  fail_unless_equals_int(a->cin, b->cin);
  fail_unless_equals_int(a->cout, b->cout);
  fail_unless_equals_int(a->taps, b->taps);
  fail_unless_equals_int(a->dilation, b->dilation);
  fail_unless(memcmp(a->weights, b->weights, sizeof(float) * a->cin * a->cout * a->taps) == 0,
              "kernel weights differ");
}

/* SNR of tier `tier` of model on `audio` (mono) against the reference conv. */
static double
tier_snr(const MdnModel *model, int tier, const float *audio, size_t n)
{
  GError *error = NULL;
  MdnStream *stream = mdn_stream_new(model, 1, &error);
  double *ref = mdn_reference_conv(mdn_model_kernel(model), audio, n);
  float *out = g_new(float, n);
  double snr;

  g_assert_no_error(error);
  fail_unless(mdn_stream_process(stream, tier, audio, out, n));
  snr = mdn_snr_db(ref, out, n);
  mdn_stream_free(stream);
  g_free(ref);
  g_free(out);
  return snr;
}

/* Fits `seconds` of speech through a harness and EOS; the messages stay in
 * log. */
static void
fit_speech(const char *kernel, const char *location, const char *tiers, double seconds,
           guint32 seed, MsgLog *log)
{
  GstHarness *h = trainer_harness(make_trainer(kernel, location, tiers), log, RATE, 1);
  size_t n = (size_t)(seconds * RATE);
  float *audio = mdn_signal_speech(n, RATE, seed);
  char *error;

  push_all(h, audio, n, 1, RATE);
  push_eos(h);
  error = first_error(log);
  fail_unless(error == NULL, "error: %s", error);
  gst_harness_teardown(h);
  g_free(audio);
}

/* The trainer and maddness-fit give the same preset for the same audio,
 * kernel and ladder: both fit with the engine's default seed. Compared by
 * what a preset does: its tiers' names and SNRs, and every tier's output on
 * another signal, sample for sample. */
GST_START_TEST(test_same_preset_as_maddness_fit)
{
  const char *tiers = "s4d4,s2d6e4";
  const size_t n = 4 * RATE, n_probe = RATE;
  char *trained = tmp_path("same-trainer.mdn"), *fitted = tmp_path("same-tool.mdn");
  char *audio_path = tmp_path("same-audio.wav"), *rate = g_strdup_printf("%d", RATE);
  float *audio = mdn_signal_speech(n, RATE, 31), *probe = mdn_signal_music(n_probe, RATE, 32);
  float *out_a = g_new(float, n_probe), *out_b = g_new(float, n_probe);
  const char *fit_argv[] = { g_getenv("MADDNESS_FIT"),
                             "--kernel",
                             lp_taps,
                             "--audio",
                             audio_path,
                             "--rate",
                             rate,
                             "--tiers",
                             tiers,
                             "-o",
                             fitted,
                             NULL };
  SF_INFO info = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
  SNDFILE *sf = sf_open(audio_path, SFM_WRITE, &info);
  MsgLog *log = msg_log_new();
  MdnModel *a, *b;
  GError *error = NULL;
  int status, t;

  fail_unless(fit_argv[0] != NULL, "MADDNESS_FIT is not set");
  g_assert_nonnull(sf);
  fail_unless_equals_int(sf_writef_float(sf, audio, n), n);
  sf_close(sf);
  fit_speech(lp_taps, trained, tiers, 4.0, 31, log); /* the same speech */
  fail_unless(g_spawn_sync(NULL, (char **)fit_argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                           NULL, NULL, &status, &error),
              "%s", error ? error->message : "");
  fail_unless(g_spawn_check_wait_status(status, NULL), "maddness-fit failed");

  a = load_model(trained);
  b = load_model(fitted);
  assert_same_kernel(mdn_model_kernel(a), mdn_model_kernel(b));
  fail_unless_equals_int(mdn_model_n_tiers(a), mdn_model_n_tiers(b));
  fail_unless(mdn_model_n_tiers(a) > 0);
  for (t = 0; t < mdn_model_n_tiers(a); t++) {
    MdnTierInfo ia, ib;
    MdnStream *sa = mdn_stream_new(a, 1, NULL), *sb = mdn_stream_new(b, 1, NULL);
    mdn_model_tier_info(a, t, &ia);
    mdn_model_tier_info(b, t, &ib);
    fail_unless_equals_string(ia.name, ib.name);
    fail_unless(ia.snr_db == ib.snr_db, "tier %s: SNR %g against %g", ia.name, ia.snr_db,
                ib.snr_db);
    fail_unless(mdn_stream_process(sa, t, probe, out_a, n_probe));
    fail_unless(mdn_stream_process(sb, t, probe, out_b, n_probe));
    fail_unless(memcmp(out_a, out_b, sizeof(float) * n_probe) == 0, "tier %s: outputs differ",
                ia.name);
    mdn_stream_free(sa);
    mdn_stream_free(sb);
  }
  mdn_model_free(a);
  mdn_model_free(b);
  msg_log_free(log);
  g_free(audio);
  g_free(probe);
  g_free(out_a);
  g_free(out_b);
  g_free(rate);
  g_free(audio_path);
  g_free(trained);
  g_free(fitted);
}
GST_END_TEST;

/* Threads of this process whose name starts with prefix. */
static int
count_threads(const char *prefix)
{
  GDir *dir = g_dir_open("/proc/self/task", 0, NULL);
  const char *name;
  int n = 0;

  fail_unless(dir != NULL);
  while ((name = g_dir_read_name(dir))) {
    char *path = g_strdup_printf("/proc/self/task/%s/comm", name);
    char *comm = NULL;

    if (g_file_get_contents(path, &comm, NULL, NULL) && g_str_has_prefix(comm, prefix))
      n++;
    g_free(comm);
    g_free(path);
  }
  g_dir_close(dir);
  return n;
}

/* ---- fit, load, measure, filter --------------------------------------------- */

/* 6 s of speech through the trainer: the preset loads, holds the kernel, and
 * its tiers meet floors on other speech. Floors: the fastest tier (s4d4: 16
 * buckets per 4 taps) >= 10 dB, which the engine reaches on a lowpass with
 * margin (about 15 dB); the slower tier, with 8 taps done exactly, is no
 * worse than the fastest (the engine keeps only tiers that improve on the
 * faster ones; 1 dB allowed for the change of audio). */
GST_START_TEST(test_fit_writes_preset)
{
  char *location = tmp_path("fit.mdn");
  MsgLog *log = msg_log_new();
  size_t n_test = 3 * RATE;
  float *test = mdn_signal_speech(n_test, RATE, 99);
  double snr_first = 0, snr_last = 0;
  MdnModel *model;
  int t, n_tiers;

  fit_speech(lp_taps, location, LADDER, 6.0, 1, log);
  model = load_model(location);
  assert_same_kernel(mdn_model_kernel(model), klp);
  fail_unless(fabs(mdn_model_kernel(model)->rate - RATE) < 1e-9, "a taps kernel takes the "
                                                                 "stream's rate");
  n_tiers = mdn_model_n_tiers(model);
  fail_unless(n_tiers >= 1 && n_tiers <= 2, "%d tiers from a ladder of 2", n_tiers);
  for (t = 0; t < n_tiers; t++) {
    double snr = tier_snr(model, t, test, n_test);
    MdnTierInfo info;

    mdn_model_tier_info(model, t, &info);
    fail_unless(snr >= 10.0, "tier %s: %.2f dB on other speech, floor 10 dB", info.name, snr);
    if (t == 0)
      snr_first = snr;
    snr_last = snr;
  }
  fail_unless(snr_last >= snr_first - 1.0, "slowest tier %.2f dB, fastest %.2f dB", snr_last,
              snr_first);

  /* maddnessfilter runs it: quality 0 is the fastest tier; its output on
   * the other speech meets the same floor against the reference. */
  {
    GstElement *filter = gst_element_factory_make("maddnessfilter", NULL);
    double *ref = mdn_reference_conv(klp, test, n_test);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(float));
    MdnTierInfo info;
    GstHarness *h;
    GstBuffer *buf;
    gchar *tier = NULL;
    size_t done = 0;

    fail_unless(filter != NULL, "maddnessfilter not found");
    g_object_set(filter, "preset", location, "quality", 0, NULL);
    h = gst_harness_new_with_element(filter, "sink", "src");
    gst_object_unref(filter);
    gst_harness_set_src_caps_str(h, MDN_GST_TEST_F32 ",rate=16000,channels=1");
    while (done < n_test) {
      size_t n = MIN(CHUNK, n_test - done);
      GstMapInfo map;

      fail_unless_equals_int(
          gst_harness_push(h, mdn_gst_test_make_buffer(test + done, n, 1, RATE, done)),
          GST_FLOW_OK);
      buf = gst_harness_pull(h);
      gst_buffer_map(buf, &map, GST_MAP_READ);
      g_array_append_vals(out, map.data, map.size / sizeof(float));
      gst_buffer_unmap(buf, &map);
      gst_buffer_unref(buf);
      done += n;
    }
    fail_unless_equals_uint64(out->len, n_test);
    g_object_get(h->element, "tier", &tier, NULL);
    mdn_model_tier_info(model, 0, &info);
    fail_unless_equals_string(tier, info.name);
    snr_first = mdn_snr_db(ref, (float *)out->data, n_test);
    fail_unless(snr_first >= 10.0, "maddnessfilter on the trained preset: %.2f dB", snr_first);
    g_free(tier);
    g_free(ref);
    g_array_free(out, TRUE);
    gst_harness_teardown(h);
  }

  mdn_model_free(model);
  msg_log_free(log);
  g_free(test);
  g_free(location);
}
GST_END_TEST;

/* ---- passthrough during a fit ------------------------------------------------ */

/* The `fit` action while audio flows: every push returns in < 50 ms and is
 * bit-exact, until the preset is written. */
GST_START_TEST(test_passthrough_during_fit)
{
  char *location = tmp_path("during.mdn");
  MsgLog *log = msg_log_new();
  GstElement *trainer = make_trainer(lp_taps, location, LADDER);
  size_t n = 8 * RATE, pos, pushed = 0, during = 0, block = RATE / 100; /* 10 ms */
  float *audio = mdn_signal_speech(n, RATE, 3);
  gint64 worst = 0, deadline;
  gboolean started = FALSE, again = TRUE;
  GstHarness *h;
  MdnModel *model;

  g_object_set(trainer, "fit-on-eos", FALSE, "max-seconds", 4.0, NULL);
  h = trainer_harness(trainer, log, RATE, 1);
  /* 6 s first, so the reservoir (4 s) has wrapped. */
  for (pos = 0; pos < 6 * (size_t)RATE; pos += block)
    push_check(h, audio + pos, block, 1, RATE, pushed++ * block);

  g_signal_emit_by_name(h->element, "fit", &started);
  fail_unless(started, "fit did not start");
  g_signal_emit_by_name(h->element, "fit", &again);
  fail_if(again, "a second fit started while one runs");

  deadline = g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND;
  while (count_named(log, "maddness-trained") == 0 && !first_error(log)
         && g_get_monotonic_time() < deadline) {
    gint64 took = push_check(h, audio + pos, block, 1, RATE, pushed++ * block);

    worst = MAX(worst, took);
    fail_unless(took < 50 * G_TIME_SPAN_MILLISECOND, "a push during the fit took %.1f ms",
                took / 1000.0);
    pos = (pos + block) % (n - block);
    during++;
    /* Audio comes paced, not in a busy loop that would starve the fit. */
    g_usleep(1000);
  }
  fail_unless(wait_for(log, "maddness-trained", 1.0), "no maddness-trained (error: %s)",
              first_error(log));
  fail_unless(during > 0, "the fit ended before any push");
  GST_INFO("%" G_GSIZE_FORMAT " pushes during the fit, slowest %.3f ms", during, worst / 1000.0);

  model = load_model(location);
  fail_unless(mdn_model_n_tiers(model) >= 1);
  mdn_model_free(model);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* ---- errors ------------------------------------------------------------------ */

/* Going to PLAYING fails with an error naming `what`, and nothing is written. */
static void
check_start_error(const char *kernel, const char *location, const char *what)
{
  GstElement *trainer = make_trainer(kernel, location, LADDER);
  MsgLog *log = msg_log_new();
  gboolean existed = g_file_test(location, G_FILE_TEST_EXISTS);
  char *error;

  attach_log(trainer, log);
  fail_unless_equals_int(gst_element_set_state(trainer, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_FAILURE);
  error = first_error(log);
  fail_unless(error != NULL, "no error message for %s", what);
  fail_unless(strstr(error, what) != NULL, "error \"%s\" does not mention %s", error, what);
  gst_element_set_state(trainer, GST_STATE_NULL);
  gst_object_unref(trainer);
  if (!existed)
    assert_no_file(location);
  g_free(error);
  msg_log_free(log);
}

GST_START_TEST(test_error_unreadable_kernel)
{
  char *location = tmp_path("unreadable.mdn");
  char *missing = tmp_path("missing.taps");
  char *garbage = tmp_path("garbage.bin");

  check_start_error(missing, location, "kernel");
  g_assert_true(g_file_set_contents(garbage, "\x01\x02no taps here\xff", -1, NULL));
  check_start_error(garbage, location, "kernel");
  g_free(garbage);
  g_free(missing);
  g_free(location);
}
GST_END_TEST;

GST_START_TEST(test_error_unwritable_location)
{
  char *location = tmp_path("no-such-dir/out.mdn");
  char *dir = tmp_path("no-such-dir");

  check_start_error(lp_taps, location, "Cannot write");
  assert_no_file(dir);
  /* A directory is not a file to write either. */
  check_start_error(lp_taps, tmp_dir, "Cannot write");
  fail_unless(g_file_test(tmp_dir, G_FILE_TEST_IS_DIR));
  g_free(dir);
  g_free(location);
}
GST_END_TEST;

/* Caps the kernel does not fit: the caps are refused with an error naming
 * `what`, buffers are not passed, and nothing is written at EOS. */
static void
check_caps_error(const char *kernel, int rate, int channels, const char *what)
{
  char *location = tmp_path("mismatch.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(kernel, location, LADDER), log, rate, channels);
  float *audio = g_new0(float, (size_t)CHUNK *channels);
  char *error;

  fail_if(gst_harness_push(h, mdn_gst_test_make_buffer(audio, CHUNK, channels, rate, 0))
              == GST_FLOW_OK,
          "caps accepted for %s", what);
  fail_if(gst_harness_push(h, mdn_gst_test_make_buffer(audio, CHUNK, channels, rate, CHUNK))
              == GST_FLOW_OK,
          "caps accepted for %s", what);
  fail_unless_equals_int(count_type(log, GST_MESSAGE_ERROR), 1);
  error = first_error(log);
  fail_unless(error != NULL, "no error message for %s", what);
  fail_unless(strstr(error, what) != NULL, "error \"%s\" does not mention %s", error, what);
  gst_harness_push_event(h, gst_event_new_eos());
  assert_no_file(location);
  gst_harness_teardown(h);
  g_free(error);
  g_free(audio);
  msg_log_free(log);
  g_free(location);
}

GST_START_TEST(test_error_rate_mismatch)
{
  /* A preset and a WAV carry 16 kHz; the stream is 22.05 kHz. */
  check_caps_error(lp_preset, 22050, 1, "rate");
  check_caps_error(lp_wav, 22050, 1, "rate");
}
GST_END_TEST;

GST_START_TEST(test_error_channels_mismatch)
{
  /* A 2-input kernel takes 2 channels only. */
  check_caps_error(k21_taps, RATE, 3, "channels");
  check_caps_error(k21_taps, RATE, 1, "channels");
}
GST_END_TEST;

GST_START_TEST(test_error_too_little_audio)
{
  char *location = tmp_path("little.mdn");
  float *audio = mdn_signal_speech(RATE / 20, RATE, 5); /* 50 ms */
  int attempt;

  /* 50 ms, then nothing at all. */
  for (attempt = 0; attempt < 2; attempt++) {
    MsgLog *log = msg_log_new();
    GstHarness *h = trainer_harness(make_trainer(lp_taps, location, LADDER), log, RATE, 1);
    char *error;

    if (attempt == 0)
      push_all(h, audio, RATE / 20, 1, RATE);
    gst_harness_push_event(h, gst_event_new_eos());
    error = first_error(log);
    fail_unless(error != NULL, "no error for too little audio");
    fail_unless(strstr(error, "Too little audio") != NULL, "error: %s", error);
    fail_unless_equals_int(count_named(log, "maddness-trained"), 0);
    assert_no_file(location);
    gst_harness_teardown(h);
    g_free(error);
    msg_log_free(log);
  }
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* A tier ladder the engine cannot parse is an element error naming the
 * ladder and its syntax, and nothing is written: at READY -> PAUSED, and for
 * a ladder set while PLAYING, at the EOS fit (one error, no preset). */
GST_START_TEST(test_error_bad_tiers)
{
  char *location = tmp_path("bad-tiers.mdn");
  float *audio = mdn_signal_speech(2 * RATE, RATE, 19);
  GstElement *trainer = make_trainer(lp_taps, location, "garbage");
  MsgLog *log = msg_log_new();
  GstHarness *h;
  char *error;

  attach_log(trainer, log);
  fail_unless_equals_int(gst_element_set_state(trainer, GST_STATE_PAUSED),
                         GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(count_type(log, GST_MESSAGE_ERROR), 1);
  error = first_error(log);
  fail_unless(strstr(error, "\"garbage\"") != NULL, "error \"%s\" does not name the ladder", error);
  fail_unless(strstr(error, "s8d4,s4d6e8") != NULL, "error \"%s\" does not give the syntax", error);
  g_free(error);
  gst_element_set_state(trainer, GST_STATE_NULL);
  gst_object_unref(trainer);
  msg_log_free(log);
  assert_no_file(location);

  log = msg_log_new();
  h = trainer_harness(make_trainer(lp_taps, location, LADDER), log, RATE, 1);
  push_all(h, audio, 2 * RATE, 1, RATE);
  g_object_set(h->element, "tiers", "s4d4,,s2d6", NULL);
  gst_harness_push_event(h, gst_event_new_eos());
  fail_unless_equals_int(count_type(log, GST_MESSAGE_ERROR), 1);
  error = first_error(log);
  fail_unless(strstr(error, "\"s4d4,,s2d6\"") != NULL, "error \"%s\" does not name the ladder",
              error);
  fail_unless_equals_int(count_named(log, "maddness-trained"), 0);
  assert_no_file(location);
  g_free(error);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* ---- cancel ---------------------------------------------------------------------- */

static void
weak_notify(gpointer data, GObject *where_the_object_was)
{
  (void)where_the_object_was;
  *(gboolean *)data = TRUE;
}

/* Waits until the engine is fitting: a progress message past the start. */
static void
wait_for_engine(MsgLog *log)
{
  gint64 end = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
  gboolean fitting = FALSE;

  g_mutex_lock(&log->lock);
  while (!fitting) {
    guint i;

    for (i = 0; i < log->messages->len && !fitting; i++) {
      GstMessage *m = g_ptr_array_index(log->messages, i);
      double percent = 0;

      if (is_element_message(m, "maddness-progress")) {
        gst_structure_get_double(gst_message_get_structure(m), "percent", &percent);
        fitting = percent > 0.0;
      }
    }
    if (!fitting && !g_cond_wait_until(&log->cond, &log->lock, end))
      break;
  }
  g_mutex_unlock(&log->lock);
  fail_unless(fitting, "the fit did not start");
}

/* Going to NULL during a `fit` action: the fit is cancelled, its threads are
 * joined, nothing is written, the element is freed, and it is quick. */
GST_START_TEST(test_null_during_fit)
{
  char *location = tmp_path("cancelled.mdn");
  MsgLog *log = msg_log_new();
  GstElement *trainer = make_trainer(long_taps, location, "");
  size_t n = 8 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 11);
  gboolean started = FALSE, freed = FALSE;
  gint64 start, took;
  GstHarness *h;

  log->hold_fit_us = 800 * 1000; /* cancel lands while the fit is held */
  g_object_set(trainer, "fit-on-eos", FALSE, NULL);
  g_object_weak_ref(G_OBJECT(trainer), weak_notify, &freed);
  h = trainer_harness(trainer, log, RATE, 1);
  push_all(h, audio, n, 1, RATE);
  g_signal_emit_by_name(h->element, "fit", &started);
  fail_unless(started);
  wait_for_engine(log);
  fail_unless_equals_int(count_named(log, "maddness-trained"), 0);
  fail_unless(count_threads("maddness-fit") == 1, "no fitting thread");

  start = g_get_monotonic_time();
  gst_harness_teardown(h);
  took = g_get_monotonic_time() - start;
  fail_unless(took < 2 * G_TIME_SPAN_SECOND, "going to NULL took %.2f s", took / 1e6);
  fail_unless_equals_int(count_threads("maddness-fit"), 0);
  fail_unless_equals_int(count_threads("maddness-tick"), 0);
  fail_unless_equals_int(count_named(log, "maddness-trained"), 0);
  fail_unless(first_error(log) == NULL, "a cancelled fit is not an error");
  fail_unless(log->held, "the fit was never held: the test did not cancel a running fit");
  assert_no_file(location);
  /* The logged messages hold the last references to the element. */
  msg_log_free(log);
  fail_unless(freed, "the element was not freed");
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

static gpointer
push_eos_thread(gpointer data)
{
  return GINT_TO_POINTER(gst_harness_push_event(data, gst_event_new_eos()));
}

/* Going to NULL while the streaming thread waits in an EOS fit: no deadlock,
 * the EOS push returns, nothing is written. */
GST_START_TEST(test_null_during_eos_fit)
{
  char *location = tmp_path("cancelled-eos.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(long_taps, location, ""), log, RATE, 1);
  size_t n = 8 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 12);
  GThread *pusher;
  gint64 start, took;

  log->hold_fit_us = 800 * 1000; /* cancel lands while the fit is held */
  push_all(h, audio, n, 1, RATE);
  pusher = g_thread_new("eos-pusher", push_eos_thread, h);
  wait_for_engine(log);
  start = g_get_monotonic_time();
  fail_unless_equals_int(gst_element_set_state(h->element, GST_STATE_NULL),
                         GST_STATE_CHANGE_SUCCESS);
  g_thread_join(pusher);
  took = g_get_monotonic_time() - start;
  fail_unless(took < 2 * G_TIME_SPAN_SECOND, "going to NULL took %.2f s", took / 1e6);
  fail_unless_equals_int(count_threads("maddness-fit"), 0);
  fail_unless_equals_int(count_named(log, "maddness-trained"), 0);
  fail_unless(log->held, "the fit was never held: the test did not cancel a running fit");
  assert_no_file(location);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* ---- pipelines ------------------------------------------------------------------- */

/* appsrc ! trainer ! trainer ! fakesink: both write their presets, each with
 * its own ladder, and EOS reaches the sink after both. */
GST_START_TEST(test_two_trainers_pipeline)
{
  char *loc1 = tmp_path("first.mdn"), *loc2 = tmp_path("second.mdn");
  char *desc = g_strdup_printf(
      "appsrc name=src format=time caps=" CAPS_FMT " ! maddnesstrainer name=t1 kernel=\"%s\" "
      "location=\"%s\" tiers=s4d4 ! maddnesstrainer name=t2 kernel=\"%s\" location=\"%s\" "
      "tiers=s2d6e8 ! fakesink sync=false",
      RATE, 1, lp_taps, loc1, lp_preset, loc2);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  GstElement *src;
  GstBus *bus;
  GstMessage *msg;
  size_t n = 5 * RATE, done = 0;
  float *audio = mdn_signal_music(n, RATE, 21);
  GstFlowReturn flow;
  int trained1 = 0, trained2 = 0;
  MdnModel *m1, *m2;
  MdnTierInfo info;

  fail_unless(pipeline != NULL);
  src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  while (done < n) {
    size_t k = MIN(CHUNK, n - done);

    GstBuffer *buf = mdn_gst_test_make_buffer(audio + done, k, 1, RATE, done);

    /* The signal, unlike gst_app_src_push_buffer(), does not take the buffer. */
    g_signal_emit_by_name(src, "push-buffer", buf, &flow);
    gst_buffer_unref(buf);
    fail_unless_equals_int(flow, GST_FLOW_OK);
    done += k;
  }
  g_signal_emit_by_name(src, "end-of-stream", &flow);
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);

  bus = gst_element_get_bus(pipeline);
  for (;;) {
    msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                     GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    fail_unless(msg != NULL, "timeout");
    fail_if(GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR, "error");
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
      gst_message_unref(msg);
      break;
    }
    if (is_element_message(msg, "maddness-trained")) {
      const char *name = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));

      trained1 += strcmp(name, "t1") == 0;
      trained2 += strcmp(name, "t2") == 0;
    }
    gst_message_unref(msg);
  }
  fail_unless_equals_int(trained1, 1);
  fail_unless_equals_int(trained2, 1);
  gst_element_set_state(pipeline, GST_STATE_NULL);

  m1 = load_model(loc1);
  m2 = load_model(loc2);
  fail_unless_equals_int(mdn_model_n_tiers(m1), 1);
  fail_unless_equals_int(mdn_model_n_tiers(m2), 1);
  mdn_model_tier_info(m1, 0, &info);
  fail_unless_equals_string(info.name, "s4d4");
  mdn_model_tier_info(m2, 0, &info);
  fail_unless_equals_string(info.name, "s2d6e8");
  assert_same_kernel(mdn_model_kernel(m2), klp);

  mdn_model_free(m1);
  mdn_model_free(m2);
  gst_object_unref(bus);
  gst_object_unref(src);
  gst_object_unref(pipeline);
  g_free(audio);
  g_free(desc);
  g_free(loc1);
  g_free(loc2);
}
GST_END_TEST;

/* ---- messages ---------------------------------------------------------------------- */

/* maddness-progress: stage and percent, in range, no more than a second
 * apart, ending at 100; maddness-trained: location, seconds, and a tier
 * array matching the written preset. */
GST_START_TEST(test_messages)
{
  char *location = tmp_path("messages.mdn");
  MsgLog *log = msg_log_new();
  const GValue *tiers;
  GstStructure *trained = NULL;
  gint64 last_time = 0;
  double last_percent = -1, seconds = 0, progress = -1;
  int n_progress = 0, t;
  MdnModel *model;
  guint i;

  fit_speech(lp_taps, location, LADDER, 5.0, 2, log);
  for (i = 0; i < log->messages->len; i++) {
    GstMessage *m = g_ptr_array_index(log->messages, i);
    gint64 time = g_array_index(log->times, gint64, i);
    const GstStructure *s = gst_message_get_structure(m);

    if (is_element_message(m, "maddness-progress")) {
      const char *stage = gst_structure_get_string(s, "stage");

      fail_unless(stage != NULL && stage[0], "progress without a stage");
      fail_unless(gst_structure_get_double(s, "percent", &last_percent));
      fail_unless(last_percent >= 0.0 && last_percent <= 100.0, "percent %g", last_percent);
      if (n_progress > 0)
        fail_unless(time - last_time <= G_TIME_SPAN_SECOND, "%.2f s without progress",
                    (time - last_time) / 1e6);
      fail_unless(trained == NULL, "progress after maddness-trained");
      last_time = time;
      n_progress++;
    } else if (is_element_message(m, "maddness-trained")) {
      fail_unless(trained == NULL, "two maddness-trained messages");
      trained = gst_structure_copy(s);
    }
  }
  fail_unless(n_progress >= 2, "%d progress messages", n_progress);
  fail_unless(last_percent == 100.0, "the last progress is %g %%", last_percent);
  fail_unless(trained != NULL, "no maddness-trained message");

  fail_unless_equals_string(gst_structure_get_string(trained, "location"), location);
  fail_unless(gst_structure_get_double(trained, "seconds", &seconds));
  fail_unless(fabs(seconds - 5.0) < 1e-6, "seconds %g, 5 pushed", seconds);
  tiers = gst_structure_get_value(trained, "tiers");
  fail_unless(tiers != NULL && GST_VALUE_HOLDS_ARRAY(tiers));
  model = load_model(location);
  fail_unless_equals_int(gst_value_array_get_size(tiers), mdn_model_n_tiers(model));
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    const GValue *v = gst_value_array_get_value(tiers, t);
    const GstStructure *tier;
    double snr = 0;
    MdnTierInfo info;

    fail_unless(GST_VALUE_HOLDS_STRUCTURE(v));
    tier = gst_value_get_structure(v);
    mdn_model_tier_info(model, t, &info);
    fail_unless_equals_string(gst_structure_get_string(tier, "name"), info.name);
    fail_unless(gst_structure_get_double(tier, "snr-db", &snr));
    fail_unless(fabs(snr - info.snr_db) < 1e-9, "snr-db %g, preset %g", snr, info.snr_db);
  }

  /* The progress property of a fresh element starts at 0. */
  {
    GstElement *e = make_trainer(lp_taps, location, LADDER);

    g_object_get(e, "progress", &progress, NULL);
    fail_unless(progress == 0.0);
    gst_object_unref(e);
  }
  mdn_model_free(model);
  gst_structure_free(trained);
  msg_log_free(log);
  g_free(location);
}
GST_END_TEST;

/* The progress property during and after a fit. */
GST_START_TEST(test_progress_property)
{
  char *location = tmp_path("progress.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(lp_taps, location, LADDER), log, RATE, 1);
  size_t n = 4 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 8);
  double progress = -1;

  push_all(h, audio, n, 1, RATE);
  g_object_get(h->element, "progress", &progress, NULL);
  fail_unless(progress == 0.0, "progress %g before a fit", progress);
  push_eos(h);
  g_object_get(h->element, "progress", &progress, NULL);
  fail_unless(progress == 100.0, "progress %g after the fit", progress);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* ---- kernels, channels, reservoir, properties -------------------------------------- */

/* Variant `rate` of `preset`: its kernel is `expected` (bit for bit), it has
 * `n_tiers` tiers, and each tier's output on other speech at that rate, against
 * the reference conv of the variant's kernel, meets the floor of the other
 * fits (10 dB; a few seconds of speech, like test_fit_writes_preset) and the
 * tier's claim within 3 dB (its expected-snr, measured on the held-out part
 * of the recording). */
static void
assert_variant(const MdnPreset *preset, int rate, const MdnKernel *expected, int n_tiers)
{
  const MdnModel *v = mdn_preset_variant_at_rate(preset, rate);
  size_t n = 2 * (size_t)rate;
  float *test = mdn_signal_speech(n, rate, 99);
  int t;

  fail_unless(v != NULL, "no variant at %d Hz", rate);
  fail_unless(mdn_model_kernel(v)->rate == rate, "variant at %g Hz", mdn_model_kernel(v)->rate);
  assert_same_kernel(mdn_model_kernel(v), expected);
  fail_unless_equals_int(mdn_model_n_tiers(v), n_tiers);
  for (t = 0; t < n_tiers; t++) {
    double snr = tier_snr(v, t, test, n);
    MdnTierInfo info;

    mdn_model_tier_info(v, t, &info);
    fail_unless(snr >= 10.0, "%d Hz, tier %s: %.2f dB on other speech, floor 10 dB (claim %.2f)",
                rate, info.name, snr, info.snr_db);
    fail_unless(snr >= info.snr_db - 3.0, "%d Hz, tier %s: %.2f dB on other speech, claim %.2f",
                rate, info.name, snr, info.snr_db);
  }
  g_free(test);
}

/* A WAV IR and a .mdn preset give the same kernel as the taps file; a taps
 * file takes the stream's rate: the written preset has one variant, at the
 * stream's rate, with the ladder's tier. */
GST_START_TEST(test_kernel_kinds)
{
  const char *kernels[] = { lp_wav, lp_preset, lp_taps };
  const int rates[] = { RATE, RATE, 22050 };
  int k;

  for (k = 0; k < 3; k++) {
    char *location = tmp_path("kind.mdn");
    MsgLog *log = msg_log_new();
    GstHarness *h = trainer_harness(make_trainer(kernels[k], location, "s4d4"), log, rates[k], 1);
    size_t n = 3 * rates[k];
    float *audio = mdn_signal_speech(n, rates[k], 4);
    char *error;
    GError *gerror = NULL;
    MdnPreset *preset;

    push_all(h, audio, n, 1, rates[k]);
    push_eos(h);
    error = first_error(log);
    fail_unless(error == NULL, "%s: %s", kernels[k], error);
    preset = mdn_preset_load(location, &gerror);
    fail_unless(preset != NULL, "%s", gerror ? gerror->message : "?");
    fail_unless_equals_int(mdn_preset_n_variants(preset), 1);
    assert_variant(preset, rates[k], klp, 1);
    mdn_preset_free(preset);
    gst_harness_teardown(h);
    msg_log_free(log);
    g_free(audio);
    g_unlink(location);
    g_free(location);
  }
}
GST_END_TEST;

/* Records 2 s at `rate` with kernel `kernel` into `location`; returns the
 * first error (NULL: none) and the trained message's rates in *rates. */
static char *
train_at(const char *kernel, const char *location, int rate, gboolean resample, GArray *rates)
{
  MsgLog *log = msg_log_new();
  GstElement *trainer = make_trainer(kernel, location, "s4d4");
  GstHarness *h;
  size_t n = 2 * (size_t)rate;
  float *audio = mdn_signal_speech(n, rate, 6);
  char *error;
  guint i, j;

  g_object_set(trainer, "resample-kernel", resample, NULL);
  h = trainer_harness(trainer, log, rate, 1);
  /* A refused rate refuses the first buffer; else all of it, then EOS (the fit). */
  if (gst_harness_push(h, mdn_gst_test_make_buffer(audio, CHUNK, 1, rate, 0)) == GST_FLOW_OK) {
    size_t done;

    gst_buffer_unref(gst_harness_pull(h));
    for (done = CHUNK; done < n; done += CHUNK)
      push_check(h, audio + done, MIN((size_t)CHUNK, n - done), 1, rate, done);
    push_eos(h);
  }
  error = first_error(log);
  for (i = 0; i < log->messages->len; i++) {
    GstMessage *m = g_ptr_array_index(log->messages, i);

    if (is_element_message(m, "maddness-trained")) {
      const GstStructure *st = gst_message_get_structure(m);
      const GValue *array = gst_structure_get_value(st, "rates");
      int trained_rate = 0;

      fail_unless(gst_structure_get_int(st, "rate", &trained_rate));
      fail_unless_equals_int(trained_rate, rate);
      for (j = 0; array && j < gst_value_array_get_size(array); j++) {
        int r = g_value_get_int(gst_value_array_get_value(array, j));
        g_array_append_val(rates, r);
      }
    }
  }
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  return error;
}

/* A preset kernel: the variant at the stream's rate is fitted again and the
 * preset's other variants are written too (a preset gains a rate); a rate
 * the preset lacks is an error naming its rates unless resample-kernel. */
GST_START_TEST(test_kernel_preset_variants)
{
  char *location = tmp_path("variants.mdn");
  GArray *rates = g_array_new(FALSE, FALSE, sizeof(int));
  GError *gerror = NULL;
  MdnPreset *p = mdn_preset_new(), *written;
  MdnKernel *k32 = mdn_design_lowpass(17, 3000, 2 * RATE), *k48;
  char *error;

  /* Two variants: the lowpass at 16 kHz, and another kernel at 32 kHz. */
  fail_unless(mdn_preset_add_variant(p, mdn_model_new(klp, NULL), &gerror));
  fail_unless(mdn_preset_add_variant(p, mdn_model_new(k32, NULL), &gerror));
  fail_unless(mdn_preset_save(p, location, &gerror));
  mdn_preset_free(p);

  /* At 32 kHz, kernel and location the same file: the 32 kHz variant gains
   * tiers, and the 16 kHz variant is still the untouched lowpass. */
  error = train_at(location, location, 2 * RATE, FALSE, rates);
  fail_unless(error == NULL, "%s", error);
  fail_unless_equals_int(rates->len, 2);
  fail_unless_equals_int(g_array_index(rates, int, 0), RATE);
  fail_unless_equals_int(g_array_index(rates, int, 1), 2 * RATE);
  written = mdn_preset_load(location, &gerror);
  fail_unless(written != NULL);
  fail_unless_equals_int(mdn_preset_n_variants(written), 2);
  assert_variant(written, 2 * RATE, k32, 1);
  assert_variant(written, RATE, klp, 0);
  mdn_preset_free(written);

  /* 48 kHz: not in the preset. */
  g_array_set_size(rates, 0);
  error = train_at(location, location, 48000, FALSE, rates);
  fail_unless(error != NULL && strstr(error, "only at 16000 and 32000 Hz")
                  && strstr(error, "(48000 Hz)"),
              "%s", error ? error : "no error");
  written = mdn_preset_load(location, &gerror); /* untouched */
  fail_unless_equals_int(mdn_preset_n_variants(written), 2);
  mdn_preset_free(written);
  g_free(error);
  /* ... unless resampled: the default variant (the highest rate, 32 kHz)
   * resampled to 48 kHz (ceil(17 * 48 / 32) = 26 taps), fitted; the others kept. */
  g_array_set_size(rates, 0);
  error = train_at(location, location, 48000, TRUE, rates);
  fail_unless(error == NULL, "%s", error);
  fail_unless_equals_int(rates->len, 3);
  fail_unless_equals_int(g_array_index(rates, int, 2), 48000);
  written = mdn_preset_load(location, &gerror);
  fail_unless_equals_int(mdn_preset_n_variants(written), 3);
  k48 = mdn_kernel_resample(k32, 48000, &gerror);
  fail_unless(k48 != NULL);
  fail_unless_equals_int(k48->taps, 26);
  assert_variant(written, 48000, k48, 1);
  assert_variant(written, 2 * RATE, k32, 1);
  assert_variant(written, RATE, klp, 0);
  mdn_preset_free(written);
  mdn_kernel_free(k48);
  mdn_kernel_free(k32);

  g_array_free(rates, TRUE);
  g_unlink(location);
  g_free(location);
}
GST_END_TEST;

static double
trained_seconds(MsgLog *log)
{
  double seconds = -1;
  guint i;

  for (i = 0; i < log->messages->len; i++) {
    GstMessage *m = g_ptr_array_index(log->messages, i);

    if (is_element_message(m, "maddness-trained"))
      gst_structure_get_double(gst_message_get_structure(m), "seconds", &seconds);
  }
  return seconds;
}

/* A `fit` action still running at EOS: EOS lets it finish, then fits on
 * all that was recorded; two presets are reported, in that order. */
GST_START_TEST(test_fit_then_eos)
{
  char *location = tmp_path("then-eos.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(lp_taps, location, "s4d4"), log, RATE, 1);
  size_t n = 4 * RATE, first = 3 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 18);
  gboolean started = FALSE;
  double seconds[2] = { 0, 0 };
  int n_trained = 0;
  guint i;

  push_all(h, audio, first, 1, RATE);
  g_signal_emit_by_name(h->element, "fit", &started);
  fail_unless(started);
  push_check(h, audio + first, n - first, 1, RATE, first);
  push_eos(h);
  fail_unless(first_error(log) == NULL);
  for (i = 0; i < log->messages->len; i++) {
    GstMessage *m = g_ptr_array_index(log->messages, i);

    if (is_element_message(m, "maddness-trained")) {
      fail_unless(n_trained < 2, "more than two presets");
      gst_structure_get_double(gst_message_get_structure(m), "seconds", &seconds[n_trained++]);
    }
  }
  fail_unless_equals_int(n_trained, 2);
  /* The action's snapshot was taken when its worker started: between 3 s
   * and all 4 s; the EOS fit has everything. */
  fail_unless(seconds[0] >= 3.0 - 1e-6 && seconds[0] <= 4.0 + 1e-6, "first %g s", seconds[0]);
  fail_unless(fabs(seconds[1] - 4.0) < 1e-6, "EOS fit on %g s", seconds[1]);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* A mono kernel on stereo: both channels are used, one after the other. */
GST_START_TEST(test_mono_kernel_on_stereo)
{
  char *location = tmp_path("stereo.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(lp_taps, location, "s4d4"), log, RATE, 2);
  size_t n = 3 * RATE;
  float *audio = mdn_signal_multichannel(mdn_signal_speech, n, 2, RATE, 6);
  MdnModel *model;
  char *error;

  push_all(h, audio, n, 2, RATE);
  push_eos(h);
  error = first_error(log);
  fail_unless(error == NULL, "%s", error);
  fail_unless(fabs(trained_seconds(log) - 6.0) < 1e-6, "seconds %g: 2 channels of 3 s",
              trained_seconds(log));
  model = load_model(location);
  fail_unless_equals_int(mdn_model_kernel(model)->cin, 1);
  mdn_model_free(model);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* The reservoir keeps the most recent max-seconds. */
GST_START_TEST(test_reservoir_bound)
{
  char *location = tmp_path("bound.mdn");
  MsgLog *log = msg_log_new();
  GstElement *trainer = make_trainer(lp_taps, location, "s4d4");
  size_t n = 5 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 9);
  GstHarness *h;

  g_object_set(trainer, "max-seconds", 2.5, NULL);
  h = trainer_harness(trainer, log, RATE, 1);
  push_all(h, audio, n, 1, RATE);
  push_eos(h);
  fail_unless(fabs(trained_seconds(log) - 2.5) < 1e-6, "seconds %g, max-seconds 2.5",
              trained_seconds(log));
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* max-seconds 3600 at 8 channels and 192 kHz (22 GB if it were allocated at
 * once): setting the caps asks for little memory, and recording grows the
 * memory with the audio, in bounded steps. Bounds: the caps take under
 * 1 MiB (bookkeeping only); each request while recording is at most 8 MiB
 * ("a few MiB"); all of them together at least what was recorded (it is kept)
 * and at most that plus two such steps. */
#define BIG_RATE 192000
#define BIG_CHANNELS 8
#define STEP_MAX ((gsize)8 << 20)
GST_START_TEST(test_reservoir_grows)
{
  char *location = tmp_path("grows.mdn");
  MsgLog *log = msg_log_new();
  GstElement *trainer = make_trainer(lp_taps, location, LADDER);
  size_t block = 4800, n = 2 * BIG_RATE, done, i;
  float *audio = g_new(float, block *BIG_CHANNELS);
  gsize largest, total, recorded = n * BIG_CHANNELS * sizeof(float);
  GstHarness *h;

  for (i = 0; i < block * BIG_CHANNELS; i++)
    audio[i] = (float)sin(0.01 * (double)i);
  g_object_set(trainer, "max-seconds", 3600.0, "fit-on-eos", FALSE, NULL);
  hook_reset(G_MAXSIZE, -1);
  h = trainer_harness(trainer, log, BIG_RATE, BIG_CHANNELS);
  G_LOCK(hook);
  largest = hook_largest;
  total = hook_total;
  G_UNLOCK(hook);
  fail_unless(first_error(log) == NULL, "error: %s", first_error(log));
  fail_unless(total < ((gsize)1 << 20),
              "setting the caps asked for %" G_GSIZE_FORMAT " bytes (largest %" G_GSIZE_FORMAT ")",
              total, largest);

  hook_reset(G_MAXSIZE, -1);
  for (done = 0; done < n; done += block)
    push_check(h, audio, block, BIG_CHANNELS, BIG_RATE, done);
  G_LOCK(hook);
  largest = hook_largest;
  total = hook_total;
  G_UNLOCK(hook);
  fail_unless(first_error(log) == NULL, "error: %s", first_error(log));
  fail_unless(largest <= STEP_MAX, "a request of %" G_GSIZE_FORMAT " bytes while recording",
              largest);
  fail_unless(total >= recorded && total <= recorded + 2 * STEP_MAX,
              "%" G_GSIZE_FORMAT " bytes asked for to record %" G_GSIZE_FORMAT, total, recorded);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* The recording's memory runs out (large allocations of the plugin fail after
 * fail_after of them): exactly one error, saying so; the buffers after it are
 * refused, and EOS writes nothing and posts nothing more (no "too little
 * audio"). */
static void
check_alloc_failure(gint fail_after)
{
  char *location = tmp_path("no-memory.mdn");
  MsgLog *log = msg_log_new();
  size_t n = 4 * RATE, done;
  float *audio = mdn_signal_speech(n, RATE, 23);
  GstElement *trainer = make_trainer(lp_taps, location, LADDER);
  int refused = 0;
  guint failed;
  GstHarness *h;
  char *error;

  hook_reset(16 << 10, fail_after);
  h = trainer_harness(trainer, log, RATE, 1);
  for (done = 0; done < n; done += CHUNK) {
    GstBuffer *buf = mdn_gst_test_make_buffer(audio + done, MIN(CHUNK, n - done), 1, RATE, done);

    if (gst_harness_push(h, buf) == GST_FLOW_OK)
      gst_buffer_unref(gst_harness_pull(h));
    else
      refused++;
  }
  gst_harness_push_event(h, gst_event_new_eos());
  G_LOCK(hook);
  failed = hook_failed;
  G_UNLOCK(hook);
  hook_reset(G_MAXSIZE, -1);
  fail_unless(failed >= 1, "no allocation failed (fail_after %d): nothing was tested", fail_after);
  fail_unless(refused > 0, "every buffer was accepted after the failure");
  fail_unless_equals_int(count_type(log, GST_MESSAGE_ERROR), 1);
  error = first_error(log);
  fail_unless(strstr(error, "memory") != NULL && strstr(error, "max-seconds") != NULL,
              "error \"%s\" does not say memory ran out and what to lower", error);
  fail_unless_equals_int(count_named(log, "maddness-trained"), 0);
  assert_no_file(location);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(error);
  g_free(audio);
  g_free(location);
}

GST_START_TEST(test_reservoir_alloc_failure)
{
  check_alloc_failure(0); /* the first block */
  check_alloc_failure(2); /* a later one */
}
GST_END_TEST;

/* A memory holding a copy of size bytes. */
static GstMemory *
memory_copy(const guint8 *bytes, gsize size)
{
  guint8 *copy = g_malloc(size);

  memcpy(copy, bytes, size);
  return gst_memory_new_wrapped(0, copy, size, 0, size, copy, g_free);
}

/* Buffers of several memories, split inside samples: passed bit-exact, and
 * recorded whole and in order (seconds match, and the preset fitted on the
 * recording meets the floor of test_fit_writes_preset on other speech). */
GST_START_TEST(test_split_memories)
{
  char *location = tmp_path("split.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(lp_taps, location, "s4d4"), log, RATE, 1);
  size_t n = 4 * RATE, done = 0, n_test = 2 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 13);
  float *test = mdn_signal_speech(n_test, RATE, 14);
  MdnModel *model;
  double snr;

  while (done < n) {
    size_t k = MIN(CHUNK, n - done);
    const guint8 *bytes = (const guint8 *)(audio + done);
    gsize size = k * sizeof(float), cut1 = 4 * 37 + 1, cut2 = size - 6;
    GstBuffer *buf = gst_buffer_new(), *out;

    gst_buffer_append_memory(buf, memory_copy(bytes, cut1));
    gst_buffer_append_memory(buf, memory_copy(bytes + cut1, cut2 - cut1));
    gst_buffer_append_memory(buf, memory_copy(bytes + cut2, size - cut2));
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    out = gst_harness_pull(h);
    fail_unless(gst_buffer_memcmp(out, 0, bytes, size) == 0, "not bit-exact");
    gst_buffer_unref(out);
    done += k;
  }
  push_eos(h);
  fail_unless(fabs(trained_seconds(log) - 4.0) < 1e-6, "seconds %g", trained_seconds(log));
  model = load_model(location);
  snr = tier_snr(model, 0, test, n_test);
  fail_unless(snr >= 10.0, "%.2f dB on other speech", snr);
  mdn_model_free(model);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(test);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* Zero-length buffers, NaN and Inf pass through untouched and do not spoil
 * the fit (non-finite samples are fitted as silence). */
GST_START_TEST(test_bad_input)
{
  char *location = tmp_path("bad-input.mdn");
  MsgLog *log = msg_log_new();
  GstHarness *h = trainer_harness(make_trainer(lp_taps, location, "s4d4"), log, RATE, 1);
  size_t n = 4 * RATE, n_test = 2 * RATE, t;
  float *audio = mdn_signal_speech(n, RATE, 15);
  float *test = mdn_signal_speech(n_test, RATE, 16);
  GstBuffer *out;
  MdnModel *model;
  double snr;
  char *error;

  for (t = RATE; t < n; t += RATE / 2)
    audio[t] = (t / (RATE / 2)) % 2 ? NAN : INFINITY;
  fail_unless_equals_int(gst_harness_push(h, gst_buffer_new()), GST_FLOW_OK);
  out = gst_harness_pull(h);
  fail_unless_equals_uint64(gst_buffer_get_size(out), 0);
  gst_buffer_unref(out);
  push_all(h, audio, n, 1, RATE); /* checks bit-exact passthrough, NaN included */
  push_eos(h);
  error = first_error(log);
  fail_unless(error == NULL, "%s", error);
  model = load_model(location);
  snr = tier_snr(model, 0, test, n_test);
  fail_unless(snr >= 10.0, "%.2f dB on other speech", snr);
  mdn_model_free(model);
  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(test);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

/* During a long fit: progress messages at most a second apart (the ticker
 * covers engine silences), the progress property never goes back and stays
 * in range. */
GST_START_TEST(test_progress_during_long_fit)
{
  char *location = tmp_path("long.mdn");
  MsgLog *log = msg_log_new();
  GstElement *trainer = make_trainer(long_taps, location, "");
  size_t n = 8 * RATE;
  float *audio = mdn_signal_speech(n, RATE, 17);
  gboolean started = FALSE;
  double first = -1, later = -1;
  gint64 last_time = 0;
  int n_progress = 0;
  GstHarness *h;
  guint i;

  g_object_set(trainer, "fit-on-eos", FALSE, NULL);
  h = trainer_harness(trainer, log, RATE, 1);
  push_all(h, audio, n, 1, RATE);
  g_signal_emit_by_name(h->element, "fit", &started);
  fail_unless(started);
  wait_for_engine(log);
  g_object_get(h->element, "progress", &first, NULL);
  /* However long the fit takes on this machine, it is never silent for more
   * than a second, and progress never goes back. Wait for its end. */
  {
    gint64 end = g_get_monotonic_time() + 120 * G_TIME_SPAN_SECOND;
    while (count_named(log, "maddness-trained") == 0 && g_get_monotonic_time() < end) {
      g_usleep(100 * 1000);
      g_object_get(h->element, "progress", &later, NULL);
      fail_unless(later >= first, "progress went back from %g to %g", first, later);
      first = later;
    }
  }
  fail_unless_equals_int(count_named(log, "maddness-trained"), 1);

  g_mutex_lock(&log->lock);
  for (i = 0; i < log->messages->len; i++) {
    GstMessage *m = g_ptr_array_index(log->messages, i);
    gint64 time = g_array_index(log->times, gint64, i);

    if (!is_element_message(m, "maddness-progress") && !is_element_message(m, "maddness-trained"))
      continue;
    if (n_progress > 0)
      fail_unless(time - last_time <= G_TIME_SPAN_SECOND, "%.2f s without progress",
                  (time - last_time) / 1e6);
    last_time = time;
    n_progress++;
  }
  g_mutex_unlock(&log->lock);
  fail_unless(n_progress >= 2, "%d progress messages", n_progress);

  gst_harness_teardown(h);
  msg_log_free(log);
  g_free(audio);
  g_free(location);
}
GST_END_TEST;

GST_START_TEST(test_properties)
{
  GstElement *e = gst_element_factory_make("maddnesstrainer", NULL);
  gchar *tiers = NULL;
  double max_seconds = 0;
  gboolean fit_on_eos = FALSE;

  fail_unless(e != NULL);
  g_object_get(e, "tiers", &tiers, "max-seconds", &max_seconds, "fit-on-eos", &fit_on_eos, NULL);
  fail_unless_equals_string(tiers, "");
  fail_unless(max_seconds == 60.0);
  fail_unless(fit_on_eos);
  g_free(tiers);

  g_object_set(e, "tiers", "s8d4,s4d6e8", NULL);
  g_object_get(e, "tiers", &tiers, NULL);
  fail_unless_equals_string(tiers, "s8d4,s4d6e8");
  g_free(tiers);
  /* Kept as set, even when invalid: the error comes when it is used
   * (test_error_bad_tiers). */
  g_object_set(e, "tiers", "s9x", NULL);
  g_object_get(e, "tiers", &tiers, NULL);
  fail_unless_equals_string(tiers, "s9x");
  g_free(tiers);
  /* No fit outside PAUSED/PLAYING. */
  g_signal_emit_by_name(e, "fit", &fit_on_eos);
  fail_if(fit_on_eos, "a fit started in NULL");
  gst_object_unref(e);
}
GST_END_TEST;

static Suite *
maddnesstrainer_suite(void)
{
  Suite *s = suite_create("maddnesstrainer");
  TCase *tc = tcase_create("general");

  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_fit_writes_preset);
  tcase_add_test(tc, test_same_preset_as_maddness_fit);
  tcase_add_test(tc, test_passthrough_during_fit);
  tcase_add_test(tc, test_error_unreadable_kernel);
  tcase_add_test(tc, test_error_unwritable_location);
  tcase_add_test(tc, test_error_rate_mismatch);
  tcase_add_test(tc, test_error_channels_mismatch);
  tcase_add_test(tc, test_error_too_little_audio);
  tcase_add_test(tc, test_error_bad_tiers);
  tcase_add_test(tc, test_null_during_fit);
  tcase_add_test(tc, test_null_during_eos_fit);
  tcase_add_test(tc, test_two_trainers_pipeline);
  tcase_add_test(tc, test_messages);
  tcase_add_test(tc, test_progress_property);
  tcase_add_test(tc, test_kernel_kinds);
  tcase_add_test(tc, test_kernel_preset_variants);
  tcase_add_test(tc, test_fit_then_eos);
  tcase_add_test(tc, test_mono_kernel_on_stereo);
  tcase_add_test(tc, test_reservoir_bound);
  tcase_add_test(tc, test_reservoir_grows);
  tcase_add_test(tc, test_reservoir_alloc_failure);
  tcase_add_test(tc, test_split_memories);
  tcase_add_test(tc, test_bad_input);
  tcase_add_test(tc, test_progress_during_long_fit);
  tcase_add_test(tc, test_properties);
  return s;
}

static void
make_kernels(void)
{
  GError *error = NULL;
  MdnKernel *k;

  tmp_dir = g_dir_make_tmp("test-maddnesstrainer-XXXXXX", &error);
  g_assert_no_error(error);

  klp = mdn_design_lowpass(31, 2000, RATE);
  lp_taps = tmp_path("lowpass.taps");
  write_taps(klp, lp_taps);
  lp_preset = tmp_path("lowpass.mdn");
  mdn_gst_test_write_preset(klp, lp_preset);
  lp_wav = tmp_path("lowpass.wav");
  write_wav(klp, lp_wav);

  k = mdn_design_random_kernel(2, 1, 9, 1, RATE, 5);
  k21_taps = tmp_path("k21.taps");
  write_taps(k, k21_taps);
  mdn_kernel_free(k);

  k = mdn_design_room_ir(1024, 0.3, RATE, 3);
  long_taps = tmp_path("room.taps");
  write_taps(k, long_taps);
  mdn_kernel_free(k);
}

int
main(int argc, char **argv)
{
  int failed;

  gst_check_init(&argc, &argv);
  make_kernels();
  failed = mdn_gst_test_run(maddnesstrainer_suite(), "maddnesstrainer", __FILE__, tmp_dir);
  mdn_kernel_free(klp);
  return failed;
}

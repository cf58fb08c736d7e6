/* maddness-bench: the engine's exact path and MADDNESS tiers against exact peers.
 *
 * For each workload (a kernel and 48 kHz signals made here) it measures, in
 * one run: GStreamer's audiofirfilter (1->1 only), FFTW3f overlap-save,
 * im2col + OpenBLAS sgemm (multichannel only), the engine's exact path, and
 * every tier of a model fitted with mdn_fit on other audio than the measured
 * one. For each method: median ns per frame over --runs passes after a
 * warm-up (1024-frame buffers), speed-up against the fastest exact method of
 * the workload in this run, SNR against the double-precision reference, and
 * the tier's table bytes. `make bench` runs it; see bench/README.md.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-clock.h"
#include "bench-peers.h"
#include "bench-nam.h"
#include "maddness.h"
#include "mdn-signals.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BENCH_HAVE_CALLGRIND
/* Under `valgrind --tool=callgrind --instr-atstart=no`, only the measured
 * passes are instrumented: the fit and the reference run at native speed. */
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#define RATE 48000.0
#define TEST_SEED 1001 /* measured audio; fitting uses seeds from TRAIN_SEED */
#define TRAIN_SEED 1
#define VERIFY_MIN_SNR_DB 60.0 /* an exact method below this is flagged */

typedef struct {
  const char *name;
  const char *what;
  double max_seconds;  /* cap on --seconds (0: none): the reference is slow there */
  size_t train_rows;   /* rows mdn_fit may use (0: the engine's default); see README */
  gboolean exact_only; /* no tiers fitted (long kernels: no tier pays, the fit takes hours) */
  gboolean extra;      /* run only when named with --workload */
} Workload;

static const Workload workloads[] = {
  { "lowpass64", "1->1, K=64 windowed-sinc lowpass at 6 kHz", 0, 0, FALSE, FALSE },
  { "bank16", "1->16, K=128 band-pass analysis bank", 0, 0, FALSE, FALSE },
  { "layer16", "16->16, K=9, dilation 2, trained-layer-like random weights", 0, 0, FALSE, FALSE },
  { "beam8", "8->2, K=256 filter-and-sum, delay-and-sum-like fractional delays", 0, 16384, FALSE,
    FALSE },
  { "reverb", "1->1, K=8192 room impulse response, RT60 0.4 s", 2.0, 8192, FALSE, FALSE },
  { "reverb64k", "1->2, K=65536 stereo room impulse response (1.4 s), RT60 1.2 s", 1.0, 0, TRUE,
    TRUE },
  /* a trained model, run exact (bench-nam.c): 512-frame blocks, its own peers */
  { "nam-standard", "NAM WaveNet, A1 standard topology, 13,802 weights", 0, 0, FALSE, FALSE },
};

/* Frames per call of every streaming method (--block). */
int bench_block = BENCH_DEFAULT_BLOCK;

/* One method of one workload: its instance, then what was measured. */
typedef struct {
  char name[48];
  gboolean exact;
  BenchPeer peer;
  size_t table_bytes;
  double *wall, *cpu; /* [runs]: seconds per pass */
  double ns, cpu_ns;  /* medians, per frame */
  double snr;         /* dB against the reference */
  gboolean verified;  /* exact methods: snr >= VERIFY_MIN_SNR_DB */
  gboolean failed;
} Method;

static gboolean opt_json;
static gchar **opt_workloads;
static gchar **opt_methods;
static double opt_seconds = 5.0;
static double opt_train_seconds = 10.0;
static int opt_runs = 5;
static gint64 opt_train_rows = -1; /* -1: each workload's own */
static char *opt_ladder;
static gboolean opt_keep_dominated;
static char *opt_models;
static char *opt_save_models;
static gboolean opt_best;
static double opt_rt_seconds;
static int opt_rt_runs = 5;

static GOptionEntry entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    "One JSON object per result line on stdout (the table goes to stderr)", NULL },
  { "workload", 'w', 0, G_OPTION_ARG_STRING_ARRAY, &opt_workloads,
    "Run this workload only (repeatable): lowpass64, bank16, layer16, beam8, reverb, "
    "nam-standard; reverb64k runs only when named",
    "NAME" },
  { "method", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &opt_methods,
    "Measure this method only (repeatable; mdn-fastest names tier 0)", "NAME" },
  { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
    "Seconds of measured signal (default 5; reverb at most 2)", "S" },
  { "train-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_train_seconds,
    "Seconds of training audio for mdn_fit (default 10)", "S" },
  { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs,
    "Timed passes per method, median taken (default 5)", "N" },
  { "train-rows", 0, 0, G_OPTION_ARG_INT64, &opt_train_rows,
    "Rows mdn_fit may use (0: the engine's default; default: 16384 for beam8, 8192 for reverb, "
    "the engine's default for the others)",
    "N" },
  { "keep-dominated", 0, 0, G_OPTION_ARG_NONE, &opt_keep_dominated,
    "Keep the tiers the fit would prune (off the SNR/cost front, or slower than exact)", NULL },
  { "ladder", 0, 0, G_OPTION_ARG_STRING, &opt_ladder, "Tier ladder to fit (default: the engine's)",
    "SPECS" },
  { "models", 0, 0, G_OPTION_ARG_FILENAME, &opt_models,
    "Load each workload's model from DIR/WORKLOAD.mdn when it exists instead of fitting one",
    "DIR" },
  { "save-models", 0, 0, G_OPTION_ARG_FILENAME, &opt_save_models,
    "Save each fitted model as DIR/WORKLOAD.mdn", "DIR" },
  { "best", 0, 0, G_OPTION_ARG_NONE, &opt_best,
    "Report the best of the timed passes instead of the median (a busy machine)", NULL },
  { "block", 'b', 0, G_OPTION_ARG_INT, &bench_block,
    "Frames per call of every streaming method, a power of two 16..4096 (default 1024)", "N" },
  { "rt-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_rt_seconds,
    "Also time every call of the engine's exact path over this many seconds of audio (fresh "
    "stream, --block frames per call): mean, worst, worst/mean",
    "S" },
  { "rt-runs", 0, 0, G_OPTION_ARG_INT, &opt_rt_runs,
    "Repeats of the --rt-seconds run; each call's best time is kept (default 5)", "N" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* The human-readable stream: stdout, or stderr when stdout carries JSON. */
static FILE *
text_out(void)
{
  return opt_json ? stderr : stdout;
}

static gboolean
method_wanted(const char *name, int tier_index)
{
  int i;
  if (!opt_methods)
    return TRUE;
  for (i = 0; opt_methods[i]; i++)
    if (strcmp(opt_methods[i], name) == 0
        || (tier_index == 0 && strcmp(opt_methods[i], "mdn-fastest") == 0))
      return TRUE;
  return FALSE;
}

static gboolean
any_tier_wanted(void)
{
  int i;
  if (!opt_methods)
    return TRUE;
  for (i = 0; opt_methods[i]; i++)
    if (g_str_has_prefix(opt_methods[i], "mdn-"))
      return TRUE;
  return FALSE;
}

/* ---- kernels and signals ----------------------------------------------- */

/* Two beams steered to -30 and +30 degrees from an 8-microphone line array
 * (4 cm spacing): each filter is a Blackman-windowed fractional-delay sinc
 * over the whole 256 taps, delays centred on tap 128, averaged over mics. */
static MdnKernel *
beam_kernel(void)
{
  const int mics = 8, beams = 2, taps = 256;
  MdnKernel *k = mdn_kernel_new(mics, beams, taps, 1, RATE, NULL);
  int o, i, j;

  for (o = 0; o < beams; o++)
    for (i = 0; i < mics; i++) {
      double angle = (o == 0 ? -30.0 : 30.0) * G_PI / 180.0;
      double delay = 128.0 + (i - (mics - 1) / 2.0) * 0.04 * sin(angle) * RATE / 343.0;
      for (j = 0; j < taps; j++) {
        double x = j - delay, w = 0.42 - 0.5 * cos(2 * G_PI * j / (taps - 1))
                                  + 0.08 * cos(4 * G_PI * j / (taps - 1));
        double s = fabs(x) < 1e-9 ? 1.0 : sin(G_PI * x) / (G_PI * x);
        k->weights[((size_t)o * mics + i) * taps + j] = (float)(w * s / mics);
      }
    }
  return k;
}

/* A stereo room response on a mono source: two room IRs (seeds 8 and 9),
 * one per output. */
static MdnKernel *
stereo_room_kernel(int taps, double rt60)
{
  MdnKernel *k = mdn_kernel_new(1, 2, taps, 1, RATE, NULL);
  int o;
  for (o = 0; o < 2; o++) {
    MdnKernel *side = mdn_design_room_ir(taps, rt60, RATE, 8 + o);
    memcpy(k->weights + (size_t)o * taps, side->weights, sizeof(float) * taps);
    mdn_kernel_free(side);
  }
  return k;
}

static MdnKernel *
workload_kernel(const Workload *w)
{
  if (strcmp(w->name, "lowpass64") == 0)
    return mdn_design_lowpass(64, 6000, RATE);
  if (strcmp(w->name, "bank16") == 0)
    return mdn_design_bank(16, 128, RATE);
  if (strcmp(w->name, "layer16") == 0)
    return mdn_design_random_kernel(16, 16, 9, 2, RATE, 16);
  if (strcmp(w->name, "beam8") == 0)
    return beam_kernel();
  if (strcmp(w->name, "reverb64k") == 0)
    return stereo_room_kernel(65536, 1.2);
  return mdn_design_room_ir(8192, 0.4, RATE, 8);
}

/* Speech for one input channel, music-like channels for several. */
static float *
workload_signal(const MdnKernel *k, size_t n, guint32 seed)
{
  if (k->cin == 1)
    return mdn_signal_speech(n, RATE, seed);
  return mdn_signal_multichannel(mdn_signal_music, n, k->cin, RATE, seed);
}

/* ---- timing ---------------------------------------------------------------- */

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double
median(double *x, int n)
{
  qsort(x, n, sizeof(double), compare_double);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static double
minimum(const double *x, int n)
{
  double m = x[0];
  int i;
  for (i = 1; i < n; i++)
    m = MIN(m, x[i]);
  return m;
}

static double
process_cpu_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One pass of a method: wall time as the method measured it, and the CPU time
 * of the whole process (all threads: audiofirfilter works in GStreamer's). */
static gboolean
pass(Method *m, const float *in, float *out, size_t n, int run, GError **error)
{
  double c0 = process_cpu_seconds(), wall;
  if (!m->peer.run(m->peer.state, in, out, n, &wall, error))
    return FALSE;
  if (run >= 0) {
    m->wall[run] = wall;
    m->cpu[run] = process_cpu_seconds() - c0;
  }
  return TRUE;
}

/* ---- the engine as a method ---------------------------------------------- */

typedef struct {
  MdnStream *stream;
  int tier, cin, cout;
} Engine;

static G_GNUC_NO_INLINE gboolean
engine_pass(Engine *e, const float *in, float *out, size_t n, GError **error)
{
  size_t done;
  mdn_stream_reset(e->stream);
  for (done = 0; done < n; done += (size_t)bench_block)
    if (!mdn_stream_process(e->stream, e->tier, in + done * e->cin, out + done * e->cout,
                            MIN((size_t)bench_block, n - done))) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "tier %d refused", e->tier);
      return FALSE;
    }
  return TRUE;
}

/* Two functions, so that callgrind can tell the exact path from a tier. */
static G_GNUC_NO_INLINE gboolean
run_engine_exact(gpointer state, const float *in, float *out, size_t n, double *seconds,
                 GError **error)
{
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = engine_pass(state, in, out, n, error);
  *seconds = (g_get_monotonic_time() - t0) / 1e6;
  return ok;
}

static G_GNUC_NO_INLINE gboolean
run_engine_tier(gpointer state, const float *in, float *out, size_t n, double *seconds,
                GError **error)
{
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = engine_pass(state, in, out, n, error);
  *seconds = (g_get_monotonic_time() - t0) / 1e6;
  return ok;
}

/* ---- output ---------------------------------------------------------------- */

static char *cpu_model;
static const char *engine_isa;

static char *
read_cpu_model(void)
{
  char *text = NULL, **lines, *model = NULL;
  int i;

  if (g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL)) {
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i] && !model; i++)
      if (g_str_has_prefix(lines[i], "model name") && strchr(lines[i], ':'))
        model = g_strstrip(g_strdup(strchr(lines[i], ':') + 1));
    g_strfreev(lines);
    g_free(text);
  }
  return model ? model : g_strdup("unknown");
}

static void
json_string(GString *s, const char *text)
{
  g_string_append_c(s, '"');
  for (; *text; text++) {
    if (*text == '"' || *text == '\\')
      g_string_append_printf(s, "\\%c", *text);
    else if ((unsigned char)*text < 0x20)
      g_string_append_printf(s, "\\u%04x", *text);
    else
      g_string_append_c(s, *text);
  }
  g_string_append_c(s, '"');
}

static void
json_number(GString *s, double x)
{
  if (isfinite(x))
    g_string_append_printf(s, "%.6g", x);
  else
    g_string_append(s, "null");
}

static void
print_results(const Workload *w, const MdnKernel *k, size_t n, const Method *ms, int n_ms)
{
  double best = INFINITY;
  int i;

  for (i = 0; i < n_ms; i++)
    if (!ms[i].failed && ms[i].exact && ms[i].ns < best)
      best = ms[i].ns;

  for (i = 0; i < n_ms; i++) {
    const Method *m = &ms[i];
    double speedup = best / m->ns;
    char table[32];

    if (m->failed)
      continue;
    if (m->exact)
      g_strlcpy(table, "-", sizeof table);
    else
      g_snprintf(table, sizeof table, "%zu", m->table_bytes);
    fprintf(text_out(), "%-10s %-18s %-5s %10.2f %10.2f %9.3f %8.1f %10s%s\n", w->name, m->name,
            m->exact ? "yes" : "no", m->ns, m->cpu_ns, speedup, m->snr, table,
            m->exact && !m->verified ? "  VERIFY FAILED" : "");
    if (opt_json) {
      GString *s = g_string_new("{\"workload\": ");
      json_string(s, w->name);
      g_string_append(s, ", \"method\": ");
      json_string(s, m->name);
      g_string_append_printf(s, ", \"exact\": %s, \"ns_per_frame\": ", m->exact ? "true" : "false");
      json_number(s, m->ns);
      g_string_append(s, ", \"cpu_ns_per_frame\": ");
      json_number(s, m->cpu_ns);
      g_string_append(s, ", \"speedup_vs_best_exact\": ");
      json_number(s, speedup);
      g_string_append(s, ", \"snr_db\": ");
      json_number(s, m->snr);
      g_string_append_printf(s, ", \"table_bytes\": %zu, \"verified\": %s", m->table_bytes,
                             m->exact ? (m->verified ? "true" : "false") : "null");
      g_string_append_printf(s,
                             ", \"cin\": %d, \"cout\": %d, \"taps\": %d, \"dilation\": %d, "
                             "\"frames\": %zu, \"runs\": %d, \"cpu\": ",
                             k->cin, k->cout, k->taps, k->dilation, n, opt_runs);
      json_string(s, cpu_model);
      g_string_append(s, ", \"isa\": ");
      json_string(s, engine_isa);
      g_string_append_printf(s, ", \"fit_rows_cap\": %zu",
                             opt_train_rows >= 0 ? (size_t)opt_train_rows : w->train_rows);
      g_string_append(s, "}");
      printf("%s\n", s->str);
      fflush(stdout);
      g_string_free(s, TRUE);
    }
  }
  fflush(text_out());
}

static void
progress(const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "  ");
  vfprintf(stderr, fmt, args);
  fprintf(stderr, "\n");
  va_end(args);
}

/* ---- per-buffer times ------------------------------------------------------ */

static double
wall_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The engine's exact path on a fresh stream for --rt-seconds of audio (the
 * measured signal over and over), --block frames per call, every call
 * timed in thread CPU time (what the call cost; the machine's other
 * processes do not enter it, but their interrupts and cache evictions do).
 * The run is repeated --rt-runs times from a reset stream: the calls do the
 * same work each time, so each call's best time over the repeats is its own
 * cost, and the worst of those over the calls is the engine's worst call.
 * The worst of the first run (anything the machine did included) and the
 * worst wall time are reported too. */
static void
run_rt(const Workload *w, const MdnKernel *k, const float *in, size_t n_in)
{
  const size_t block = (size_t)bench_block;
  const size_t calls = MAX(1, (size_t)(opt_rt_seconds * RATE / block));
  GError *error = NULL;
  MdnModel *model = mdn_model_new(k, &error);
  MdnStream *stream = model ? mdn_stream_new(model, 1, &error) : NULL;
  double *best = g_new(double, calls), *sorted = g_new(double, calls);
  float *out = g_new(float, block * k->cout);
  double sum = 0, worst = 0, first_sum = 0, first_worst = 0, wall_worst = 0, p999, mean, realtime;
  size_t c, pos, worst_at = 0;
  int run;

  if (!stream) {
    progress("rt omitted: %s", error->message);
    g_clear_error(&error);
    goto out;
  }
  for (run = 0; run < opt_rt_runs; run++) {
    if (run > 0)
      mdn_stream_reset(stream);
    for (c = 0, pos = 0; c < calls; c++) {
      double c0, w0, dt, dw;
      if (pos + block > n_in)
        pos = 0;
      w0 = wall_ns();
      c0 = bench_thread_cpu_ns();
      mdn_stream_process(stream, MDN_TIER_EXACT, in + pos * k->cin, out, block);
      dt = bench_thread_cpu_ns() - c0;
      dw = wall_ns() - w0;
      pos += block;
      best[c] = run == 0 ? dt : MIN(best[c], dt);
      if (run == 0) {
        first_sum += dt;
        first_worst = MAX(first_worst, dt);
        wall_worst = MAX(wall_worst, dw);
      }
    }
  }
  for (c = 0; c < calls; c++) {
    sum += best[c];
    if (best[c] > worst) {
      worst = best[c];
      worst_at = c;
    }
  }
  memcpy(sorted, best, sizeof(double) * calls);
  qsort(sorted, calls, sizeof(double), compare_double);
  p999 = sorted[MIN(calls - 1, (size_t)(0.999 * calls))];
  mean = sum / calls;
  realtime = block / RATE * 1e9 / mean;
  fprintf(text_out(),
          "%-10s rt: %zu calls of %d frames (%.0f s), best of %d runs per call: mean %.2f us "
          "(%.2f ns/frame, %.0fx real time), p99.9 %.2f us, worst %.2f us (call %zu), "
          "worst/mean %.2f; first run alone: mean %.2f us, worst %.2f us (%.2fx); wall worst "
          "%.1f us\n",
          w->name, calls, bench_block, calls * block / RATE, opt_rt_runs, mean / 1e3, mean / block,
          realtime, p999 / 1e3, worst / 1e3, worst_at, worst / mean, first_sum / calls / 1e3,
          first_worst / 1e3, first_worst / (first_sum / calls), wall_worst / 1e3);
  if (opt_json) {
    GString *s = g_string_new("{\"workload\": ");
    json_string(s, w->name);
    g_string_append_printf(s,
                           ", \"method\": \"engine-exact-rt\", \"block\": %d, \"calls\": %zu, "
                           "\"rt_runs\": %d",
                           bench_block, calls, opt_rt_runs);
    g_string_append(s, ", \"mean_us\": ");
    json_number(s, mean / 1e3);
    g_string_append(s, ", \"p999_us\": ");
    json_number(s, p999 / 1e3);
    g_string_append(s, ", \"worst_us\": ");
    json_number(s, worst / 1e3);
    g_string_append(s, ", \"worst_over_mean\": ");
    json_number(s, worst / mean);
    g_string_append(s, ", \"realtime_factor\": ");
    json_number(s, realtime);
    g_string_append(s, ", \"first_run_worst_over_mean\": ");
    json_number(s, first_worst / (first_sum / calls));
    g_string_append(s, ", \"wall_worst_us\": ");
    json_number(s, wall_worst / 1e3);
    g_string_append(s, ", \"isa\": ");
    json_string(s, engine_isa);
    g_string_append(s, "}");
    printf("%s\n", s->str);
    fflush(stdout);
    g_string_free(s, TRUE);
  }
out:
  if (stream)
    mdn_stream_free(stream);
  if (model)
    mdn_model_free(model);
  g_free(best);
  g_free(sorted);
  g_free(out);
}

/* ---- one workload ------------------------------------------------------------ */

typedef gboolean (*PeerNew)(const MdnKernel *, BenchPeer *, GError **);

static void
add_method(GArray *methods, const char *name, gboolean exact, const BenchPeer *peer,
           size_t table_bytes)
{
  Method m = { 0 };
  g_strlcpy(m.name, name, sizeof m.name);
  m.exact = exact;
  m.peer = *peer;
  m.table_bytes = table_bytes;
  m.wall = g_new0(double, opt_runs);
  m.cpu = g_new0(double, opt_runs);
  g_array_append_val(methods, m);
}

static void
add_peer(GArray *methods, const char *name, PeerNew make, const MdnKernel *k)
{
  GError *error = NULL;
  BenchPeer peer;

  if (!method_wanted(name, -1))
    return;
  if (make(k, &peer, &error))
    add_method(methods, name, TRUE, &peer, 0);
  else {
    progress("%s omitted: %s", name, error->message);
    g_error_free(error);
  }
}

/* A line at each quarter of the fit: fits of big kernels take minutes. */
static void
fit_progress(const char *stage, double fraction, gpointer data)
{
  int *quarter = data;
  if (fraction >= 0.25 * (*quarter + 1) && *quarter < 4) {
    *quarter = (int)(fraction * 4);
    progress("  fit: %.0f%% (%s)", 100 * fraction, stage);
  }
}

static MdnModel *
fit_tiers(const Workload *w, const MdnKernel *k, GError **error)
{
  size_t n_train = (size_t)(opt_train_seconds * RATE);
  float *train = workload_signal(k, n_train, TRAIN_SEED);
  int quarter = 0;
  MdnTierSpec *specs = NULL;
  MdnFitOptions options;
  MdnModel *model = NULL;
  gint64 t0 = g_get_monotonic_time();
  int n_specs;

  n_specs = mdn_tier_ladder_parse(opt_ladder ? opt_ladder : mdn_default_ladder(), &specs, error);
  if (n_specs > 0) {
    mdn_fit_options_init(&options);
    options.specs = specs;
    options.n_specs = n_specs;
    options.seed = TRAIN_SEED;
    options.max_train_rows = opt_train_rows >= 0 ? (size_t)opt_train_rows : w->train_rows;
    options.keep_dominated = opt_keep_dominated;
    options.progress = fit_progress;
    options.progress_data = &quarter;
    model = mdn_fit(k, train, n_train, &options, error);
    if (model)
      progress("fitted %d tiers on %.1f s of audio (rows: %s) in %.1f s", mdn_model_n_tiers(model),
               opt_train_seconds, options.max_train_rows ? "capped" : "engine default",
               (g_get_monotonic_time() - t0) / 1e6);
    if (model && mdn_model_n_tiers(model) == 0)
      progress("the fit kept no tier (see --keep-dominated)");
  }
  g_free(specs);
  g_free(train);
  return model;
}

/* The model of --models DIR for this workload, if there is one for its
 * kernel's shape (NULL: fit one). */
static MdnModel *
load_model(const Workload *w, const MdnKernel *k)
{
  char *file, *path;
  MdnModel *model = NULL;
  GError *error = NULL;

  if (!opt_models)
    return NULL;
  file = g_strconcat(w->name, ".mdn", NULL);
  path = g_build_filename(opt_models, file, NULL);
  if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    const MdnKernel *mk;
    model = mdn_model_load(path, &error);
    if (!model) {
      progress("%s", error->message);
      g_error_free(error);
    } else if ((mk = mdn_model_kernel(model))->cin != k->cin || mk->cout != k->cout
               || mk->taps != k->taps || mk->dilation != k->dilation) {
      progress("%s: another kernel shape; fitting", path);
      mdn_model_free(model);
      model = NULL;
    } else {
      progress("tiers loaded from %s", path);
    }
  }
  g_free(path);
  g_free(file);
  return model;
}

/* The engine's exact path and tiers, all on one stream (each pass resets it). */
static void
add_engine(GArray *methods, const MdnModel *model, MdnStream *stream, Engine *engines)
{
  const MdnKernel *k = mdn_model_kernel(model);
  int t;

  for (t = MDN_TIER_EXACT; t < mdn_model_n_tiers(model); t++) {
    Engine *e = &engines[t + 1];
    MdnTierInfo info = { 0 };
    BenchPeer peer = { .state = e };
    char name[48];

    if (t == MDN_TIER_EXACT)
      g_strlcpy(name, "engine-exact", sizeof name);
    else {
      mdn_model_tier_info(model, t, &info);
      g_snprintf(name, sizeof name, "mdn-%s", info.name);
    }
    if (!method_wanted(name, t))
      continue;
    *e = (Engine){ .stream = stream, .tier = t, .cin = k->cin, .cout = k->cout };
    peer.run = t == MDN_TIER_EXACT ? run_engine_exact : run_engine_tier;
    add_method(methods, name, t == MDN_TIER_EXACT, &peer, info.table_bytes);
  }
}

static void
run_workload(const Workload *w)
{
  double seconds = w->max_seconds > 0 ? MIN(opt_seconds, w->max_seconds) : opt_seconds;
  size_t n = MAX(1, (size_t)(seconds * RATE / bench_block)) * (size_t)bench_block;
  MdnKernel *k = workload_kernel(w);
  float *in = workload_signal(k, n, TEST_SEED);
  float *out = g_new(float, n * k->cout);
  GArray *methods = g_array_new(FALSE, TRUE, sizeof(Method));
  GError *error = NULL;
  MdnModel *model = NULL;
  MdnStream *stream = NULL;
  Engine *engines = NULL;
  double *ref;
  int r;
  guint i;

  progress("%s: %s; %zu frames (%.2f s)", w->name, w->what, n, n / RATE);
  ref = mdn_reference_conv(k, in, n);

  if (k->cin == 1 && k->cout == 1)
    add_peer(methods, "audiofirfilter", bench_peer_gst_new, k);
  add_peer(methods, "fftw-ola", bench_peer_fftw_new, k);
  if (k->cin > 1 || k->cout > 1)
    add_peer(methods, "openblas-im2col", bench_peer_openblas_new, k);

  if (any_tier_wanted() && !w->exact_only) {
    model = load_model(w, k);
    if (!model)
      model = fit_tiers(w, k, &error);
    if (!model) {
      progress("mdn tiers omitted: fit failed: %s", error->message);
      g_clear_error(&error);
    } else if (opt_save_models) {
      char *file = g_strconcat(w->name, ".mdn", NULL), *path;
      g_mkdir_with_parents(opt_save_models, 0755);
      path = g_build_filename(opt_save_models, file, NULL);
      if (!mdn_model_save(model, path, &error)) {
        progress("saving the model: %s", error->message);
        g_clear_error(&error);
      }
      g_free(path);
      g_free(file);
    }
  }
  if (!model && method_wanted("engine-exact", -1))
    model = mdn_model_new(k, &error);
  if (model)
    stream = mdn_stream_new(model, 1, &error);
  if (error) {
    progress("engine omitted: %s", error->message);
    g_clear_error(&error);
  }
  if (stream) {
    engines = g_new0(Engine, mdn_model_n_tiers(model) + 1);
    add_engine(methods, model, stream, engines);
  }

  /* Warm-up pass of each method, whose output is checked against the
   * reference; then the timed passes, round-robin over the methods so that
   * a change of load on the machine falls on all of them alike. */
  CALLGRIND_START_INSTRUMENTATION;
  for (i = 0; i < methods->len; i++) {
    Method *m = &g_array_index(methods, Method, i);
    if (!pass(m, in, out, n, -1, &error)) {
      progress("%s failed: %s", m->name, error->message);
      g_clear_error(&error);
      m->failed = TRUE;
      continue;
    }
    m->snr = mdn_snr_db(ref, out, n * k->cout);
    m->verified = !m->exact || m->snr >= VERIFY_MIN_SNR_DB;
  }
  for (r = 0; r < opt_runs; r++)
    for (i = 0; i < methods->len; i++) {
      Method *m = &g_array_index(methods, Method, i);
      if (!m->failed && !pass(m, in, out, n, r, &error)) {
        progress("%s failed: %s", m->name, error->message);
        g_clear_error(&error);
        m->failed = TRUE;
      }
    }
  CALLGRIND_STOP_INSTRUMENTATION;
  for (i = 0; i < methods->len; i++) {
    Method *m = &g_array_index(methods, Method, i);
    m->ns = (opt_best ? minimum(m->wall, opt_runs) : median(m->wall, opt_runs)) * 1e9 / n;
    m->cpu_ns = (opt_best ? minimum(m->cpu, opt_runs) : median(m->cpu, opt_runs)) * 1e9 / n;
  }

  print_results(w, k, n, (const Method *)methods->data, (int)methods->len);
  if (opt_rt_seconds > 0)
    run_rt(w, k, in, n);

  for (i = 0; i < methods->len; i++) {
    Method *m = &g_array_index(methods, Method, i);
    if (m->peer.free)
      m->peer.free(m->peer.state);
    g_free(m->wall);
    g_free(m->cpu);
  }
  g_array_free(methods, TRUE);
  g_free(engines);
  if (stream)
    mdn_stream_free(stream);
  if (model)
    mdn_model_free(model);
  g_free(ref);
  g_free(in);
  g_free(out);
  mdn_kernel_free(k);
}

/* ---- main ---------------------------------------------------------------- */

static gboolean
workload_wanted(const char *name, gboolean extra)
{
  int i;
  if (!opt_workloads)
    return !extra;
  for (i = 0; opt_workloads[i]; i++)
    if (strcmp(opt_workloads[i], name) == 0)
      return TRUE;
  return FALSE;
}

int
main(int argc, char **argv)
{
  GOptionContext *context = g_option_context_new("- the engine against exact conv1d peers");
  GError *error = NULL;
  char *date;
  GDateTime *now;
  char load_average[64] = "unknown", *load_text = NULL;
  size_t i;
  int j;

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context, "Methods: audiofirfilter, fftw-ola, openblas-im2col, engine-exact, mdn-<tier>.\n"
               "Speed-up is against the fastest exact method of the workload in this run.");
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "maddness-bench: %s\n", error->message);
    return 2;
  }
  g_option_context_free(context);
  if (opt_runs < 1 || opt_seconds <= 0 || opt_train_seconds <= 0 || opt_rt_seconds < 0
      || opt_rt_runs < 1) {
    fprintf(stderr, "maddness-bench: --runs, --seconds and --train-seconds must be positive\n");
    return 2;
  }
  if (bench_block < 16 || bench_block > 4096 || (bench_block & (bench_block - 1)) != 0) {
    fprintf(stderr, "maddness-bench: --block must be a power of two in 16..4096\n");
    return 2;
  }
  for (j = 0; opt_workloads && opt_workloads[j]; j++) {
    gboolean known = FALSE;
    for (i = 0; i < G_N_ELEMENTS(workloads); i++)
      known |= strcmp(workloads[i].name, opt_workloads[j]) == 0;
    if (!known) {
      fprintf(stderr, "maddness-bench: unknown workload \"%s\"\n", opt_workloads[j]);
      return 2;
    }
  }

  cpu_model = read_cpu_model();
  if (g_file_get_contents("/proc/loadavg", &load_text, NULL, NULL)) {
    char **fields = g_strsplit(load_text, " ", 4);
    if (g_strv_length(fields) >= 3)
      g_snprintf(load_average, sizeof load_average, "%s %s %s", fields[0], fields[1], fields[2]);
    g_strfreev(fields);
    g_free(load_text);
  }
  engine_isa = mdn_isa();
  now = g_date_time_new_now_utc();
  date = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
  fprintf(text_out(), "# maddness-bench, %s\n", date);
  fprintf(text_out(), "# CPU: %s (%d online, nothing pinned); load average at start: %s\n",
          cpu_model, g_get_num_processors(), load_average);
  fprintf(text_out(), "# engine ISA: %s (MADDNESS_ISA%s%s)\n", engine_isa,
          g_getenv("MADDNESS_ISA") ? "=" : " unset: the best this CPU has",
          g_getenv("MADDNESS_ISA") ? g_getenv("MADDNESS_ISA") : "");
  fprintf(text_out(),
          "# 48 kHz; %.1f s signals (reverb at most 2 s, reverb64k 1 s); %s of %d runs after "
          "a warm-up; %d-frame buffers\n",
          opt_seconds, opt_best ? "best" : "median", opt_runs, bench_block);
  fprintf(text_out(), "# audiofirfilter: %s\n", bench_peer_gst_describe());
  fprintf(text_out(), "# fftw-ola: %s%s\n", bench_peer_fftw_describe(),
          bench_peer_fftw_available() ? ", FFTW_MEASURE plans" : "");
  fprintf(text_out(), "# openblas-im2col: %s\n", bench_peer_openblas_describe());
  fprintf(text_out(), "# mdn tiers: ladder %s, fitted on %.1f s of other audio (seed %d)%s%s\n",
          opt_ladder ? opt_ladder : mdn_default_ladder(), opt_train_seconds, TRAIN_SEED,
          opt_models ? "; models of --models " : "", opt_models ? opt_models : "");
  if (opt_train_rows < 0)
    fprintf(text_out(), "# fit rows: the engine's default; capped at 16384 for beam8 and 8192 for "
                        "reverb to bound the fit time (--train-rows)\n");
  else
    fprintf(text_out(), "# fit rows: at most %" G_GINT64_FORMAT " (0: the engine's default)\n",
            opt_train_rows);
  fprintf(text_out(),
          "# ns/frame: wall time, %s; cpu_ns/fr: CPU time of the process (all threads), %s\n",
          opt_best ? "best" : "median", opt_best ? "best" : "median");
  fprintf(text_out(),
          "# speed-up: wall time against the fastest exact method of the workload, this "
          "run\n");
  fprintf(text_out(), "%-10s %-18s %-5s %10s %10s %9s %8s %10s\n", "workload", "method", "exact",
          "ns/frame", "cpu_ns/fr", "speed-up", "snr_db", "table_B");
  g_date_time_unref(now);
  g_free(date);

  for (i = 0; i < G_N_ELEMENTS(workloads); i++)
    if (!workload_wanted(workloads[i].name, workloads[i].extra))
      continue;
    else if (strcmp(workloads[i].name, "nam-standard") == 0)
      bench_nam_standard(opt_seconds, opt_runs, text_out(), opt_json, cpu_model, engine_isa);
    else
      run_workload(&workloads[i]);

  g_free(cpu_model);
  return 0;
}

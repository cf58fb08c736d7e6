/* test-fit: mdn_fit() on the lowpass64 of the issue (1->1, 64 taps, 6 kHz at
 * 48 kHz): SNR floors of the default ladder on audio the fit never saw,
 * level invariance, stored SNR against a fresh stream, determinism, cancel,
 * progress, pruning, too little audio, and the maddness-fit tool end to end.
 * Every SNR is through mdn_stream_process() against the double reference.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <glib/gstdio.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>

#include "mdn-private.h"
#include "mdn-signals.h"
#include "mdn-test-fit.h"
#include "mdn-test-spawn.h"

#include <sys/stat.h>

#define RATE 48000.0
#define FIT_SECONDS 12
#define TEST_SECONDS 4

/* Floors for the default ladder, lowpass64, on fresh audio of other seeds
 * than the fit's. Measured (fit on 12 s of one seed, 4 s of six other seeds,
 * min..max, speech / music): s8d4e2 13.5..16.1 / 19.9..21.2,
 * s8d4e6 24.2..27.1 / 31.3..32.9, s8d4e12 29.6..32.7 / 37.3..39.1,
 * s4d6e16 37.3..40.4 / 42.5..44.1, s2d6e24 50.8..54.3 / 54.0..55.4 dB
 * (8-bit tables; the 6-bit tables the s8d4 tiers now use measured within
 * 0.1 dB of them, see mdn_default_ladder).
 * Floor = the target where it applies (fastest >= 10 dB, middle
 * >= 25 dB at <= 32 ops, best >= 35 dB), or the lowest measurement minus a
 * 4 dB margin for other seeds, whichever is higher. */
typedef struct {
  const char *name;
  double speech, music;
} Floor;

static const Floor floors[] = {
  { "s8d4e2q6", 10.0, 15.0 },  /* issue: fastest tier >= 10 dB */
  { "s8d4e6q6", 20.0, 27.0 },  /* measured >= 24.2 / 31.3 */
  { "s8d4e12q6", 25.0, 33.0 }, /* issue: a middle tier >= 25 dB at <= 32 ops */
  { "s8d6e8", 28.0, 34.0 },    /* measured 31.4 / 37.5 (issue 13) */
  { "s8d4e24q6", 40.0, 47.0 }, /* measured 44.0 / 50.9 */
  { "s4d6e16", 33.0, 38.0 },   /* measured >= 37.3 / 42.5 */
  { "s4d6e32", 50.0, 55.0 },   /* measured 54.7 / 59.9 */
  { "s2d6e24", 46.0, 50.0 },   /* issue: best >= 35 dB; measured >= 50.8 / 54.0 */
};

static MdnKernel *
lowpass(void)
{
  return mdn_design_lowpass(64, 6000, RATE);
}

static MdnModel *
fit(const MdnKernel *k, const float *audio, size_t n, const char *ladder, guint64 seed,
    GError **error)
{
  MdnFitOptions o;
  MdnTierSpec *specs = NULL;
  MdnModel *m;

  mdn_fit_options_init(&o);
  o.seed = seed;
  if (ladder) {
    o.n_specs = mdn_tier_ladder_parse(ladder, &specs, NULL);
    g_assert_cmpint(o.n_specs, >, 0);
    o.specs = specs;
  }
  m = mdn_fit(k, audio, n, &o, error);
  g_free(specs);
  return m;
}

/* One default-ladder model per kind of audio, fitted once. */
static MdnModel *
default_model(gboolean music)
{
  static MdnModel *models[2];
  if (!models[music]) {
    size_t n = (size_t)(FIT_SECONDS * RATE);
    MdnKernel *k = lowpass();
    float *a = music ? mdn_signal_music(n, RATE, 21) : mdn_signal_speech(n, RATE, 11);
    GError *error = NULL;
    models[music] = fit(k, a, n, NULL, 7, &error);
    g_assert_no_error(error);
    g_free(a);
    mdn_kernel_free(k);
  }
  return models[music];
}

static const Floor *
floor_for(const char *name)
{
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(floors); j++)
    if (strcmp(floors[j].name, name) == 0)
      return &floors[j];
  return NULL;
}

static void
test_floors(void)
{
  int music;
  for (music = 0; music < 2; music++) {
    MdnModel *m = default_model(music);
    size_t n = (size_t)(TEST_SECONDS * RATE);
    float *a = music ? mdn_signal_music(n, RATE, 555) : mdn_signal_speech(n, RATE, 444);
    int t, n_tiers = mdn_model_n_tiers(m);

    /* The issue asks for 4..6 tiers; those of the default ladder on the
     * SNR/cost front survive (5 of 8 on speech, 6 on music). */
    g_assert_cmpint(n_tiers, >=, 4);
    for (t = 0; t < n_tiers; t++) {
      MdnTierInfo info;
      const Floor *f;
      double snr = mdn_test_stream_snr(m, t, a, n, 0);
      mdn_model_tier_info(m, t, &info);
      f = floor_for(info.name);
      if (g_test_verbose())
        g_printerr("%s %s: %.2f dB (stored %.2f), cost %.1f\n", music ? "music" : "speech",
                   info.name, snr, info.snr_db, info.cost);
      g_assert_nonnull(f); /* a new default ladder needs its floors here */
      g_assert_cmpfloat(snr, >=, music ? f->music : f->speech);
      if (t > 0) { /* fastest first */
        MdnTierInfo prev;
        mdn_model_tier_info(m, t - 1, &prev);
        g_assert_cmpfloat(prev.cost, <, info.cost);
      }
    }
    /* The middle-tier target: >= 25 dB at no more than half of 64 multiply-adds. */
    {
      gboolean found = FALSE;
      for (t = 0; t < n_tiers; t++) {
        MdnTierInfo info;
        mdn_model_tier_info(m, t, &info);
        found |= info.cost <= 32 && mdn_test_stream_snr(m, t, a, n, 0) >= 25;
      }
      g_assert_true(found);
    }
    g_free(a);
  }
}

static void
test_level_invariance(void)
{
  MdnModel *m = default_model(FALSE);
  size_t n = (size_t)(TEST_SECONDS * RATE), j;
  float *a = mdn_signal_speech(n, RATE, 777);
  float *loud = g_new(float, n), *quiet = g_new(float, n);
  float peak = 0;
  int t;

  for (j = 0; j < n; j++)
    peak = MAX(peak, fabsf(a[j]));
  for (j = 0; j < n; j++) {
    loud[j] = (float)(a[j] / peak * pow(10, -6 / 20.0));
    quiet[j] = (float)(a[j] / peak * pow(10, -40 / 20.0));
  }
  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    double snr_loud = mdn_test_stream_snr(m, t, loud, n, 0),
           snr_quiet = mdn_test_stream_snr(m, t, quiet, n, 0);
    if (g_test_verbose())
      g_printerr("tier %d: %.2f dB at -6 dBFS, %.2f dB at -40 dBFS\n", t, snr_loud, snr_quiet);
    g_assert_cmpfloat(fabs(snr_loud - snr_quiet), <=, 1.0);
  }
  g_free(a);
  g_free(loud);
  g_free(quiet);
}

/* The stored SNR is what a user gets: a fresh stream over the whole audio,
 * scored on the held-out tail (the last 20%). */
static void
test_stored_snr(void)
{
  size_t n = (size_t)(FIT_SECONDS * RATE), n_train = n - (size_t)llround(0.2 * n);
  float *a = mdn_signal_music(n, RATE, 21);
  MdnModel *m = default_model(TRUE);
  int t;

  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    MdnTierInfo info;
    mdn_model_tier_info(m, t, &info);
    g_assert_cmpfloat(fabs(mdn_test_stream_snr(m, t, a, n, n_train) - info.snr_db), <=, 0.05);
  }
  g_free(a);
}

static void
test_provenance(void)
{
  const MdnProvenance *p = mdn_model_provenance(default_model(FALSE));
  g_assert_cmpfloat(fabs(p->seconds - FIT_SECONDS), <, 1e-9);
  g_assert_cmpuint(p->seed, ==, 7);
  g_assert_true(
      g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", p->date, 0, 0));
}

static GBytes *
fit_bytes(const float *a, size_t n, guint64 seed)
{
  MdnKernel *k = lowpass();
  GError *error = NULL;
  MdnModel *m = fit(k, a, n, "s8d4,s4d5e4", seed, &error);
  GBytes *bytes;

  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, 2);
  /* The fit date is the only thing allowed to differ. */
  strcpy(m->provenance.date, "2000-01-01T00:00:00Z");
  bytes = mdn_model_serialize(m, &error);
  g_assert_no_error(error);
  mdn_model_free(m);
  mdn_kernel_free(k);
  return bytes;
}

static void
test_deterministic(void)
{
  size_t n = (size_t)(4 * RATE);
  float *a = mdn_signal_speech(n, RATE, 3);
  GBytes *one = fit_bytes(a, n, 42), *two = fit_bytes(a, n, 42), *other = fit_bytes(a, n, 43);

  g_assert_true(g_bytes_equal(one, two));
  g_assert_false(g_bytes_equal(one, other)); /* the seed is used */
  g_bytes_unref(one);
  g_bytes_unref(two);
  g_bytes_unref(other);
  g_free(a);
}

typedef struct {
  double last;
  int calls;
  gboolean monotone;
  gboolean named;
  double cancel_at;
  volatile gint cancel;
} Watch;

static void
watch_progress(const char *stage, double fraction, gpointer data)
{
  Watch *w = data;
  w->calls++;
  w->monotone &= fraction >= w->last && fraction <= 1.0;
  w->named &= stage != NULL && stage[0] != 0;
  w->last = fraction;
  if (w->cancel_at > 0 && fraction >= w->cancel_at)
    w->cancel = 1;
}

static MdnModel *
fit_watched(Watch *w, GError **error)
{
  size_t n = (size_t)(4 * RATE);
  float *a = mdn_signal_speech(n, RATE, 5);
  MdnKernel *k = lowpass();
  MdnTierSpec *specs = NULL;
  MdnFitOptions o;
  MdnModel *m;

  mdn_fit_options_init(&o);
  o.n_specs = mdn_tier_ladder_parse("s8d4,s4d6e8", &specs, NULL);
  o.specs = specs;
  o.progress = watch_progress;
  o.progress_data = w;
  o.cancel = &w->cancel;
  m = mdn_fit(k, a, n, &o, error);
  g_free(specs);
  g_free(a);
  mdn_kernel_free(k);
  return m;
}

static void
test_progress(void)
{
  Watch w = { 0, 0, TRUE, TRUE, 0, 0 };
  GError *error = NULL;
  MdnModel *m = fit_watched(&w, &error);

  g_assert_no_error(error);
  g_assert_nonnull(m);
  g_assert_true(w.monotone);
  g_assert_true(w.named);
  g_assert_cmpint(w.calls, >=, 4);
  g_assert_cmpfloat(w.last, >=, 0.999);
  mdn_model_free(m);
}

static void
test_cancel(void)
{
  Watch w = { 0, 0, TRUE, TRUE, 0.3, 0 };
  GError *error = NULL;
  MdnModel *m = fit_watched(&w, &error);

  g_assert_null(m);
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CANCELLED);
  g_assert_cmpfloat(w.last, <, 0.9); /* it stopped soon after the flag */
  g_error_free(error);
}

static void
test_too_little_audio(void)
{
  MdnKernel *k = lowpass();
  size_t n = (size_t)(0.5 * RATE);
  float *a = mdn_signal_speech(n, RATE, 9);
  float *silence = g_new0(float, (size_t)(5 * RATE));
  GError *error = NULL;

  g_assert_null(fit(k, a, n, "s8d4", 1, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO);
  g_clear_error(&error);
  /* Five seconds of digital silence hold no rows to learn from. */
  g_assert_null(fit(k, silence, (size_t)(5 * RATE), "s8d4", 1, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO);
  g_clear_error(&error);
  g_free(a);
  g_free(silence);
  mdn_kernel_free(k);
}

static void
count_progress(const char *stage, double fraction, gpointer data)
{
  (void)stage;
  (void)fraction;
  (*(int *)data)++;
}

/* Every spec of the ladder is checked by the one spec rule before any work:
 * s = 3 (and the other out-of-range values) is refused at once, naming the
 * spec, with no progress reported. */
static void
test_bad_spec(void)
{
  static const MdnTierSpec bad[] = {
    { 3, 4, 0, 8, 0 },  { 5, 4, 0, 8, 0 }, { 4, 0, 0, 8, 0 }, { 4, 9, 0, 8, 0 },
    { 4, 4, -1, 8, 0 }, { 4, 4, 0, 4, 0 }, { 4, 4, 0, 9, 0 },
  };
  static const char *const why[] = {
    "taps per codebook must be 1, 2, 4 or 8 (got 3)",
    "taps per codebook must be 1, 2, 4 or 8 (got 5)",
    "tree depth must be 1..8 (got 0)",
    "tree depth must be 1..8 (got 9)",
    "exact taps must be 0..268435456 (got -1)",
    "table bits must be 5, 6, 7, 8 or 16 (got 4)",
    "table bits must be 5, 6, 7, 8 or 16 (got 9)",
  };
  size_t n = (size_t)(2 * RATE), j;
  float *a = mdn_signal_speech(n, RATE, 4);
  MdnKernel *k = lowpass();

  for (j = 0; j < G_N_ELEMENTS(bad); j++) {
    MdnTierSpec ladder[2] = { { 8, 4, 0, 8, 0 }, bad[j] };
    char *want = g_strdup_printf("tier spec #1: %s", why[j]);
    GError *error = NULL;
    MdnFitOptions o;
    int calls = 0;

    mdn_fit_options_init(&o);
    o.specs = ladder;
    o.n_specs = 2;
    o.progress = count_progress;
    o.progress_data = &calls;
    g_assert_null(mdn_fit(k, a, n, &o, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr(error->message, ==, want);
    g_assert_cmpint(calls, ==, 0);
    g_clear_error(&error);
    g_free(want);
  }
  g_free(a);
  mdn_kernel_free(k);
}

/* Options left at their defaults fit with MDN_DEFAULT_SEED, which
 * maddness-fit uses when given no --seed (test_tool) and maddnesstrainer
 * always: the same audio gives them the same preset. */
static void
test_default_seed(void)
{
  MdnFitOptions o;

  mdn_fit_options_init(&o);
  g_assert_cmpuint(o.seed, ==, MDN_DEFAULT_SEED);
}

/* s1d6e32 costs more than the 64 multiply-adds of the exact path: it is
 * dropped, unless keep_dominated; the kept ladder is a Pareto front. */
static void
test_pruning(void)
{
  size_t n = (size_t)(4 * RATE);
  float *a = mdn_signal_speech(n, RATE, 6);
  MdnKernel *k = lowpass();
  MdnTierSpec *specs = NULL;
  MdnFitOptions o;
  MdnModel *pruned, *all;
  GError *error = NULL;
  int t;

  mdn_fit_options_init(&o);
  o.n_specs = mdn_tier_ladder_parse("s1d6e32,s8d4,s8d5", &specs, NULL);
  o.specs = specs;
  pruned = mdn_fit(k, a, n, &o, &error);
  g_assert_no_error(error);
  o.keep_dominated = TRUE;
  all = mdn_fit(k, a, n, &o, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(all), ==, 3);
  g_assert_cmpint(mdn_model_n_tiers(pruned), <, 3);
  for (t = 0; t < mdn_model_n_tiers(all); t++) {
    MdnTierInfo info;
    mdn_model_tier_info(all, t, &info);
    if (strcmp(info.name, "s1d6e32") == 0)
      g_assert_cmpfloat(info.cost, >=, mdn_model_exact_cost(all));
  }
  for (t = 0; t < mdn_model_n_tiers(pruned); t++) {
    MdnTierInfo info, prev;
    mdn_model_tier_info(pruned, t, &info);
    g_assert_cmpstr(info.name, !=, "s1d6e32");
    g_assert_cmpfloat(info.cost, <, mdn_model_exact_cost(pruned));
    if (t > 0) {
      mdn_model_tier_info(pruned, t - 1, &prev);
      g_assert_cmpfloat(prev.cost, <, info.cost);
      g_assert_cmpfloat(prev.snr_db, <, info.snr_db);
    }
  }
  mdn_model_free(pruned);
  mdn_model_free(all);
  mdn_kernel_free(k);
  g_free(specs);
  g_free(a);
}

/* A 2 -> 3 layer with dilation 2: sigma over both channels, exact dims
 * chosen across channels, one tree per channel. Stored SNR against a fresh
 * stream, and floors from the measurement (13.9 and 33.2 dB on 12 s of
 * music at 16 kHz) minus a margin. */
static void
test_multichannel(void)
{
  const double rate = 16000;
  size_t n = (size_t)(8 * rate), n_train = n - (size_t)llround(0.2 * n);
  MdnKernel *k = mdn_design_random_kernel(2, 3, 8, 2, rate, 3);
  float *a = mdn_signal_multichannel(mdn_signal_music, n, 2, rate, 5);
  GError *error = NULL;
  MdnTierSpec *specs = NULL;
  MdnFitOptions o;
  MdnModel *m;
  const double floor_db[] = { 10, 25 };
  int t;

  mdn_fit_options_init(&o);
  o.n_specs = mdn_tier_ladder_parse("s2d4,s1d6e4", &specs, NULL);
  o.specs = specs;
  o.keep_dominated = TRUE; /* s1d6e4 costs more than the 48 multiply-adds */
  m = mdn_fit(k, a, n, &o, &error);
  g_free(specs);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, 2);
  for (t = 0; t < 2; t++) {
    MdnTierInfo info;
    mdn_model_tier_info(m, t, &info);
    g_assert_cmpfloat(fabs(mdn_test_stream_snr(m, t, a, n, n_train) - info.snr_db), <=, 0.05);
    g_assert_cmpfloat(info.snr_db, >=, floor_db[t]);
  }
  mdn_model_free(m);
  mdn_kernel_free(k);
  g_free(a);
}

/* Writes mono float audio as a WAV file (the samples come back exactly). */
static void
write_wav(const char *path, const float *a, size_t n, int rate, int channels)
{
  SF_INFO info = { 0 };
  SNDFILE *sf;

  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  sf = sf_open(path, SFM_WRITE, &info);
  g_assert_nonnull(sf);
  g_assert_cmpint(sf_writef_float(sf, a, (sf_count_t)n), ==, (sf_count_t)n);
  sf_close(sf);
}

static void
write_taps(const char *path, const MdnKernel *k)
{
  GError *error = NULL;
  FILE *f = fopen(path, "w");

  g_assert_nonnull(f);
  fprintf(f, "%d %d %d\n", k->cin, k->cout, k->taps);
  g_assert_true(mdn_kernel_write_taps_body(k, f, &error));
  g_assert_cmpint(fclose(f), ==, 0);
}

/* Runs maddness-fit with `args` (NULL-terminated) for at most `seconds`. */
static int
run_fit_tool_bounded(const char *const *args, unsigned seconds, char **out, char **err)
{
  const char *tool = g_getenv("MADDNESS_FIT");
  const char *argv[16] = { tool };
  int j;

  g_assert_nonnull(tool);
  for (j = 0; args[j]; j++) {
    g_assert_cmpint(j + 2, <, (int)G_N_ELEMENTS(argv));
    argv[j + 1] = args[j];
  }
  return mdn_test_spawn_bounded(argv, NULL, seconds, out, err);
}

/* Runs maddness-fit, which fits in seconds here: a minute is a hang. */
static int
run_fit_tool(const char *const *args, char **out, char **err)
{
  return run_fit_tool_bounded(args, 60, out, err);
}

/* A temporary directory with a.wav (3 s of speech at RATE) and k.taps (the
 * lowpass), for the tool's tests. */
typedef struct {
  char *dir, *wav, *taps, *out;
  float *audio;
  size_t n;
  MdnKernel *kernel;
} ToolFiles;

static void
tool_files_init(ToolFiles *f)
{
  f->dir = g_dir_make_tmp("test-fit-XXXXXX", NULL);
  f->wav = g_build_filename(f->dir, "a.wav", NULL);
  f->taps = g_build_filename(f->dir, "k.taps", NULL);
  f->out = g_build_filename(f->dir, "out.mdn", NULL);
  f->n = (size_t)(3 * RATE);
  f->audio = mdn_signal_speech(f->n, RATE, 8);
  f->kernel = lowpass();
  write_wav(f->wav, f->audio, f->n, (int)RATE, 1);
  write_taps(f->taps, f->kernel);
}

static void
tool_files_clear(ToolFiles *f)
{
  g_remove(f->wav);
  g_remove(f->taps);
  g_remove(f->out);
  g_rmdir(f->dir);
  g_free(f->wav);
  g_free(f->taps);
  g_free(f->out);
  g_free(f->dir);
  g_free(f->audio);
  mdn_kernel_free(f->kernel);
}

/* maddness-fit on a WAV it is given and a taps-file kernel. */
static void
test_tool(void)
{
  ToolFiles f;
  char *stdout_text = NULL, *stderr_text = NULL;
  GError *error = NULL;
  MdnModel *m;
  char **lines;
  int t;

  tool_files_init(&f);
  {
    const char *args[] = { "--kernel", f.taps, "--audio", f.wav, "--tiers", "s8d4e2,s8d4e12",
                           "--seed",   "3",    "-o",      f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &stdout_text, &stderr_text), ==, 0);
  }
  m = mdn_model_load(f.out, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, 2);
  g_assert_cmpuint(mdn_model_provenance(m)->seed, ==, 3);
  lines = g_strsplit(stdout_text, "\n", -1);
  g_assert_cmpint(g_strv_length(lines), ==, 4); /* 2 tiers, fit_seconds, "" */
  for (t = 0; t < 2; t++) {
    MdnTierInfo ti;
    char *want;
    mdn_model_tier_info(m, t, &ti);
    want = g_strdup_printf("tier: %s snr_db=%.1f", ti.name, ti.snr_db);
    g_assert_cmpstr(lines[t], ==, want);
    g_assert_cmpfloat(ti.snr_db, >=, t == 0 ? 10 : 25);
    g_free(want);
  }
  g_assert_true(g_regex_match_simple("^fit_seconds: [0-9]+\\.[0-9]+$", lines[2], 0, 0));
  g_strfreev(lines);
  g_free(stdout_text);
  g_free(stderr_text);
  mdn_model_free(m);

  /* Stereo audio for a mono kernel: a clear error, exit status 1. */
  write_wav(f.wav, f.audio, f.n / 2, (int)RATE, 2);
  {
    const char *args[] = { "--kernel", f.taps, "--audio", f.wav, "-o", f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &stdout_text, &stderr_text), ==, 1);
  }
  g_assert_true(g_str_has_prefix(stderr_text, "maddness-fit: "));
  g_assert_nonnull(strstr(stderr_text, "channel"));
  g_free(stdout_text);
  g_free(stderr_text);
  tool_files_clear(&f);
}

/* Without --seed the tool fits with MDN_DEFAULT_SEED: its preset is the one
 * mdn_fit() gives with default options (and so maddnesstrainer) on the same
 * audio, byte for byte but for the date. */
static void
test_tool_default_seed(void)
{
  ToolFiles f;
  char *out_text = NULL, *err_text = NULL;
  GError *error = NULL;
  MdnModel *tool_model, *own;
  MdnFitOptions o;
  MdnTierSpec *specs = NULL;
  GBytes *tool_bytes, *own_bytes;

  tool_files_init(&f);
  {
    const char *args[]
        = { "--kernel", f.taps, "--audio", f.wav, "--tiers", "s8d4e2", "-o", f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 0);
  }
  tool_model = mdn_model_load(f.out, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(mdn_model_provenance(tool_model)->seed, ==, MDN_DEFAULT_SEED);

  mdn_fit_options_init(&o);
  o.n_specs = mdn_tier_ladder_parse("s8d4e2", &specs, &error);
  o.specs = specs;
  own = mdn_fit(f.kernel, f.audio, f.n, &o, &error);
  g_assert_no_error(error);
  g_strlcpy(own->provenance.date, "2000-01-01T00:00:00Z", sizeof own->provenance.date);
  g_strlcpy(tool_model->provenance.date, "2000-01-01T00:00:00Z",
            sizeof tool_model->provenance.date);
  tool_bytes = mdn_model_serialize(tool_model, &error);
  own_bytes = mdn_model_serialize(own, &error);
  g_assert_no_error(error);
  g_assert_true(g_bytes_equal(tool_bytes, own_bytes));

  g_bytes_unref(tool_bytes);
  g_bytes_unref(own_bytes);
  mdn_model_free(own);
  mdn_model_free(tool_model);
  g_free(specs);
  g_free(out_text);
  g_free(err_text);
  tool_files_clear(&f);
}

/* --heldout: every tier measured on each class, the claim the worst; then
 * --add-to: a 44.1 kHz variant from a WAV impulse response at 48 kHz,
 * resampled only with --resample-kernel; bad --heldout arguments refused. */
static void
test_tool_heldout_add_to(void)
{
  ToolFiles f;
  char *out_text = NULL, *err_text = NULL;
  char *speech = g_build_filename(g_get_tmp_dir(), "mdn-fit-speech.wav", NULL);
  char *music = g_build_filename(g_get_tmp_dir(), "mdn-fit-music.wav", NULL);
  char *ir = g_build_filename(g_get_tmp_dir(), "mdn-fit-ir.wav", NULL);
  char *a44 = g_build_filename(g_get_tmp_dir(), "mdn-fit-a44.wav", NULL);
  float *x = mdn_signal_speech((size_t)RATE, RATE, 30), *ir_taps = g_new0(float, 192);
  GError *error = NULL;
  MdnPreset *p;
  const MdnModel *v;
  int t, c;

  tool_files_init(&f);
  write_wav(speech, x, (size_t)RATE, (int)RATE, 1);
  g_free(x);
  x = mdn_signal_music((size_t)RATE, RATE, 31);
  write_wav(music, x, (size_t)RATE, (int)RATE, 1);
  g_free(x);
  {
    char *hs = g_strdup_printf("speech=%s", speech), *hm = g_strdup_printf("music=%s", music);
    const char *args[]
        = { "--kernel",  f.taps, "--audio", f.wav, "--tiers", "s8d4e2,s4d6e8", "--heldout", hs,
            "--heldout", hm,     "-o",      f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 0);
    g_assert_true(g_regex_match_simple("^tier: s8d4e2 snr_db=[0-9.]+ class_snr_db=speech:[0-9.]+,"
                                       "music:[0-9.]+$",
                                       out_text, G_REGEX_MULTILINE, 0));
    g_free(hs);
    g_free(hm);
    g_free(out_text);
    g_free(err_text);
  }
  p = mdn_preset_load(f.out, &error);
  g_assert_no_error(error);
  v = mdn_preset_variant(p, 0);
  g_assert_cmpint(mdn_model_n_classes(v), ==, 2);
  for (t = 0; t < mdn_model_n_tiers(v); t++) {
    double worst = INFINITY;
    for (c = 0; c < 2; c++)
      worst = MIN(worst, mdn_model_tier_class_snr(v, t, c));
    g_assert_cmpfloat(mdn_model_tier(v, t)->snr_db, ==, worst);
  }
  mdn_preset_free(p);

  /* A 48 kHz IR (with 2 ms of leading silence) for 44.1 kHz audio. */
  for (t = 96; t < 192; t++)
    ir_taps[t] = (float)(0.5 * exp(-(t - 96) / 12.0));
  write_wav(ir, ir_taps, 192, (int)RATE, 1);
  x = mdn_signal_speech(3 * 44100, 44100, 32);
  write_wav(a44, x, 3 * 44100, 44100, 1);
  g_free(x);
  {
    const char *args[] = { "--kernel", ir,    "--audio", a44,   "--tiers", "s8d4e2",
                           "--add-to", f.out, "-o",      f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 1);
    g_assert_nonnull(strstr(err_text, "--resample-kernel"));
    g_free(out_text);
    g_free(err_text);
  }
  {
    const char *args[] = { "--kernel", ir,       "--resample-kernel", "--audio", a44,
                           "--tiers",  "s8d4e2", "--add-to",          f.out,     "-o",
                           f.out,      NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 0);
    g_assert_nonnull(strstr(out_text, "variants: 44100 48000\n"));
    g_assert_nonnull(strstr(err_text, "resampled to 44100 Hz (libsoxr): 177 taps"));
    g_free(out_text);
    g_free(err_text);
  }
  p = mdn_preset_load(f.out, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_preset_n_variants(p), ==, 2);
  g_assert_cmpint(mdn_model_kernel(mdn_preset_variant_at_rate(p, 44100))->taps, ==, 177);
  g_assert_cmpint(mdn_model_n_classes(mdn_preset_variant_at_rate(p, 48000)), ==, 2);
  mdn_preset_free(p);

  /* --heldout needs NAME=FILE, and a name by the class rule. */
  {
    const char *args[]
        = { "--kernel", f.taps, "--audio", f.wav, "--heldout", speech, "-o", f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 1);
    g_assert_nonnull(strstr(err_text, "expected NAME=FILE"));
    g_free(out_text);
    g_free(err_text);
  }
  {
    char *bad = g_strdup_printf("Speech=%s", speech);
    const char *args[]
        = { "--kernel", f.taps, "--audio", f.wav, "--heldout", bad, "-o", f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 1);
    g_assert_nonnull(strstr(err_text, "class name"));
    g_free(bad);
    g_free(out_text);
    g_free(err_text);
  }
  g_remove(speech);
  g_remove(music);
  g_remove(ir);
  g_remove(a44);
  g_free(speech);
  g_free(music);
  g_free(ir);
  g_free(a44);
  g_free(ir_taps);
  tool_files_clear(&f);
}

/* A taps file carries no rate: audio at another rate than --rate's (48 kHz
 * by default) gets an error that says to give --rate, which then works. */
static void
test_tool_rate(void)
{
  ToolFiles f;
  char *out_text = NULL, *err_text = NULL, *want;

  tool_files_init(&f);
  write_wav(f.wav, f.audio, f.n, 44100, 1);
  {
    const char *args[] = { "--kernel", f.taps, "--audio", f.wav, "-o", f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 1);
  }
  want = g_strdup_printf("maddness-fit: %s is at 44100 Hz; the kernel is a taps file, which "
                         "carries no rate: give --rate 44100 (it was read at 48000 Hz)\n",
                         f.wav);
  g_assert_cmpstr(err_text, ==, want);
  g_assert_cmpstr(out_text, ==, "");
  g_free(want);
  g_free(out_text);
  g_free(err_text);
  {
    const char *args[] = { "--kernel", f.taps, "--audio", f.wav, "--rate", "44100",
                           "-t",       "s8d4", "-o",      f.out, NULL };
    g_assert_cmpint(run_fit_tool(args, &out_text, &err_text), ==, 0);
  }
  g_free(out_text);
  g_free(err_text);
  tool_files_clear(&f);
}

/* A FIFO or /dev/zero as the kernel or the audio: refused at once with the
 * file named once (the old tool hung on a FIFO, and read /dev/zero as text). */
static void
test_tool_special_files(void)
{
  ToolFiles f;
  char *fifo;
  const char *kinds[] = { "a FIFO", "a character device" };
  int p, as_audio;

  tool_files_init(&f);
  fifo = g_build_filename(f.dir, "fifo", NULL);
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  for (as_audio = 0; as_audio < 2; as_audio++)
    for (p = 0; p < 2; p++) {
      const char *special = p == 0 ? fifo : "/dev/zero";
      const char *args[] = { "--kernel", as_audio ? f.taps : special,
                             "--audio",  as_audio ? special : f.wav,
                             "-o",       f.out,
                             NULL };
      char *out_text = NULL, *err_text = NULL;
      char *want
          = g_strdup_printf("maddness-fit: %s: not a regular file (%s)\n", special, kinds[p]);
      g_assert_cmpint(run_fit_tool_bounded(args, 10, &out_text, &err_text), ==, 1);
      g_assert_cmpstr(err_text, ==, want);
      g_free(want);
      g_free(out_text);
      g_free(err_text);
    }
  g_remove(fifo);
  g_free(fifo);
  tool_files_clear(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/fit/floors", test_floors);
  g_test_add_func("/fit/level-invariance", test_level_invariance);
  g_test_add_func("/fit/stored-snr", test_stored_snr);
  g_test_add_func("/fit/provenance", test_provenance);
  g_test_add_func("/fit/deterministic", test_deterministic);
  g_test_add_func("/fit/progress", test_progress);
  g_test_add_func("/fit/cancel", test_cancel);
  g_test_add_func("/fit/too-little-audio", test_too_little_audio);
  g_test_add_func("/fit/bad-spec", test_bad_spec);
  g_test_add_func("/fit/default-seed", test_default_seed);
  g_test_add_func("/fit/pruning", test_pruning);
  g_test_add_func("/fit/multichannel", test_multichannel);
  g_test_add_func("/fit/tool", test_tool);
  g_test_add_func("/fit/tool-default-seed", test_tool_default_seed);
  g_test_add_func("/fit/tool-rate", test_tool_rate);
  g_test_add_func("/fit/tool-heldout-add-to", test_tool_heldout_add_to);
  g_test_add_func("/fit/tool-special-files", test_tool_special_files);
  return g_test_run();
}

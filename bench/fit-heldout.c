/* fit-heldout: the accuracy side of the fit's rules. Fits a kernel's tiers
 * to training audio with several seeds and measures every tier on held-out
 * files (each through a fresh MdnStream, against the double-precision
 * reference), with the fit rules of fit-private.h chosen on the command line,
 * so that two rules compare on the same audio, seeds and lookups.
 *
 *   fit-heldout --kernel K --train TRAIN.wav [--heldout H.wav]... [--tiers LADDER]
 *               [--seeds 1,2,3] [--split input|metric] [--weight P] [--array]
 *
 * K: a preset name or path, a taps file or a WAV impulse response (as
 * maddness-fit --kernel), or lowpass64 / layer16: maddness-bench's kernels
 * of those names. Every tier of the ladder is kept (keep_dominated),
 * whatever it costs. Mono audio for a kernel of cin > 1 inputs is made an
 * array recording (--array, or by default for such kernels): the file from
 * +30 degrees and itself rotated by half its length from -40 degrees (gain
 * 0.7) on cin mics 35 mm apart at the kernel's rate, plus sensor noise 40
 * dB down, as presets/design-kernels.c and presets/corpus/README.md do.
 *
 * Prints one line per (seed, tier): the fit's stored SNR (on the training
 * file's last 20 %), then the SNR on each held-out file; then the mean over
 * the seeds, and the fit's CPU time per seed.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fit-private.h"
#include "mdn-signals.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIC_SPACING 0.035
#define SPEED_OF_SOUND 343.0
#define DELAY_TAPS 65

typedef struct {
  char *name;
  float *audio; /* interleaved, cin channels */
  size_t frames;
} Audio;

static float *
read_wav(const char *path, int *channels, size_t *frames)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  float *x;

  if (!f) {
    fprintf(stderr, "fit-heldout: %s: %s\n", path, sf_strerror(NULL));
    exit(1);
  }
  x = g_new(float, (size_t)info.frames *info.channels + 1);
  *frames = (size_t)sf_readf_float(f, x, info.frames);
  *channels = info.channels;
  sf_close(f);
  return x;
}

/* A mics-channel array recording of a mono file (see the top comment). */
static float *
array_of(const float *mono, size_t n, int mics, double rate)
{
  float *out = g_new0(float, n *mics + 1);
  float h_a[DELAY_TAPS], h_b[DELAY_TAPS];
  GRand *rng = g_rand_new_with_seed(43);
  size_t t;
  int i, j;

  for (i = 0; i < mics; i++) {
    double pos = (i - (mics - 1) / 2.0) * MIC_SPACING / SPEED_OF_SOUND * rate;
    mdn_design_fractional_delay(h_a, DELAY_TAPS,
                                (DELAY_TAPS - 1) / 2.0 + pos * sin(30 * M_PI / 180));
    mdn_design_fractional_delay(h_b, DELAY_TAPS,
                                (DELAY_TAPS - 1) / 2.0 + pos * sin(-40 * M_PI / 180));
    for (t = 0; t < n; t++) {
      double acc = 0;
      for (j = 0; j < DELAY_TAPS && (size_t)j <= t; j++)
        acc += h_a[j] * mono[t - j] + 0.7 * h_b[j] * mono[(t - j + n / 2) % n];
      out[t * mics + i] = (float)(acc + 0.005 * g_rand_double_range(rng, -1, 1));
    }
  }
  g_rand_free(rng);
  return out;
}

static Audio
load_audio(const char *path, const MdnKernel *k, gboolean array)
{
  Audio a = { 0 };
  int channels;
  float *x = read_wav(path, &channels, &a.frames);
  char *base = g_path_get_basename(path);

  a.name = g_strndup(base, strcspn(base, "."));
  g_free(base);
  if (channels == k->cin) {
    a.audio = x;
  } else if (channels == 1 && array) {
    a.audio = array_of(x, a.frames, k->cin, k->rate);
    g_free(x);
  } else {
    fprintf(stderr, "fit-heldout: %s has %d channels, the kernel %d inputs\n", path, channels,
            k->cin);
    exit(1);
  }
  return a;
}

/* maddness-bench's lowpass64 and layer16, else mdn_kernel_load's K. */
static MdnKernel *
kernel_named(const char *name, double rate, GError **error)
{
  if (strcmp(name, "lowpass64") == 0)
    return mdn_design_lowpass(64, 6000, rate);
  if (strcmp(name, "layer16") == 0)
    return mdn_design_random_kernel(16, 16, 9, 2, rate, 16);
  return mdn_kernel_load(name, rate, NULL, error);
}

static double
heldout_snr(const MdnModel *m, int tier, const Audio *a, const double *ref)
{
  const MdnKernel *k = mdn_model_kernel(m);
  GError *error = NULL;
  MdnStream *s = mdn_stream_new(m, 1, &error);
  float *out = g_new(float, a->frames * k->cout + 1);
  double snr;

  if (!s || !mdn_stream_process(s, tier, a->audio, out, a->frames)) {
    fprintf(stderr, "fit-heldout: stream: %s\n", error ? error->message : "refused");
    exit(1);
  }
  snr = mdn_snr_db(ref, out, a->frames * k->cout);
  mdn_stream_free(s);
  g_free(out);
  return snr;
}

int
main(int argc, char **argv)
{
  char *opt_kernel = NULL, *opt_train = NULL, **opt_heldout = NULL, *opt_tiers = NULL;
  char *opt_seeds = NULL, *opt_split = NULL;
  double opt_weight = -1, opt_rate = 48000;
  gboolean opt_array = FALSE, opt_planes = FALSE;
  gint64 opt_rows = 0;
  GOptionEntry entries[] = {
    { "kernel", 'k', 0, G_OPTION_ARG_FILENAME, &opt_kernel, "Kernel", "K" },
    { "train", 't', 0, G_OPTION_ARG_FILENAME, &opt_train, "Training audio", "WAV" },
    { "heldout", 'H', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_heldout, "Held-out audio", "WAV" },
    { "tiers", 'l', 0, G_OPTION_ARG_STRING, &opt_tiers, "Ladder (default: the engine's)", "L" },
    { "seeds", 's', 0, G_OPTION_ARG_STRING, &opt_seeds, "Fit seeds (1,2,3)", "LIST" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &opt_split, "Split rule: input or metric", "RULE" },
    { "weight", 0, 0, G_OPTION_ARG_DOUBLE, &opt_weight, "Row weight power", "P" },
    { "hyperplanes", 0, 0, G_OPTION_ARG_NONE, &opt_planes, "Hyperplane encoders", NULL },
    { "rows", 0, 0, G_OPTION_ARG_INT64, &opt_rows, "Training rows (0: default)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_rate, "Rate of a taps file (48000)", "HZ" },
    { "array", 0, 0, G_OPTION_ARG_NONE, &opt_array, "Mono audio as an array recording", NULL },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new("- fit rules against held-out audio");
  GError *error = NULL;
  MdnFitRules rules;
  MdnFitOptions options;
  MdnTierSpec *specs = NULL;
  MdnKernel *k;
  Audio train, *held;
  double **refs, *sum_snr = NULL, *sum_fit = NULL;
  char **seeds;
  int n_held, n_seeds, h, si, n_tiers = 0, t;

  g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || !opt_kernel || !opt_train) {
    fprintf(stderr, "fit-heldout: %s\n", error ? error->message : "--kernel and --train needed");
    return 2;
  }
  g_option_context_free(ctx);
  k = kernel_named(opt_kernel, opt_rate, &error);
  if (!k) {
    fprintf(stderr, "fit-heldout: %s\n", error->message);
    return 1;
  }
  opt_array |= k->cin > 1;
  mdn_fit_rules_init(&rules);
  if (opt_split)
    rules.split = strcmp(opt_split, "metric") == 0 ? MDN_SPLIT_METRIC : MDN_SPLIT_INPUT;
  if (opt_weight >= 0)
    rules.weight_power = opt_weight;
  mdn_fit_options_init(&options);
  options.keep_dominated = TRUE;
  options.max_train_rows = (size_t)opt_rows;
  if (opt_tiers || opt_planes) {
    options.n_specs
        = mdn_tier_ladder_parse(opt_tiers ? opt_tiers : mdn_default_ladder(), &specs, &error);
    if (options.n_specs < 0) {
      fprintf(stderr, "fit-heldout: %s\n", error->message);
      return 2;
    }
    for (t = 0; t < options.n_specs; t++)
      specs[t].hyperplanes |= opt_planes; /* --hyperplanes: every tier */
    options.specs = specs;
  }
  train = load_audio(opt_train, k, opt_array);
  n_held = opt_heldout ? (int)g_strv_length(opt_heldout) : 0;
  held = g_new0(Audio, n_held + 1);
  refs = g_new0(double *, n_held + 1);
  for (h = 0; h < n_held; h++) {
    held[h] = load_audio(opt_heldout[h], k, opt_array);
    refs[h] = mdn_reference_conv(k, held[h].audio, held[h].frames);
  }
  seeds = g_strsplit(opt_seeds ? opt_seeds : "1,2,3", ",", -1);
  n_seeds = (int)g_strv_length(seeds);
  printf("kernel %s %d->%d taps %d; split %s, weight %g; train %s (%.1f s)\n", opt_kernel, k->cin,
         k->cout, k->taps, rules.split == MDN_SPLIT_METRIC ? "metric" : "input", rules.weight_power,
         train.name, train.frames / k->rate);
  for (si = 0; si < n_seeds; si++) {
    clock_t c0 = clock();
    MdnModel *m;
    double cpu;

    options.seed = g_ascii_strtoull(seeds[si], NULL, 10);
    m = mdn_fit_with_rules(k, train.audio, train.frames, &options, &rules, &error);
    cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    if (!m) {
      fprintf(stderr, "fit-heldout: fit: %s\n", error->message);
      return 1;
    }
    if (!sum_snr) {
      n_tiers = mdn_model_n_tiers(m);
      sum_snr = g_new0(double, (size_t)n_tiers *(n_held + 1) + 1);
      sum_fit = g_new0(double, n_tiers + 1);
    }
    printf("seed %s: fit %.2f s CPU\n", seeds[si], cpu);
    for (t = 0; t < n_tiers; t++) {
      MdnTierInfo info;
      mdn_model_tier_info(m, t, &info);
      printf("  %-10s fit %6.2f", info.name, info.snr_db);
      sum_fit[t] += info.snr_db;
      for (h = 0; h < n_held; h++) {
        double snr = heldout_snr(m, t, &held[h], refs[h]);
        sum_snr[(size_t)t * n_held + h] += snr;
        printf("  %s %6.2f", held[h].name, snr);
      }
      printf("\n");
    }
    if (si == n_seeds - 1) {
      printf("mean of %d seeds:\n", n_seeds);
      for (t = 0; t < n_tiers; t++) {
        MdnTierInfo info;
        mdn_model_tier_info(m, t, &info);
        printf("  %-10s fit %6.2f", info.name, sum_fit[t] / n_seeds);
        for (h = 0; h < n_held; h++)
          printf("  %s %6.2f", held[h].name, sum_snr[(size_t)t * n_held + h] / n_seeds);
        printf("\n");
      }
    }
    mdn_model_free(m);
    fflush(stdout);
  }
  return 0;
}

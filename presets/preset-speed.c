/* preset-speed: the speed-up of each tier of a preset against its exact path,
 * measured in one run on this machine.
 *
 *   preset-speed [--seconds S] [--runs N] PRESET...
 *
 * For each preset (a path or a shipped name): filters S seconds (default 3)
 * of speech-like audio (one generator channel per kernel input) in
 * 1024-frame buffers through mdn_stream_process, with the exact path and with
 * every tier, N passes each (default 9, interleaved so that drift in the
 * machine's speed hits every method alike), and prints the best pass (on a
 * busy machine, the one least disturbed by other processes):
 *   isa: ISA          (once: the kernels mdn_isa() picked)
 *   preset: NAME
 *   exact: ns_per_frame=X
 *   tier: NAME ns_per_frame=X speedup=Y predicted=P offered=yes|no
 * The speed-up is the exact path's time over the tier's; predicted is the
 * engine's time model's (mdn_model_tier_speedup), offered whether quality
 * may select the tier with these kernels (mdn_model_paying_tiers).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_FRAMES 1024
#define MAX_RUNS 31

static double opt_seconds = 3;
static int opt_runs = 9;

static const GOptionEntry entries[] = {
  { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds, "Seconds of audio per pass (3)", "S" },
  { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Passes per method, best taken (9)", "N" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ns per frame of one pass of `in` through a fresh stream on `tier`. */
static double
time_pass(const MdnModel *model, int tier, const float *in, float *out, size_t n)
{
  const MdnKernel *k = mdn_model_kernel(model);
  MdnStream *stream = mdn_stream_new(model, 1, NULL);
  gint64 t0 = g_get_monotonic_time();
  size_t done;

  for (done = 0; done < n; done += BUFFER_FRAMES) {
    size_t chunk = MIN(BUFFER_FRAMES, n - done);
    mdn_stream_process(stream, tier, in + done * k->cin, out + done * k->cout, chunk);
  }
  t0 = g_get_monotonic_time() - t0;
  mdn_stream_free(stream);
  return t0 * 1000.0 / n;
}

static gboolean
measure(const char *name, GError **error)
{
  char *path = mdn_preset_find(name, error);
  MdnModel *model = path ? mdn_model_load(path, error) : NULL;
  const MdnKernel *k;
  int n_tiers, n_methods, m, r, n_paying, *paying;
  size_t n;
  float *in, *out;
  double *times;

  g_free(path);
  if (!model)
    return FALSE;
  k = mdn_model_kernel(model);
  n = (size_t)(opt_seconds * k->rate);
  in = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, k->rate, 7);
  out = g_new(float, n * k->cout);
  n_tiers = mdn_model_n_tiers(model);
  n_methods = n_tiers + 1; /* method 0: exact, m: tier m - 1 */
  times = g_new(double, (size_t)n_methods *opt_runs);

  for (m = 0; m < n_methods; m++) /* warm-up: caches, page faults, CPU clock */
    time_pass(model, m - 1, in, out, MIN(n, (size_t)BUFFER_FRAMES * 16));
  for (r = 0; r < opt_runs; r++)
    for (m = 0; m < n_methods; m++)
      times[m * opt_runs + r] = time_pass(model, m == 0 ? MDN_TIER_EXACT : m - 1, in, out, n);
  for (m = 0; m < n_methods; m++)
    qsort(times + m * opt_runs, opt_runs, sizeof(double), compare_double);

  printf("preset: %s\n", name);
  printf("exact: ns_per_frame=%.2f\n", times[0]);
  paying = g_new(int, MAX(n_tiers, 1));
  n_paying = mdn_model_paying_tiers(model, paying);
  for (m = 1; m < n_methods; m++) {
    MdnTierInfo info;
    double ns = times[m * opt_runs];
    gboolean offered = FALSE;
    int j;
    for (j = 0; j < n_paying; j++)
      offered |= paying[j] == m - 1;
    mdn_model_tier_info(model, m - 1, &info);
    printf("tier: %s ns_per_frame=%.2f speedup=%.2f predicted=%.2f offered=%s\n", info.name, ns,
           times[0] / ns, mdn_model_tier_speedup(model, m - 1), offered ? "yes" : "no");
  }
  g_free(paying);
  g_free(times);
  g_free(in);
  g_free(out);
  mdn_model_free(model);
  return TRUE;
}

int
main(int argc, char **argv)
{
  GOptionContext *context = g_option_context_new("PRESET... - time each tier against exact");
  GError *error = NULL;
  int a;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "preset-speed: %s\n", error->message);
    return 2;
  }
  g_option_context_free(context);
  if (argc < 2 || !(opt_seconds > 0) || opt_runs < 1 || opt_runs > MAX_RUNS) {
    fprintf(stderr, "usage: preset-speed [--seconds S>0] [--runs 1..%d] PRESET...\n", MAX_RUNS);
    return 2;
  }
  printf("isa: %s\n", mdn_isa());
  for (a = 1; a < argc; a++) {
    if (!measure(argv[a], &error)) {
      fprintf(stderr, "preset-speed: %s\n", error->message);
      g_error_free(error);
      return 1;
    }
    fflush(stdout);
  }
  return 0;
}

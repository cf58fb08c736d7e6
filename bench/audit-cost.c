/* audit-cost: what the live accuracy audit costs and what it measures.
 *
 *   audit-cost [--seconds S] [--fraction F] [--tier T] [--music] PRESET
 *
 * Filters S seconds (default 4) of speech-like audio (music-like with
 * --music; one generator channel per kernel input) through one stream of
 * PRESET (a path or a shipped name) on path T (a tier index, or -1 for the
 * exact path; default 0) in 1024-frame buffers, with the audit at cost
 * fraction F (default 0.05; 0: off), and prints:
 *   preset: NAME isa: ISA tier: T fraction: F period: N audits: A
 *   tier K NAME: audited_snr=X offline_snr=Y
 * offline_snr is the SNR of tier K's whole output (a stream of its own)
 * against the double-precision reference; audited_snr is the audit's
 * smoothed SNR at the end.
 *
 * Under valgrind, only the filtering pass of the measured stream is
 * instrumented (callgrind client requests), so
 *   valgrind --tool=callgrind --instr-atstart=no build/bench/audit-cost ...
 * counts the instructions of mdn_stream_process alone: run it with F = 0
 * and F = 0.05 and with T = -1 (the exact path) to get the audit's cost
 * against the exact path's (docs/tiers.md, "The live audit").
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#define BUFFER_FRAMES 1024

static double opt_seconds = 4;
static double opt_fraction = MDN_AUDIT_DEFAULT_FRACTION;
static int opt_tier = 0;
static gboolean opt_music = FALSE;
static int opt_seed = 7;

static const GOptionEntry entries[] = {
  { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds, "Seconds of audio (4)", "S" },
  { "fraction", 'f', 0, G_OPTION_ARG_DOUBLE, &opt_fraction, "Audit cost fraction (0.05; 0: off)",
    "F" },
  { "tier", 't', 0, G_OPTION_ARG_INT, &opt_tier, "Path to run: tier index, -1 exact (0)", "T" },
  { "music", 'm', 0, G_OPTION_ARG_NONE, &opt_music, "Music-like audio instead of speech-like",
    NULL },
  { "seed", 0, 0, G_OPTION_ARG_INT, &opt_seed, "Seed of the audio (7)", "N" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* The whole output of `tier` on `in`, through a stream of its own. */
static float *
run(const MdnModel *model, int tier, double fraction, const float *in, size_t n, MdnStream **kept)
{
  const MdnKernel *k = mdn_model_kernel(model);
  MdnStream *stream = mdn_stream_new(model, 1, NULL);
  float *out = g_new(float, n * k->cout);
  size_t done;

  mdn_stream_set_audit(stream, fraction);
  if (kept)
    CALLGRIND_START_INSTRUMENTATION;
  for (done = 0; done < n; done += BUFFER_FRAMES) {
    size_t chunk = MIN(BUFFER_FRAMES, n - done);
    mdn_stream_process(stream, tier, in + done * k->cin, out + done * k->cout, chunk);
  }
  if (kept) {
    CALLGRIND_STOP_INSTRUMENTATION;
    *kept = stream;
  } else {
    mdn_stream_free(stream);
  }
  return out;
}

int
main(int argc, char **argv)
{
  GOptionContext *context = g_option_context_new("PRESET");
  GError *error = NULL;
  MdnModel *model;
  const MdnKernel *k;
  MdnStream *stream = NULL;
  char *path;
  float *in, *out;
  double *ref;
  size_t n;
  int t;

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_summary(context, "What the live accuracy audit costs and measures.");
  if (!g_option_context_parse(context, &argc, &argv, &error) || argc != 2) {
    fprintf(stderr, "audit-cost: %s\n", error ? error->message : "one PRESET expected");
    return 2;
  }
  g_option_context_free(context);
  path = mdn_preset_find(argv[1], &error);
  model = path ? mdn_model_load(path, &error) : NULL;
  if (!model) {
    fprintf(stderr, "audit-cost: %s\n", error->message);
    return 1;
  }
  k = mdn_model_kernel(model);
  if (opt_tier < MDN_TIER_EXACT || opt_tier >= mdn_model_n_tiers(model) || !(opt_seconds > 0)) {
    fprintf(stderr, "audit-cost: tier %d out of range -1..%d, or no audio\n", opt_tier,
            mdn_model_n_tiers(model) - 1);
    return 2;
  }
  n = (size_t)(opt_seconds * k->rate);
  in = mdn_signal_multichannel(opt_music ? mdn_signal_music : mdn_signal_speech, n, k->cin, k->rate,
                               (guint32)opt_seed);

  out = run(model, opt_tier, opt_fraction, in, n, &stream);
  g_free(out);
  printf("preset: %s isa: %s tier: %d fraction: %g period: %" G_GUINT64_FORMAT
         " audits: %" G_GUINT64_FORMAT " time_constant: %.2f\n",
         argv[1], mdn_isa(), opt_tier, opt_fraction, mdn_stream_audit_period(stream),
         mdn_stream_audit_count(stream), mdn_stream_audit_time_constant(stream));
  ref = mdn_reference_conv(k, in, n);
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    MdnTierInfo info;
    float *y = run(model, t, 0, in, n, NULL);

    mdn_model_tier_info(model, t, &info);
    printf(
        "tier %d %s: audited_snr=%.2f smoothed_snr=%.2f offline_snr=%.2f fitted_snr=%.2f "
        "codebooks=%d\n",
        t, info.name, mdn_stream_audit_snr(stream, t),
        mdn_weighted_snr_db(ref, y, n, k->cout, mdn_stream_audit_time_constant(stream) * k->rate),
        mdn_snr_db(ref, y, n * k->cout), info.snr_db, info.codebooks);
    g_free(y);
  }
  mdn_stream_free(stream);
  mdn_model_free(model);
  g_free(ref);
  g_free(in);
  g_free(path);
  return 0;
}

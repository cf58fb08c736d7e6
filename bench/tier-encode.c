/* tier-encode: the encoders' speed, axis against hyperplane, per ISA. For
 * each kernel table the CPU allows (plain C, AVX2, AVX-512; NEON on AArch64)
 * and each encoder shape (s, depth), the best of --rounds interleaved rounds
 * of ns per position of both encoders over the same 1024-position runs, and
 * their ratio: what a tier pays per sample and channel for hyperplanes.
 *
 *   tier-encode [--rounds N]
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"

#include <stdio.h>

#define RUN 1024
#define CALLS 200

static const struct {
  const char *name;
  unsigned flags;
} isas[] = {
  { "c", 0 },
#if defined(__x86_64__)
  { "avx2", MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 },
  { "avx512", MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 | MDN_CPU_FLAG_AVX512 },
#elif defined(__aarch64__)
  { "neon", MDN_CPU_FLAG_NEON },
#endif
};

static const int shapes[][2] = { { 8, 4 }, { 8, 6 }, { 4, 4 }, { 4, 6 }, { 2, 6 } };

static double
now(void)
{
  return g_get_monotonic_time() / 1e6;
}

int
main(int argc, char **argv)
{
  gint64 opt_rounds = 15;
  GOptionEntry entries[] = {
    { "rounds", 'r', 0, G_OPTION_ARG_INT64, &opt_rounds, "Rounds, best taken (15)", "N" },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new("- axis against hyperplane encoders, per ISA");
  GError *error = NULL;
  float *x = g_new(float, RUN + 64), thr[256 + MDN_TIER_THR_PAD], hp[64];
  guint8 codes[RUN + 64], split[8] = { 0, 3, 5, 7, 1, 2, 4, 6 };
  GRand *rng = g_rand_new_with_seed(5);
  size_t i, si;
  int j, r, k;

  g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "tier-encode: %s\n", error->message);
    return 2;
  }
  g_option_context_free(ctx);
  for (i = 0; i < RUN + 64; i++)
    x[i] = (float)g_rand_double_range(rng, -1, 1);
  for (j = 0; j < 256 + MDN_TIER_THR_PAD; j++)
    thr[j] = (float)g_rand_double_range(rng, -0.5, 0.5);
  for (j = 0; j < 64; j++)
    hp[j] = (float)g_rand_double_range(rng, -1, 1);
  printf("isa     shape  axis_ns/pos  hyperplanes_ns/pos  ratio\n");
  for (si = 0; si < G_N_ELEMENTS(isas); si++) {
    MdnTierDsp dsp;
    if ((isas[si].flags & mdn_cpu_flags_detect()) != isas[si].flags)
      continue;
    mdn_tier_dsp_init(&dsp, isas[si].flags);
    for (k = 0; k < (int)G_N_ELEMENTS(shapes); k++) {
      const int s = shapes[k][0], depth = shapes[k][1];
      double best_axis = G_MAXDOUBLE, best_hyper = G_MAXDOUBLE;
      for (r = 0; r < opt_rounds; r++) {
        double t0 = now(), t1, t2;
        for (j = 0; j < CALLS; j++)
          dsp.encode(split, thr, 1.0f, depth, 1, x + 16, RUN, codes);
        t1 = now();
        for (j = 0; j < CALLS; j++)
          dsp.encode_hyperplanes(hp, s, thr, 1.0f, depth, 1, x + 16, RUN, codes);
        t2 = now();
        best_axis = MIN(best_axis, t1 - t0);
        best_hyper = MIN(best_hyper, t2 - t1);
      }
      printf("%-7s s%dd%d  %11.3f  %18.3f  %5.2f\n", isas[si].name, s, depth,
             best_axis / CALLS / RUN * 1e9, best_hyper / CALLS / RUN * 1e9, best_hyper / best_axis);
    }
  }
  g_rand_free(rng);
  g_free(x);
  return 0;
}

/* fft-bench: the engine's real FFT (every kernel table this CPU supports)
 * against kissfft and FFTW3f (FFTW_MEASURE plans), for power-of-two sizes.
 *
 *   build/bench/fft-bench [--min N] [--max N] [--rounds R]
 *
 * For each size: ns per real forward transform, per inverse transform, and
 * per forward + inverse pair, each the best of R interleaved rounds (thread
 * CPU time; every method measured in each round, so a busy spell of the
 * machine falls on all of them), and the pair's time against FFTW's.
 * The engine's forward is N reals to its unordered spectrum, its inverse
 * the spectrum to the last N/2 reals (what the exact path runs); kissfft's
 * and FFTW's are the ordinary r2c and c2r of N points (natural order, all
 * N outputs). FFTW and kissfft are optional (found by meson); this program
 * is not part of the library, which never links FFTW.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-clock.h"
#include "dsp.h"

#ifdef BENCH_HAVE_FFTW
#include <fftw3.h>
#endif
#ifdef BENCH_HAVE_KISSFFT
#include <kiss_fftr.h>
#endif

#define MAX_METHODS 8

typedef struct {
  char name[32];
  void (*fwd)(void *state);
  void (*inv)(void *state);
  void *state;
  double best_fwd, best_inv;
} Method;

typedef struct {
  const MdnFftPlan *plan;
  const MdnFftDsp *kern;
  const float *in;
  float *spec, *out, *spare;
} Engine;

static void
engine_fwd(void *state)
{
  Engine *e = state;
  mdn_fft_forward(e->plan, e->kern, e->in, e->spec);
}

static void
engine_inv(void *state)
{
  Engine *e = state;
  /* The inverse destroys its input: restore it first (a copy of N floats,
   * about 2 % of the time of the transform at 1024). */
  memcpy(e->spare, e->spec, sizeof(float) * e->plan->n);
  mdn_fft_inverse_half(e->plan, e->kern, e->spare, e->out);
}

#ifdef BENCH_HAVE_FFTW
typedef struct {
  fftwf_plan fwd, inv;
  float *in, *out;
  fftwf_complex *spec, *spare;
  size_t n;
} Fftw;

static void
fftw_fwd(void *state)
{
  Fftw *f = state;
  fftwf_execute_dft_r2c(f->fwd, f->in, f->spec);
}

static void
fftw_inv(void *state)
{
  Fftw *f = state;
  /* c2r destroys its input too. */
  memcpy(f->spare, f->spec, sizeof(fftwf_complex) * (f->n / 2 + 1));
  fftwf_execute_dft_c2r(f->inv, f->spare, f->out);
}
#endif

#ifdef BENCH_HAVE_KISSFFT
typedef struct {
  kiss_fftr_cfg fwd, inv;
  const float *in;
  float *out;
  kiss_fft_cpx *spec;
} Kiss;

static void
kiss_fwd(void *state)
{
  Kiss *k = state;
  kiss_fftr(k->fwd, k->in, k->spec);
}

static void
kiss_inv(void *state)
{
  Kiss *k = state;
  kiss_fftri(k->inv, k->spec, k->out);
}
#endif

/* Best time of `reps` calls of fn, per call. */
static double
time_calls(void (*fn)(void *), void *state, int reps)
{
  double t0 = bench_thread_cpu_ns();
  int j;
  for (j = 0; j < reps; j++)
    fn(state);
  return (bench_thread_cpu_ns() - t0) / reps;
}

int
main(int argc, char **argv)
{
  gint64 min_n = 64, max_n = 65536;
  int rounds = 15, isa;
  GOptionEntry entries[] = {
    { "min", 0, 0, G_OPTION_ARG_INT64, &min_n, "Smallest size (default 64)", "N" },
    { "max", 0, 0, G_OPTION_ARG_INT64, &max_n, "Largest size (default 65536)", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Interleaved rounds, best kept (15)", "R" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *context = g_option_context_new("- the engine's FFT against kissfft and FFTW3f");
  GError *error = NULL;
  size_t n;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "fft-bench: %s\n", error->message);
    return 2;
  }
  g_option_context_free(context);

  printf("# fft-bench: ns per transform, best of %d interleaved rounds (thread CPU time)\n",
         rounds);
#ifdef BENCH_HAVE_FFTW
  printf("# fftw: %s, FFTW_MEASURE\n", fftwf_version);
#else
  printf("# fftw: not built in\n");
#endif
#ifndef BENCH_HAVE_KISSFFT
  printf("# kissfft: not built in\n");
#endif
  printf("%-8s %-10s %10s %10s %10s %9s\n", "N", "method", "fwd_ns", "inv_ns", "pair_ns",
         "vs_fftw");
  for (n = (size_t)min_n; n <= (size_t)max_n; n *= 2) {
    MdnFftPlan *plan = mdn_fft_plan_new(n);
    Method methods[MAX_METHODS];
    Engine engines[MDN_N_ISAS];
    MdnFftDsp dsps[MDN_N_ISAS];
    int n_dsps = 0, d;
    int n_methods = 0, m, r;
    float *in = mdn_fft_alloc(n);
    double fftw_pair = 0;
    const int reps = (int)MAX(4, (1 << 22) / (n * 8));
#ifdef BENCH_HAVE_FFTW
    Fftw fftw;
#endif
#ifdef BENCH_HAVE_KISSFFT
    Kiss kiss;
#endif

    if (!plan) {
      fprintf(stderr, "fft-bench: no plan for %zu\n", n);
      return 1;
    }
    for (size_t t = 0; t < n; t++)
      in[t] = (float)(t % 97) / 97.0f - 0.5f;
    /* One table per level this CPU has (its flags masked as MADDNESS_ISA
     * would), each level once. */
    for (isa = 0; isa < MDN_N_ISAS; isa++) {
      MdnFftDsp *k = &dsps[isa];
      Engine *e = &engines[isa];
      if (!mdn_cpu_supports((MdnIsa)isa))
        continue;
      mdn_fft_dsp_init(k, mdn_cpu_flags_detect() & mdn_isa_flags((MdnIsa)isa));
      for (d = 0; d < n_dsps; d++)
        if (dsps[d].flag == k->flag)
          break;
      if (d < n_dsps)
        continue;
      dsps[n_dsps++] = *k;
      k = &dsps[n_dsps - 1];
      *e = (Engine){ plan, k, in, mdn_fft_alloc(n), mdn_fft_alloc(n), mdn_fft_alloc(n) };
      mdn_fft_forward(plan, k, in, e->spec);
      methods[n_methods] = (Method){ "", engine_fwd, engine_inv, e, G_MAXDOUBLE, G_MAXDOUBLE };
      g_snprintf(methods[n_methods].name, sizeof methods[0].name, "mdn-%s",
                 mdn_isa_name((MdnIsa)isa));
      n_methods++;
    }
#ifdef BENCH_HAVE_KISSFFT
    kiss.fwd = kiss_fftr_alloc((int)n, 0, NULL, NULL);
    kiss.inv = kiss_fftr_alloc((int)n, 1, NULL, NULL);
    kiss.in = in;
    kiss.out = g_new(float, n);
    kiss.spec = g_new(kiss_fft_cpx, n / 2 + 1);
    methods[n_methods++]
        = (Method){ "kissfft", kiss_fwd, kiss_inv, &kiss, G_MAXDOUBLE, G_MAXDOUBLE };
#endif
#ifdef BENCH_HAVE_FFTW
    fftw.n = n;
    fftw.in = fftwf_alloc_real(n);
    fftw.out = fftwf_alloc_real(n);
    fftw.spec = fftwf_alloc_complex(n / 2 + 1);
    fftw.spare = fftwf_alloc_complex(n / 2 + 1);
    fftw.fwd = fftwf_plan_dft_r2c_1d((int)n, fftw.in, fftw.spec, FFTW_MEASURE);
    fftw.inv = fftwf_plan_dft_c2r_1d((int)n, fftw.spare, fftw.out, FFTW_MEASURE);
    memcpy(fftw.in, in, sizeof(float) * n);
    fftwf_execute(fftw.fwd);
    methods[n_methods++]
        = (Method){ "fftw3f", fftw_fwd, fftw_inv, &fftw, G_MAXDOUBLE, G_MAXDOUBLE };
#endif
    for (r = 0; r < rounds; r++)
      for (m = 0; m < n_methods; m++) {
        methods[m].best_fwd
            = MIN(methods[m].best_fwd, time_calls(methods[m].fwd, methods[m].state, reps));
        methods[m].best_inv
            = MIN(methods[m].best_inv, time_calls(methods[m].inv, methods[m].state, reps));
      }
    for (m = 0; m < n_methods; m++)
      if (strcmp(methods[m].name, "fftw3f") == 0)
        fftw_pair = methods[m].best_fwd + methods[m].best_inv;
    for (m = 0; m < n_methods; m++) {
      const double pair = methods[m].best_fwd + methods[m].best_inv;
      printf("%-8zu %-10s %10.1f %10.1f %10.1f", n, methods[m].name, methods[m].best_fwd,
             methods[m].best_inv, pair);
      if (fftw_pair > 0)
        printf(" %8.2fx\n", fftw_pair / pair);
      else
        printf(" %9s\n", "-");
    }
    fflush(stdout);
    for (isa = 0; isa < MDN_N_ISAS; isa++)
      for (m = 0; m < n_methods; m++)
        if (methods[m].state == &engines[isa]) {
          mdn_fft_free(engines[isa].spec);
          mdn_fft_free(engines[isa].out);
          mdn_fft_free(engines[isa].spare);
        }
#ifdef BENCH_HAVE_KISSFFT
    kiss_fftr_free(kiss.fwd);
    kiss_fftr_free(kiss.inv);
    g_free(kiss.out);
    g_free(kiss.spec);
#endif
#ifdef BENCH_HAVE_FFTW
    fftwf_destroy_plan(fftw.fwd);
    fftwf_destroy_plan(fftw.inv);
    fftwf_free(fftw.in);
    fftwf_free(fftw.out);
    fftwf_free(fftw.spec);
    fftwf_free(fftw.spare);
#endif
    mdn_fft_free(in);
    mdn_fft_plan_free(plan);
  }
  return 0;
}

/* exact-crossover: times the exact path's plans (direct form, and
 * partitionings of the FFT path: level sizes) against each other and
 * against the plan the planner picks, and fits the planner's time model
 * (engine/runtime/exact-plan.c, level_ns).
 *
 *   ninja -C build && build/bench/exact-crossover [--quick] [cin cout dilation]
 *   build/bench/exact-crossover [--quick] --fit
 *   build/bench/exact-crossover --workloads [NAME [FRAMES]]
 *   build/bench/exact-crossover [--frames N] --plans TAPS CIN COUT [SIZES...]
 *
 * Random kernel, white-noise input, mdn_exact_process() over the stream's
 * memory layout (history before x[i], chunks of MDN_CHUNK frames). Each
 * figure is the best of 7 interleaved rounds (thread CPU time). The kernels
 * are those of mdn_cpu_flags(): MADDNESS_ISA=scalar|avx2|avx512|neon picks
 * them.
 *
 * For each kernel: the direct form (up to 20000 multiply-adds per frame),
 * uniform plans (one level: head = partition = B), and two- and three-level
 * plans; prints the planner's plan and its time against the best measured.
 * --fit runs the 1->1, 1->2, 1->16 and 4->4 dilation 2 tables and fits the
 * four weights of the time model (ns per direct multiply-add, per FDL
 * complex multiply-add, per (N/2) log2 N of an FFT, per transform) to every
 * timing by least squares on relative error, printed as the line of
 * level_ns in engine/runtime/exact-plan.c.
 * --workloads times mdn_stream_process (MDN_TIER_EXACT, 1024-frame buffers)
 * on the benchmark's workload shapes (or the one named; with FRAMES, one
 * round of that many frames: for valgrind --tool=callgrind).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "bench-clock.h"
#include "mdn-private.h"

#define MAX_BLOCKS 10
#define N_WEIGHTS 5
#define ROUNDS 7

MdnExact *mdn_exact_new_levels(const MdnKernel *kernel, const int *blocks, int n_blocks);
size_t mdn_exact_history_levels(const MdnKernel *kernel, const int *blocks, int n_blocks);
int mdn_exact_plan_blocks(const MdnKernel *kernel, int *blocks);
gboolean mdn_exact_plan_features(const MdnKernel *kernel, const int *blocks, int n_blocks,
                                 double features[5]);

typedef struct {
  int blocks[MAX_BLOCKS];
  int n; /* 0: direct form */
} Plan;

/* One timing for the fit: the plan's features and ns per frame. */
typedef struct {
  double features[N_WEIGHTS], ns;
} FitRow;

static int
compare_doubles(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void
describe(const Plan *p, char *buf, size_t size)
{
  int l, len;
  if (p->n == 0) {
    g_strlcpy(buf, "direct", size);
    return;
  }
  len = g_snprintf(buf, size, "%d", p->blocks[0]);
  for (l = 1; l < p->n && len < (int)size; l++)
    len += g_snprintf(buf + len, size - len, ",%d", p->blocks[l]);
}

static gboolean
plan_ok(const MdnKernel *k, const Plan *p)
{
  double f[N_WEIGHTS];
  return mdn_exact_plan_features(k, p->blocks, p->n, f);
}

static gboolean
same_plan(const Plan *a, const Plan *b)
{
  return a->n == b->n && memcmp(a->blocks, b->blocks, sizeof(int) * a->n) == 0;
}

/* ns per frame of each plan, written to ns[]. The plans run in turn, several
 * rounds, and each keeps its best round: a slow spell of the machine then
 * hits every plan alike. */
static void
time_plans(const MdnKernel *k, const Plan *plans, int n_plans, size_t n, double *ns)
{
  size_t h = 0, t;
  MdnExact **e = g_new(MdnExact *, n_plans);
  float **chan = g_new(float *, k->cin);
  const float **x = g_new(const float *, k->cin);
  float *out = g_new(float, (size_t)MDN_CHUNK * k->cout);
  GRand *rng = g_rand_new_with_seed(1);
  int i, p, round;

  for (p = 0; p < n_plans; p++) {
    h = MAX(h, mdn_exact_history_levels(k, plans[p].blocks, plans[p].n));
    e[p] = mdn_exact_new_levels(k, plans[p].blocks, plans[p].n);
    ns[p] = G_MAXDOUBLE;
  }
  for (i = 0; i < k->cin; i++) {
    chan[i] = g_new0(float, h + n);
    for (t = 0; t < n; t++)
      chan[i][h + t] = (float)g_rand_double_range(rng, -0.5, 0.5);
  }
  for (round = 0; round < ROUNDS; round++)
    for (p = 0; p < n_plans; p++) {
      double t0;
      size_t done;
      if (!e[p])
        continue;
      mdn_exact_reset(e[p]);
      t0 = bench_thread_cpu_ns();
      for (done = 0; done < n; done += MDN_CHUNK) {
        for (i = 0; i < k->cin; i++)
          x[i] = chan[i] + h + done;
        mdn_exact_process(e[p], x, done, MDN_CHUNK, out);
      }
      ns[p] = MIN(ns[p], (bench_thread_cpu_ns() - t0) / n);
    }
  for (i = 0; i < k->cin; i++)
    g_free(chan[i]);
  for (p = 0; p < n_plans; p++)
    mdn_exact_free(e[p]);
  g_free(e);
  g_free(chan);
  g_free(x);
  g_free(out);
  g_rand_free(rng);
}

static const int taps_list[] = { 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536 };

/* Candidate plans of kernel k: direct (when cheap enough to time), uniform,
 * and levels growing by 4x to 32x from each first size, two or three of
 * them. */
static int
candidates(const MdnKernel *k, Plan *plans, int max)
{
  const size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  int n = 0, b1, r2, r3;
  Plan p;
  double f[N_WEIGHTS];

  if ((double)k->cin * k->cout * k->taps <= 20000)
    plans[n++] = (Plan){ { 0 }, 0 };
  for (b1 = 32; b1 <= 1024 && 2 * (size_t)b1 <= len; b1 *= 2) {
    p.blocks[0] = b1;
    p.n = 1;
    if (n < max && len <= 512 * (size_t)b1)
      plans[n++] = p;
    for (r2 = 4; r2 <= 32; r2 *= 2) {
      p.blocks[1] = b1 * r2;
      p.n = 2;
      if (n < max && mdn_exact_plan_features(k, p.blocks, 2, f))
        plans[n++] = p;
      for (r3 = 4; r3 <= 16; r3 *= 4) {
        p.blocks[2] = b1 * r2 * r3;
        p.n = 3;
        if (n < max && mdn_exact_plan_features(k, p.blocks, 3, f))
          plans[n++] = p;
      }
    }
  }
  return n;
}

/* The table of one shape; appends every timing to `rows` when given. */
static void
run_table(int cin, int cout, int dil, size_t frames, GArray *rows)
{
  guint j;

  printf("# %s kernels; %d->%d dilation %d; ns per frame; plans as level sizes (the first is "
         "also the head in direct form)\n",
         mdn_isa(), cin, cout, dil);
  printf("%6s %6s %10s %-22s %10s %-22s %10s %7s\n", "taps", "plans", "direct", "best", "ns",
         "planner", "ns", "ratio");
  for (j = 0; j < G_N_ELEMENTS(taps_list); j++) {
    MdnKernel *k = mdn_kernel_new(cin, cout, taps_list[j], dil, 48000, NULL);
    GRand *rng = g_rand_new_with_seed(taps_list[j]);
    Plan plans[64], planner;
    double ns[64], direct = -1;
    char best_s[64], planner_s[64];
    int n_plans, p, best = -1, chosen = -1;
    size_t w;

    if ((size_t)(taps_list[j] - 1) * dil + 1 > (1 << 20)
        || (double)cin * cout * taps_list[j] > 1e6) {
      mdn_kernel_free(k);
      g_rand_free(rng);
      continue;
    }
    for (w = 0; w < (size_t)cin * cout * k->taps; w++)
      k->weights[w] = (float)g_rand_double_range(rng, -1, 1) / k->taps;
    g_rand_free(rng);

    n_plans = candidates(k, plans, 63);
    planner.n = mdn_exact_plan_blocks(k, planner.blocks);
    for (p = 0; p < n_plans; p++)
      if (same_plan(&plans[p], &planner))
        chosen = p;
    if (chosen < 0) {
      chosen = n_plans;
      plans[n_plans++] = planner;
    }
    time_plans(k, plans, n_plans, frames, ns);
    for (p = 0; p < n_plans; p++) {
      if (plans[p].n == 0)
        direct = ns[p];
      if (best < 0 || ns[p] < ns[best])
        best = p;
      if (rows) {
        FitRow row;
        mdn_exact_plan_features(k, plans[p].blocks, plans[p].n, row.features);
        row.ns = ns[p];
        g_array_append_val(rows, row);
      }
    }
    describe(&plans[best], best_s, sizeof best_s);
    describe(&plans[chosen], planner_s, sizeof planner_s);
    printf("%6d %6d ", taps_list[j], n_plans);
    if (direct >= 0)
      printf("%10.2f", direct);
    else
      printf("%10s", "-");
    printf(" %-22s %10.2f %-22s %10.2f %7.2f\n", best_s, ns[best], planner_s, ns[chosen],
           ns[chosen] / ns[best]);
    fflush(stdout);
    mdn_kernel_free(k);
  }
}

/* Solves a x = b (N_WEIGHTS unknowns; Gaussian elimination, partial
 * pivoting). */
static gboolean
solve(double a[N_WEIGHTS][N_WEIGHTS], double b[N_WEIGHTS], double x[N_WEIGHTS])
{
  int r, c, i;
  for (c = 0; c < N_WEIGHTS; c++) {
    int piv = c;
    for (r = c + 1; r < N_WEIGHTS; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c]))
        piv = r;
    if (fabs(a[piv][c]) < 1e-300)
      return FALSE;
    for (i = 0; i < N_WEIGHTS; i++) {
      double t = a[c][i];
      a[c][i] = a[piv][i];
      a[piv][i] = t;
    }
    {
      double t = b[c];
      b[c] = b[piv];
      b[piv] = t;
    }
    for (r = c + 1; r < N_WEIGHTS; r++) {
      double f = a[r][c] / a[c][c];
      for (i = c; i < N_WEIGHTS; i++)
        a[r][i] -= f * a[c][i];
      b[r] -= f * b[c];
    }
  }
  for (c = N_WEIGHTS - 1; c >= 0; c--) {
    double sum = b[c];
    for (i = c + 1; i < N_WEIGHTS; i++)
      sum -= a[c][i] * x[i];
    x[c] = sum / a[c][c];
  }
  return TRUE;
}

/* ns = sum_m x[m] features[m], least squares on the relative error. */
static void
fit_rows(const GArray *rows)
{
  double a[N_WEIGHTS][N_WEIGHTS] = { { 0 } }, b[N_WEIGHTS] = { 0 }, x[N_WEIGHTS], *err;
  guint r;
  int m, q;

  for (r = 0; r < rows->len; r++) {
    const FitRow *row = &g_array_index(rows, FitRow, r);
    for (m = 0; m < N_WEIGHTS; m++) {
      for (q = 0; q < N_WEIGHTS; q++)
        a[m][q] += row->features[m] * row->features[q] / (row->ns * row->ns);
      b[m] += row->features[m] / row->ns;
    }
  }
  if (!solve(a, b, x)) {
    printf("# fit: singular\n");
    return;
  }
  err = g_new(double, rows->len);
  for (r = 0; r < rows->len; r++) {
    const FitRow *row = &g_array_index(rows, FitRow, r);
    double model = 0;
    for (m = 0; m < N_WEIGHTS; m++)
      model += x[m] * row->features[m];
    err[r] = fabs(model - row->ns) / row->ns;
  }
  qsort(err, rows->len, sizeof(double), compare_doubles);
  printf("# fit (%s, %u timings): relative error median %.0f%%, 90th percentile %.0f%%\n",
         mdn_isa(), rows->len, 100 * err[rows->len / 2], 100 * err[rows->len * 9 / 10]);
  printf("  { .flag = (%s), .direct = %.4f, .mac = %.4f, .mac_far = %.4f, .fft = %.4f, "
         ".block = %.1f },\n",
         mdn_isa(), x[0], x[1], x[2], x[3], x[4]);
  g_free(err);
}

/* The benchmark's workload shapes through the stream (random weights; the
 * reverbs' decay like a room's, RT60 0.4 s at 48 kHz). */
static void
run_workloads(const char *only, size_t frames)
{
  static const struct {
    const char *name;
    int cin, cout, taps, dil;
  } wl[] = {
    { "lowpass64", 1, 1, 64, 1 }, { "bank16", 1, 16, 128, 1 }, { "layer16", 16, 16, 9, 2 },
    { "beam8", 8, 2, 256, 1 },    { "reverb", 1, 1, 8192, 1 }, { "reverb64k", 1, 2, 65536, 1 },
  };
  const int rounds = frames ? 1 : ROUNDS;
  guint j;

  printf("# %s kernels; mdn_stream_process, MDN_TIER_EXACT, 1024-frame buffers; "
         "ns per frame, best of %d rounds (thread CPU time)\n",
         mdn_isa(), ROUNDS);
  printf("%-10s %8s %-24s %10s\n", "workload", "shape", "plan", "ns/frame");
  for (j = 0; j < G_N_ELEMENTS(wl); j++) {
    MdnKernel *k = mdn_kernel_new(wl[j].cin, wl[j].cout, wl[j].taps, wl[j].dil, 48000, NULL);
    GRand *rng = g_rand_new_with_seed(j + 1);
    const size_t block = 1024;
    size_t n, t, w;
    double best = G_MAXDOUBLE;
    MdnModel *model;
    MdnStream *stream;
    float *in, *out;
    int round, o, i, kk;
    char shape[32], plan_s[64];
    Plan plan;

    if (only && strcmp(only, wl[j].name) != 0)
      continue;

    for (o = 0, w = 0; o < k->cout; o++)
      for (i = 0; i < k->cin; i++)
        for (kk = 0; kk < k->taps; kk++, w++)
          k->weights[w] = (float)(g_rand_double_range(rng, -1, 1)
                                  * (wl[j].taps > 1024 ? exp(-6.9 * kk / (0.4 * 48000)) : 1.0)
                                  / sqrt((double)k->cin * k->taps));
    model = mdn_model_new(k, NULL);
    stream = mdn_stream_new(model, 1, NULL);
    /* about 1e8 multiply-adds of the direct form per round, at least 64 buffers */
    n = MAX(64, (size_t)(1e8 / ((double)k->cin * k->cout * MIN(k->taps, 1024)) / block)) * block;
    if (frames)
      n = (frames + block - 1) / block * block;
    in = g_new(float, n * k->cin);
    out = g_new(float, n * k->cout);
    for (t = 0; t < n * k->cin; t++)
      in[t] = (float)g_rand_double_range(rng, -0.5, 0.5);
    for (round = 0; round < rounds; round++) {
      double t0 = bench_thread_cpu_ns();
      for (t = 0; t < n; t += block)
        mdn_stream_process(stream, MDN_TIER_EXACT, in + t * k->cin, out + t * k->cout, block);
      best = MIN(best, (bench_thread_cpu_ns() - t0) / n);
    }
    g_snprintf(shape, sizeof shape, "%d->%d", k->cin, k->cout);
    plan.n = mdn_exact_plan_blocks(k, plan.blocks);
    describe(&plan, plan_s, sizeof plan_s);
    printf("%-10s %8s %-24s %10.2f\n", wl[j].name, shape, plan_s, best);
    fflush(stdout);
    g_free(in);
    g_free(out);
    mdn_stream_free(stream);
    mdn_model_free(model);
    mdn_kernel_free(k);
    g_rand_free(rng);
  }
}

/* --plans TAPS CIN COUT PLAN...: the plans given (level sizes "128,1024";
 * "0": the direct form) and the planner's, timed against each other on
 * that shape (random weights, dilation 1). */
static int
run_plans(int taps, int cin, int cout, char **specs, int n_specs, size_t frames)
{
  MdnKernel *k;
  GRand *rng;
  Plan plans[64];
  double ns[64];
  char s[64];
  int n = 0, p, q;
  size_t w;

  if (taps < 1 || cin < 1 || cout < 1 || cin > MDN_MAX_CHANNELS || cout > MDN_MAX_CHANNELS)
    return 2;
  k = mdn_kernel_new(cin, cout, taps, 1, 48000, NULL);
  rng = g_rand_new_with_seed((guint32)taps);
  for (w = 0; w < (size_t)cin * cout * taps; w++)
    k->weights[w] = (float)g_rand_double_range(rng, -1, 1) / taps;
  g_rand_free(rng);
  plans[n].n = mdn_exact_plan_blocks(k, plans[n].blocks);
  n++;
  for (p = 0; p < n_specs && n < 64; p++) {
    char **parts = g_strsplit(specs[p], ",", MAX_BLOCKS);
    plans[n].n = 0;
    for (q = 0; parts[q] && q < MAX_BLOCKS; q++)
      if (atoi(parts[q]) > 0)
        plans[n].blocks[plans[n].n++] = atoi(parts[q]);
    g_strfreev(parts);
    if (plans[n].n > 0 && !plan_ok(k, &plans[n]))
      fprintf(stderr, "plan %s refused\n", specs[p]);
    else
      n++;
  }
  time_plans(k, plans, n, frames, ns);
  printf("# %s kernels; %d->%d, %d taps; ns per frame, best of %d rounds, %d-frame calls\n",
         mdn_isa(), cin, cout, taps, ROUNDS, MDN_CHUNK);
  for (p = 0; p < n; p++) {
    describe(&plans[p], s, sizeof s);
    printf("%-24s %10.2f%s\n", s, ns[p], p == 0 ? "  (planner)" : "");
  }
  mdn_kernel_free(k);
  return 0;
}

int
main(int argc, char **argv)
{
  int cin = 1, cout = 1, dil = 1, first = 1;
  size_t frames = 1 << 16;

  if (argc > first && strcmp(argv[first], "--quick") == 0) {
    frames = 1 << 14;
    first++;
  }
  if (argc > first + 1 && strcmp(argv[first], "--frames") == 0) {
    frames = (size_t)g_ascii_strtoull(argv[first + 1], NULL, 10) / MDN_CHUNK * MDN_CHUNK;
    frames = MAX(frames, MDN_CHUNK);
    first += 2;
  }
  if (argc > first && strcmp(argv[first], "--workloads") == 0) {
    run_workloads(argc > first + 1 ? argv[first + 1] : NULL,
                  argc > first + 2 ? (size_t)g_ascii_strtoull(argv[first + 2], NULL, 10) : 0);
    return 0;
  }
  if (argc > first + 3 && strcmp(argv[first], "--plans") == 0)
    return run_plans(atoi(argv[first + 1]), atoi(argv[first + 2]), atoi(argv[first + 3]),
                     argv + first + 4, argc - first - 4, frames);
  if (argc > first && strcmp(argv[first], "--fit") == 0) {
    GArray *rows = g_array_new(FALSE, FALSE, sizeof(FitRow));
    run_table(1, 1, 1, frames, rows);
    run_table(1, 2, 1, frames, rows);
    run_table(1, 16, 1, frames, rows);
    run_table(4, 4, 2, frames, rows);
    fit_rows(rows);
    g_array_free(rows, TRUE);
    return 0;
  }
  if (argc >= first + 3) {
    cin = atoi(argv[first]);
    cout = atoi(argv[first + 1]);
    dil = atoi(argv[first + 2]);
  }
  if (cin < 1 || cout < 1 || dil < 1 || cin > MDN_MAX_CHANNELS || cout > MDN_MAX_CHANNELS) {
    fprintf(stderr, "usage: %s [--quick] [cin cout dilation | --fit | --workloads]\n", argv[0]);
    return 2;
  }
  run_table(cin, cout, dil, frames, NULL);
  return 0;
}

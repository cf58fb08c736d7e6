/* exact-crossover: times the exact path's direct form against its
 * partitioned FFT path (each partition size) and prints ns per frame, to
 * set the time model of the planner in engine/runtime/exact-plan.c.
 *
 *   ninja -C build && build/bench/exact-crossover [--quick] [cin cout dilation]
 *   build/bench/exact-crossover [--quick] --fit
 *   build/bench/exact-crossover --workloads [NAME [FRAMES]]
 *
 * Random kernel, white-noise input, mdn_exact_process() over the stream's
 * memory layout (history before x[i], chunks of MDN_CHUNK frames). Each
 * figure is the best of several runs (thread CPU time). The kernels are
 * those of mdn_cpu_flags(): MADDNESS_ISA=scalar|avx2|avx512|neon picks them
 * (scalar: the plain-C reference, fir and cmac).
 *
 * --fit runs the 1->1, 1->16 and 4->4 dilation 2 tables and fits the
 * planner's ns per operation (direct multiply-add, complex multiply-add op,
 * FFT op) to every timing with P >= 64 by least squares on relative error.
 * --workloads times mdn_stream_process (MDN_TIER_EXACT, 1024-frame buffers)
 * on the benchmark's five workload shapes (or the one named; with FRAMES,
 * one round of that many frames: for valgrind --tool=callgrind).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "mdn-private.h"

MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);
int mdn_exact_partition(const MdnKernel *kernel);
void mdn_exact_plan_ops(const MdnKernel *kernel, int partition, double ops[3]);

/* One timing for the fit: operation counts and ns per frame. */
typedef struct {
  double ops[3], ns;
} FitRow;

static int
compare_doubles(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per frame of each path in paths[] (0: direct, P: FFT with partition
 * P), written to ns[]. The paths run in turn, several rounds, and each keeps
 * its best round: a slow spell of the machine then hits every path alike. */
static void
time_paths(const MdnKernel *k, const int *paths, int n_paths, double work_budget, double *ns)
{
  size_t h = 0, n, t;
  double per_frame = (double)k->cin * k->cout * MIN(k->taps, 1024);
  MdnExact **e = g_new(MdnExact *, n_paths);
  float **chan = g_new(float *, k->cin);
  const float **x = g_new(const float *, k->cin);
  float *out = g_new(float, (size_t)MDN_CHUNK * k->cout);
  GRand *rng = g_rand_new_with_seed(1);
  int i, p, round;

  for (p = 0; p < n_paths; p++) {
    h = MAX(h, mdn_exact_history_forced(k, paths[p]));
    e[p] = mdn_exact_new_forced(k, paths[p]);
    ns[p] = G_MAXDOUBLE;
  }
  n = (size_t)CLAMP(work_budget / per_frame, 8192, 1 << 17);
  n = (n + MDN_CHUNK - 1) / MDN_CHUNK * MDN_CHUNK;
  for (i = 0; i < k->cin; i++) {
    chan[i] = g_new0(float, h + n);
    for (t = 0; t < n; t++)
      chan[i][h + t] = (float)g_rand_double_range(rng, -0.5, 0.5);
  }
  for (round = 0; round < 5; round++)
    for (p = 0; p < n_paths; p++) {
      double t0;
      size_t done;
      mdn_exact_invalidate(e[p]);
      t0 = now_ns();
      for (done = 0; done < n; done += MDN_CHUNK) {
        for (i = 0; i < k->cin; i++)
          x[i] = chan[i] + h + done;
        mdn_exact_process(e[p], x, done, MDN_CHUNK, out);
      }
      ns[p] = MIN(ns[p], (now_ns() - t0) / n);
    }
  for (i = 0; i < k->cin; i++)
    g_free(chan[i]);
  for (p = 0; p < n_paths; p++)
    mdn_exact_free(e[p]);
  g_free(e);
  g_free(chan);
  g_free(x);
  g_free(out);
  g_rand_free(rng);
}

static const int taps_list[] = { 16,  32,  48,  64,   80,   96,   112,  128,   160,   192,  256,
                                 384, 512, 768, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
static const int parts[] = { 16, 32, 64, 128, 256, 512, 1024, 2048 };

/* The table of one shape; appends each timing (P >= 64 for the FFT path)
 * to `rows` when given. */
static void
run_table(int cin, int cout, int dil, double budget, GArray *rows)
{
  int crossover = 0;
  guint j, p;

  printf("# %s kernels; %d->%d dilation %d, ns per frame; '*' best FFT partition, "
         "planner: the partition mdn_exact_new() picks (0: direct)\n",
         mdn_isa(), cin, cout, dil);
  printf("%6s %10s", "taps", "direct");
  for (p = 0; p < G_N_ELEMENTS(parts); p++)
    printf(" %9s%-5d", "P=", parts[p]);
  printf(" %8s %s\n", "best", "planner");

  for (j = 0; j < G_N_ELEMENTS(taps_list); j++) {
    MdnKernel *k = mdn_kernel_new(cin, cout, taps_list[j], dil, 48000, NULL);
    size_t len = (size_t)(taps_list[j] - 1) * dil + 1, w;
    double direct = -1, fft[G_N_ELEMENTS(parts)], best_fft = G_MAXDOUBLE;
    int best_p = 0;
    GRand *rng = g_rand_new_with_seed(taps_list[j]);
    FitRow row;

    for (w = 0; w < (size_t)cin * cout * k->taps; w++)
      k->weights[w] = (float)g_rand_double_range(rng, -1, 1) / k->taps;
    g_rand_free(rng);

    {
      int paths[G_N_ELEMENTS(parts) + 1], n_paths = 0;
      double ns[G_N_ELEMENTS(parts) + 1];
      gboolean with_direct = (double)cin * cout * k->taps <= 20000;
      if (with_direct)
        paths[n_paths++] = 0;
      for (p = 0; p < G_N_ELEMENTS(parts); p++)
        if (len >= 2 * (size_t)parts[p] && len <= 256 * (size_t)parts[p])
          paths[n_paths++] = parts[p];
      time_paths(k, paths, n_paths, budget, ns);
      n_paths = 0;
      if (with_direct) {
        direct = ns[n_paths++];
        mdn_exact_plan_ops(k, 0, row.ops);
        row.ns = direct;
        if (rows)
          g_array_append_val(rows, row);
      }
      for (p = 0; p < G_N_ELEMENTS(parts); p++) {
        fft[p] = -1;
        if (len >= 2 * (size_t)parts[p] && len <= 256 * (size_t)parts[p]) {
          fft[p] = ns[n_paths++];
          if (fft[p] < best_fft) {
            best_fft = fft[p];
            best_p = parts[p];
          }
          mdn_exact_plan_ops(k, parts[p], row.ops);
          row.ns = fft[p];
          if (rows && parts[p] >= 64)
            g_array_append_val(rows, row);
        }
      }
    }
    printf("%6d ", taps_list[j]);
    if (direct >= 0)
      printf("%10.2f", direct);
    else
      printf("%10s", "-");
    for (p = 0; p < G_N_ELEMENTS(parts); p++) {
      if (fft[p] >= 0)
        printf(" %9.2f%-5s", fft[p], parts[p] == best_p ? "*" : "");
      else
        printf(" %9s%-5s", "-", "");
    }
    printf(" %8d %7d\n", best_p, mdn_exact_partition(k));
    fflush(stdout);
    if (!crossover && direct >= 0 && best_p && best_fft < direct)
      crossover = taps_list[j];
    mdn_kernel_free(k);
  }
  if (crossover)
    printf("# first listed taps where the best FFT beats direct: %d\n", crossover);
}

/* Solves a x = b for 3x3 a (Gaussian elimination, partial pivoting). */
static gboolean
solve3(double a[3][3], double b[3], double x[3])
{
  int r, c, i;
  for (c = 0; c < 3; c++) {
    int piv = c;
    for (r = c + 1; r < 3; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c]))
        piv = r;
    if (fabs(a[piv][c]) < 1e-300)
      return FALSE;
    for (i = 0; i < 3; i++) {
      double t = a[c][i];
      a[c][i] = a[piv][i];
      a[piv][i] = t;
    }
    {
      double t = b[c];
      b[c] = b[piv];
      b[piv] = t;
    }
    for (r = c + 1; r < 3; r++) {
      double f = a[r][c] / a[c][c];
      for (i = c; i < 3; i++)
        a[r][i] -= f * a[c][i];
      b[r] -= f * b[c];
    }
  }
  for (c = 2; c >= 0; c--) {
    double sum = b[c];
    for (i = c + 1; i < 3; i++)
      sum -= a[c][i] * x[i];
    x[c] = sum / a[c][c];
  }
  return TRUE;
}

/* ns = sum_m x[m] ops[m], least squares on the relative error. */
static void
fit_rows(const GArray *rows)
{
  double a[3][3] = { { 0 } }, b[3] = { 0 }, x[3], *err;
  guint r;
  int m, q;

  for (r = 0; r < rows->len; r++) {
    const FitRow *row = &g_array_index(rows, FitRow, r);
    for (m = 0; m < 3; m++) {
      for (q = 0; q < 3; q++)
        a[m][q] += row->ops[m] * row->ops[q] / (row->ns * row->ns);
      b[m] += row->ops[m] / row->ns;
    }
  }
  if (!solve3(a, b, x)) {
    printf("# fit: singular\n");
    return;
  }
  err = g_new(double, rows->len);
  for (r = 0; r < rows->len; r++) {
    const FitRow *row = &g_array_index(rows, FitRow, r);
    err[r] = fabs(x[0] * row->ops[0] + x[1] * row->ops[1] + x[2] * row->ops[2] - row->ns) / row->ns;
  }
  qsort(err, rows->len, sizeof(double), compare_doubles);
  printf("# fit (%s, %u timings): ns per direct multiply-add %.4f, per complex multiply-add op "
         "%.4f, per FFT op %.4f; relative error median %.0f%%, 90th percentile %.0f%%\n",
         mdn_isa(), rows->len, x[0], x[1], x[2], 100 * err[rows->len / 2],
         100 * err[rows->len * 9 / 10]);
  g_free(err);
}

/* The benchmark's workload shapes through the stream (random weights; the
 * reverb's decay like a room's, RT60 0.4 s at 48 kHz). */
static void
run_workloads(const char *only, size_t frames)
{
  static const struct {
    const char *name;
    int cin, cout, taps, dil;
  } wl[] = {
    { "lowpass64", 1, 1, 64, 1 }, { "bank16", 1, 16, 128, 1 }, { "layer16", 16, 16, 9, 2 },
    { "beam8", 8, 2, 256, 1 },    { "reverb", 1, 1, 8192, 1 },
  };
  const int rounds = frames ? 1 : 7;
  guint j;

  printf("# %s kernels; mdn_stream_process, MDN_TIER_EXACT, 1024-frame buffers; "
         "ns per frame, best of 7 rounds (thread CPU time)\n",
         mdn_isa());
  printf("%-10s %8s %10s %10s\n", "workload", "shape", "partition", "ns/frame");
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
    char shape[32];

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
      double t0 = now_ns();
      for (t = 0; t < n; t += block)
        mdn_stream_process(stream, MDN_TIER_EXACT, in + t * k->cin, out + t * k->cout, block);
      best = MIN(best, (now_ns() - t0) / n);
    }
    g_snprintf(shape, sizeof shape, "%d->%d", k->cin, k->cout);
    printf("%-10s %8s %10d %10.2f\n", wl[j].name, shape, mdn_exact_partition(k), best);
    fflush(stdout);
    g_free(in);
    g_free(out);
    mdn_stream_free(stream);
    mdn_model_free(model);
    mdn_kernel_free(k);
    g_rand_free(rng);
  }
}

int
main(int argc, char **argv)
{
  int cin = 1, cout = 1, dil = 1, first = 1;
  double budget = 4e8;

  if (argc > first && strcmp(argv[first], "--quick") == 0) {
    budget = 4e7;
    first++;
  }
  if (argc > first && strcmp(argv[first], "--workloads") == 0) {
    run_workloads(argc > first + 1 ? argv[first + 1] : NULL,
                  argc > first + 2 ? (size_t)g_ascii_strtoull(argv[first + 2], NULL, 10) : 0);
    return 0;
  }
  if (argc > first && strcmp(argv[first], "--fit") == 0) {
    GArray *rows = g_array_new(FALSE, FALSE, sizeof(FitRow));
    run_table(1, 1, 1, budget, rows);
    run_table(1, 16, 1, budget, rows);
    run_table(4, 4, 2, budget, rows);
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
  run_table(cin, cout, dil, budget, NULL);
  return 0;
}

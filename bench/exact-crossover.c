/* exact-crossover: times the exact path's direct form against its
 * partitioned FFT path (each partition size) and prints ns per frame, to
 * set MDN_EXACT_CROSSOVER_TAPS and choose_partition() in engine/exact.c.
 *
 *   ninja -C build && build/bench/exact-crossover [--quick] [cin cout dilation]
 *
 * Random kernel, white-noise input, mdn_exact_process() over the stream's
 * memory layout (history before x[i], chunks of MDN_CHUNK frames). Each
 * figure is the best of several runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdn-private.h"

MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);
int mdn_exact_partition(const MdnKernel *kernel);

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

int
main(int argc, char **argv)
{
  static const int taps_list[] = { 16,  32,  48,  64,   80,   96,   112,  128,   160,   192,  256,
                                   384, 512, 768, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
  static const int parts[] = { 16, 32, 64, 128, 256, 512, 1024, 2048 };
  int cin = 1, cout = 1, dil = 1, first = 1, crossover = 0;
  double budget = 4e8;
  guint j, p;

  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    budget = 4e7;
    first = 2;
  }
  if (argc >= first + 3) {
    cin = atoi(argv[first]);
    cout = atoi(argv[first + 1]);
    dil = atoi(argv[first + 2]);
  }
  if (cin < 1 || cout < 1 || dil < 1 || cin > MDN_MAX_CHANNELS || cout > MDN_MAX_CHANNELS) {
    fprintf(stderr, "usage: %s [--quick] [cin cout dilation]\n", argv[0]);
    return 2;
  }

  printf("# %d->%d dilation %d, ns per frame; '*' best FFT partition, "
         "planner: the partition mdn_exact_new() picks (0: direct)\n",
         cin, cout, dil);
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
      if (with_direct)
        direct = ns[n_paths++];
      for (p = 0; p < G_N_ELEMENTS(parts); p++) {
        fft[p] = -1;
        if (len >= 2 * (size_t)parts[p] && len <= 256 * (size_t)parts[p]) {
          fft[p] = ns[n_paths++];
          if (fft[p] < best_fft) {
            best_fft = fft[p];
            best_p = parts[p];
          }
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
    if (!crossover && direct >= 0 && best_p && best_fft < direct)
      crossover = taps_list[j];
    mdn_kernel_free(k);
  }
  if (crossover)
    printf("# first listed taps where the best FFT beats direct: %d\n", crossover);
  return 0;
}

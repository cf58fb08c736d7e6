/* exact-plan.c: the exact path's planner: the direct form, or the
 * partitioning of the FFT path (exact.c) of least modelled time, the model
 * weighing each kind of operation by the level of the kernels that do it
 * (the tables' fir_flag and the FFT's flag); the history and memory any
 * plan may need.
 *
 * A plan: the head, expanded taps [0, D), in direct form; then levels of
 * partitions of B_l taps (B_1 = D < B_2 < ..., powers of two), level l
 * covering [S_l, S_l + n_l B_l), S_1 = D and S_(l+1) = S_l + n_l B_l, the
 * last reaching the kernel's end. S_1 = B_1 (delay 1: the first level's
 * job runs when its input block ends, at the block's deadline); every later
 * level starts at S >= 2B (delay >= 2: its job can be spread over the block
 * before the deadline, exact.c). The planner searches every such sequence
 * of sizes (B_1 from 32 to 1024, later sizes up to 8192).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-plan.h"
#include "dsp.h"

#include <string.h>

/* The planner's time model, ns per frame (plan_time()):
 *   direct  per multiply-add of the direct form (cin cout direct_taps)
 *   mac     per complex multiply-add of an FDL (cin cout n_l per level)
 *   fft     per (N/2) log2 N of each real FFT of N = 2B points (one forward
 *           per input, one inverse per output, per block of B frames)
 *   block   per transform (fixed cost of a job's units), per block
 * by the level of the kernels (direct: the fir entry's; the others: the
 * FFT table's).
 * Least-squares fits (relative error) of
 *   MADDNESS_ISA=scalar|avx2|avx512 build/bench/exact-crossover --quick --fit
 * (646-650 timings each: 1->1, 1->2, 1->16 and 4->4 dilation 2, 64..65536
 * taps, direct, uniform and 2- and 3-level plans; best of 7 interleaved
 * rounds, thread CPU time) on 2 vCPUs of an AMD EPYC with AVX-512 shared
 * with other builds (load average about 13), gcc 12 -O2, x86-64 baseline
 * build. Median relative error 14% (scalar), 7% (AVX2), 9% (AVX-512); the
 * planner's plan was within 1.15x of the best measured one but for a few
 * multichannel points (1.23x at worst, AVX2 4->4 16384 taps). */
typedef struct {
  unsigned flag; /* MDN_CPU_FLAG_* of the kernels' level, 0: plain C */
  double direct, mac, fft, block;
} LevelWeights;

static const LevelWeights level_ns[] = {
  { .flag = 0, .direct = 0.0776, .mac = 0.5548, .fft = 0.8081, .block = 171.7 },
  { .flag = MDN_CPU_FLAG_AVX2, .direct = 0.0291, .mac = 0.2229, .fft = 0.1268, .block = 7.0 },
  { .flag = MDN_CPU_FLAG_AVX512, .direct = 0.0225, .mac = 0.2078, .fft = 0.0977, .block = 30.1 },
  /* Not measured (no AArch64 machine here; timings under qemu mean
   * nothing): the plain-C weights. */
  { .flag = MDN_CPU_FLAG_NEON, .direct = 0.0776, .mac = 0.5548, .fft = 0.8081, .block = 171.7 },
};

typedef struct {
  double direct, mac, fft, block;
} OpWeights;

/* The weights of the tables' kernels (a level without its own: plain C's). */
static OpWeights
op_weights(const MdnExactDsp *dsp, const MdnFftDsp *fft)
{
  OpWeights w = { level_ns[0].direct, level_ns[0].mac, level_ns[0].fft, level_ns[0].block };
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(level_ns); j++) {
    if (level_ns[j].flag == dsp->fir_flag)
      w.direct = level_ns[j].direct;
    if (level_ns[j].flag == fft->flag) {
      w.mac = level_ns[j].mac;
      w.fft = level_ns[j].fft;
      w.block = level_ns[j].block;
    }
  }
  return w;
}

/* The FFT path is only used when its spectra (about 2 floats per frame of
 * span and (o, i) pair) stay within this factor of the kernel's weights plus
 * a fixed allowance: a large dilation inflates the expanded kernel. */
#define MDN_EXACT_FFT_MEMORY_FACTOR 16
#define MDN_EXACT_FFT_MEMORY_SLACK ((size_t)1 << 22)

/* Partition sizes: B_1 (= the head D) from MIN to MAX_HEAD, later levels up
 * to MAX_PARTITION; FFTs of 2B points. */
#define MDN_EXACT_MIN_PARTITION 32
#define MDN_EXACT_MAX_HEAD 1024
#define MDN_EXACT_MAX_PARTITION 8192

static size_t
expanded_len(const MdnKernel *k)
{
  return (size_t)(k->taps - 1) * k->dilation + 1;
}

/* (N/2) log2 N for a real FFT of N points. */
static double
fft_ops(int n)
{
  return n / 2.0 * log2((double)n);
}

void
mdn_exact_plan_direct(const MdnKernel *k, MdnExactPlan *plan)
{
  memset(plan, 0, sizeof *plan);
  plan->head = (int)MIN(expanded_len(k), (size_t)G_MAXINT);
  plan->direct_taps = k->taps;
}

gboolean
mdn_exact_plan_levels(const MdnKernel *k, const int *blocks, int n_blocks, MdnExactPlan *plan)
{
  const size_t len = expanded_len(k);
  size_t start;
  int l;

  if (n_blocks < 1 || n_blocks > MDN_EXACT_MAX_LEVELS || blocks[0] < MDN_EXACT_MIN_PARTITION
      || 2 * (size_t)blocks[0] > len)
    return FALSE;
  memset(plan, 0, sizeof *plan);
  plan->head = blocks[0];
  plan->direct_taps = MIN((blocks[0] - 1) / k->dilation + 1, k->taps);
  plan->n_levels = n_blocks;
  start = (size_t)blocks[0];
  for (l = 0; l < n_blocks; l++) {
    MdnExactLevel *lv = &plan->level[l];
    const size_t b = (size_t)blocks[l];
    if ((b & (b - 1)) != 0 || b > MDN_EXACT_MAX_PARTITION || (l > 0 && b <= (size_t)blocks[l - 1]))
      return FALSE;
    lv->block = (int)b;
    lv->start = (int)start;
    if (l + 1 < n_blocks) {
      const size_t next = (size_t)blocks[l + 1];
      size_t s = MAX(2 * next, start + b);
      s = (s + next - 1) / next * next;
      if (s >= len)
        return FALSE;
      lv->parts = (int)((s - start) / b);
      start = s;
    } else {
      lv->parts = (int)((len - start + b - 1) / b);
    }
  }
  return TRUE;
}

/* The FFT path's memory, whatever the plan: spectra of at most len + B_max
 * frames per (o, i) pair, B_max the largest partition any plan may use. */
static size_t
max_block(const MdnKernel *k)
{
  const size_t len = expanded_len(k);
  size_t b = MDN_EXACT_MIN_PARTITION;
  if (2 * b > len)
    return 0;
  while (2 * b <= MDN_EXACT_MAX_PARTITION && 4 * b <= len)
    b *= 2;
  return b;
}

static gboolean
fft_allowed(const MdnKernel *k)
{
  const size_t b = max_block(k);
  const double weights = (double)k->cin * k->cout * k->taps;
  const double spectra = 2.0 * (expanded_len(k) + b) * k->cin * k->cout;
  return b > 0 && spectra <= MDN_EXACT_FFT_MEMORY_FACTOR * weights + MDN_EXACT_FFT_MEMORY_SLACK;
}

/* Modelled ns per frame. */
static double
plan_time(const MdnKernel *k, const MdnExactPlan *plan, const OpWeights *w)
{
  double t = w->direct * k->cin * k->cout * plan->direct_taps;
  int l;
  for (l = 0; l < plan->n_levels; l++) {
    const MdnExactLevel *lv = &plan->level[l];
    t += (k->cin + k->cout) * (w->fft * fft_ops(2 * lv->block) + w->block) / lv->block;
    t += w->mac * k->cin * k->cout * lv->parts * (lv->block + 1.0) / lv->block;
  }
  return t;
}

typedef struct {
  const MdnKernel *k;
  const OpWeights *w;
  int blocks[MDN_EXACT_MAX_LEVELS];
  MdnExactPlan best;
  double best_time;
} Search;

/* Every plan whose level sizes start with blocks[0..n-1]. */
static void
search(Search *s, int n)
{
  MdnExactPlan plan;
  int b;
  if (mdn_exact_plan_levels(s->k, s->blocks, n, &plan)) {
    const double t = plan_time(s->k, &plan, s->w);
    if (t < s->best_time) {
      s->best_time = t;
      s->best = plan;
    }
  } else {
    return;
  }
  if (n == MDN_EXACT_MAX_LEVELS)
    return;
  for (b = 2 * s->blocks[n - 1]; b <= MDN_EXACT_MAX_PARTITION; b *= 2) {
    s->blocks[n] = b;
    search(s, n + 1);
  }
}

void
mdn_exact_plan(const MdnKernel *k, const MdnExactDsp *dsp, const MdnFftDsp *fft, MdnExactPlan *plan)
{
  const OpWeights w = op_weights(dsp, fft);
  Search s = { .k = k, .w = &w };
  int b;

  mdn_exact_plan_direct(k, &s.best);
  s.best_time = plan_time(k, &s.best, s.w);
  if (fft_allowed(k))
    for (b = MDN_EXACT_MIN_PARTITION; b <= MDN_EXACT_MAX_HEAD; b *= 2) {
      s.blocks[0] = b;
      search(&s, 1);
    }
  *plan = s.best;
}

void
mdn_exact_plan_process(const MdnKernel *kernel, MdnExactPlan *plan)
{
  mdn_exact_plan(kernel, &mdn_dsp()->exact, &mdn_dsp()->fft, plan);
}

/* Frames of history: the direct form reads (direct_taps-1)*dilation back; a
 * level rebuilds its FDL after an invalidation from blocks reaching back
 * S + (n+1) B frames. */
size_t
mdn_exact_plan_history(const MdnKernel *k, const MdnExactPlan *plan)
{
  size_t h = (size_t)(plan->direct_taps - 1) * k->dilation;
  int l;
  for (l = 0; l < plan->n_levels; l++) {
    const MdnExactLevel *lv = &plan->level[l];
    h = MAX(h, (size_t)lv->start + (size_t)(lv->parts + 1) * lv->block);
  }
  return h;
}

void
mdn_exact_history_bound(const MdnKernel *k, size_t *frames, size_t *fdl_bytes, size_t *group_bytes,
                        size_t *spectra_bytes)
{
  const size_t len = expanded_len(k), b = max_block(k);
  size_t size;

  *frames = (size_t)(k->taps - 1) * k->dilation;
  *fdl_bytes = *group_bytes = *spectra_bytes = 0;
  if (!fft_allowed(k))
    return;
  /* Any plan: levels end before len + B_max, so reach back less than
   * len + 2 B_max; their partitions cover less than len + B_max taps. */
  *frames = MAX(*frames, len + 2 * b);
  *fdl_bytes = sizeof(float) * 2 * (len + b);
  *spectra_bytes = *fdl_bytes * k->cin * k->cout;
  /* One FFT plan per level, of distinct sizes up to 2 B_max. */
  for (size = 2 * MDN_EXACT_MIN_PARTITION; size <= 2 * b; size *= 2)
    *spectra_bytes += mdn_fft_plan_bytes(size);
  /* Per output: a spectrum and two tails per level, sizes doubling up to
   * B_max (less than 2 B_max in all): 4 floats per frame of B. */
  *group_bytes = sizeof(float) * 4 * 2 * b * k->cout;
}

size_t
mdn_exact_history(const MdnKernel *kernel)
{
  MdnExactPlan plan;
  mdn_exact_plan_process(kernel, &plan);
  return mdn_exact_plan_history(kernel, &plan);
}

/* Operation-count model, multiply-adds per output frame (all outputs), for
 * the tiers' cost comparison (docs/tiers.md):
 *   direct form:  cin*cout*direct_taps
 *   per level:    cin*cout*n*4*(B+1)/B   (complex multiply-adds of the FDL)
 *               + (cin+cout)*F(2B)/B     (one forward FFT per input and one
 *                                         inverse per output, per block)
 * with F(N) = 2.5 (N/2) log2(N/2) + N (a real FFT of N points, radix 2/4
 * multiply-add equivalents). */
double
mdn_exact_cost_per_frame(const MdnKernel *kernel)
{
  MdnExactPlan plan;
  double ops;
  int l;
  mdn_exact_plan_process(kernel, &plan);
  ops = (double)kernel->cin * kernel->cout * plan.direct_taps;
  for (l = 0; l < plan.n_levels; l++) {
    const MdnExactLevel *lv = &plan.level[l];
    const double half = lv->block;
    ops += (double)kernel->cin * kernel->cout * lv->parts * 4.0 * (lv->block + 1.0) / lv->block;
    ops += (double)(kernel->cin + kernel->cout) * (2.5 * half * log2(half) + 2.0 * half)
           / lv->block;
  }
  return ops;
}

void
mdn_exact_plan_forced(const MdnKernel *kernel, int partition, MdnExactPlan *plan)
{
  if (partition <= 0 || !mdn_exact_plan_levels(kernel, &partition, 1, plan))
    mdn_exact_plan_direct(kernel, plan);
}

size_t
mdn_exact_history_forced(const MdnKernel *kernel, int partition)
{
  MdnExactPlan plan;
  mdn_exact_plan_forced(kernel, partition, &plan);
  return mdn_exact_plan_history(kernel, &plan);
}

size_t
mdn_exact_history_levels(const MdnKernel *kernel, const int *blocks, int n_blocks)
{
  MdnExactPlan plan;
  if (n_blocks == 0)
    mdn_exact_plan_direct(kernel, &plan);
  else if (!mdn_exact_plan_levels(kernel, blocks, n_blocks, &plan))
    return 0;
  return mdn_exact_plan_history(kernel, &plan);
}

int
mdn_exact_plan_blocks(const MdnKernel *kernel, int *blocks)
{
  MdnExactPlan plan;
  int l;
  mdn_exact_plan_process(kernel, &plan);
  for (l = 0; l < plan.n_levels; l++)
    blocks[l] = plan.level[l].block;
  return plan.n_levels;
}

gboolean
mdn_exact_plan_features(const MdnKernel *kernel, const int *blocks, int n_blocks,
                        double features[4])
{
  MdnExactPlan plan;
  int l;
  if (n_blocks == 0)
    mdn_exact_plan_direct(kernel, &plan);
  else if (!mdn_exact_plan_levels(kernel, blocks, n_blocks, &plan))
    return FALSE;
  features[0] = (double)kernel->cin * kernel->cout * plan.direct_taps;
  features[1] = features[2] = features[3] = 0;
  for (l = 0; l < plan.n_levels; l++) {
    const MdnExactLevel *lv = &plan.level[l];
    features[1] += (double)kernel->cin * kernel->cout * lv->parts * (lv->block + 1.0) / lv->block;
    features[2] += (double)(kernel->cin + kernel->cout) * fft_ops(2 * lv->block) / lv->block;
    features[3] += (double)(kernel->cin + kernel->cout) / lv->block;
  }
  return TRUE;
}

char *
mdn_exact_plan_describe(const MdnKernel *kernel)
{
  MdnExactPlan plan;
  GString *s = g_string_new(NULL);
  int l;
  mdn_exact_plan_process(kernel, &plan);
  if (plan.n_levels == 0) {
    g_string_append_printf(s, "direct %d taps", plan.direct_taps);
    return g_string_free(s, FALSE);
  }
  g_string_append_printf(s, "direct %d", plan.head);
  for (l = 0; l < plan.n_levels; l++)
    g_string_append_printf(s, " | %dx%d", plan.level[l].block, plan.level[l].parts);
  return g_string_free(s, FALSE);
}

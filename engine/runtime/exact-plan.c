/* exact-plan.c: the exact path's planner: the direct form, or the
 * partitioned FFT path (exact.c) with the partition size of least modelled
 * time, the model weighing each kind of operation by the level of the
 * kernel that does it (the table's fir_flag and cmac_flag); the history
 * and memory any plan may need.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-plan.h"
#include "dsp.h"

/* The time model: ns per operation of each kind, by the level of the kernel
 * that does it (kissfft is the same scalar code for all).
 * Least-squares fits (relative error) of plan_time() to the 200 timings
 * with P >= 64 or direct of
 *   meson setup build-h9 && ninja -C build-h9
 *   MADDNESS_ISA=scalar build-h9/bench/exact-crossover --fit  (plain-C fir, SSE2 cmac)
 *   MADDNESS_ISA=avx2 build-h9/bench/exact-crossover --fit
 * (1->1, 1->16 and 4->4 dilation 2, 16..65536 taps; AMD EPYC (Zen 3), 2 vCPUs
 * shared with other builds (load average about 8), gcc 12 -O2, x86-64
 * baseline build, kissfft 131; thread CPU time, best of 5 interleaved
 * rounds). Median error of the fit 13% (scalar; the best of three runs) and
 * 10% (AVX2). The FFT weight, the same code under both, came out 0.404 and
 * 0.400.
 *
 * The 1->1 crossover (dilation 1) moves with the ISA: measured, the best
 * FFT path beat the direct form from 384 taps with the scalar kernels (the
 * "scalar" fit: plain-C fir, SSE2 cmac)
 * (direct 29.3 against 23.1 ns/frame at P=128; 256 taps: 21.7 against 24.3
 * at P=64) and between 512 and 768 with AVX2 (512: 17.8 against 21.1; 768:
 * 27.3 against 21.5, P=64). The model puts it at 248 (scalar) and 512
 * (AVX2, by 0.1%: the AVX2 planner takes the FFT path at 512 taps and the
 * direct form at 448). */
typedef struct {
  unsigned flag; /* MDN_CPU_FLAG_* of the fir entry, 0: plain C */
  double direct; /* one multiply-add of the direct form */
  double fft;    /* one operation of fft_cost(), fitted together with direct */
} FirWeights;

typedef struct {
  unsigned flag; /* MDN_CPU_FLAG_* of the cmac entry, 0: plain C */
  double cmac;   /* one operation of the delay line's complex multiply-adds */
} CmacWeights;

static const FirWeights fir_ns[] = {
  { .flag = 0, .direct = 0.0904, .fft = 0.404 },
  { .flag = MDN_CPU_FLAG_AVX2, .direct = 0.0396, .fft = 0.400 },
  /* Not measured (no AVX-512 machine here): AVX2's until someone runs the
   * fit on one. */
  { .flag = MDN_CPU_FLAG_AVX512, .direct = 0.0396, .fft = 0.400 },
  /* Not measured (no AArch64 machine here; timings under qemu mean
   * nothing): the plain-C weights, whose direct form gcc vectorises 4 wide,
   * as wide as NEON's. */
  { .flag = MDN_CPU_FLAG_NEON, .direct = 0.0904, .fft = 0.404 },
};

static const CmacWeights cmac_ns[] = {
  /* Not fitted: SSE2's times the plain-C kernel's time against SSE2's on
   * the delay line's shapes (65..4097 bins, 3..63 spectra), 1.44 to 1.81,
   * median 1.76 (x86-64, gcc 12 -O2). */
  { .flag = 0, .cmac = 0.320 },
  { .flag = MDN_CPU_FLAG_SSE2, .cmac = 0.182 },
  { .flag = MDN_CPU_FLAG_AVX2, .cmac = 0.145 },
  { .flag = MDN_CPU_FLAG_AVX512, .cmac = 0.145 }, /* not measured: AVX2's */
  { .flag = MDN_CPU_FLAG_NEON, .cmac = 0.182 },   /* not measured: SSE2's, as wide */
};

typedef struct {
  double direct, cmac, fft;
} OpWeights;

/* The weights of the table's kernels (a level without its own: plain C's). */
static OpWeights
op_weights(const MdnExactDsp *dsp)
{
  OpWeights w = { .direct = fir_ns[0].direct, .cmac = cmac_ns[0].cmac, .fft = fir_ns[0].fft };
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(fir_ns); j++)
    if (fir_ns[j].flag == dsp->fir_flag) {
      w.direct = fir_ns[j].direct;
      w.fft = fir_ns[j].fft;
    }
  for (j = 0; j < G_N_ELEMENTS(cmac_ns); j++)
    if (cmac_ns[j].flag == dsp->cmac_flag)
      w.cmac = cmac_ns[j].cmac;
  return w;
}

/* The FFT path is only used when its spectra (2*(P+1) floats per partition
 * and (o, i) pair) stay within this factor of the kernel's weights plus a
 * fixed allowance: a large dilation inflates the expanded kernel. */
#define MDN_EXACT_FFT_MEMORY_FACTOR 16
#define MDN_EXACT_FFT_MEMORY_SLACK ((size_t)1 << 22)

/* Partition sizes tried by the planner. */
#define MDN_EXACT_MIN_PARTITION 64
#define MDN_EXACT_MAX_PARTITION 4096

/* Real FFT of N points as multiply-add equivalents: a complex FFT of N/2
 * points (about 2.5 (N/2) log2 (N/2) multiply-adds in radix 2/4) plus N/2
 * butterflies of post-processing (2 each). */
static double
fft_cost(int n)
{
  double half = n / 2.0;
  return 2.5 * half * log2(half) + 2.0 * half;
}

static void
plan_fft(const MdnKernel *k, int p, MdnExactPlan *plan)
{
  size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  int direct = (p - 1) / k->dilation + 1;
  plan->partition = p;
  plan->n_parts = (int)((len + p - 1) / p);
  plan->direct_taps = MIN(direct, k->taps);
}

static void
plan_direct(const MdnKernel *k, MdnExactPlan *plan)
{
  plan->partition = 0;
  plan->n_parts = 1;
  plan->direct_taps = k->taps;
}

/* Multiply-adds per frame of the FFT path's delay line: cin*cout complex
 * multiply-adds of P+1 bins per partition and block (4 each). */
static double
cmac_ops(const MdnKernel *k, const MdnExactPlan *plan)
{
  const int p = plan->partition;
  return (double)k->cin * k->cout * (plan->n_parts - 1) * 4.0 * (p + 1) / p;
}

/* Multiply-adds per frame of the FFT path's transforms: one forward FFT per
 * input and one inverse per output per block. */
static double
fft_ops(const MdnKernel *k, const MdnExactPlan *plan)
{
  const int p = plan->partition;
  return (double)(k->cin + k->cout) * fft_cost(2 * p) / p;
}

/* Modelled time per frame, in ns. */
static double
plan_time(const MdnKernel *k, const MdnExactPlan *plan, const OpWeights *w)
{
  double direct = w->direct * k->cin * k->cout * plan->direct_taps;
  if (plan->partition == 0)
    return direct;
  return direct + w->cmac * cmac_ops(k, plan) + w->fft * fft_ops(k, plan);
}

/* The direct form, or the FFT path with the partition size P (a power of 2,
 * 64..4096) of least modelled time. Against the best measured path of the
 * same fit runs, the plan this picks was at most 1.37x slower with AVX2
 * (1->1 16384 taps: P=512 73.9 against P=256 54.2 ns/frame, a noisy point;
 * 1->16 at most 1.17x, 4->4 dilation 2 at most 1.30x at 256 taps); with the
 * scalar kernels at most 1.16x up to 16384 taps (1->1 256 taps: P=64 25.2
 * against direct 21.7) but 1.6x at 65536 taps for 1->16 and 4->4 (P one
 * step below the best: the model does not see a delay line of many MB
 * falling out of the caches). */
static gboolean
fft_spectra_fit(const MdnKernel *k, const MdnExactPlan *fft)
{
  const double weights = (double)k->cin * k->cout * k->taps;
  const double spectra = 2.0 * (fft->partition + 1) * (fft->n_parts - 1) * k->cin * k->cout;
  return spectra <= MDN_EXACT_FFT_MEMORY_FACTOR * weights + MDN_EXACT_FFT_MEMORY_SLACK;
}

void
mdn_exact_plan(const MdnKernel *k, const MdnExactDsp *dsp, MdnExactPlan *plan)
{
  const size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  const OpWeights weights = op_weights(dsp), *w = &weights;
  double best;
  int p;

  plan_direct(k, plan);
  best = plan_time(k, plan, w);
  for (p = MDN_EXACT_MIN_PARTITION; p <= MDN_EXACT_MAX_PARTITION && 2 * (size_t)p <= len; p *= 2) {
    MdnExactPlan fft;
    double t;
    plan_fft(k, p, &fft);
    if (!fft_spectra_fit(k, &fft))
      continue;
    t = plan_time(k, &fft, w);
    if (t < best) {
      best = t;
      *plan = fft;
    }
  }
}

/* Frames of history: the direct form reads (taps-1)*dilation frames back.
 * The FFT part rebuilds its delay line after an invalidation from the
 * spectra of blocks b-NP+1 .. b-1, which read back to frame (b-NP)P, at most
 * NP*P + P-1 frames before the first new frame. */
size_t
mdn_exact_plan_history(const MdnKernel *k, const MdnExactPlan *plan)
{
  size_t direct = (size_t)(k->taps - 1) * k->dilation;
  if (plan->partition == 0)
    return direct;
  return MAX(direct, (size_t)(plan->n_parts + 1) * plan->partition);
}

void
mdn_exact_history_bound(const MdnKernel *k, size_t *frames, size_t *fdl_bytes,
                        size_t *spectra_bytes)
{
  const size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  MdnExactPlan plan;
  int p;

  plan_direct(k, &plan);
  *frames = mdn_exact_plan_history(k, &plan);
  *fdl_bytes = 0;
  *spectra_bytes = 0;
  /* Every plan mdn_exact_plan() may pick, whatever the ISA's op weights. */
  for (p = MDN_EXACT_MIN_PARTITION; p <= MDN_EXACT_MAX_PARTITION && 2 * (size_t)p <= len; p *= 2) {
    plan_fft(k, p, &plan);
    if (!fft_spectra_fit(k, &plan))
      continue;
    *frames = MAX(*frames, mdn_exact_plan_history(k, &plan));
    *fdl_bytes
        = MAX(*fdl_bytes, (size_t)(plan.n_parts - 1) * (plan.partition + 1) * sizeof(kiss_fft_cpx));
    *spectra_bytes = MAX(*spectra_bytes, (size_t)k->cout * k->cin * (plan.n_parts - 1)
                                             * (plan.partition + 1) * sizeof(kiss_fft_cpx));
  }
}

void
mdn_exact_plan_forced(const MdnKernel *kernel, int partition, MdnExactPlan *plan)
{
  if (partition > 0)
    plan_fft(kernel, partition, plan);
  if (partition <= 0 || plan->n_parts < 2)
    plan_direct(kernel, plan);
}

size_t
mdn_exact_history_forced(const MdnKernel *kernel, int partition)
{
  MdnExactPlan plan;
  mdn_exact_plan_forced(kernel, partition, &plan);
  return mdn_exact_plan_history(kernel, &plan);
}

/* The plans of this process: its kernels (mdn_cpu_flags(), fixed once), so
 * every plan agrees with mdn_exact_history(). */
static void
process_plan(const MdnKernel *kernel, MdnExactPlan *plan)
{
  mdn_exact_plan(kernel, &mdn_dsp()->exact, plan);
}

size_t
mdn_exact_history(const MdnKernel *kernel)
{
  MdnExactPlan plan;
  process_plan(kernel, &plan);
  return mdn_exact_plan_history(kernel, &plan);
}

/* Operation-count model, multiply-adds per output frame (all outputs):
 *   direct form:  cin*cout*taps
 *   FFT path:     cin*cout*D                      (first partition, direct;
 *                                                  D = min(taps, ceil(P/dil)))
 *               + cin*cout*(NP-1)*4*(P+1)/P       (complex multiply-adds of the FDL)
 *               + (cin+cout)*F(2P)/P              (one forward FFT per input
 *                                                  and one inverse per output, per block)
 * with F(N) = 2.5 (N/2) log2(N/2) + N (a real FFT of N points), NP the
 * number of partitions of the expanded kernel of (taps-1)*dil+1 taps. */
double
mdn_exact_cost_per_frame(const MdnKernel *kernel)
{
  MdnExactPlan plan;
  process_plan(kernel, &plan);
  return (double)kernel->cin * kernel->cout * plan.direct_taps
         + (plan.partition ? cmac_ops(kernel, &plan) + fft_ops(kernel, &plan) : 0);
}

void
mdn_exact_plan_ops(const MdnKernel *kernel, int partition, double ops[3])
{
  MdnExactPlan plan;
  mdn_exact_plan_forced(kernel, partition, &plan);
  ops[0] = (double)kernel->cin * kernel->cout * plan.direct_taps;
  ops[1] = plan.partition ? cmac_ops(kernel, &plan) : 0;
  ops[2] = plan.partition ? fft_ops(kernel, &plan) : 0;
}

int
mdn_exact_partition(const MdnKernel *kernel)
{
  MdnExactPlan plan;
  process_plan(kernel, &plan);
  return plan.partition;
}

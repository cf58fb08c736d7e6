/* exact.c: the exact path of a stream.
 *
 * Short kernels run in direct form. Long kernels run as a zero-latency
 * uniformly partitioned overlap-save convolution (kissfft real FFTs):
 * in expanded tap space (dilation d: the kernel is (taps-1)*d+1 long with
 * zeros between taps) the first partition of P taps is computed in direct
 * form, and partitions j = 1.. NP-1 of P taps each from a frequency-domain
 * delay line (FDL) of the spectra of past input blocks. Blocks are aligned to
 * the absolute frame index, block b = frames [bP, bP+P). The spectrum of block
 * c is FFT_2P(x[(c-1)P .. (c+1)P)), and the tail of block b is
 *   last P samples of IFFT_2P(sum_{j>=1} S_{b-j} . H_j)
 * which only needs blocks before b: it is computed when block b starts, so
 * there is no latency, and the output does not depend on the chunking.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-kernels.h"

#include <kiss_fftr.h>
#include <string.h>

/* The planner's time model: ns per operation of each kind, per ISA (the
 * kernels of exact-kernels-*.c; kissfft is the same scalar code for all).
 * Least-squares fits (relative error) of plan_time() to the 200 timings
 * with P >= 64 or direct of
 *   meson setup build-h9 && ninja -C build-h9
 *   MADDNESS_ISA=scalar build-h9/bench/exact-crossover --fit
 *   MADDNESS_ISA=avx2 build-h9/bench/exact-crossover --fit
 * (1->1, 1->16 and 4->4 dilation 2, 16..65536 taps; AMD EPYC (Zen 3), 2 vCPUs
 * shared with other builds (load average about 8), gcc 12 -O2, x86-64
 * baseline build, kissfft 131; thread CPU time, best of 5 interleaved
 * rounds). Median error of the fit 13% (scalar; the best of three runs) and
 * 10% (AVX2). The FFT weight, the same code under both, came out 0.404 and
 * 0.400.
 *
 * The 1->1 crossover (dilation 1) moves with the ISA: measured, the best
 * FFT path beat the direct form from 384 taps with the scalar kernels
 * (direct 29.3 against 23.1 ns/frame at P=128; 256 taps: 21.7 against 24.3
 * at P=64) and between 512 and 768 with AVX2 (512: 17.8 against 21.1; 768:
 * 27.3 against 21.5, P=64). The model puts it at 248 (scalar) and 512
 * (AVX2, by 0.1%: the AVX2 planner takes the FFT path at 512 taps and the
 * direct form at 448). */
typedef struct {
  double direct; /* one multiply-add of the direct form */
  double cmac;   /* one operation of the delay line's complex multiply-adds */
  double fft;    /* one operation of fft_cost() */
} OpWeights;

static const OpWeights isa_op_ns[MDN_N_ISAS] = {
  [MDN_ISA_SCALAR] = { 0.0904, 0.182, 0.404 },
  [MDN_ISA_AVX2] = { 0.0396, 0.145, 0.400 },
  /* Not measured (no AVX-512 machine here): AVX2's until someone runs the
   * fit on one. */
  [MDN_ISA_AVX512] = { 0.0396, 0.145, 0.400 },
  /* Not measured (no AArch64 machine here; timings under qemu mean
   * nothing): the scalar weights, measured on 4-wide SSE2 kernels as wide
   * as NEON's. */
  [MDN_ISA_NEON] = { 0.0904, 0.182, 0.404 },
};

/* The FFT path is only used when its spectra (2*(P+1) floats per partition
 * and (o, i) pair) stay within this factor of the kernel's weights plus a
 * fixed allowance: a large dilation inflates the expanded kernel. */
#define MDN_EXACT_FFT_MEMORY_FACTOR 16
#define MDN_EXACT_FFT_MEMORY_SLACK ((size_t)1 << 22)

/* Partition sizes tried by the planner. */
#define MDN_EXACT_MIN_PARTITION 64
#define MDN_EXACT_MAX_PARTITION 4096

/* Rows of several outputs the direct form computes together: their
 * accumulators (cout * this many floats) stay in the L1 cache. */
#define EXACT_SLICE 256

typedef struct {
  int partition;   /* P, 0 for the direct form */
  int n_parts;     /* NP: partitions of the expanded kernel, first included */
  int direct_taps; /* taps k computed in direct form (k*dil < P, or all) */
} ExactPlan;

/* What does not change while filtering: shared by the MdnExact of every
 * group of a stream (mdn_exact_new_sharing). */
typedef struct {
  gatomicrefcount ref;
  float *weights;       /* [cout][cin][taps], copied */
  float *bias;          /* [cout] */
  kiss_fft_cpx *h_spec; /* [cout][cin][NP-1][bins], scaled by 1/(2P) */
} ExactShared;

struct _MdnExact {
  int cin, cout, taps, dilation;
  ExactShared *shared;
  const float *weights, *bias; /* shared->... */
  const kiss_fft_cpx *h_spec;
  ExactPlan plan;
  const MdnExactKernels *kern; /* for mdn_cpu_isa(), chosen once */

  float *acc; /* [cout][EXACT_SLICE] accumulators (cout > 1) */

  /* FFT part (plan.partition > 0) */
  kiss_fftr_cfg fwd, inv;
  int bins;                   /* P + 1 */
  int ring;                   /* NP - 1 FDL slots per input channel */
  kiss_fft_cpx *fdl;          /* [cin][ring][bins] */
  const kiss_fft_cpx **s_ptr; /* [cin][NP-1]: FDL slot of (i, b - j), j = 1.. */
  kiss_fft_cpx *y_spec;       /* [bins] */
  float *time_buf;            /* [2P] */
  float *tail;                /* [cout][P]: tail of the current block */
  gboolean valid;             /* fdl and tail hold block cur_block */
  gint64 cur_block;
  guint64 next_frame; /* frame0 expected by the next call */
};

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
plan_fft(const MdnKernel *k, int p, ExactPlan *plan)
{
  size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  int direct = (p - 1) / k->dilation + 1;
  plan->partition = p;
  plan->n_parts = (int)((len + p - 1) / p);
  plan->direct_taps = MIN(direct, k->taps);
}

static void
plan_direct(const MdnKernel *k, ExactPlan *plan)
{
  plan->partition = 0;
  plan->n_parts = 1;
  plan->direct_taps = k->taps;
}

/* Multiply-adds per frame of the FFT path's delay line: cin*cout complex
 * multiply-adds of P+1 bins per partition and block (4 each). */
static double
cmac_ops(const MdnKernel *k, const ExactPlan *plan)
{
  const int p = plan->partition;
  return (double)k->cin * k->cout * (plan->n_parts - 1) * 4.0 * (p + 1) / p;
}

/* Multiply-adds per frame of the FFT path's transforms: one forward FFT per
 * input and one inverse per output per block. */
static double
fft_ops(const MdnKernel *k, const ExactPlan *plan)
{
  const int p = plan->partition;
  return (double)(k->cin + k->cout) * fft_cost(2 * p) / p;
}

/* The weights of the kernels this process uses (mdn_cpu_isa(), fixed once,
 * so every plan of a process agrees with mdn_exact_history()). */
static const OpWeights *
op_weights(void)
{
  return &isa_op_ns[mdn_exact_kernels_get(mdn_cpu_isa())->isa];
}

/* Modelled time per frame, in ns. */
static double
plan_time(const MdnKernel *k, const ExactPlan *plan, const OpWeights *w)
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
fft_spectra_fit(const MdnKernel *k, const ExactPlan *fft)
{
  const double weights = (double)k->cin * k->cout * k->taps;
  const double spectra = 2.0 * (fft->partition + 1) * (fft->n_parts - 1) * k->cin * k->cout;
  return spectra <= MDN_EXACT_FFT_MEMORY_FACTOR * weights + MDN_EXACT_FFT_MEMORY_SLACK;
}

static void
exact_plan(const MdnKernel *k, ExactPlan *plan)
{
  const size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  const OpWeights *w = op_weights();
  double best;
  int p;

  plan_direct(k, plan);
  best = plan_time(k, plan, w);
  for (p = MDN_EXACT_MIN_PARTITION; p <= MDN_EXACT_MAX_PARTITION && 2 * (size_t)p <= len; p *= 2) {
    ExactPlan fft;
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

const MdnExactKernels *
mdn_exact_kernels_get(MdnIsa isa)
{
  /* AVX-512 falls back to AVX2; neon, where it is not built, to scalar. */
#ifdef MDN_HAVE_EXACT_NEON
  if (isa == MDN_ISA_NEON)
    return &mdn_exact_kernels_neon;
#endif
#ifdef MDN_HAVE_EXACT_AVX512
  if (isa == MDN_ISA_AVX512)
    return &mdn_exact_kernels_avx512;
#endif
#ifdef MDN_HAVE_EXACT_AVX2
  if (isa == MDN_ISA_AVX2 || isa == MDN_ISA_AVX512)
    return &mdn_exact_kernels_avx2;
#endif
  (void)isa;
  return &mdn_exact_kernels_scalar;
}

/* Frames of history: the direct form reads (taps-1)*dilation frames back.
 * The FFT part rebuilds its delay line after an invalidation from the
 * spectra of blocks b-NP+1 .. b-1, which read back to frame (b-NP)P, at most
 * NP*P + P-1 frames before the first new frame. */
static size_t
plan_history(const MdnKernel *k, const ExactPlan *plan)
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
  ExactPlan plan;
  int p;

  plan_direct(k, &plan);
  *frames = plan_history(k, &plan);
  *fdl_bytes = 0;
  *spectra_bytes = 0;
  /* Every plan exact_plan() may pick, whatever the ISA's op weights. */
  for (p = MDN_EXACT_MIN_PARTITION; p <= MDN_EXACT_MAX_PARTITION && 2 * (size_t)p <= len; p *= 2) {
    plan_fft(k, p, &plan);
    if (!fft_spectra_fit(k, &plan))
      continue;
    *frames = MAX(*frames, plan_history(k, &plan));
    *fdl_bytes
        = MAX(*fdl_bytes, (size_t)(plan.n_parts - 1) * (plan.partition + 1) * sizeof(kiss_fft_cpx));
    *spectra_bytes = MAX(*spectra_bytes, (size_t)k->cout * k->cin * (plan.n_parts - 1)
                                             * (plan.partition + 1) * sizeof(kiss_fft_cpx));
  }
}

static size_t
ring_slot(const MdnExact *e, gint64 block)
{
  gint64 r = block % e->ring;
  return (size_t)(r < 0 ? r + e->ring : r);
}

static kiss_fft_cpx *
fdl_slot(MdnExact *e, int i, gint64 block)
{
  return e->fdl + ((size_t)i * e->ring + ring_slot(e, block)) * e->bins;
}

/* Spectrum of block c into its FDL slot; `start` is the absolute frame
 * index x[i][0] stands for. */
static void
push_block(MdnExact *e, const float *const *x, gint64 start, gint64 c)
{
  const int p = e->plan.partition;
  gint64 off = (c - 1) * p - start;
  int i;
  for (i = 0; i < e->cin; i++)
    kiss_fftr(e->fwd, x[i] + off, fdl_slot(e, i, c));
}

/* tail[o] = the contribution of partitions 1.. to block b. */
static void
compute_tail(MdnExact *e, gint64 b)
{
  const int p = e->plan.partition, bins = e->bins, parts = e->plan.n_parts - 1;
  int o, i, j;

  for (i = 0; i < e->cin; i++)
    for (j = 1; j <= parts; j++)
      e->s_ptr[(size_t)i * parts + j - 1] = fdl_slot(e, i, b - j);
  for (o = 0; o < e->cout; o++) {
    /* h_spec of (o, i, j) follows (o, i, j-1), and (o, i+1, 1) follows (o, i, NP-1). */
    e->kern->cmac(e->y_spec, e->s_ptr, e->h_spec + (size_t)o * e->cin * parts * bins, bins,
                  e->cin * parts, bins);
    kiss_fftri(e->inv, e->y_spec, e->time_buf);
    memcpy(e->tail + (size_t)o * p, e->time_buf + p, sizeof(float) * p);
  }
}

/* Makes fdl and tail hold block b; x[i][0] is absolute frame `start`. */
static void
ensure_block(MdnExact *e, const float *const *x, gint64 start, gint64 b)
{
  if (e->valid && b == e->cur_block)
    return;
  if (e->valid && b == e->cur_block + 1) {
    push_block(e, x, start, b - 1);
  } else {
    gint64 c;
    for (c = b - e->ring; c < b; c++)
      push_block(e, x, start, c);
  }
  compute_tail(e, b);
  e->cur_block = b;
  e->valid = TRUE;
}

/* Writes out[t*cout + o] for t < n: bias + direct taps [0, direct_taps) +
 * tail (when given, tail[o*tail_stride + t]). */
static void
direct_output(MdnExact *e, const float *const *x, size_t offset, size_t n, const float *tail,
              size_t tail_stride, float *out)
{
  const int cout = e->cout;
  const float *w = e->weights;
  size_t t0, t;
  int o;

  /* One output: accumulate straight into out. */
  if (cout == 1) {
    const float b = e->bias[0];
    if (tail)
      for (t = 0; t < n; t++)
        out[t] = b + tail[t];
    else
      for (t = 0; t < n; t++)
        out[t] = b;
    e->kern->fir(out, 0, 1, n, w, 0, e->taps, e->plan.direct_taps, e->cin, e->dilation, x, offset);
    return;
  }
  /* Several: every output of a slice of rows at once (the kernel shares the
   * loads of x between outputs), then interleaved into out. */
  for (t0 = 0; t0 < n; t0 += EXACT_SLICE) {
    const size_t len = MIN(n - t0, EXACT_SLICE);
    for (o = 0; o < cout; o++) {
      float *restrict acc = e->acc + (size_t)o * EXACT_SLICE;
      const float b = e->bias[o];
      if (tail) {
        const float *restrict tl = tail + (size_t)o * tail_stride + t0;
        for (t = 0; t < len; t++)
          acc[t] = b + tl[t];
      } else {
        for (t = 0; t < len; t++)
          acc[t] = b;
      }
    }
    e->kern->fir(e->acc, EXACT_SLICE, cout, len, w, (size_t)e->cin * e->taps, e->taps,
                 e->plan.direct_taps, e->cin, e->dilation, x, offset + t0);
    for (o = 0; o < cout; o++) {
      const float *restrict acc = e->acc + (size_t)o * EXACT_SLICE;
      float *restrict dst = out + t0 * cout + o;
      for (t = 0; t < len; t++)
        dst[t * cout] = acc[t];
    }
  }
}

static void
shared_unref(ExactShared *shared)
{
  if (shared && g_atomic_ref_count_dec(&shared->ref)) {
    g_free(shared->weights);
    g_free(shared->bias);
    g_free(shared->h_spec);
    g_free(shared);
  }
}

/* The per-stream state around `shared`, whose reference it takes over.
 * NULL when memory runs out. */
static MdnExact *
exact_state_new(int cin, int cout, int taps, int dilation, const ExactPlan *plan,
                ExactShared *shared)
{
  MdnExact *e = g_new0(MdnExact, 1);
  const int p = plan->partition;

  e->cin = cin;
  e->cout = cout;
  e->taps = taps;
  e->dilation = dilation;
  e->shared = shared;
  e->weights = shared->weights;
  e->bias = shared->bias;
  e->h_spec = shared->h_spec;
  e->plan = *plan;
  e->kern = mdn_exact_kernels_get(mdn_cpu_isa());
  e->acc = g_try_new0(float, (size_t)cout *EXACT_SLICE);
  if (!e->acc)
    goto fail;
  if (p > 0) {
    e->bins = p + 1;
    e->ring = plan->n_parts - 1;
    e->fwd = kiss_fftr_alloc(2 * p, 0, NULL, NULL);
    e->inv = kiss_fftr_alloc(2 * p, 1, NULL, NULL);
    e->fdl = g_try_new0(kiss_fft_cpx, (size_t)cin * e->ring * e->bins);
    e->s_ptr = g_try_new0(const kiss_fft_cpx *, (size_t)cin * e->ring);
    e->y_spec = g_try_new0(kiss_fft_cpx, e->bins);
    e->time_buf = g_try_new0(float, 2 * (size_t)p);
    e->tail = g_try_new0(float, (size_t)p *cout);
    if (!e->fwd || !e->inv || !e->fdl || !e->s_ptr || !e->y_spec || !e->time_buf || !e->tail)
      goto fail;
  }
  return e;
fail:
  mdn_exact_free(e);
  return NULL;
}

static MdnExact *
exact_new_with_plan(const MdnKernel *k, const ExactPlan *plan)
{
  const size_t n_w = (size_t)k->cout * k->cin * k->taps;
  const int p = plan->partition, parts = plan->n_parts - 1;
  ExactShared *shared = g_new0(ExactShared, 1);
  MdnExact *e;
  int o, i, j, m;

  g_atomic_ref_count_init(&shared->ref);
  shared->weights = g_try_new(float, n_w);
  shared->bias = g_try_new(float, k->cout);
  if (p > 0)
    shared->h_spec = g_try_new0(kiss_fft_cpx, (size_t)k->cout * k->cin * parts * (p + 1));
  if (!shared->weights || !shared->bias || (p > 0 && !shared->h_spec)) {
    shared_unref(shared);
    return NULL;
  }
  memcpy(shared->weights, k->weights, sizeof(float) * n_w);
  memcpy(shared->bias, k->bias, sizeof(float) * k->cout);
  e = exact_state_new(k->cin, k->cout, k->taps, k->dilation, plan, shared);
  if (!e || p == 0)
    return e;

  /* H_j = FFT of expanded taps [jP, jP+P), zero-padded to 2P, times 1/(2P)
   * (kiss_fftri does not normalise). */
  for (o = 0; o < k->cout; o++)
    for (i = 0; i < k->cin; i++) {
      const float *w = k->weights + ((size_t)o * k->cin + i) * k->taps;
      kiss_fft_cpx *h = shared->h_spec + ((size_t)o * k->cin + i) * parts * e->bins;
      for (j = 1; j <= parts; j++, h += e->bins) {
        memset(e->time_buf, 0, sizeof(float) * 2 * p);
        for (m = 0; m < p; m++) {
          size_t pos = (size_t)j * p + m;
          if (pos % k->dilation == 0 && pos / k->dilation < (size_t)k->taps)
            e->time_buf[m] = w[pos / k->dilation] / (2.0f * p);
        }
        kiss_fftr(e->fwd, e->time_buf, h);
      }
    }
  return e;
}

/* Another state for the same kernel (one per group of a stream), sharing
 * the weights and the kernel spectra of `other`. NULL when memory runs out. */
MdnExact *
mdn_exact_new_sharing(const MdnExact *other)
{
  g_atomic_ref_count_inc(&other->shared->ref);
  return exact_state_new(other->cin, other->cout, other->taps, other->dilation, &other->plan,
                         other->shared);
}

MdnExact *
mdn_exact_new(const MdnKernel *kernel)
{
  ExactPlan plan;
  exact_plan(kernel, &plan);
  return exact_new_with_plan(kernel, &plan);
}

/* For the benchmark and the tests: partition 0 forces the direct form, P > 0
 * (even) the FFT path with that partition size when the expanded kernel has
 * at least 2P taps. Not in mdn-private.h on purpose: nothing else should
 * force a plan. */
MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);

static void
forced_plan(const MdnKernel *kernel, int partition, ExactPlan *plan)
{
  if (partition > 0)
    plan_fft(kernel, partition, plan);
  if (partition <= 0 || plan->n_parts < 2)
    plan_direct(kernel, plan);
}

MdnExact *
mdn_exact_new_forced(const MdnKernel *kernel, int partition)
{
  ExactPlan plan;
  forced_plan(kernel, partition, &plan);
  return exact_new_with_plan(kernel, &plan);
}

size_t
mdn_exact_history_forced(const MdnKernel *kernel, int partition)
{
  ExactPlan plan;
  forced_plan(kernel, partition, &plan);
  return plan_history(kernel, &plan);
}

void
mdn_exact_free(MdnExact *e)
{
  if (!e)
    return;
  shared_unref(e->shared);
  g_free(e->acc);
  if (e->fwd)
    kiss_fftr_free(e->fwd);
  if (e->inv)
    kiss_fftr_free(e->inv);
  g_free(e->fdl);
  g_free(e->s_ptr);
  g_free(e->y_spec);
  g_free(e->time_buf);
  g_free(e->tail);
  g_free(e);
}

size_t
mdn_exact_history(const MdnKernel *kernel)
{
  ExactPlan plan;
  exact_plan(kernel, &plan);
  return plan_history(kernel, &plan);
}

void
mdn_exact_invalidate(MdnExact *e)
{
  if (e)
    e->valid = FALSE;
}

void
mdn_exact_process(MdnExact *e, const float *const *x, guint64 frame0, size_t n, float *out)
{
  const int p = e->plan.partition;
  size_t pos = 0;

  g_assert(n <= MDN_CHUNK);
  /* Frames skipped or repeated: the cached spectra belong to another
   * stretch of input, rebuild them from the history. */
  if (frame0 != e->next_frame)
    e->valid = FALSE;
  if (p == 0) {
    direct_output(e, x, 0, n, NULL, 0, out);
    return;
  }
  while (pos < n) {
    guint64 t = frame0 + pos;
    gint64 b = (gint64)(t / (guint64)p);
    size_t r = (size_t)(t % (guint64)p);
    size_t seg = MIN(n - pos, (size_t)p - r);
    ensure_block(e, x, (gint64)frame0, b);
    direct_output(e, x, pos, seg, e->tail + r, (size_t)p, out + pos * e->cout);
    pos += seg;
  }
  e->next_frame = frame0 + n;
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
  ExactPlan plan;
  exact_plan(kernel, &plan);
  return (double)kernel->cin * kernel->cout * plan.direct_taps
         + (plan.partition ? cmac_ops(kernel, &plan) + fft_ops(kernel, &plan) : 0);
}

/* For the benchmark's fit of the time model: the operation counts of the
 * plan with this partition (0: direct) as {direct multiply-adds, complex
 * multiply-add ops, FFT ops} per frame, as plan_time() weighs them. */
void mdn_exact_plan_ops(const MdnKernel *kernel, int partition, double ops[3]);

void
mdn_exact_plan_ops(const MdnKernel *kernel, int partition, double ops[3])
{
  ExactPlan plan;
  forced_plan(kernel, partition, &plan);
  ops[0] = (double)kernel->cin * kernel->cout * plan.direct_taps;
  ops[1] = plan.partition ? cmac_ops(kernel, &plan) : 0;
  ops[2] = plan.partition ? fft_ops(kernel, &plan) : 0;
}

/* For the benchmark: the partition size the planner picks (0: direct). */
int mdn_exact_partition(const MdnKernel *kernel);

int
mdn_exact_partition(const MdnKernel *kernel)
{
  ExactPlan plan;
  exact_plan(kernel, &plan);
  return plan.partition;
}

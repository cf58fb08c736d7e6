/* exact.c: the exact path of a stream, as planned by exact-plan.c.
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
#include "dsp.h"
#include "exact-plan.h"

#include <kiss_fftr.h>
#include <string.h>

/* Rows of several outputs the direct form computes together: their
 * accumulators (cout * this many floats) stay in the L1 cache. */
#define EXACT_SLICE 256

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
  MdnExactPlan plan;
  const MdnExactDsp *dsp; /* the process's kernels (mdn_dsp()), the plan's */

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
    e->dsp->cmac(e->y_spec, e->s_ptr, e->h_spec + (size_t)o * e->cin * parts * bins, bins,
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
    e->dsp->fir(out, 0, 1, n, w, 0, e->taps, e->plan.direct_taps, e->cin, e->dilation, x, offset);
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
    e->dsp->fir(e->acc, EXACT_SLICE, cout, len, w, (size_t)e->cin * e->taps, e->taps,
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
exact_state_new(int cin, int cout, int taps, int dilation, const MdnExactPlan *plan,
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
  e->dsp = &mdn_dsp()->exact;
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
exact_new_with_plan(const MdnKernel *k, const MdnExactPlan *plan)
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
  MdnExactPlan plan;
  mdn_exact_plan(kernel, &mdn_dsp()->exact, &plan);
  return exact_new_with_plan(kernel, &plan);
}

/* For the benchmark and the tests (mdn_exact_plan_forced()). Not in
 * mdn-private.h on purpose: nothing else should force a plan. */
MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);

MdnExact *
mdn_exact_new_forced(const MdnKernel *kernel, int partition)
{
  MdnExactPlan plan;
  mdn_exact_plan_forced(kernel, partition, &plan);
  return exact_new_with_plan(kernel, &plan);
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

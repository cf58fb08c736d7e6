/* exact.c: the exact path of a stream.
 *
 * Short kernels run in direct form. Long kernels run as a zero-latency
 * non-uniformly partitioned convolution (Gardner 1995; Garcia 2002; Wefers
 * 2015) on the engine's FFT (kernels/fft.h). In expanded tap space
 * (dilation d: the kernel is len = (taps-1)*d+1 long, zeros between taps):
 *   - the head, taps [0, D), in direct form;
 *   - levels l = 1..L of partitions of B_l taps (B_1 = D < B_2 < ..., powers
 *     of two), level l covering taps [S_l, S_l + n_l B_l), S_1 = D and
 *     S_(l+1) = S_l + n_l B_l, the last level reaching len.
 * Each level is a uniformly partitioned overlap-save convolution with its
 * own frequency-domain delay line (FDL): blocks are aligned to the absolute
 * frame index, block b = frames [bB, bB+B); the spectrum of block c is
 * FFT_2B(x[(c-1)B .. (c+1)B)) and the level's contribution to block m is
 *   last B samples of IFFT_2B(sum_{j<n} X_(m-s-j) . H_j),  s = S / B
 * which needs input up to frame (m-s+1)B. That is the "job" of block m.
 *   - s = 1 (the first level: S_1 = B_1): the job needs the block that ends
 *     at mB, and runs there, before frame mB is output.
 *   - s >= 2 (every later level: the planner keeps S >= 2B): the job's input
 *     is complete a whole block before its deadline, and it runs spread over
 *     the B frames of block m-1, in units (FFT steps, row ranges of the
 *     multiply-accumulate), as many at the end of each call as keep the
 *     work done proportional to the frames output. No call carries a large
 *     transform: the cost per frame stays flat (no spikes), at any call size.
 * The arithmetic of each output frame does not depend on when the units run,
 * so the output is the same, bit for bit, for any cutting of the stream.
 *
 * The planner (exact-plan.c) picks D and the levels with least modelled
 * time (ns per frame, by the kernels' level), with weights from
 * bench/exact-crossover --fit.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"
#include "exact-plan.h"

#include <string.h>

/* Rows of several outputs the direct form computes together: their
 * accumulators (cout * this many floats) stay in the L1 cache. */
#define EXACT_SLICE 256

/* Rows of a spectrum per unit of the multiply-accumulate. */
#define MAC_ROWS 32
/* A unit's relative cost (fft.h step costs): a row of one spectrum in the
 * multiply-accumulate against a row of a radix-4 stage. Measured 1.3: the
 * delay lines of the large levels stream from L2 (2.6 ns a row, AVX-512). */
#define MAC_ROW_COST 1.3

/* What does not change while filtering: shared by the MdnExact of every
 * group of a stream (mdn_exact_new_sharing). */
typedef struct {
  gatomicrefcount ref;
  float *weights; /* [cout][cin][taps], copied */
  float *bias;    /* [cout] */
  MdnFftPlan *fft[MDN_EXACT_MAX_LEVELS];
  float *h_spec[MDN_EXACT_MAX_LEVELS]; /* [cout][cin][parts][2B], scaled */
} ExactShared;

/* One unit of a job: a forward FFT step of input `chan`, a row range of
 * the multiply-accumulate of output `chan`, or an inverse FFT step of it. */
enum { UNIT_FWD, UNIT_MAC, UNIT_INV };
typedef struct {
  guint8 kind;
  guint16 chan;
  guint32 index; /* the step, or the first row */
} JobUnit;

/* A level's state in a stream. Units of a job: the forward transform of
 * each input (plan->n_fwd steps each), then for each output the
 * multiply-accumulate (row ranges of MAC_ROWS) and the inverse transform
 * (plan->n_inv steps). */
typedef struct {
  int block, delay, parts, n; /* B, s, n_l, FFT size 2B */
  int shift;                  /* log2 B */
  guint64 mask;               /* B - 1 */
  const MdnFftPlan *fft;
  const float *h_spec;
  float *fdl;          /* [cin][parts][n]: X_c in slot c mod parts */
  float *yspec;        /* [cout][n] */
  float *tail;         /* [2][cout][B]: the job of block m writes tail[m & 1] */
  const float **sptr;  /* [cin * parts]: the current job's X_(J-s-j) */
  size_t n_fwd_units;  /* cin * fft->n_fwd */
  size_t n_mac_units;  /* cout * mac chunks */
  size_t n_units;      /* all of a job's */
  JobUnit *units;      /* [n_units] */
  double *unit_before; /* [n_units + 1]: cost of the units before each */
  gint64 done;         /* the newest block whose job is complete */
  gint64 job;          /* the block of the job in flight (done + 1 when started) */
  size_t unit;         /* the job's next unit */
  gint64 fdl_newest;   /* the newest block whose spectrum is in the FDL */
  size_t job_slot;     /* the FDL slot of the job's X_(J-s) */
} LevelState;

struct _MdnExact {
  int cin, cout, taps, dilation;
  ExactShared *shared;
  const float *weights, *bias; /* shared->... */
  MdnExactPlan plan;
  const MdnExactDsp *dsp; /* the process's kernels (mdn_dsp()), the plan's */
  const MdnFftDsp *fft;

  float *acc;      /* [cout][EXACT_SLICE] accumulators (cout > 1) */
  float *sum1;     /* [EXACT_SLICE]: bias and tails of one output (cout == 1) */
  float *time_buf; /* [2 * largest B]: kernel partitions while making spectra */
  LevelState lv[MDN_EXACT_MAX_LEVELS];
  gboolean valid;     /* the levels hold the state of frame next_frame */
  guint64 next_frame; /* frame0 expected by the next call */
  double work;        /* cost of the jobs' units run by the last call (tests) */
  /* FFT steps run since the state was made or reset (tests: each input's
   * spectrum is made once per block, whatever the number of outputs). */
  guint64 fwd_steps, inv_steps;
};

/* y[t] += a[t] (restrict parameters: gcc vectorises this without an alias
 * check). */
static void
add_to(float *restrict y, const float *restrict a, size_t n)
{
  size_t t;
  for (t = 0; t < n; t++)
    y[t] += a[t];
}

static void
fill(float *restrict y, float v, size_t n)
{
  size_t t;
  for (t = 0; t < n; t++)
    y[t] = v;
}

/* out[t*cout + o] = bias[o] + direct taps [0, direct_taps), t < n;
 * x[i][0] is the frame of out[0]. */
static void
direct_output(MdnExact *e, const float *const *x, size_t n, float *out)
{
  const int cout = e->cout;
  size_t t0, t;
  int o;

  if (cout == 1) {
    fill(out, e->bias[0], n);
    e->dsp->fir(out, 0, 1, n, e->weights, 0, e->taps, e->plan.direct_taps, e->cin, e->dilation, x,
                0);
    return;
  }
  /* Several: every output of a slice of rows at once (the kernel shares the
   * loads of x between outputs), then interleaved into out. */
  for (t0 = 0; t0 < n; t0 += EXACT_SLICE) {
    const size_t len = MIN(n - t0, EXACT_SLICE);
    for (o = 0; o < cout; o++)
      fill(e->acc + (size_t)o * EXACT_SLICE, e->bias[o], len);
    e->dsp->fir(e->acc, EXACT_SLICE, cout, len, e->weights, (size_t)e->cin * e->taps, e->taps,
                e->plan.direct_taps, e->cin, e->dilation, x, t0);
    for (o = 0; o < cout; o++) {
      const float *restrict a = e->acc + (size_t)o * EXACT_SLICE;
      float *restrict dst = out + t0 * cout + o;
      for (t = 0; t < len; t++)
        dst[t * cout] = a[t];
    }
  }
}

/* out[t*cout + o] += each level's tail, for frames frame..frame+n-1 (within
 * one block of every level), in level order. */
static void
add_tails(const MdnExact *e, guint64 frame, size_t n, float *out)
{
  const int cout = e->cout;
  size_t t;
  int o, l;
  for (l = 0; l < e->plan.n_levels; l++) {
    const LevelState *lv = &e->lv[l];
    const float *tail = lv->tail + (size_t)((frame >> lv->shift) & 1) * cout * lv->block
                        + (size_t)(frame & lv->mask);
    if (cout == 1) {
      add_to(out, tail, n);
      continue;
    }
    for (o = 0; o < cout; o++) {
      const float *restrict tl = tail + (size_t)o * lv->block;
      float *restrict y = out + o;
      for (t = 0; t < n; t++)
        y[t * cout] += tl[t];
    }
  }
}

/* ---- the levels' jobs -------------------------------------------------- */

static float *
fdl_slot(const LevelState *lv, int i, gint64 c)
{
  gint64 r = c % lv->parts;
  if (r < 0)
    r += lv->parts;
  return lv->fdl + ((size_t)i * lv->parts + (size_t)r) * lv->n;
}

/* X_c of every input into its FDL slot, from the input around frame0. */
static void
push_block(MdnExact *e, LevelState *lv, const float *const *x, guint64 frame0, gint64 c)
{
  const gint64 off = (c - 1) * lv->block - (gint64)frame0;
  int i;
  for (i = 0; i < e->cin; i++)
    mdn_fft_forward(lv->fft, e->fft, x[i] + off, fdl_slot(lv, i, c));
  e->fwd_steps += (guint64)e->cin * lv->fft->n_fwd;
}

/* Starts the job of block J: its FDL pointers, and its first unit (the
 * forward transforms are skipped when X_(J-s) is already in the FDL). */
static void
job_start(MdnExact *e, LevelState *lv, gint64 J)
{
  const gint64 c = J - lv->delay;
  gint64 r = c % lv->parts;
  int i, j;
  if (r < 0)
    r += lv->parts;
  lv->job_slot = (size_t)r;
  for (i = 0; i < e->cin; i++) {
    size_t slot = lv->job_slot;
    for (j = 0; j < lv->parts; j++) {
      lv->sptr[(size_t)i * lv->parts + j] = lv->fdl + ((size_t)i * lv->parts + slot) * lv->n;
      slot = slot == 0 ? (size_t)lv->parts - 1 : slot - 1;
    }
  }
  lv->job = J;
  lv->unit = lv->fdl_newest >= c ? lv->n_fwd_units : 0;
}

static const float *
block_input(const LevelState *lv, const float *const *x, guint64 frame0, int i, gint64 c)
{
  return x[i] + ((c - 1) * lv->block - (gint64)frame0);
}

/* Where the job's forward transform of input i goes. */
static float *
job_fdl(const LevelState *lv, int i)
{
  return lv->fdl + ((size_t)i * lv->parts + lv->job_slot) * lv->n;
}

static float *
job_tail(const MdnExact *e, const LevelState *lv, int o)
{
  return lv->tail + ((size_t)(lv->job & 1) * e->cout + o) * lv->block;
}

/* Runs unit u of the job in flight. */
static void
job_unit(MdnExact *e, LevelState *lv, const float *const *x, guint64 frame0, size_t u)
{
  const MdnFftPlan *fft = lv->fft;
  const JobUnit *unit = &lv->units[u];
  const int ch = unit->chan;
  e->work += lv->unit_before[u + 1] - lv->unit_before[u];
  switch (unit->kind) {
  case UNIT_FWD: {
    const gint64 c = lv->job - lv->delay;
    mdn_fft_run(fft, e->fft, fft->fwd, unit->index, unit->index + 1,
                block_input(lv, x, frame0, ch, c), job_fdl(lv, ch), NULL);
    if (u + 1 == lv->n_fwd_units)
      lv->fdl_newest = c;
    e->fwd_steps++;
    break;
  }
  case UNIT_MAC:
    e->fft->mac(lv->yspec + (size_t)ch * lv->n, lv->sptr,
                lv->h_spec + (size_t)ch * e->cin * lv->parts * lv->n, lv->n, e->cin * lv->parts,
                unit->index, MIN(unit->index + MAC_ROWS, fft->rows));
    break;
  default:
    mdn_fft_run(fft, e->fft, fft->inv, unit->index, unit->index + 1, NULL,
                lv->yspec + (size_t)ch * lv->n, job_tail(e, lv, ch));
    e->inv_steps++;
    break;
  }
}

/* The rest of the job in flight, from its start or past its forward
 * transforms: whole transforms, without the units' bookkeeping (the same
 * operations). */
static void
job_finish_whole(MdnExact *e, LevelState *lv, const float *const *x, guint64 frame0)
{
  const MdnFftPlan *fft = lv->fft;
  const size_t spec = (size_t)e->cin * lv->parts * lv->n;
  int i, o;
  e->work += lv->unit_before[lv->n_units] - lv->unit_before[lv->unit];
  if (lv->unit == 0) {
    const gint64 c = lv->job - lv->delay;
    for (i = 0; i < e->cin; i++)
      mdn_fft_forward(fft, e->fft, block_input(lv, x, frame0, i, c), job_fdl(lv, i));
    lv->fdl_newest = c;
    e->fwd_steps += (guint64)e->cin * fft->n_fwd;
  }
  for (o = 0; o < e->cout; o++) {
    e->fft->mac(lv->yspec + (size_t)o * lv->n, lv->sptr, lv->h_spec + o * spec, lv->n,
                e->cin * lv->parts, 0, fft->rows);
    mdn_fft_inverse_half(fft, e->fft, lv->yspec + (size_t)o * lv->n, job_tail(e, lv, o));
  }
  e->inv_steps += (guint64)e->cout * fft->n_inv;
  lv->unit = lv->n_units;
}

/* Runs the job in flight until the units done cost at least `target`
 * (its whole cost: to the end). */
static void
job_advance(MdnExact *e, LevelState *lv, const float *const *x, guint64 frame0, double target)
{
  if (target >= lv->unit_before[lv->n_units] && (lv->unit == 0 || lv->unit == lv->n_fwd_units))
    job_finish_whole(e, lv, x, frame0);
  while (lv->unit < lv->n_units && lv->unit_before[lv->unit] < target)
    job_unit(e, lv, x, frame0, lv->unit++);
  if (lv->unit == lv->n_units)
    lv->done = lv->job;
}

static void
job_run(MdnExact *e, LevelState *lv, const float *const *x, guint64 frame0, gint64 J)
{
  job_start(e, lv, J);
  job_advance(e, lv, x, frame0, G_MAXDOUBLE);
}

/* The state at frame t from the input history alone: for frame 0 (nothing
 * before it but zeros) everything is zero; else each level recomputes the
 * spectra its current job reads and runs that job (the job in flight, if
 * any, starts over). */
static void
rebuild(MdnExact *e, const float *const *x, guint64 t)
{
  int l;
  for (l = 0; l < e->plan.n_levels; l++) {
    LevelState *lv = &e->lv[l];
    const gint64 m = (gint64)(t / (guint64)lv->block);
    const gboolean mid = t % (guint64)lv->block != 0;
    gint64 c;
    if (t == 0) {
      memset(lv->fdl, 0, sizeof(float) * e->cin * lv->parts * lv->n);
      memset(lv->tail, 0, sizeof(float) * 2 * e->cout * lv->block);
      lv->fdl_newest = -1;
      lv->done = 0;
      lv->job = 0;
      lv->unit = lv->n_units;
      continue;
    }
    /* The spectra job m reads: X_(m-s-n+1) .. X_(m-s). */
    for (c = m - lv->delay - lv->parts + 1; c <= m - lv->delay; c++)
      push_block(e, lv, x, t, c);
    lv->fdl_newest = m - lv->delay;
    lv->done = m - 1;
    lv->job = m - 1;
    lv->unit = lv->n_units;
    /* Delay 1 at a block's first frame: the job runs when that frame is
     * output (process()); otherwise it is due now. */
    if (lv->delay > 1 || mid)
      job_run(e, lv, x, t, m);
  }
}

/* ---- making and freeing ------------------------------------------------ */

static void
shared_unref(ExactShared *shared)
{
  int l;
  if (shared && g_atomic_ref_count_dec(&shared->ref)) {
    g_free(shared->weights);
    g_free(shared->bias);
    for (l = 0; l < MDN_EXACT_MAX_LEVELS; l++) {
      mdn_fft_plan_free(shared->fft[l]);
      mdn_fft_free(shared->h_spec[l]);
    }
    g_free(shared);
  }
}

static void
level_free(LevelState *lv)
{
  mdn_fft_free(lv->fdl);
  mdn_fft_free(lv->yspec);
  g_free(lv->tail);
  g_free(lv->sptr);
  g_free(lv->units);
  g_free(lv->unit_before);
}

/* The per-stream state of level l. FALSE when memory runs out. */
static gboolean
level_init(MdnExact *e, int l)
{
  const MdnExactLevel *pl = &e->plan.level[l];
  LevelState *lv = &e->lv[l];
  const MdnFftPlan *fft = e->shared->fft[l];
  const size_t chunks = (fft->rows + MAC_ROWS - 1) / MAC_ROWS;
  size_t u;

  lv->block = pl->block;
  lv->shift = 0;
  while ((1 << lv->shift) < pl->block)
    lv->shift++;
  lv->mask = (guint64)pl->block - 1;
  lv->delay = pl->start / pl->block;
  lv->parts = pl->parts;
  lv->n = 2 * pl->block;
  lv->fft = fft;
  lv->h_spec = e->shared->h_spec[l];
  lv->fdl = mdn_fft_alloc((size_t)e->cin * lv->parts * lv->n);
  lv->yspec = mdn_fft_alloc((size_t)e->cout * lv->n);
  lv->tail = g_try_new0(float, (size_t)2 * e->cout * lv->block);
  lv->sptr = g_try_new0(const float *, (size_t)e->cin * lv->parts);
  lv->n_fwd_units = (size_t)e->cin * fft->n_fwd;
  lv->n_mac_units = (size_t)e->cout * chunks;
  lv->n_units = lv->n_fwd_units + lv->n_mac_units + (size_t)e->cout * fft->n_inv;
  lv->units = g_try_new(JobUnit, lv->n_units);
  lv->unit_before = g_try_new(double, lv->n_units + 1);
  if (!lv->fdl || !lv->yspec || !lv->tail || !lv->sptr || !lv->units || !lv->unit_before)
    return FALSE;
  /* The units in order, with cumulative costs in fft.h step units. */
  lv->unit_before[0] = 0;
  for (u = 0; u < lv->n_units; u++) {
    JobUnit *unit = &lv->units[u];
    double c;
    if (u < lv->n_fwd_units) {
      *unit = (JobUnit){ UNIT_FWD, (guint16)(u / fft->n_fwd), (guint32)(u % fft->n_fwd) };
      c = fft->fwd[unit->index].cost;
    } else if (u < lv->n_fwd_units + lv->n_mac_units) {
      const size_t k = u - lv->n_fwd_units, row0 = (k % chunks) * MAC_ROWS;
      *unit = (JobUnit){ UNIT_MAC, (guint16)(k / chunks), (guint32)row0 };
      c = MAC_ROW_COST * MIN(MAC_ROWS, fft->rows - row0) * e->cin * lv->parts;
    } else {
      const size_t k = u - lv->n_fwd_units - lv->n_mac_units;
      *unit = (JobUnit){ UNIT_INV, (guint16)(k / fft->n_inv), (guint32)(k % fft->n_inv) };
      c = fft->inv[unit->index].cost;
    }
    lv->unit_before[u + 1] = lv->unit_before[u] + c;
  }
  lv->unit = lv->n_units;
  lv->fdl_newest = -1;
  return TRUE;
}

/* The per-stream state around `shared`, whose reference it takes over.
 * NULL when memory runs out. Fresh: the zero state of frame 0. */
static MdnExact *
exact_state_new(int cin, int cout, int taps, int dilation, const MdnExactPlan *plan,
                ExactShared *shared)
{
  MdnExact *e = g_new0(MdnExact, 1);
  int l, max_b = 0;

  e->cin = cin;
  e->cout = cout;
  e->taps = taps;
  e->dilation = dilation;
  e->shared = shared;
  e->weights = shared->weights;
  e->bias = shared->bias;
  e->plan = *plan;
  e->dsp = &mdn_dsp()->exact;
  e->fft = &mdn_dsp()->fft;
  e->acc = g_try_new0(float, (size_t)cout *EXACT_SLICE);
  if (!e->acc)
    goto fail;
  for (l = 0; l < plan->n_levels; l++) {
    if (!level_init(e, l))
      goto fail;
    max_b = MAX(max_b, plan->level[l].block);
  }
  if (max_b > 0 && !(e->time_buf = mdn_fft_alloc(2 * (size_t)max_b)))
    goto fail;
  e->valid = TRUE; /* zeros everywhere: frame 0's state */
  return e;
fail:
  mdn_exact_free(e);
  return NULL;
}

static MdnExact *
exact_new_with_plan(const MdnKernel *k, const MdnExactPlan *plan)
{
  const size_t n_w = (size_t)k->cout * k->cin * k->taps;
  ExactShared *shared = g_new0(ExactShared, 1);
  const MdnFftDsp *fk = &mdn_dsp()->fft;
  MdnExact *e;
  int o, i, j, l;
  size_t m;

  g_atomic_ref_count_init(&shared->ref);
  shared->weights = g_try_new(float, n_w);
  shared->bias = g_try_new(float, k->cout);
  if (!shared->weights || !shared->bias)
    goto fail;
  for (l = 0; l < plan->n_levels; l++) {
    const MdnExactLevel *lv = &plan->level[l];
    shared->fft[l] = mdn_fft_plan_new(2 * (size_t)lv->block);
    shared->h_spec[l] = mdn_fft_alloc((size_t)k->cout * k->cin * lv->parts * 2 * lv->block);
    if (!shared->fft[l] || !shared->h_spec[l])
      goto fail;
  }
  memcpy(shared->weights, k->weights, sizeof(float) * n_w);
  memcpy(shared->bias, k->bias, sizeof(float) * k->cout);
  e = exact_state_new(k->cin, k->cout, k->taps, k->dilation, plan, shared);
  if (!e)
    return NULL;

  /* H_(l,j) = FFT of expanded taps [S + jB, S + jB + B), zero-padded to 2B,
   * times mdn_fft_conv_scale (a power of two: no rounding). */
  for (l = 0; l < plan->n_levels; l++) {
    const MdnExactLevel *lv = &plan->level[l];
    const size_t n = 2 * (size_t)lv->block;
    const float scale = (float)mdn_fft_conv_scale(shared->fft[l]);
    for (o = 0; o < k->cout; o++)
      for (i = 0; i < k->cin; i++) {
        const float *w = k->weights + ((size_t)o * k->cin + i) * k->taps;
        float *h = shared->h_spec[l] + ((size_t)o * k->cin + i) * lv->parts * n;
        for (j = 0; j < lv->parts; j++, h += n) {
          memset(e->time_buf, 0, sizeof(float) * n);
          for (m = 0; m < (size_t)lv->block; m++) {
            const size_t pos = (size_t)lv->start + (size_t)j * lv->block + m;
            if (pos % k->dilation == 0 && pos / k->dilation < (size_t)k->taps)
              e->time_buf[m] = w[pos / k->dilation] * scale;
          }
          mdn_fft_forward(shared->fft[l], fk, e->time_buf, h);
        }
      }
  }
  return e;
fail:
  shared_unref(shared);
  return NULL;
}

/* Another state for the same kernel (one per group of a stream), sharing
 * the weights, FFT plans and kernel spectra of `other`. NULL when memory
 * runs out. */
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
  mdn_exact_plan_process(kernel, &plan);
  return exact_new_with_plan(kernel, &plan);
}

void
mdn_exact_free(MdnExact *e)
{
  int l;
  if (!e)
    return;
  shared_unref(e->shared);
  for (l = 0; l < MDN_EXACT_MAX_LEVELS; l++)
    level_free(&e->lv[l]);
  g_free(e->acc);
  mdn_fft_free(e->time_buf);
  g_free(e);
}

void
mdn_exact_invalidate(MdnExact *e)
{
  /* The zero state of a fresh stream is what a rebuild at frame 0 would
   * make: keep it (no work in the first call). */
  if (e && !(e->next_frame == 0 && e->valid))
    e->valid = FALSE;
}

void
mdn_exact_reset(MdnExact *e)
{
  int l;
  if (!e)
    return;
  for (l = 0; l < e->plan.n_levels; l++) {
    LevelState *lv = &e->lv[l];
    memset(lv->fdl, 0, sizeof(float) * e->cin * lv->parts * lv->n);
    memset(lv->tail, 0, sizeof(float) * 2 * e->cout * lv->block);
    lv->fdl_newest = -1;
    lv->done = lv->job = 0;
    lv->unit = lv->n_units;
  }
  e->next_frame = 0;
  e->fwd_steps = e->inv_steps = 0;
  e->valid = TRUE;
}

/* ---- filtering ----------------------------------------------------------- */

void
mdn_exact_process(MdnExact *e, const float *const *x, guint64 frame0, size_t n, float *out)
{
  const int n_levels = e->plan.n_levels;
  size_t pos = 0;
  int l;

  g_assert(n <= MDN_CHUNK);
  /* Frames skipped or repeated: the cached spectra belong to another
   * stretch of input, rebuild them from the history. */
  if (frame0 != e->next_frame)
    e->valid = FALSE;
  if (n == 0)
    return;
  if (!e->valid) {
    rebuild(e, x, frame0);
    e->valid = TRUE;
  }
  e->work = 0;
  /* Bias and head over the whole call, then each level's tails: per frame,
   * the same sums in the same order whatever the call sizes. */
  direct_output(e, x, n, out);
  while (pos < n) {
    const guint64 t = frame0 + pos;
    size_t seg = n - pos;
    /* Due now: delay-1 jobs of the blocks starting here (a later level's
     * job is complete by the end of the block before). */
    for (l = 0; l < n_levels; l++) {
      LevelState *lv = &e->lv[l];
      const gint64 m = (gint64)(t >> lv->shift);
      seg = MIN(seg, (size_t)(lv->block - (t & lv->mask)));
      if (lv->done < m) {
        if (lv->job != m)
          job_start(e, lv, m);
        job_advance(e, lv, x, frame0, G_MAXDOUBLE);
      }
    }
    add_tails(e, t, seg, out + pos * e->cout);
    pos += seg;
    /* Spread jobs: the job of the next block, as far as the frames of this
     * block output so far: at the end of the block (all of it) or of the
     * call. */
    for (l = 0; l < n_levels; l++) {
      LevelState *lv = &e->lv[l];
      const guint64 end = frame0 + pos;
      const gint64 next = (gint64)((end - 1) >> lv->shift) + 1;
      if (lv->delay < 2 || (pos < n && (end & lv->mask) != 0))
        continue;
      if (lv->job != next)
        job_start(e, lv, next);
      job_advance(e, lv, x, frame0,
                  lv->unit_before[lv->n_units] * (double)(end - ((guint64)(next - 1) << lv->shift))
                      / (double)lv->block);
    }
  }
  e->next_frame = frame0 + n;
}

/* ---- what the bench and tests may force (exact-plan.h) ------------------ */

/* Declared again where used: nothing else should force a plan. The
 * _levels variant returns NULL for a plan mdn_exact_plan_levels() refuses.
 * mdn_exact_last_work(): the relative cost (fft.h step units) of the
 * levels' jobs the last mdn_exact_process() call ran, its rebuild (if any)
 * left out. mdn_exact_fft_steps(): the forward and inverse FFT steps run
 * since the state was made or reset. */
MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
MdnExact *mdn_exact_new_levels(const MdnKernel *kernel, const int *blocks, int n_blocks);
double mdn_exact_last_work(const MdnExact *e);
void mdn_exact_fft_steps(const MdnExact *e, guint64 *fwd, guint64 *inv);

MdnExact *
mdn_exact_new_forced(const MdnKernel *kernel, int partition)
{
  MdnExactPlan plan;
  mdn_exact_plan_forced(kernel, partition, &plan);
  return exact_new_with_plan(kernel, &plan);
}

MdnExact *
mdn_exact_new_levels(const MdnKernel *kernel, const int *blocks, int n_blocks)
{
  MdnExactPlan plan;
  if (n_blocks == 0)
    mdn_exact_plan_direct(kernel, &plan);
  else if (!mdn_exact_plan_levels(kernel, blocks, n_blocks, &plan))
    return NULL;
  return exact_new_with_plan(kernel, &plan);
}

double
mdn_exact_last_work(const MdnExact *e)
{
  return e->work;
}

void
mdn_exact_fft_steps(const MdnExact *e, guint64 *fwd, guint64 *inv)
{
  *fwd = e->fwd_steps;
  *inv = e->inv_steps;
}

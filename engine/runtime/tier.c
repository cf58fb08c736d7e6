/* tier.c: the tier runtime: per-stream state, runs of rows.
 *
 * The inner loops (encode, scan, exact taps, output) are kernels of a table
 * (tier-kernels.h), the process's (mdn_dsp()) unless a test gives another;
 * kernels/scalar/tier.c is the reference the vector kernels match (codes
 * and integer table sums exactly, floats to rounding). The uint32 sums cannot
 * overflow while n_codebooks * (2^table_bits - 1) < 2^32, i.e. up to 65537
 * codebooks of 16-bit tables.
 *
 * What mdn_tier_process() computes for the row at absolute frame t
 * (see mdn-private.h for the tier layout):
 *
 *   y[t][o] = sum_e exact_w[e][o] * x[exact_chan[e]][t - exact_tap[e]*dil]
 *           + sigma_t * (lut_offset[o] + lut_scale[o] * sum_c lut[c][code_c(t)][o])
 *
 * plus bias[o], which the caller passes (the kernel's: the tier stores no
 * bias and lut_offset holds none of it), added last in the combine kernel
 * so the output is written once.
 *
 *   code_c(t) = mdn_tier_encode_one (tier, cb_chan[c], &x[cb_chan[c]][t - cb_group[c]*s*dil],
 *                                    sigma_t)
 *   sigma_t   = mdn_pow2_ceil (max |x[i][u]|, all channels i, u in [B - span, t]),
 *               B = t - t % L, L = tier->norm_block.
 *
 * The output is a pure function of the input and t: the state only caches
 * codes, and any call sequence (chunk sizes, invalidation, jumps of frame0)
 * gives the same numbers as computing every row from scratch.
 *
 * Streaming: the code of channel i at position p depends on sigma, so codes
 * are cached together with the sigma they were encoded with. Within a
 * normalisation block sigma_t only grows (running max); when it changes (a
 * new block whose look-back is quieter or louder, or a louder frame inside
 * the block), the codes the remaining rows of the block read, positions
 * [t - reach, t] with reach = (groups - 1) * s * dil, are encoded again.
 * Otherwise each new frame is encoded once per channel: the state remembers
 * how far the codes of the current sigma go (a vector encoder rounds a run
 * up to whole vectors within the chunk; the next run starts after them).
 *
 * Rows come in runs with one sigma (often whole blocks, or several): a run's
 * new codes are encoded in bulk, then its rows are scanned together, along
 * rows. Exact taps and the output, which need no codes, are computed per
 * batch of MDN_TIER_ROWS rows (one sigma per row), across runs.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"

#include <string.h>

#define RS MDN_TIER_ROW_STRIDE

struct _MdnTierState {
  const MdnTier *tier;   /* the tier the buffers are sized for */
  const MdnTierDsp *dsp; /* the kernels */
  MdnTierScanFn *scan;   /* dsp's scan for the tier's table size */
  MdnTierTables tables;  /* the tier's tables as the kernels read them */
  guint8 *planes;        /* transposed tables (vector kernels only) */
  size_t reach;          /* (groups - 1) * s * dil: oldest code position a row reads */
  size_t capacity;       /* codes kept per channel */
  size_t code_stride;    /* capacity + MDN_TIER_ROW_PAD: scan reads past the end */
  guint8 *codes;         /* [cin][code_stride]; codes[i][k] is position base + k */
  gint64 base;           /* absolute frame of codes[i][0] */
  gint64 coded_end;      /* codes of code_sigma are valid up to this position (excluded) */
  gint64 next_frame;     /* the frame the cache is ready for */
  gboolean valid;        /* FALSE: rebuild from the input history */
  float sigma;           /* sigma of frame next_frame - 1 */
  float code_sigma;      /* sigma the codes of [next_frame - 1 - reach, next_frame - 1] used */
  float *thresholds;     /* [cin][buckets - 1 + MDN_TIER_THR_PAD]: padded for vector loads */
  ptrdiff_t *cb_offset;  /* [n_codebooks]: cb_chan * code_stride - cb_group * s * dil */
  guint32 *sums;         /* [mdn_tier_sum_rows (cout)][RS] table sums */
  const float **exact_x; /* [n_exact]: each exact tap's input at the batch's row 0 */
  float *scratch;        /* [2 * cout][RS] for the output kernel */
  float *row_sigma;      /* [RS]: sigma of each row of the batch */
  gboolean small_sums;   /* every table sum is below 2^31 */
};

size_t
mdn_tier_planes_size(const MdnTier *tier)
{
  return (size_t)mdn_table_entry_bytes(tier->spec.table_bits) * tier->n_codebooks * tier->cout
         * MAX(tier->buckets, 16);
}

void
mdn_tier_tables_init(MdnTierTables *tables, const MdnTier *tier, guint8 *planes)
{
  const int bstride = MAX(tier->buckets, 16);
  const int n_planes = mdn_table_entry_bytes(tier->spec.table_bits);
  int p, c, o, b;

  tables->n_codebooks = tier->n_codebooks;
  tables->depth = tier->spec.depth;
  tables->buckets = tier->buckets;
  tables->cout = tier->cout;
  tables->table_bits = tier->spec.table_bits;
  tables->lut = tier->lut;
  tables->planes = planes;
  tables->bucket_stride = bstride;
  if (planes == NULL)
    return;
  memset(planes, 0, mdn_tier_planes_size(tier));
  for (p = 0; p < n_planes; p++)
    for (c = 0; c < tier->n_codebooks; c++)
      for (o = 0; o < tier->cout; o++) {
        guint8 *dst = planes + (((size_t)p * tier->n_codebooks + c) * tier->cout + o) * bstride;
        for (b = 0; b < tier->buckets; b++) {
          size_t k = ((size_t)c * tier->buckets + b) * tier->cout + o;
          unsigned v = tier->spec.table_bits == 16 ? ((const guint16 *)tier->lut)[k]
                                                   : ((const guint8 *)tier->lut)[k];
          dst[b] = (guint8)(v >> (8 * p));
        }
      }
}

size_t
mdn_tier_history(const MdnTier *tier)
{
  return mdn_tier_span(tier) + (size_t)tier->norm_block;
}

/* Operations per frame:
 *   n_codebooks * cout                   table lookups and adds
 * + n_exact * cout                       exact multiply-adds
 * + cin * depth * (1 + span / L)         encode steps (tree levels): each
 *   frame is encoded once, and at each block start the span is encoded again
 *   with the block's new sigma (amortised over the block's L frames); a
 *   hyperplane encoder's level counts s + 1 (its projection and the compare). */
double
mdn_tier_cost(const MdnTier *tier)
{
  double lookups = (double)tier->n_codebooks * tier->cout;
  double exact = (double)tier->n_exact * tier->cout;
  /* A hyperplane encoder's level is s multiply-adds and a compare. */
  double level = tier->hyperplanes ? tier->spec.taps_per_codebook + 1.0 : 1.0;
  double encode = (double)tier->cin * tier->spec.depth * level
                  * (1.0 + (double)mdn_tier_span(tier) / tier->norm_block);
  return lookups + exact + encode;
}

static size_t
tier_reach(const MdnTier *tier)
{
  return (size_t)(mdn_tier_groups(tier) - 1) * tier->spec.taps_per_codebook * tier->dilation;
}

/* Codes for positions [frame0 - reach, frame0 + MDN_CHUNK) must fit at any
 * time; the extra MDN_CHUNK lets the buffer be shifted back only once per
 * MDN_CHUNK frames instead of at every call. The kernels (the process's, or
 * `dsp`, which must outlive the state) are fixed here, and the tables
 * transposed for them. Returns NULL when the tier is NULL or the buffers
 * cannot be allocated. */
MdnTierState *
mdn_tier_state_new(const MdnTier *tier)
{
  return mdn_tier_state_new_dsp(tier, &mdn_dsp()->tier);
}

MdnTierState *
mdn_tier_state_new_dsp(const MdnTier *tier, const MdnTierDsp *dsp)
{
  MdnTierState *state;
  int c, i;

  if (tier == NULL || tier->cin < 1 || tier->cin > MDN_MAX_CHANNELS || tier->cout < 1
      || tier->cout > MDN_MAX_CHANNELS || !mdn_norm_block_ok(tier->norm_block))
    return NULL;
  state = g_new0(MdnTierState, 1);
  state->tier = tier;
  state->dsp = dsp;
  state->scan = dsp->scan[mdn_tier_scan_index(tier->spec.depth)];
  state->reach = tier_reach(tier);
  state->capacity = state->reach + 2 * (size_t)MDN_CHUNK;
  state->code_stride = state->capacity + MDN_TIER_ROW_PAD;
  state->codes = g_try_malloc0_n((gsize)tier->cin, state->code_stride);
  state->thresholds
      = g_try_malloc0_n((gsize)tier->cin * (tier->buckets - 1 + MDN_TIER_THR_PAD), sizeof(float));
  state->cb_offset = g_new0(ptrdiff_t, tier->n_codebooks > 0 ? tier->n_codebooks : 1);
  state->sums = g_try_malloc0_n(mdn_tier_sum_rows(tier->cout) * RS, sizeof(guint32));
  state->exact_x = g_try_malloc0_n((gsize)MAX(tier->n_exact, 1), sizeof(float *));
  state->scratch = g_try_malloc0_n((gsize)2 * tier->cout * RS, sizeof(float));
  state->row_sigma = g_try_malloc0_n(RS, sizeof(float));
  if (state->dsp->uses_planes)
    state->planes = g_try_malloc(MAX(mdn_tier_planes_size(tier), 1));
  if (state->codes == NULL || state->thresholds == NULL || state->sums == NULL
      || state->exact_x == NULL || state->scratch == NULL || state->row_sigma == NULL
      || (state->dsp->uses_planes && state->planes == NULL)) {
    mdn_tier_state_free(state);
    return NULL;
  }
  mdn_tier_tables_init(&state->tables, tier, state->planes);
  state->small_sums = (double)tier->n_codebooks * ((1 << tier->spec.table_bits) - 1) < 0x1p31;
  for (c = 0; c < tier->n_codebooks; c++)
    state->cb_offset[c]
        = (ptrdiff_t)tier->cb_chan[c] * (ptrdiff_t)state->code_stride
          - (ptrdiff_t)tier->cb_group[c] * tier->spec.taps_per_codebook * tier->dilation;
  for (i = 0; i < tier->cin; i++)
    memcpy(state->thresholds + (size_t)i * (tier->buckets - 1 + MDN_TIER_THR_PAD),
           tier->thresholds + (size_t)i * (tier->buckets - 1), sizeof(float) * (tier->buckets - 1));
  state->valid = FALSE;
  return state;
}

void
mdn_tier_state_free(MdnTierState *state)
{
  if (state == NULL)
    return;
  g_free(state->codes);
  g_free(state->thresholds);
  g_free(state->cb_offset);
  g_free(state->sums);
  g_free(state->exact_x);
  g_free(state->scratch);
  g_free(state->row_sigma);
  g_free(state->planes);
  g_free(state);
}

void
mdn_tier_state_invalidate(MdnTierState *state)
{
  if (state != NULL)
    state->valid = FALSE;
}

/* Encodes every channel at absolute positions [first, last] with sigma, and
 * possibly more up to limit (the last readable frame); returns the position
 * after the last one encoded. frame0 maps absolute positions to
 * x[i][p - frame0]. */
static gint64
encode_range(const MdnTier *tier, MdnTierState *state, const float *const *x, gint64 frame0,
             gint64 first, gint64 last, gint64 limit, float sigma)
{
  const size_t thr_stride = (size_t)tier->buckets - 1 + MDN_TIER_THR_PAD;
  int i;

  if (last < first)
    return first;
  /* Rounded up to whole vector steps where the chunk allows it: the next
   * run of the same sigma starts after them. */
  if (state->dsp->encode_step > 1) {
    const gint64 step = (gint64)state->dsp->encode_step;
    last = MIN(first + (last - first + step) / step * step - 1, limit);
  }
  for (i = 0; i < tier->cin; i++) {
    const float *xi = x[i] + (ptrdiff_t)(first - frame0);
    guint8 *codes = state->codes + (size_t)i * state->code_stride + (first - state->base);
    if (tier->hyperplanes) {
      const int s = tier->spec.taps_per_codebook;
      state->dsp->encode_hyperplanes(tier->hyperplanes + (size_t)i * tier->spec.depth * s, s,
                                     state->thresholds + i * thr_stride, sigma, tier->spec.depth,
                                     tier->dilation, xi, (size_t)(last - first + 1), codes);
    } else
      state->dsp->encode(tier->split + (size_t)i * tier->spec.depth,
                         state->thresholds + i * thr_stride, sigma, tier->spec.depth,
                         tier->dilation, xi, (size_t)(last - first + 1), codes);
  }
  return last + 1;
}

/* Rows [b0, b0 + n) of the chunk (n <= MDN_TIER_ROWS, a batch), table sums
 * and row_sigma already filled: exact taps, tables and bias into the output. */
static void
batch_out(const MdnTier *tier, MdnTierState *state, const float *const *x, size_t b0, size_t n,
          const float *bias, float *out)
{
  MdnTierOutputArgs args;
  int e;

  for (e = 0; e < tier->n_exact; e++)
    state->exact_x[e]
        = x[tier->exact_chan[e]] + b0 - (ptrdiff_t)tier->exact_tap[e] * tier->dilation;
  args.sums = state->sums;
  args.exact = state->exact_x;
  args.w = tier->exact_w;
  args.n_exact = tier->n_exact;
  args.cout = tier->cout;
  args.offset = tier->lut_offset;
  args.scale = tier->lut_scale;
  args.bias = bias;
  args.sigma = state->row_sigma;
  args.small = state->small_sums;
  args.scratch = state->scratch;
  state->dsp->output(&args, n, out + b0 * tier->cout);
}

/* n <= MDN_CHUNK frames, in runs of rows with one sigma: each run's codes are
 * encoded in bulk, then its rows are scanned together. */
static void
process_chunk(const MdnTier *tier, MdnTierState *state, const float *const *x, gint64 frame0,
              size_t n, const float *bias, float *out)
{
  const MdnTierDsp *k = state->dsp;
  const ptrdiff_t span = (ptrdiff_t)mdn_tier_span(tier);
  const size_t block = (size_t)tier->norm_block;
  const gint64 reach = (gint64)state->reach;
  gboolean codes_valid = state->valid && frame0 == state->next_frame;
  size_t r = 0;
  float sigma;
  int i;

  if (!codes_valid) {
    state->base = frame0 - reach;
  } else if ((size_t)(frame0 + (gint64)n - state->base) > state->capacity) {
    /* Keep the codes of [frame0 - reach, frame0), move them to the front. */
    size_t keep_from = (size_t)(frame0 - reach - state->base);
    for (i = 0; i < tier->cin; i++) {
      guint8 *codes = state->codes + (size_t)i * state->code_stride;
      memmove(codes, codes + keep_from, state->reach);
    }
    state->base = frame0 - reach;
  }

  /* sigma of row 0: the whole look-back at a block start (or after a
   * rebuild), otherwise the running sigma grows by the new frame. Only
   * pow2_ceil of the running max matters, and pow2_ceil (max (a, b)) =
   * max (pow2_ceil (a), pow2_ceil (b)), so the state keeps sigma alone. */
  {
    const ptrdiff_t into_block = (ptrdiff_t)(frame0 & (block - 1));
    if (!codes_valid || into_block == 0)
      sigma = mdn_tier_pow2_ceil(k->max_abs(x, tier->cin, -into_block - span, 0));
    else
      sigma = MAX(state->sigma, mdn_tier_pow2_ceil(mdn_tier_frame_max(tier->cin, x, 0)));
  }

  while (r < n) {
    const gint64 t = frame0 + (gint64)r;
    size_t end = r + 1, done;
    float next_sigma = sigma, sigma16[16];

    /* Extend the run while sigma stays: across block starts whose look-back
     * gives the same sigma, and inside blocks up to a louder frame. */
    end = k->run_end(x, tier->cin, frame0, end, n, span, block, sigma, &next_sigma);

    /* Codes the run reads: [t - reach, t_end - 1], or only the positions
     * not yet encoded when the cached ones carry this sigma. */
    if (!codes_valid || sigma != state->code_sigma)
      state->coded_end = encode_range(tier, state, x, frame0, t - reach, frame0 + (gint64)end - 1,
                                      frame0 + (gint64)n - 1, sigma);
    else if (state->coded_end < frame0 + (gint64)end)
      state->coded_end = encode_range(tier, state, x, frame0, state->coded_end,
                                      frame0 + (gint64)end - 1, frame0 + (gint64)n - 1, sigma);
    state->code_sigma = sigma;
    codes_valid = TRUE;

    /* Table sums of the run into the batches it covers; exact taps and
     * output once a batch is complete. */
    for (done = 0; done < 16; done++)
      sigma16[done] = sigma;
    for (done = r; done < end;) {
      const size_t b0 = done - done % MDN_TIER_ROWS;
      const size_t b_end = MIN(b0 + MDN_TIER_ROWS, n);
      const size_t stop = MIN(end, b_end);
      size_t j;
      state->scan(&state->tables, state->codes + (frame0 + (gint64)done - state->base),
                  state->cb_offset, stop - done, state->sums + (done - b0));
      /* whole steps of 16: rows past stop are padding, or rewritten by the
       * next run */
      {
        float *row_sigma = state->row_sigma + (done - b0);
        for (j = 0; j < stop - done; j += 16)
          memcpy(row_sigma + j, sigma16, sizeof sigma16);
      }
      done = stop;
      if (done == b_end)
        batch_out(tier, state, x, b0, b_end - b0, bias, out);
    }
    state->sigma = sigma;
    sigma = next_sigma;
    r = end;
  }
  state->next_frame = frame0 + (gint64)n;
  state->valid = TRUE;
}

/* Larger n is split into MDN_CHUNK pieces. A NULL tier or state, or a state
 * made for another tier, writes zeros (nothing else can be computed without
 * allocating). */
void
mdn_tier_process(const MdnTier *tier, MdnTierState *state, const float *const *x, guint64 frame0,
                 size_t n, const float *bias, float *out)
{
  size_t done = 0;

  if (n == 0 || out == NULL)
    return;
  if (tier == NULL || state == NULL || state->tier != tier || x == NULL) {
    if (tier != NULL)
      memset(out, 0, sizeof(float) * n * tier->cout);
    return;
  }
  while (done < n) {
    size_t count = MIN(n - done, (size_t)MDN_CHUNK);
    const float *xs[MDN_MAX_CHANNELS];
    int i;
    for (i = 0; i < tier->cin; i++)
      xs[i] = x[i] + done;
    process_chunk(tier, state, xs, (gint64)(frame0 + done), count, bias, out + done * tier->cout);
    done += count;
  }
}

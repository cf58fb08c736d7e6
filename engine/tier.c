/* tier.c: the tier runtime, scalar reference encode and scan.
 *
 * This is the reference the SIMD kernels must match (codes and integer table
 * sums exactly, floats to rounding), so it is written for clarity: one row at
 * a time, integer table sums, one float conversion per output. The uint32 sum
 * cannot overflow while n_codebooks * (2^table_bits - 1) < 2^32, i.e. up to
 * 65537 codebooks of 16-bit tables.
 *
 * What mdn_tier_process() computes for the row at absolute frame t
 * (see mdn-private.h for the tier layout):
 *
 *   y[t][o] = sum_e exact_w[e][o] * x[exact_chan[e]][t - exact_tap[e]*dil]
 *           + sigma_t * (lut_offset[o] + lut_scale[o] * sum_c lut[c][code_c(t)][o])
 *
 * THE BIAS IS NOT INCLUDED. The tier stores no bias and lut_offset holds
 * none of it: the caller (stream.c) adds the kernel's bias[o].
 *
 *   code_c(t) = mdn_tier_encode_one (tier, cb_chan[c], &x[cb_chan[c]][t - cb_group[c]*s*dil],
 *                                    sigma_t)
 *   sigma_t   = mdn_pow2_ceil (max |x[i][u]|, all channels i, u in [B - span, t]),
 *               B = t - t % MDN_NORM_BLOCK.
 *
 * The output is a pure function of the input and t: the state only caches
 * codes, and any call sequence (chunk sizes, invalidation, jumps of frame0)
 * gives the same numbers as computing every row from scratch.
 *
 * Streaming: the code of channel i at position p depends on sigma, so codes
 * are cached together with the sigma they were encoded with. Within a
 * normalisation block sigma_t only grows (running max); when it changes (a
 * new block, or a louder frame inside the block), the codes the remaining
 * rows of the block read, positions [t - reach, t] with
 * reach = (groups - 1) * s * dil, are encoded again. Otherwise each new frame
 * is encoded once per channel.
 */
#include "mdn-private.h"

#include <string.h>

struct _MdnTierState {
  const MdnTier *tier; /* the tier the buffers are sized for */
  size_t reach;        /* (groups - 1) * s * dil: oldest code position a row reads */
  size_t capacity;     /* codes kept per channel */
  guint8 *codes;       /* [cin][capacity]; codes[i][k] is position base + k */
  gint64 base;         /* absolute frame of codes[i][0] */
  gint64 next_frame;   /* the frame the cache is ready for */
  gboolean valid;      /* FALSE: rebuild from the input history */
  float running_max;   /* max |x| over [B - span, next_frame - 1] */
  float code_sigma;    /* sigma the codes of [next_frame - 1 - reach, next_frame - 1] used */
  size_t *cb_delay;    /* [n_codebooks]: cb_group * s * dil */
  guint32 *table_sum;  /* [cout] */
  float *exact_sum;    /* [cout] */
};

size_t
mdn_tier_history(const MdnTier *tier)
{
  return mdn_tier_span(tier) + MDN_NORM_BLOCK;
}

/* Operations per frame:
 *   n_codebooks * cout                   table lookups and adds
 * + n_exact * cout                       exact multiply-adds
 * + cin * depth * (1 + span / NORM_BLOCK) encode steps (tree levels): each
 *   frame is encoded once, and at each block start the span is encoded again
 *   with the block's new sigma (amortised over the block's frames). */
double
mdn_tier_cost(const MdnTier *tier)
{
  double lookups = (double)tier->n_codebooks * tier->cout;
  double exact = (double)tier->n_exact * tier->cout;
  double encode
      = (double)tier->cin * tier->spec.depth * (1.0 + (double)mdn_tier_span(tier) / MDN_NORM_BLOCK);
  return lookups + exact + encode;
}

static size_t
tier_reach(const MdnTier *tier)
{
  return (size_t)(mdn_tier_groups(tier) - 1) * tier->spec.taps_per_codebook * tier->dilation;
}

/* Codes for positions [frame0 - reach, frame0 + MDN_CHUNK) must fit at any
 * time; the extra MDN_CHUNK lets the buffer be shifted back only once per
 * MDN_CHUNK frames instead of at every call. Returns NULL when the tier is
 * NULL or the buffers cannot be allocated. */
MdnTierState *
mdn_tier_state_new(const MdnTier *tier)
{
  MdnTierState *state;
  int c;

  if (tier == NULL || tier->cin < 1 || tier->cin > MDN_MAX_CHANNELS)
    return NULL;
  state = g_new0(MdnTierState, 1);
  state->tier = tier;
  state->reach = tier_reach(tier);
  state->capacity = state->reach + 2 * (size_t)MDN_CHUNK;
  state->codes = g_try_malloc0_n((gsize)tier->cin, state->capacity);
  state->cb_delay = g_new0(size_t, tier->n_codebooks > 0 ? tier->n_codebooks : 1);
  state->table_sum = g_new0(guint32, tier->cout);
  state->exact_sum = g_new0(float, tier->cout);
  if (state->codes == NULL) {
    mdn_tier_state_free(state);
    return NULL;
  }
  for (c = 0; c < tier->n_codebooks; c++)
    state->cb_delay[c] = (size_t)tier->cb_group[c] * tier->spec.taps_per_codebook * tier->dilation;
  state->valid = FALSE;
  return state;
}

void
mdn_tier_state_free(MdnTierState *state)
{
  if (state == NULL)
    return;
  g_free(state->codes);
  g_free(state->cb_delay);
  g_free(state->table_sum);
  g_free(state->exact_sum);
  g_free(state);
}

void
mdn_tier_state_invalidate(MdnTierState *state)
{
  if (state != NULL)
    state->valid = FALSE;
}

/* max |x| over all channels at frames [first, last] relative to x[i][0]. */
static float
max_abs(const MdnTier *tier, const float *const *x, ptrdiff_t first, ptrdiff_t last)
{
  float m = 0.0f;
  int i;
  ptrdiff_t u;
  for (i = 0; i < tier->cin; i++)
    for (u = first; u <= last; u++) {
      float a = fabsf(x[i][u]);
      if (a > m)
        m = a;
    }
  return m;
}

/* Encodes every channel at absolute positions [first, last] with sigma.
 * frame0 maps absolute positions to x[i][p - frame0]. */
static void
encode_range(const MdnTier *tier, MdnTierState *state, const float *const *x, gint64 frame0,
             gint64 first, gint64 last, float sigma)
{
  int i;
  gint64 p;
  for (i = 0; i < tier->cin; i++) {
    guint8 *codes = state->codes + (size_t)i * state->capacity;
    for (p = first; p <= last; p++)
      codes[p - state->base]
          = (guint8)mdn_tier_encode_one(tier, i, x[i] + (ptrdiff_t)(p - frame0), sigma);
  }
}

/* The table sum of row t: codes loaded once per codebook, reused for every
 * output; lut[c][code][o] is contiguous in o. */
static void
scan_row(const MdnTier *tier, const MdnTierState *state, gint64 t)
{
  const int cout = tier->cout;
  const size_t row_stride = (size_t)tier->buckets * cout;
  guint32 *sum = state->table_sum;
  int c, o;

  memset(sum, 0, sizeof(guint32) * cout);
  if (tier->spec.table_bits == 16) {
    const guint16 *lut = tier->lut;
    for (c = 0; c < tier->n_codebooks; c++) {
      const guint8 *codes = state->codes + (size_t)tier->cb_chan[c] * state->capacity;
      unsigned code = codes[t - (gint64)state->cb_delay[c] - state->base];
      const guint16 *entry = lut + c * row_stride + (size_t)code * cout;
      for (o = 0; o < cout; o++)
        sum[o] += entry[o];
    }
  } else {
    const guint8 *lut = tier->lut;
    for (c = 0; c < tier->n_codebooks; c++) {
      const guint8 *codes = state->codes + (size_t)tier->cb_chan[c] * state->capacity;
      unsigned code = codes[t - (gint64)state->cb_delay[c] - state->base];
      const guint8 *entry = lut + c * row_stride + (size_t)code * cout;
      for (o = 0; o < cout; o++)
        sum[o] += entry[o];
    }
  }
}

/* The exact taps of row r (relative to x[i][0]). */
static void
exact_row(const MdnTier *tier, const MdnTierState *state, const float *const *x, ptrdiff_t r)
{
  const int cout = tier->cout;
  float *sum = state->exact_sum;
  int e, o;

  memset(sum, 0, sizeof(float) * cout);
  for (e = 0; e < tier->n_exact; e++) {
    float v = x[tier->exact_chan[e]][r - (ptrdiff_t)tier->exact_tap[e] * tier->dilation];
    const float *w = tier->exact_w + (size_t)e * cout;
    for (o = 0; o < cout; o++)
      sum[o] += w[o] * v;
  }
}

/* n <= MDN_CHUNK frames. */
static void
process_chunk(const MdnTier *tier, MdnTierState *state, const float *const *x, gint64 frame0,
              size_t n, float *out)
{
  const ptrdiff_t span = (ptrdiff_t)mdn_tier_span(tier);
  const gint64 reach = (gint64)state->reach;
  gboolean codes_valid = state->valid && frame0 == state->next_frame;
  size_t r;
  int i, o;

  if (!codes_valid) {
    state->base = frame0 - reach;
  } else if ((size_t)(frame0 + (gint64)n - state->base) > state->capacity) {
    /* Keep the codes of [frame0 - reach, frame0), move them to the front. */
    size_t keep_from = (size_t)(frame0 - reach - state->base);
    for (i = 0; i < tier->cin; i++) {
      guint8 *codes = state->codes + (size_t)i * state->capacity;
      memmove(codes, codes + keep_from, state->reach);
    }
    state->base = frame0 - reach;
  }

  for (r = 0; r < n; r++) {
    const gint64 t = frame0 + (gint64)r;
    const ptrdiff_t into_block = (ptrdiff_t)(t % MDN_NORM_BLOCK);
    float sigma;

    /* sigma_t: the whole look-back at a block start (or after a rebuild),
     * otherwise the running max grows by the new frame. */
    if (!codes_valid || into_block == 0)
      state->running_max = max_abs(tier, x, (ptrdiff_t)r - into_block - span, (ptrdiff_t)r);
    else {
      float frame_max = max_abs(tier, x, (ptrdiff_t)r, (ptrdiff_t)r);
      state->running_max = MAX(state->running_max, frame_max);
    }
    sigma = mdn_pow2_ceil(state->running_max);

    if (!codes_valid || sigma != state->code_sigma) {
      encode_range(tier, state, x, frame0, t - reach, t, sigma);
      state->code_sigma = sigma;
      codes_valid = TRUE;
    } else {
      encode_range(tier, state, x, frame0, t, t, sigma);
    }

    scan_row(tier, state, t);
    exact_row(tier, state, x, (ptrdiff_t)r);
    for (o = 0; o < tier->cout; o++) {
      float table = tier->lut_offset[o] + tier->lut_scale[o] * (float)state->table_sum[o];
      out[r * tier->cout + o] = state->exact_sum[o] + sigma * table;
    }
  }
  state->next_frame = frame0 + (gint64)n;
  state->valid = TRUE;
}

/* Larger n is split into MDN_CHUNK pieces. A NULL tier or state, or a state
 * made for another tier, writes zeros (nothing else can be computed without
 * allocating). */
void
mdn_tier_process(const MdnTier *tier, MdnTierState *state, const float *const *x, guint64 frame0,
                 size_t n, float *out)
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
    process_chunk(tier, state, xs, (gint64)(frame0 + done), count, out + done * tier->cout);
    done += count;
  }
}

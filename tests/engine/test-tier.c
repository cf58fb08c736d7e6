/* test-tier.c: the tier runtime (tier.c) against a brute-force evaluation of
 * the formula in mdn-private.h, row by row, with no caching.
 *
 * Tolerance of the brute-force comparison: float rounding only. The reference
 * is computed in double; the runtime sums n_exact float products and does
 * three more float operations per output, so
 *   |y - y_ref| <= (n_exact + 4) * FLT_EPSILON * magnitude,
 * magnitude = sum_e |w x| + sigma * (|offset| + scale * table_sum).
 * Codes are compared exactly (a probe tier whose outputs are the codes), and
 * outputs of different call sequences are compared bit for bit.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- hand-built tiers (independent of tier-data.c) ---- */

typedef struct {
  int cin, cout, taps, dilation, s, depth, n_exact, table_bits;
  int norm_block; /* 0: MDN_NORM_BLOCK */
} Shape;

static void
tier_free(MdnTier *tier)
{
  if (tier == NULL)
    return;
  g_free(tier->split);
  g_free(tier->thresholds);
  g_free(tier->exact_chan);
  g_free(tier->exact_tap);
  g_free(tier->exact_w);
  g_free(tier->cb_chan);
  g_free(tier->cb_group);
  g_free(tier->lut);
  g_free(tier->lut_scale);
  g_free(tier->lut_offset);
  g_free(tier);
}

static void
shuffle(int *v, int n, GRand *rng)
{
  int k;
  for (k = n - 1; k > 0; k--) {
    int j = g_rand_int_range(rng, 0, k + 1), tmp = v[k];
    v[k] = v[j];
    v[j] = tmp;
  }
}

/* The arrays without tables; codebooks: every (channel, group), some dropped,
 * in random order. */
static MdnTier *
tier_skeleton(const Shape *shape, gboolean all_codebooks, GRand *rng)
{
  MdnTier *tier = g_new0(MdnTier, 1);
  int groups, n_pairs, k, *order;

  tier->spec.taps_per_codebook = shape->s;
  tier->spec.depth = shape->depth;
  tier->spec.exact_taps = shape->n_exact;
  tier->spec.table_bits = shape->table_bits;
  mdn_tier_spec_name(&tier->spec, tier->name);
  tier->cin = shape->cin;
  tier->cout = shape->cout;
  tier->taps = shape->taps;
  tier->dilation = shape->dilation;
  tier->buckets = 1 << shape->depth;
  tier->norm_block = shape->norm_block ? shape->norm_block : MDN_NORM_BLOCK;

  tier->split = g_new(guint8, shape->cin * shape->depth);
  for (k = 0; k < shape->cin * shape->depth; k++)
    tier->split[k] = (guint8)g_rand_int_range(rng, 0, shape->s);
  tier->thresholds = g_new(float, shape->cin *(tier->buckets - 1));
  for (k = 0; k < shape->cin * (tier->buckets - 1); k++)
    tier->thresholds[k] = (float)g_rand_double_range(rng, -0.6, 0.6);

  /* Exact taps: distinct (channel, tap) pairs. */
  n_pairs = shape->cin * shape->taps;
  g_assert_cmpint(shape->n_exact, <=, n_pairs);
  order = g_new(int, n_pairs);
  for (k = 0; k < n_pairs; k++)
    order[k] = k;
  shuffle(order, n_pairs, rng);
  tier->n_exact = shape->n_exact;
  tier->exact_chan = g_new0(guint16, shape->n_exact + 1);
  tier->exact_tap = g_new0(guint32, shape->n_exact + 1);
  tier->exact_w = g_new0(float, (shape->n_exact + 1) * shape->cout);
  for (k = 0; k < shape->n_exact; k++) {
    tier->exact_chan[k] = (guint16)(order[k] / shape->taps);
    tier->exact_tap[k] = (guint32)(order[k] % shape->taps);
  }
  for (k = 0; k < shape->n_exact * shape->cout; k++)
    tier->exact_w[k] = (float)g_rand_double_range(rng, -1.0, 1.0);
  g_free(order);

  groups = mdn_tier_groups(tier);
  n_pairs = shape->cin * groups;
  order = g_new(int, n_pairs);
  tier->cb_chan = g_new0(guint16, n_pairs);
  tier->cb_group = g_new0(guint32, n_pairs);
  for (k = 0; k < n_pairs; k++)
    order[k] = k;
  shuffle(order, n_pairs, rng);
  for (k = 0; k < n_pairs; k++) {
    if (!all_codebooks && tier->n_codebooks > 0 && g_rand_double(rng) < 0.2)
      continue;
    tier->cb_chan[tier->n_codebooks] = (guint16)(order[k] / groups);
    tier->cb_group[tier->n_codebooks] = (guint32)(order[k] % groups);
    tier->n_codebooks++;
  }
  g_free(order);
  return tier;
}

/* A random valid tier: random trees and tables. */
static MdnTier *
random_tier(const Shape *shape, GRand *rng)
{
  MdnTier *tier = tier_skeleton(shape, FALSE, rng);
  size_t n_entries = (size_t)tier->n_codebooks * tier->buckets * tier->cout, k;
  guint32 top = 1u << shape->table_bits;
  int o;

  if (shape->table_bits == 16) {
    guint16 *lut = g_new(guint16, n_entries);
    for (k = 0; k < n_entries; k++)
      lut[k] = (guint16)g_rand_int_range(rng, 0, (gint32)top);
    tier->lut = lut;
  } else {
    guint8 *lut = g_new(guint8, n_entries);
    for (k = 0; k < n_entries; k++)
      lut[k] = (guint8)g_rand_int_range(rng, 0, (gint32)top);
    tier->lut = lut;
  }
  tier->lut_scale = g_new(float, tier->cout);
  tier->lut_offset = g_new(float, tier->cout);
  for (o = 0; o < tier->cout; o++) {
    tier->lut_scale[o]
        = (float)(g_rand_double_range(rng, 0.5, 1.5) / ((double)top * tier->n_codebooks));
    tier->lut_offset[o] = (float)g_rand_double_range(rng, -0.5, 0.5);
  }
  return tier;
}

/* A probe: output o is the code of codebook o (16-bit table lut[c][b][o] =
 * b if o == c, else 0; scale 1, offset 0, no exact taps), times sigma. */
static MdnTier *
probe_tier(const Shape *shape, GRand *rng)
{
  Shape probe = *shape;
  MdnTier *tier;
  guint16 *lut;
  int c, b, o;

  probe.n_exact = 0;
  probe.table_bits = 16;
  probe.cout = shape->cin * ((shape->taps + shape->s - 1) / shape->s);
  tier = tier_skeleton(&probe, TRUE, rng);
  g_assert_cmpint(tier->n_codebooks, ==, probe.cout);
  lut = g_new0(guint16, (size_t)tier->n_codebooks * tier->buckets * tier->cout);
  for (c = 0; c < tier->n_codebooks; c++)
    for (b = 0; b < tier->buckets; b++)
      lut[((size_t)c * tier->buckets + b) * tier->cout + c] = (guint16)b;
  tier->lut = lut;
  tier->lut_scale = g_new(float, tier->cout);
  tier->lut_offset = g_new(float, tier->cout);
  for (o = 0; o < tier->cout; o++) {
    tier->lut_scale[o] = 1.0f;
    tier->lut_offset[o] = 0.0f;
  }
  return tier;
}

/* ---- signals ---- */

typedef struct {
  int cin;
  size_t n;
  float **ch; /* [cin][n]; frames outside [0, n) are 0 */
} Signal;

static Signal *
signal_new(int cin, size_t n)
{
  Signal *sig = g_new0(Signal, 1);
  int i;
  sig->cin = cin;
  sig->n = n;
  sig->ch = g_new0(float *, cin);
  for (i = 0; i < cin; i++)
    sig->ch[i] = g_new0(float, n);
  return sig;
}

static void
signal_free(Signal *sig)
{
  int i;
  for (i = 0; i < sig->cin; i++)
    g_free(sig->ch[i]);
  g_free(sig->ch);
  g_free(sig);
}

static float
sample(const Signal *sig, int i, gint64 u)
{
  return u < 0 || u >= (gint64)sig->n ? 0.0f : sig->ch[i][u];
}

/* Noise under a piecewise-constant envelope whose level jumps over five
 * decades (sigma rises inside blocks and falls at block starts);
 * with_silence adds stretches of exact zeros. */
static Signal *
signal_random(int cin, size_t n, gboolean with_silence, GRand *rng)
{
  Signal *sig = signal_new(cin, n);
  int i;
  for (i = 0; i < cin; i++) {
    size_t t = 0;
    while (t < n) {
      size_t len = (size_t)g_rand_int_range(rng, 1, 200), end = MIN(n, t + len);
      double level = pow(10.0, g_rand_double_range(rng, -5.0, 0.0));
      if (with_silence && g_rand_double(rng) < 0.1)
        level = 0.0;
      for (; t < end; t++)
        sig->ch[i][t] = (float)(level * g_rand_double_range(rng, -1.0, 1.0));
    }
  }
  return sig;
}

/* ---- brute force: the formula of mdn-private.h, nothing cached ---- */

/* The tree walk written out independently: normalise, then compare. */
static unsigned
walk_tree(const MdnTier *tier, const Signal *sig, int chan, gint64 p, float sigma)
{
  const int depth = tier->spec.depth;
  unsigned node = 0;
  int l;
  for (l = 0; l < depth; l++) {
    int column = tier->split[chan * depth + l];
    float v = sample(sig, chan, p - (gint64)column * tier->dilation) / sigma;
    float thr = tier->thresholds[chan * (tier->buckets - 1) + (1 << l) - 1 + (int)node];
    node = 2 * node + (v > thr ? 1u : 0u);
  }
  return node;
}

static float
brute_sigma(const MdnTier *tier, const Signal *sig, gint64 t)
{
  gint64 block = t - t % tier->norm_block, u;
  float m = 0.0f;
  int i;
  for (i = 0; i < tier->cin; i++)
    for (u = block - (gint64)mdn_tier_span(tier); u <= t; u++)
      m = MAX(m, fabsf(sample(sig, i, u)));
  return mdn_pow2_ceil(m);
}

static guint32
lut_entry(const MdnTier *tier, int c, unsigned b, int o)
{
  size_t k = ((size_t)c * tier->buckets + b) * tier->cout + o;
  return tier->spec.table_bits == 16 ? ((const guint16 *)tier->lut)[k]
                                     : ((const guint8 *)tier->lut)[k];
}

/* Row t: y[o] in double and its magnitude; codes[c] if codes != NULL. */
static float
brute_row(const MdnTier *tier, const Signal *sig, gint64 t, double *y, double *magnitude,
          unsigned *codes)
{
  float sigma = brute_sigma(tier, sig, t);
  int o, c, e;
  for (o = 0; o < tier->cout; o++) {
    double exact = 0.0, exact_mag = 0.0, sum = 0.0;
    for (e = 0; e < tier->n_exact; e++) {
      double w = tier->exact_w[e * tier->cout + o];
      double v = sample(sig, tier->exact_chan[e], t - (gint64)tier->exact_tap[e] * tier->dilation);
      exact += w * v;
      exact_mag += fabs(w * v);
    }
    for (c = 0; c < tier->n_codebooks; c++) {
      gint64 p = t - (gint64)tier->cb_group[c] * tier->spec.taps_per_codebook * tier->dilation;
      unsigned code = walk_tree(tier, sig, tier->cb_chan[c], p, sigma);
      if (codes != NULL && o == 0)
        codes[c] = code;
      sum += lut_entry(tier, c, code, o);
    }
    y[o] = exact + (double)sigma * (tier->lut_offset[o] + (double)tier->lut_scale[o] * sum);
    magnitude[o]
        = exact_mag + (double)sigma * (fabs(tier->lut_offset[o]) + fabs(tier->lut_scale[o]) * sum);
  }
  return sigma;
}

/* ---- the runtime, driven like a stream ---- */

/* Chunk sizes: mostly tiny, sometimes up to MDN_CHUNK. */
static size_t
random_chunk(GRand *rng)
{
  switch (g_rand_int_range(rng, 0, 4)) {
  case 0:
    return (size_t)g_rand_int_range(rng, 1, 9);
  case 1:
    return (size_t)g_rand_int_range(rng, 1, 65);
  case 2:
    return (size_t)g_rand_int_range(rng, 1, MDN_CHUNK + 1);
  default:
    return MDN_CHUNK;
  }
}

/* Processes frames [start, end) in chunks of size `chunk` (0: random sizes),
 * invalidating the state before a chunk with probability p_invalidate.
 * Each call sees a fresh copy of exactly mdn_tier_history() frames of history
 * and the chunk, surrounded by NaN: reading further back or ahead poisons the
 * output. out: (end - start) rows of cout. */
static void
run_tier(const MdnTier *tier, MdnTierState *state, const Signal *sig, gint64 start, gint64 end,
         size_t chunk, double p_invalidate, GRand *rng, float *out)
{
  const size_t guard = 64, history = mdn_tier_history(tier);
  const size_t max_chunk = chunk > 0 ? chunk : MDN_CHUNK;
  const size_t len = guard + history + max_chunk + guard;
  float **buf = g_new0(float *, sig->cin);
  const float **x = g_new0(const float *, sig->cin);
  gint64 t0 = start;
  int i;
  size_t k;

  for (i = 0; i < sig->cin; i++)
    buf[i] = g_new(float, len);
  while (t0 < end) {
    size_t want = chunk > 0 ? chunk : random_chunk(rng); /* MIN evaluates twice */
    size_t n = MIN(want, (size_t)(end - t0));
    for (i = 0; i < sig->cin; i++) {
      for (k = 0; k < len; k++)
        buf[i][k] = NAN;
      for (k = 0; k < history + n; k++)
        buf[i][guard + k] = sample(sig, i, t0 - (gint64)history + (gint64)k);
      x[i] = buf[i] + guard + history;
    }
    if (p_invalidate > 0.0 && g_rand_double(rng) < p_invalidate)
      mdn_tier_state_invalidate(state);
    mdn_tier_process(tier, state, x, (guint64)t0, n, NULL, out + (size_t)(t0 - start) * tier->cout);
    t0 += (gint64)n;
  }
  for (i = 0; i < sig->cin; i++)
    g_free(buf[i]);
  g_free(buf);
  g_free(x);
}

/* Fresh state, random chunks, frames [0, n). */
static float *
run_fresh(const MdnTier *tier, const Signal *sig, size_t chunk, double p_invalidate, GRand *rng)
{
  float *out = g_new(float, sig->n * tier->cout);
  MdnTierState *state = mdn_tier_state_new(tier);
  g_assert_nonnull(state);
  run_tier(tier, state, sig, 0, (gint64)sig->n, chunk, p_invalidate, rng, out);
  mdn_tier_state_free(state);
  return out;
}

/* Every row of out (frames [0, n)) against the brute force; returns the
 * worst error as a fraction of the tolerance. */
static double
assert_matches_brute(const MdnTier *tier, const Signal *sig, const float *out)
{
  double *y = g_new(double, tier->cout), *mag = g_new(double, tier->cout);
  double worst = 0.0;
  size_t t;
  int o;
  for (t = 0; t < sig->n; t++) {
    brute_row(tier, sig, (gint64)t, y, mag, NULL);
    for (o = 0; o < tier->cout; o++) {
      double got = out[t * tier->cout + o];
      double tol = (tier->n_exact + 4) * FLT_EPSILON * mag[o];
      double err = fabs(got - y[o]);
      if (!(err <= tol))
        g_error("tier %s cin %d cout %d taps %d dil %d: frame %zu output %d: %.9g, brute "
                "force %.9g (tolerance %.3g)",
                tier->name, tier->cin, tier->cout, tier->taps, tier->dilation, t, o, got, y[o],
                tol);
      worst = MAX(worst, tol > 0 ? err / tol : 0.0);
    }
  }
  g_free(y);
  g_free(mag);
  return worst;
}

static void
assert_bits_equal(const float *a, const float *b, size_t n, const char *what)
{
  size_t k;
  for (k = 0; k < n; k++)
    if (memcmp(&a[k], &b[k], sizeof(float)) != 0)
      g_error("%s: value %zu differs: %.9g vs %.9g", what, k, a[k], b[k]);
}

/* ---- tests ---- */

static void
test_encode_known(void)
{
  /* depth 2, s 2, dilation 3: level 0 splits on tap 0, level 1 on tap 1. */
  guint8 split[2] = { 0, 1 };
  float thresholds[3] = { 0.0f, -0.5f, 0.5f };
  float x[8] = { 0 };
  MdnTier tier = { 0 };
  tier.spec.taps_per_codebook = 2;
  tier.spec.depth = 2;
  tier.buckets = 4;
  tier.dilation = 3;
  tier.cin = 1;
  tier.split = split;
  tier.thresholds = thresholds;

  x[7] = 0.3f; /* tap 0 */
  x[4] = 0.6f; /* tap 1, dilation 3 */
  /* sigma 1: 0.3 > 0 -> node 1; 0.6 > thr[2] = 0.5 -> node 3 */
  g_assert_cmpuint(mdn_tier_encode_one(&tier, 0, &x[7], 1.0f), ==, 3);
  /* sigma 2: 0.15 > 0 -> node 1; 0.3 > 0.5 no -> node 2 */
  g_assert_cmpuint(mdn_tier_encode_one(&tier, 0, &x[7], 2.0f), ==, 2);
  x[7] = -0.3f;
  /* sigma 1: -0.3 > 0 no -> node 0; 0.6 > thr[1] = -0.5 -> node 1 */
  g_assert_cmpuint(mdn_tier_encode_one(&tier, 0, &x[7], 1.0f), ==, 1);
  x[4] = -0.6f;
  g_assert_cmpuint(mdn_tier_encode_one(&tier, 0, &x[7], 1.0f), ==, 0);
}

/* mdn_tier_encode_one against the independent walk on random windows. */
static void
test_encode_random(void)
{
  GRand *rng = g_rand_new_with_seed(11);
  static const int s_values[] = { 1, 2, 4, 8 };
  size_t si;
  int depth;
  for (si = 0; si < G_N_ELEMENTS(s_values); si++)
    for (depth = 1; depth <= 8; depth++) {
      Shape shape = { 2, 1, 16, 1 + (depth % 3), s_values[si], depth, 0, 8, 0 };
      MdnTier *tier = random_tier(&shape, rng);
      Signal *sig = signal_random(2, 400, TRUE, rng);
      gint64 t;
      int i;
      for (t = 0; t < 400; t++)
        for (i = 0; i < 2; i++) {
          float sigma = ldexpf(1.0f, g_rand_int_range(rng, -20, 2));
          /* Pointer into the signal, with zeros before its start. */
          float window[400 + 64] = { 0 };
          memcpy(window + 64, sig->ch[i], sizeof(float) * 400);
          g_assert_cmpuint(mdn_tier_encode_one(tier, i, window + 64 + t, sigma), ==,
                           walk_tree(tier, sig, i, t, sigma));
        }
      signal_free(sig);
      tier_free(tier);
    }
  g_rand_free(rng);
}

static void
test_history_and_cost(void)
{
  GRand *rng = g_rand_new_with_seed(5);
  Shape shape = { 3, 2, 33, 3, 4, 6, 5, 8, 0 };
  MdnTier *tier = random_tier(&shape, rng);
  /* groups = ceil(33 / 4) = 9, span = (9 * 4 - 1) * 3 = 105 */
  g_assert_cmpuint(mdn_tier_span(tier), ==, 105);
  g_assert_cmpuint(mdn_tier_history(tier), ==, 105 + MDN_NORM_BLOCK);
  g_assert_cmpfloat_with_epsilon(
      mdn_tier_cost(tier),
      tier->n_codebooks * 2.0 + 5 * 2.0 + 3.0 * 6.0 * (1.0 + 105.0 / MDN_NORM_BLOCK), 1e-9);
  tier_free(tier);
  shape.norm_block = MDN_NORM_BLOCK_V1;
  tier = random_tier(&shape, rng);
  g_assert_cmpuint(mdn_tier_history(tier), ==, 105 + MDN_NORM_BLOCK_V1);
  tier_free(tier);
  g_rand_free(rng);
}

/* The full grid of shapes, random chunking, against the brute force; and a
 * second chunking bit for bit. The normalisation blocks take turns: this
 * version's, format version 1's, and a short one (more block starts). */
static void
test_matches_brute_force(void)
{
  static const int shapes[][2] = { { 1, 1 }, { 1, 4 }, { 3, 2 } };
  static const int s_values[] = { 1, 2, 4, 8 };
  static const int depths[] = { 4, 6 };
  static const int dilations[] = { 1, 3 };
  static const int taps_values[] = { 1, 7, 16, 33, 24 };
  GRand *rng = g_rand_new_with_seed(2021);
  size_t sh, si, di, li, k = 0;
  int with_exact, bits;
  double worst = 0.0;

  for (sh = 0; sh < G_N_ELEMENTS(shapes); sh++)
    for (si = 0; si < G_N_ELEMENTS(s_values); si++)
      for (di = 0; di < G_N_ELEMENTS(depths); di++)
        for (li = 0; li < G_N_ELEMENTS(dilations); li++)
          for (with_exact = 0; with_exact < 2; with_exact++)
            for (bits = 8; bits <= 16; bits += 8, k++) {
              Shape shape;
              MdnTier *tier;
              Signal *sig;
              float *a, *b;
              double error;

              shape.cin = shapes[sh][0];
              shape.cout = shapes[sh][1];
              shape.taps = taps_values[k % G_N_ELEMENTS(taps_values)];
              shape.dilation = dilations[li];
              shape.s = s_values[si];
              shape.depth = depths[di];
              shape.n_exact = with_exact ? g_rand_int_range(rng, 1, 9) : 0;
              shape.n_exact = MIN(shape.n_exact, shape.cin * shape.taps);
              shape.table_bits = bits;
              shape.norm_block = k % 3 == 0   ? MDN_NORM_BLOCK
                                 : k % 3 == 1 ? MDN_NORM_BLOCK_V1
                                              : MDN_NORM_BLOCK_MIN;
              tier = random_tier(&shape, rng);
              /* > 2 * MDN_CHUNK frames: the code buffer gets shifted. */
              sig = signal_random(shape.cin, 2 * MDN_CHUNK + 300, k % 2, rng);
              a = run_fresh(tier, sig, 0, 0.0, rng);
              error = assert_matches_brute(tier, sig, a);
              worst = MAX(worst, error);
              b = run_fresh(tier, sig, 0, 0.0, rng);
              assert_bits_equal(a, b, sig->n * tier->cout, "two random chunkings");
              g_free(a);
              g_free(b);
              signal_free(sig);
              tier_free(tier);
            }
  g_test_message("%zu tiers; worst error %.3f of the tolerance", k, worst);
  g_rand_free(rng);
}

/* Codes are identical to the brute force's, read through a probe tier. */
static void
test_codes_identical(void)
{
  static const Shape shapes[] = {
    { 1, 0, 16, 1, 4, 4, 0, 16, 0 }, { 2, 0, 9, 3, 2, 6, 0, 16, 0 },
    { 1, 0, 8, 2, 8, 8, 0, 16, 0 },  { 3, 0, 5, 1, 1, 5, 0, 16, 0 },
    { 2, 0, 33, 1, 4, 6, 0, 16, 0 },
  };
  GRand *rng = g_rand_new_with_seed(77);
  size_t k;
  for (k = 0; k < G_N_ELEMENTS(shapes); k++) {
    MdnTier *tier = probe_tier(&shapes[k], rng);
    Signal *sig = signal_random(tier->cin, 1500, TRUE, rng);
    float *out = run_fresh(tier, sig, 0, 0.05, rng);
    unsigned *codes = g_new(unsigned, tier->n_codebooks);
    double *y = g_new(double, tier->cout), *mag = g_new(double, tier->cout);
    size_t t;
    int c;
    for (t = 0; t < sig->n; t++) {
      float sigma = brute_row(tier, sig, (gint64)t, y, mag, codes);
      for (c = 0; c < tier->n_codebooks; c++) {
        float got = out[t * tier->cout + c];
        if (got != sigma * (float)codes[c])
          g_error("probe %zu frame %zu codebook %d: code %g, brute force %u (sigma %g)", k, t, c,
                  got / sigma, codes[c], sigma);
      }
    }
    g_free(codes);
    g_free(y);
    g_free(mag);
    g_free(out);
    signal_free(sig);
    tier_free(tier);
  }
  g_rand_free(rng);
}

/* Invalidating mid-stream, calling with n > MDN_CHUNK, and jumping frame0
 * all give the uninterrupted output bit for bit. */
static void
test_invalidate_and_jumps(void)
{
  static const Shape shapes[] = {
    { 1, 1, 16, 1, 4, 4, 3, 8, 0 },
    { 3, 2, 9, 3, 2, 6, 4, 16, MDN_NORM_BLOCK_V1 },
    { 1, 4, 33, 1, 8, 6, 0, 8, 0 },
    { 2, 3, 33, 2, 4, 5, 2, 8, 128 },
  };
  GRand *rng = g_rand_new_with_seed(99);
  size_t k;
  for (k = 0; k < G_N_ELEMENTS(shapes); k++) {
    MdnTier *tier = random_tier(&shapes[k], rng);
    Signal *sig = signal_random(tier->cin, 3000, TRUE, rng);
    const size_t cout = tier->cout;
    float *ref = run_fresh(tier, sig, 1, 0.0, rng); /* one frame per call */
    float *out;
    MdnTierState *state;

    out = run_fresh(tier, sig, 0, 0.2, rng);
    assert_bits_equal(ref, out, sig->n * cout, "invalidated mid-stream");
    g_free(out);

    out = run_fresh(tier, sig, 2500, 0.0, rng); /* one call longer than MDN_CHUNK */
    assert_bits_equal(ref, out, sig->n * cout, "n > MDN_CHUNK");
    g_free(out);

    /* Same state: frames [0, 700), then [1999, 2600) without invalidating,
     * then [100, 300) (backwards), then [300, 301). */
    out = g_new(float, sig->n *cout);
    state = mdn_tier_state_new(tier);
    run_tier(tier, state, sig, 0, 700, 0, 0.0, rng, out);
    run_tier(tier, state, sig, 1999, 2600, 0, 0.0, rng, out + 1999 * cout);
    assert_bits_equal(ref, out, 700 * cout, "before the jump");
    assert_bits_equal(ref + 1999 * cout, out + 1999 * cout, 601 * cout, "after the jump");
    run_tier(tier, state, sig, 100, 300, 0, 0.0, rng, out + 100 * cout);
    run_tier(tier, state, sig, 300, 301, 0, 0.0, rng, out + 300 * cout);
    assert_bits_equal(ref + 100 * cout, out + 100 * cout, 201 * cout, "backwards");
    mdn_tier_state_free(state);
    g_free(out);

    /* The history changes under the state at frame 1000 (a stream reset
     * that keeps counting frames): after invalidating, the output is that
     * of the new signal, as a fresh state computes it. */
    {
      Signal *quiet = signal_random(tier->cin, 2000, FALSE, rng);
      float *fresh = g_new(float, sig->n *cout);
      int i;
      for (i = 0; i < quiet->cin; i++)
        for (size_t t = 0; t < 1000; t++)
          quiet->ch[i][t] = 0.0f;
      out = g_new(float, sig->n *cout);
      state = mdn_tier_state_new(tier);
      run_tier(tier, state, sig, 0, 1000, 0, 0.0, rng, out);
      mdn_tier_state_invalidate(state);
      run_tier(tier, state, quiet, 1000, 2000, 0, 0.0, rng, out + 1000 * cout);
      mdn_tier_state_free(state);
      state = mdn_tier_state_new(tier);
      run_tier(tier, state, quiet, 1000, 2000, 0, 0.0, rng, fresh + 1000 * cout);
      mdn_tier_state_free(state);
      assert_bits_equal(fresh + 1000 * cout, out + 1000 * cout, 1000 * cout,
                        "history replaced, then invalidated");
      g_free(fresh);
      g_free(out);
      signal_free(quiet);
    }

    g_free(ref);
    signal_free(sig);
    tier_free(tier);
  }
  g_rand_free(rng);
}

/* x * 2^-10 gives y * 2^-10 exactly (the tier adds no bias). */
static void
test_level_invariance(void)
{
  static const Shape shapes[] = {
    { 1, 1, 16, 1, 4, 4, 3, 8, 0 },
    { 3, 2, 9, 3, 2, 6, 4, 16, MDN_NORM_BLOCK_V1 },
    { 1, 4, 33, 1, 8, 6, 0, 8, 0 },
  };
  GRand *rng = g_rand_new_with_seed(1010);
  size_t k, t;
  for (k = 0; k < G_N_ELEMENTS(shapes); k++) {
    MdnTier *tier = random_tier(&shapes[k], rng);
    /* Silence included: its sigma is 0 at every level. */
    Signal *sig = signal_random(tier->cin, 2000, TRUE, rng);
    float *loud = run_fresh(tier, sig, 0, 0.0, rng), *quiet, *expected;
    int i;
    for (i = 0; i < sig->cin; i++)
      for (t = 0; t < sig->n; t++)
        sig->ch[i][t] = ldexpf(sig->ch[i][t], -10);
    quiet = run_fresh(tier, sig, 0, 0.0, rng);
    expected = g_new(float, sig->n * tier->cout);
    for (t = 0; t < sig->n * tier->cout; t++)
      expected[t] = ldexpf(loud[t], -10);
    assert_bits_equal(expected, quiet, sig->n * tier->cout, "level invariance");
    g_free(loud);
    g_free(quiet);
    g_free(expected);
    signal_free(sig);
    tier_free(tier);
  }
  g_rand_free(rng);
}

/* Digital silence gives exact zeros: sigma is 0 for a silent look-back, so
 * the table term (offset included) vanishes. From the start, and after
 * sound from the first row whose look-back (block start minus the span) is
 * silent. */
static void
test_silence(void)
{
  Shape shape = { 3, 2, 16, 3, 4, 6, 4, 16, MDN_NORM_BLOCK_MIN };
  GRand *rng = g_rand_new_with_seed(3);
  MdnTier *tier = random_tier(&shape, rng);
  const size_t sound = 300, span = mdn_tier_span(tier);
  Signal *sig = signal_new(3, 1000);
  float *out = run_fresh(tier, sig, 0, 0.1, rng);
  size_t k, t, loud = 0;
  int i;
  for (k = 0; k < sig->n * tier->cout; k++)
    g_assert_cmpfloat(out[k], ==, 0.0f);
  assert_matches_brute(tier, sig, out);
  g_free(out);

  for (i = 0; i < sig->cin; i++)
    for (t = 0; t < sound; t++)
      sig->ch[i][t] = (float)g_rand_double_range(rng, -1.0, 1.0);
  out = run_fresh(tier, sig, 0, 0.1, rng);
  assert_matches_brute(tier, sig, out);
  for (t = 0; t < sig->n; t++)
    for (k = 0; k < (size_t)tier->cout; k++) {
      if (t - t % tier->norm_block >= sound + span)
        g_assert_cmpfloat(out[t * tier->cout + k], ==, 0.0f);
      else
        loud += out[t * tier->cout + k] != 0.0f;
    }
  g_assert_cmpuint(loud, >, 0);
  g_free(out);
  signal_free(sig);
  tier_free(tier);
  g_rand_free(rng);
}

/* 1e-4 then 1, jumping inside a block: the codes the rest of the block
 * reads are re-encoded; the next blocks still see the loud span. */
static void
test_level_jump(void)
{
  static const Shape shapes[] = {
    { 1, 1, 16, 1, 4, 4, 3, 8, 0 },
    { 3, 2, 33, 3, 2, 6, 4, 16, 0 },
    { 1, 1, 16, 1, 4, 4, 3, 8, MDN_NORM_BLOCK_V1 },
    { 3, 2, 33, 3, 2, 6, 4, 16, MDN_NORM_BLOCK_V1 },
  };
  static const size_t chunks[] = { 0, 1, 64, 5 * 64 + 37, MDN_CHUNK };
  GRand *rng = g_rand_new_with_seed(4);
  size_t k, ci, t;
  for (k = 0; k < G_N_ELEMENTS(shapes); k++) {
    MdnTier *tier = random_tier(&shapes[k], rng), *probe = probe_tier(&shapes[k], rng);
    Signal *sig = signal_new(tier->cin, 1200);
    int i;
    for (i = 0; i < sig->cin; i++)
      for (t = 0; t < sig->n; t++)
        sig->ch[i][t]
            = (float)((t < 5 * 64 + 37 ? 1e-4 : 1.0) * g_rand_double_range(rng, -1.0, 1.0));
    for (ci = 0; ci < G_N_ELEMENTS(chunks); ci++) {
      float *out = run_fresh(tier, sig, chunks[ci], 0.0, rng);
      float *codes = run_fresh(probe, sig, chunks[ci], 0.0, rng);
      double *y = g_new(double, probe->cout), *mag = g_new(double, probe->cout);
      unsigned *expected = g_new(unsigned, probe->n_codebooks);
      int c;
      assert_matches_brute(tier, sig, out);
      for (t = 0; t < sig->n; t++) {
        float sigma = brute_row(probe, sig, (gint64)t, y, mag, expected);
        for (c = 0; c < probe->n_codebooks; c++)
          g_assert_cmpfloat(codes[t * probe->cout + c], ==, sigma * (float)expected[c]);
      }
      g_free(y);
      g_free(mag);
      g_free(expected);
      g_free(out);
      g_free(codes);
    }
    signal_free(sig);
    tier_free(tier);
    tier_free(probe);
  }
  g_rand_free(rng);
}

/* A NULL state (or tier) does not crash: the output is zeros. */
static void
test_null_state(void)
{
  Shape shape = { 1, 2, 8, 1, 4, 4, 0, 8, 0 };
  GRand *rng = g_rand_new_with_seed(8);
  MdnTier *tier = random_tier(&shape, rng);
  float in[200] = { 0.5f }, out[20];
  const float *x[1] = { in + 100 };
  MdnTierState *state;
  int k;

  g_assert_null(mdn_tier_state_new(NULL));
  mdn_tier_state_free(NULL);
  mdn_tier_state_invalidate(NULL);
  for (k = 0; k < 20; k++)
    out[k] = 123.0f;
  mdn_tier_process(tier, NULL, x, 0, 10, NULL, out);
  for (k = 0; k < 20; k++)
    g_assert_cmpfloat(out[k], ==, 0.0f);
  mdn_tier_process(NULL, NULL, x, 0, 10, NULL, out);
  /* n = 0 writes nothing. */
  state = mdn_tier_state_new(tier);
  out[0] = 123.0f;
  mdn_tier_process(tier, state, x, 0, 0, NULL, out);
  g_assert_cmpfloat(out[0], ==, 123.0f);
  mdn_tier_state_free(state);
  tier_free(tier);
  g_rand_free(rng);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tier/encode-known", test_encode_known);
  g_test_add_func("/tier/encode-random", test_encode_random);
  g_test_add_func("/tier/history-and-cost", test_history_and_cost);
  g_test_add_func("/tier/matches-brute-force", test_matches_brute_force);
  g_test_add_func("/tier/codes-identical", test_codes_identical);
  g_test_add_func("/tier/invalidate-and-jumps", test_invalidate_and_jumps);
  g_test_add_func("/tier/level-invariance", test_level_invariance);
  g_test_add_func("/tier/silence", test_silence);
  g_test_add_func("/tier/level-jump", test_level_jump);
  g_test_add_func("/tier/null-state", test_null_state);
  return g_test_run();
}

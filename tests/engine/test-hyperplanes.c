/* test-hyperplanes: hyperplane encoders (spec letter h) end to end.
 * - kernels, checkasm style: the tier tables for every subset of the CPU's
 *   flags (mdn-test-flags.h); each encode_hyperplanes a table holds that an
 *   earlier one did not gives the reference's codes exactly (the projection
 *   is float products added in column order, never fused, on every ISA).
 * - whole tiers: mdn_tier_process() of random hyperplane tiers under each
 *   table, in random chunks, against a brute-force evaluation of every row
 *   through mdn_tier_encode_one() (codes exactly: a probe table whose sums
 *   spell the codes; the row's value is sigma times the sum), and bit for
 *   bit against the reference table.
 * - presets (format version 3, field 15): models with and without a
 *   hyperplane tier are read back bit-exact; wrong hyperplane counts and
 *   non-finite hyperplanes are refused. (Versions 1 and 2 load as axis
 *   tiers: test-preset-variants.)
 * - trees: a hyperplane tree finds the oblique direction an axis tree
 *   cannot. (The fit's hyperplane tiers against its axis tiers, end to end:
 *   test-fit-rules, which check-neon leaves out with the other fits.)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"
#include "fit-private.h"
#include "mdn-signals.h"
#include "mdn-test-flags.h"

#include <math.h>
#include <string.h>

#define RATE 48000.0

typedef struct {
  const char *name;
  MdnTierDsp dsp;
} Candidate;

static Candidate cands[MDN_TEST_MAX_FLAG_SETS];
static int n_cands;

static void
init_candidates(void)
{
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  const int n_sets = mdn_test_flag_sets(sets);
  int j, k;

  for (j = 0; j < n_sets; j++) {
    MdnTierDsp dsp;
    gboolean seen = FALSE;
    mdn_tier_dsp_init(&dsp, sets[j]);
    for (k = 0; k < n_cands; k++)
      seen |= memcmp(&cands[k].dsp, &dsp, sizeof dsp) == 0;
    if (!seen) {
      cands[n_cands].name = mdn_test_flag_name(sets[j]);
      cands[n_cands++].dsp = dsp;
    }
  }
}

/* Candidate ii's encode_hyperplanes is in no earlier candidate. */
static gboolean
new_encoder(int ii)
{
  int jj;
  for (jj = 0; jj < ii; jj++)
    if (cands[jj].dsp.encode_hyperplanes == cands[ii].dsp.encode_hyperplanes)
      return FALSE;
  return TRUE;
}

static float
random_sample(GRand *rng)
{
  switch (g_rand_int_range(rng, 0, 20)) {
  case 0:
    return 0.0f;
  case 1:
    return -0.0f;
  case 2:
    return NAN;
  default:
    return (float)g_rand_double_range(rng, -1.0, 1.0) * ldexpf(1.0f, g_rand_int_range(rng, -12, 3));
  }
}

/* ---- kernels ---- */

static void
check_kernel(MdnTierEncodeHyperplanesFn *encode, const char *isa, GRand *rng, int s, int depth,
             int dilation, size_t n)
{
  const MdnTierDsp *ref = &cands[0].dsp;
  const int buckets = 1 << depth;
  const size_t history = (size_t)(s - 1) * dilation;
  float sigma = ldexpf(1.0f, g_rand_int_range(rng, -20, 6));
  float hp[8 * 8];
  float *thr = g_new0(float, buckets - 1 + MDN_TIER_THR_PAD);
  float *x = g_new(float, history + n + 1);
  guint8 *a = g_new(guint8, n + 64), *b = g_new(guint8, n + 64);
  size_t j;
  int l;

  for (j = 0; j < (size_t)depth * s; j++) /* some levels axes: exact ties with thresholds */
    hp[j] = (float)g_rand_double_range(rng, -1, 1);
  for (l = 0; l < depth; l++)
    if (g_rand_int_range(rng, 0, 3) == 0) {
      memset(hp + l * s, 0, sizeof(float) * s);
      hp[l * s + g_rand_int_range(rng, 0, s)] = 1.0f;
    }
  for (j = 0; j < (size_t)buckets - 1; j++)
    thr[j] = (float)g_rand_double_range(rng, -0.6, 0.6);
  for (j = 0; j < history + n + 1; j++) {
    x[j] = random_sample(rng) * sigma;
    if (g_rand_int_range(rng, 0, 10) == 0) /* ties: > must stay strict */
      x[j] = thr[g_rand_int_range(rng, 0, buckets - 1)] * sigma;
  }
  memset(a, 0xa5, n + 64);
  memset(b, 0xa5, n + 64);
  ref->encode_hyperplanes(hp, s, thr, sigma, depth, dilation, x + history, n, a);
  encode(hp, s, thr, sigma, depth, dilation, x + history, n, b);
  for (j = 0; j < n + 64; j++)
    if (a[j] != b[j])
      g_error("%s encode_hyperplanes s%d d%d dil %d n %zu sigma %g: position %zu: code %u, "
              "reference %u",
              isa, s, depth, dilation, n, sigma, j, b[j], a[j]);
  g_free(thr);
  g_free(x);
  g_free(a);
  g_free(b);
}

static void
test_kernels(void)
{
  static const int s_values[] = { 1, 2, 4, 8 };
  static const size_t big[] = { 255, 256, 257, 1000, 4099 };
  GRand *rng = g_rand_new_with_seed(201);
  int n_tested = 0, ii, depth, dil;
  size_t si, n;
  guint64 checks = 0;

  /* the reference is the scalar projection rule */
  g_assert_nonnull(cands[0].dsp.encode_hyperplanes);
  for (ii = 1; ii < n_cands; ii++) {
    if (!new_encoder(ii))
      continue;
    n_tested++;
    for (si = 0; si < G_N_ELEMENTS(s_values); si++)
      for (depth = 1; depth <= 8; depth++)
        for (dil = 1; dil <= 3; dil += 2) {
          for (n = 0; n <= 70; n += 1 + (n > 40) * 5, checks++)
            check_kernel(cands[ii].dsp.encode_hyperplanes, cands[ii].name, rng, s_values[si], depth,
                         dil, n);
          for (n = 0; n < G_N_ELEMENTS(big); n++, checks++)
            check_kernel(cands[ii].dsp.encode_hyperplanes, cands[ii].name, rng, s_values[si], depth,
                         dil, big[n]);
        }
  }
#if defined(__x86_64__)
  if (mdn_cpu_flags_detect() & MDN_CPU_FLAG_AVX2)
    g_assert_cmpint(n_tested, >=, 1); /* AVX2's at least */
#elif defined(__aarch64__)
  g_assert_cmpint(n_tested, >=, 1);
#endif
  g_test_message("encode_hyperplanes: %" G_GUINT64_FORMAT " checks of %d kernel(s)", checks,
                 n_tested);
  g_rand_free(rng);
}

/* ---- whole tiers ---- */

/* A random hyperplane tier through the allocator; with probe, 16-bit tables
 * whose entry for codebook c (< 2) and bucket b is b << (8 * c): the sum
 * spells the codes, one byte each; else random 8-bit tables. */
static MdnTier *
random_tier(int cin, int cout, int taps, int dilation, int s, int depth, int n_exact,
            gboolean probe, GRand *rng)
{
  MdnTierSpec spec = { s, depth, n_exact, probe ? 16 : 8, 1 };
  const int groups = (taps + s - 1) / s;
  MdnTier *t;
  GError *error = NULL;
  size_t j, n_lut;
  int c, b, o;

  t = mdn_tier_alloc(&spec, cin, cout, taps, dilation, MIN(n_exact, cin * taps), cin * groups,
                     &error);
  g_assert_no_error(error);
  g_assert_nonnull(t->hyperplanes);
  for (j = 0; j < (size_t)cin * depth * s; j++)
    t->hyperplanes[j] = (float)g_rand_double_range(rng, -1, 1);
  for (j = 0; j < (size_t)cin * (t->buckets - 1); j++)
    t->thresholds[j] = (float)g_rand_double_range(rng, -0.5, 0.5);
  for (j = 0; j < (size_t)t->n_exact; j++) {
    int pair = (int)(j * 7) % (cin * taps);
    t->exact_chan[j] = (guint16)(pair / taps);
    t->exact_tap[j] = (guint32)(pair % taps);
  }
  for (j = 0; j < (size_t)t->n_exact * cout; j++)
    t->exact_w[j] = (float)g_rand_double_range(rng, -1, 1);
  for (c = 0; c < t->n_codebooks; c++) {
    t->cb_chan[c] = (guint16)(c % cin);
    t->cb_group[c] = (guint32)(c / cin);
  }
  n_lut = (size_t)t->n_codebooks * t->buckets * cout;
  for (c = 0; c < t->n_codebooks; c++)
    for (b = 0; b < t->buckets; b++)
      for (o = 0; o < cout; o++) {
        size_t at = ((size_t)c * t->buckets + b) * cout + o;
        if (probe) /* codebook c (< 2) spells its code in byte c of the sum */
          ((guint16 *)t->lut)[at] = (guint16)(b << (8 * c));
        else
          ((guint8 *)t->lut)[at] = (guint8)g_rand_int_range(rng, 0, 256);
      }
  (void)n_lut;
  for (o = 0; o < cout; o++) {
    t->lut_scale[o] = probe ? 1.0f : (float)(1.0 / (256.0 * t->n_codebooks));
    t->lut_offset[o] = probe ? 0.0f : (float)g_rand_double_range(rng, -0.5, 0.5);
  }
  return t;
}

static float **
random_signal(int cin, size_t n, size_t pad, GRand *rng)
{
  float **ch = g_new(float *, cin);
  int i;
  for (i = 0; i < cin; i++) {
    size_t t = 0;
    ch[i] = g_new0(float, pad + n);
    while (t < n) {
      size_t len = (size_t)g_rand_int_range(rng, 1, 300), end = MIN(n, t + len);
      double level
          = g_rand_int_range(rng, 0, 10) == 0 ? 0.0 : pow(10.0, g_rand_double_range(rng, -5, 0));
      for (; t < end; t++)
        ch[i][pad + t] = (float)(level * g_rand_double_range(rng, -1.0, 1.0));
    }
  }
  return ch;
}

static float *
run(const MdnTier *tier, const MdnTierDsp *dsp, float *const *padded, size_t pad, size_t n,
    GRand *rng)
{
  MdnTierState *state = mdn_tier_state_new_dsp(tier, dsp);
  float *out = g_new(float, n * tier->cout + 64);
  const float *x[MDN_MAX_CHANNELS];
  size_t t0 = 0;
  int i;

  for (i = 0; i < 64; i++)
    out[n * tier->cout + i] = 12345.0f;
  g_assert_nonnull(state);
  while (t0 < n) {
    size_t want = g_rand_boolean(rng) ? (size_t)g_rand_int_range(rng, 1, 80)
                                      : (size_t)g_rand_int_range(rng, 1, 2000);
    size_t count = MIN(n - t0, want); /* MIN evaluates twice */
    for (i = 0; i < tier->cin; i++)
      x[i] = padded[i] + pad + t0;
    mdn_tier_process(tier, state, x, t0, count, NULL, out + t0 * tier->cout);
    t0 += count;
  }
  mdn_tier_state_free(state);
  for (i = 0; i < 64; i++)
    if (out[n * tier->cout + i] != 12345.0f)
      g_error("%s: out[%zu + %d] written past n", tier->name, n * tier->cout, i);
  return out;
}

/* The sigma of row t (mdn-private.h), from the padded signal. */
static float
brute_sigma(const MdnTier *tier, float *const *padded, size_t pad, size_t t)
{
  const size_t block = t - t % MDN_NORM_BLOCK, span = mdn_tier_span(tier);
  float m = 0;
  gint64 u;
  int i;
  for (i = 0; i < tier->cin; i++)
    for (u = (gint64)block - (gint64)span; u <= (gint64)t; u++)
      m = MAX(m, fabsf(padded[i][(gint64)pad + u]));
  return mdn_pow2_ceil(m);
}

/* Probe tiers (two codebooks of one channel, 16-bit tables spelling the
 * codes): every row's codes against mdn_tier_encode_one(). Random tiers:
 * every table bit for bit against the reference table. */
static void
test_whole_tier(void)
{
  static const int shapes[][4] = { { 1, 1, 16, 1 }, { 1, 1, 8, 3 }, { 1, 1, 4, 1 } };
  static const int specs[][2] = { { 8, 4 }, { 8, 6 }, { 4, 5 }, { 2, 8 }, { 1, 3 } };
  static const int random_shapes[][4] = { { 1, 16, 128, 1 }, { 3, 2, 24, 2 }, { 2, 5, 17, 1 } };
  GRand *rng = g_rand_new_with_seed(303);
  const size_t n = 3 * MDN_CHUNK + 300;
  size_t sh, sp, t;
  int ii, c;

  for (sh = 0; sh < G_N_ELEMENTS(shapes); sh++)
    for (sp = 0; sp < G_N_ELEMENTS(specs); sp++) {
      const int s = specs[sp][0], depth = specs[sp][1];
      const int taps = MIN(shapes[sh][2], 2 * s); /* two codebooks */
      MdnTier *tier = random_tier(1, 1, taps, shapes[sh][3], s, depth, 0, TRUE, rng);
      const size_t pad = mdn_tier_history(tier) + 64;
      float **sig = random_signal(1, n, pad, rng);
      g_assert_cmpint(tier->n_codebooks, <=, 2);
      for (ii = 0; ii < n_cands; ii++) {
        float *out = run(tier, &cands[ii].dsp, sig, pad, n, rng);
        for (t = 0; t < n; t++) {
          const float sigma = brute_sigma(tier, sig, pad, t);
          /* the row's value is sigma * sum: exact, sigma a power of two */
          unsigned want = 0, got = sigma > 0 ? (unsigned)(out[t] / sigma) : 0u;
          for (c = 0; c < tier->n_codebooks; c++) {
            const float *xt
                = sig[0] + pad + t
                  - (size_t)tier->cb_group[c] * tier->spec.taps_per_codebook * tier->dilation;
            want |= (sigma > 0 ? mdn_tier_encode_one(tier, 0, xt, sigma) : 0u) << (8 * c);
          }
          if (sigma > 0 && got != want)
            g_error("%s %s dil %d: frame %zu: codes 0x%04x, encode_one 0x%04x", cands[ii].name,
                    tier->name, tier->dilation, t, got, want);
        }
        g_free(out);
      }
      g_free(sig[0]);
      g_free(sig);
      mdn_tier_free(tier);
    }
  for (sh = 0; sh < G_N_ELEMENTS(random_shapes); sh++)
    for (sp = 0; sp < G_N_ELEMENTS(specs); sp++) {
      const int cin = random_shapes[sh][0];
      MdnTier *tier = random_tier(cin, random_shapes[sh][1], random_shapes[sh][2],
                                  random_shapes[sh][3], specs[sp][0], specs[sp][1], 0, FALSE, rng);
      const size_t pad = mdn_tier_history(tier) + 64;
      float **sig = random_signal(cin, n, pad, rng);
      float *a = run(tier, &cands[0].dsp, sig, pad, n, rng);
      for (ii = 1; ii < n_cands; ii++) {
        float *b = run(tier, &cands[ii].dsp, sig, pad, n, rng);
        for (t = 0; t < n * tier->cout; t++)
          if (memcmp(&a[t], &b[t], sizeof(float)) != 0)
            g_error("%s %s cin %d cout %d: value %zu: %.9g, reference %.9g", cands[ii].name,
                    tier->name, cin, tier->cout, t, b[t], a[t]);
        g_free(b);
      }
      for (c = 0; c < cin; c++)
        g_free(sig[c]);
      g_free(sig);
      g_free(a);
      mdn_tier_free(tier);
    }
  g_rand_free(rng);
}

/* ---- presets ---- */

static MdnModel *
model_with(gboolean hyperplanes, GRand *rng)
{
  MdnKernel *k = mdn_design_lowpass(24, 6000, RATE);
  MdnModel *m = mdn_model_new(k, NULL);
  MdnTier *axis = random_tier(1, 1, 24, 1, 4, 4, 2, FALSE, rng);

  /* an axis tier: no hyperplanes (as the fit makes it) */
  axis->spec.hyperplanes = 0;
  g_free(axis->hyperplanes);
  axis->hyperplanes = NULL;
  mdn_tier_spec_name(&axis->spec, axis->name);
  mdn_model_add_tier(m, axis);
  if (hyperplanes)
    mdn_model_add_tier(m, random_tier(1, 1, 24, 1, 8, 5, 3, FALSE, rng));
  mdn_kernel_free(k);
  return m;
}

static guint32
file_version(GBytes *b)
{
  const guint8 *p = g_bytes_get_data(b, NULL);
  return (guint32)p[8] | (guint32)p[9] << 8 | (guint32)p[10] << 16 | (guint32)p[11] << 24;
}

/* The version-3 file `file` (one variant) with tier `tier`'s hyperplanes
 * (field 15) replaced by `count` floats (the tier's own, cycled). */
static GBytes *
with_hyperplane_count(GBytes *file, int tier, gsize count)
{
  gsize size;
  const guint8 *data = g_bytes_get_data(file, &size);
  GBytes *payload = g_bytes_new(data + 16, size - 16);
  GVariant *outer
      = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARIANT, payload, TRUE));
  GVariant *root = g_variant_get_variant(outer), *variant = g_variant_get_child_value(root, 0);
  GVariant *tiers = g_variant_get_child_value(variant, 2), *parts[4], **tier_v, *fields[16];
  GVariant *planes, *new_root, *wrapped;
  const guint32 *old;
  guint32 *floats = g_new(guint32, count + 1);
  gsize n_tiers = g_variant_n_children(tiers), n_old, k;
  guint8 *out;

  tier_v = g_new(GVariant *, n_tiers);
  for (k = 0; k < n_tiers; k++)
    tier_v[k] = g_variant_get_child_value(tiers, k);
  g_assert_cmpuint(g_variant_n_children(tier_v[tier]), ==, 16);
  for (k = 0; k < 16; k++)
    fields[k] = g_variant_get_child_value(tier_v[tier], k);
  old = g_variant_get_fixed_array(fields[15], &n_old, 4);
  g_assert_cmpuint(n_old, >, 0);
  for (k = 0; k < count; k++)
    floats[k] = old[k % n_old];
  planes = g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, floats, count, 4);
  g_variant_unref(fields[15]);
  fields[15] = planes;
  g_variant_unref(tier_v[tier]);
  tier_v[tier] = g_variant_new_tuple(fields, 16);
  for (k = 0; k < 4; k++)
    parts[k] = g_variant_get_child_value(variant, k);
  g_variant_unref(parts[2]);
  parts[2] = g_variant_new_array(NULL, tier_v, n_tiers);
  new_root = g_variant_new_array(NULL, (GVariant *[]){ g_variant_new_tuple(parts, 4) }, 1);
  wrapped = g_variant_ref_sink(g_variant_new_variant(new_root));
  size = g_variant_get_size(wrapped);
  out = g_malloc(16 + size);
  memcpy(out, data, 16);
  out[12] = size & 0xff;
  out[13] = (size >> 8) & 0xff;
  out[14] = (size >> 16) & 0xff;
  out[15] = (size >> 24) & 0xff;
  g_variant_store(wrapped, out + 16);
  for (k = 0; k < 16; k++)
    if (k != 15)
      g_variant_unref(fields[k]);
  for (k = 0; k < 4; k++)
    if (k != 2)
      g_variant_unref(parts[k]);
  for (k = 0; k < n_tiers; k++)
    if (k != (gsize)tier)
      g_variant_unref(tier_v[k]);
  g_variant_unref(wrapped);
  g_variant_unref(tiers);
  g_variant_unref(variant);
  g_variant_unref(root);
  g_variant_unref(outer);
  g_bytes_unref(payload);
  g_free(tier_v);
  g_free(floats);
  return g_bytes_new_take(out, 16 + size);
}

static void
test_preset(void)
{
  GRand *rng = g_rand_new_with_seed(404);
  MdnModel *axis = model_with(FALSE, rng), *hyper = model_with(TRUE, rng), *back;
  GBytes *a = mdn_model_serialize(axis, NULL), *h = mdn_model_serialize(hyper, NULL), *again;
  GError *error = NULL;
  const MdnTier *t;
  gsize size;
  guint8 *bad;
  const guint8 *data;
  size_t j;

  g_assert_cmpuint(file_version(a), ==, 3);
  g_assert_cmpuint(file_version(h), ==, 3);
  back = mdn_model_load_from_data(g_bytes_get_data(h, NULL), g_bytes_get_size(h), &error);
  g_assert_no_error(error);
  t = mdn_model_tier(back, 1);
  g_assert_true(t->spec.hyperplanes);
  g_assert_cmpstr(t->name, ==, "s8d5e3h");
  g_assert_null(mdn_model_tier(back, 0)->hyperplanes);
  g_assert_cmpmem(t->hyperplanes, sizeof(float) * 5 * 8, mdn_model_tier(hyper, 1)->hyperplanes,
                  sizeof(float) * 5 * 8);
  again = mdn_model_serialize(back, NULL);
  g_assert_true(g_bytes_equal(again, h));
  g_bytes_unref(again);
  mdn_model_free(back);
  back = mdn_model_load_from_data(g_bytes_get_data(a, NULL), g_bytes_get_size(a), &error);
  g_assert_no_error(error);
  again = mdn_model_serialize(back, NULL);
  g_assert_true(g_bytes_equal(again, a));
  g_bytes_unref(again);
  mdn_model_free(back);

  /* A non-finite hyperplane is refused: the first 0x3f800000-free float of
   * the planes made NaN. Found as the bit pattern of the tier's first
   * hyperplane float in the file. */
  data = g_bytes_get_data(h, &size);
  bad = g_memdup2(data, size);
  for (j = 16; j + 4 <= size; j++)
    if (memcmp(bad + j, mdn_model_tier(hyper, 1)->hyperplanes, 8) == 0)
      break;
  g_assert_cmpuint(j + 4, <=, size);
  memcpy(bad + j, &(guint32){ 0x7fc00000u }, 4);
  back = mdn_model_load_from_data(bad, size, &error);
  g_assert_null(back);
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "hyperplanes"));
  g_clear_error(&error);
  g_free(bad);

  /* Planes of another shape than cin * depth * s are refused (a version 3
   * payload labelled version 2 has the wrong type altogether). */
  bad = g_memdup2(g_bytes_get_data(h, NULL), g_bytes_get_size(h));
  bad[8] = 2;
  back = mdn_model_load_from_data(bad, g_bytes_get_size(h), &error);
  g_assert_null(back);
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_clear_error(&error);
  g_free(bad);
  /* hyperplane counts other than 0 and cin * depth * s, in the second tier */
  {
    const gsize counts[] = { 1, 5 * 8 - 1, 5 * 8 + 1, 5 * 8 * 2 };
    for (j = 0; j < G_N_ELEMENTS(counts); j++) {
      GBytes *w = with_hyperplane_count(h, 1, counts[j]);
      back = mdn_model_load_from_data(g_bytes_get_data(w, NULL), g_bytes_get_size(w), &error);
      g_assert_null(back);
      g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
      g_assert_nonnull(strstr(error->message, "hyperplanes"));
      g_clear_error(&error);
      g_bytes_unref(w);
    }
    /* and the count itself, written back unchanged, loads */
    {
      GBytes *w = with_hyperplane_count(h, 1, 5 * 8);
      back = mdn_model_load_from_data(g_bytes_get_data(w, NULL), g_bytes_get_size(w), &error);
      g_assert_no_error(error);
      mdn_model_free(back);
      g_bytes_unref(w);
    }
  }
  g_bytes_unref(a);
  g_bytes_unref(h);
  mdn_model_free(axis);
  mdn_model_free(hyper);
  g_rand_free(rng);
}

/* ---- trees and fits ---- */

/* Windows spread uniformly over a rectangle along (1, 1) (long side 4,
 * short side 2): the best split of the rectangle cuts across its long side,
 * along (1, 1); an axis split cuts it on a slant and leaves more of the
 * spread. */
static void
test_tree_oblique(void)
{
  enum { N = 4000, S = 2 };
  GRand *rng = g_rand_new_with_seed(505);
  float *x = g_new(float, N *S), hp[S], thr[1];
  guint8 split[1];
  double loss_axis, loss_hyper;
  size_t t;

  for (t = 0; t < N; t++) {
    double u = g_rand_double_range(rng, -2, 2), v = g_rand_double_range(rng, -1, 1);
    x[t * S] = (float)((u + v) / G_SQRT2);
    x[t * S + 1] = (float)((u - v) / G_SQRT2);
  }
  g_assert_true(mdn_tree_learn(x, N, S, x, S, NULL, 1, split, thr, &loss_axis, NULL, NULL));
  g_assert_true(
      mdn_tree_learn_hyperplanes(x, N, S, NULL, NULL, 1, hp, thr, &loss_hyper, NULL, NULL));
  /* the direction (1, 1), scaled to a largest component of 1 */
  if (g_test_verbose())
    g_printerr("plane (%.3f, %.3f), loss %.1f, axis loss %.1f\n", hp[0], hp[1], loss_hyper,
               loss_axis);
  g_assert_cmpfloat(fabsf(hp[0] - 1.0f) + fabsf(hp[1] - 1.0f), <, 0.1);
  g_assert_cmpfloat(loss_hyper, <, 0.9 * loss_axis);
  g_free(x);
  g_rand_free(rng);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  init_candidates();
  g_test_add_func("/hyperplanes/kernels", test_kernels);
  g_test_add_func("/hyperplanes/whole-tier", test_whole_tier);
  g_test_add_func("/hyperplanes/preset", test_preset);
  g_test_add_func("/hyperplanes/tree-oblique", test_tree_oblique);
  return g_test_run();
}

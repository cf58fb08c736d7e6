/* test-preset.c: .mdn presets: bit-exact round trip, and hostile files
 * (truncation, random mutations, absurd sizes, unknown versions, NaN) give
 * an error or a valid model, never a crash.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-test-spawn.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

/* Must match engine/preset.c and docs/preset-format.md. The hand-made
 * payloads below are of format version 1 (one model): the loader still reads
 * them; test-preset-variants.c has versions 2 and 3. */
#define HEADER_BYTES 16
#define TIER_T "((iiii)sddayauaqauauaqauayauau)"
#define PRESET_T "((iiiidauau)(dst)a" TIER_T ")"

static float
rand_float(GRand *r, double lo, double hi)
{
  return (float)g_rand_double_range(r, lo, hi);
}

static MdnTier *
make_tier(GRand *r, const MdnKernel *k, int s, int depth, int n_exact, int bits)
{
  MdnTierSpec spec = { s, depth, n_exact, bits, 0 };
  GError *error = NULL;
  int groups = (k->taps + s - 1) / s;
  int n_codebooks = k->cin * groups;
  MdnTier *t;
  size_t j, n_lut;

  t = mdn_tier_alloc(&spec, k->cin, k->cout, k->taps, k->dilation, n_exact, n_codebooks, &error);
  g_assert_no_error(error);
  g_assert_nonnull(t);
  t->snr_db = g_rand_double_range(r, 5, 40);
  t->cost = g_rand_double_range(r, 1, 100);
  for (j = 0; j < (size_t)k->cin * depth; j++)
    t->split[j] = g_rand_int_range(r, 0, s);
  for (j = 0; j < (size_t)k->cin * (t->buckets - 1); j++)
    t->thresholds[j] = rand_float(r, -2, 2);
  for (j = 0; j < (size_t)n_exact; j++) {
    t->exact_chan[j] = g_rand_int_range(r, 0, k->cin);
    t->exact_tap[j] = g_rand_int_range(r, 0, k->taps);
  }
  for (j = 0; j < (size_t)n_exact * k->cout; j++)
    t->exact_w[j] = rand_float(r, -1, 1);
  for (j = 0; j < (size_t)n_codebooks; j++) {
    t->cb_chan[j] = j / groups;
    t->cb_group[j] = j % groups;
  }
  n_lut = (size_t)n_codebooks * t->buckets * k->cout;
  for (j = 0; j < n_lut; j++) {
    if (bits == 8)
      ((guint8 *)t->lut)[j] = g_rand_int(r);
    else
      ((guint16 *)t->lut)[j] = g_rand_int(r);
  }
  for (j = 0; j < (size_t)k->cout; j++) {
    t->lut_scale[j] = rand_float(r, 1e-4, 1e-2);
    t->lut_offset[j] = rand_float(r, -1, 1);
  }
  g_assert_true(mdn_tier_validate(t, &error));
  g_assert_no_error(error);
  return t;
}

/* A small model: a random kernel and two tiers (8-bit and 16-bit tables). */
static MdnModel *
make_model(guint32 seed, int cin, int cout, int taps, int dilation, int n_tiers)
{
  GRand *r = g_rand_new_with_seed(seed);
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(cin, cout, taps, dilation, 44100, &error);
  MdnModel *m;
  size_t j;

  g_assert_no_error(error);
  for (j = 0; j < (size_t)cin * cout * taps; j++)
    k->weights[j] = rand_float(r, -1, 1);
  for (j = 0; j < (size_t)cout; j++)
    k->bias[j] = rand_float(r, -0.1, 0.1);
  m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  m->provenance.seconds = 12.5;
  g_strlcpy(m->provenance.date, "2026-11-29T08:00:00Z", sizeof m->provenance.date);
  m->provenance.seed = G_GUINT64_CONSTANT(0x123456789abcdef0) + seed;
  if (n_tiers >= 1)
    mdn_model_add_tier(m, make_tier(r, k, 4, 4, MIN(2, cin * taps), 8));
  if (n_tiers >= 2)
    mdn_model_add_tier(m, make_tier(r, k, 2, 6, 0, 16));
  mdn_kernel_free(k);
  g_rand_free(r);
  return m;
}

static void
assert_tiers_equal(const MdnTier *a, const MdnTier *b)
{
  g_assert_cmpmem(&a->spec, sizeof a->spec, &b->spec, sizeof b->spec);
  g_assert_cmpstr(a->name, ==, b->name);
  g_assert_cmpmem(&a->snr_db, sizeof(double), &b->snr_db, sizeof(double));
  g_assert_cmpmem(&a->cost, sizeof(double), &b->cost, sizeof(double));
  g_assert_cmpint(a->cin, ==, b->cin);
  g_assert_cmpint(a->cout, ==, b->cout);
  g_assert_cmpint(a->taps, ==, b->taps);
  g_assert_cmpint(a->dilation, ==, b->dilation);
  g_assert_cmpint(a->buckets, ==, b->buckets);
  g_assert_cmpint(a->n_exact, ==, b->n_exact);
  g_assert_cmpint(a->n_codebooks, ==, b->n_codebooks);
  g_assert_cmpmem(a->split, a->cin * a->spec.depth, b->split, b->cin * b->spec.depth);
  g_assert_cmpmem(a->thresholds, 4 * a->cin * (a->buckets - 1), b->thresholds,
                  4 * b->cin * (b->buckets - 1));
  g_assert_cmpmem(a->exact_chan, 2 * a->n_exact, b->exact_chan, 2 * b->n_exact);
  g_assert_cmpmem(a->exact_tap, 4 * a->n_exact, b->exact_tap, 4 * b->n_exact);
  g_assert_cmpmem(a->exact_w, 4 * a->n_exact * a->cout, b->exact_w, 4 * b->n_exact * b->cout);
  g_assert_cmpmem(a->cb_chan, 2 * a->n_codebooks, b->cb_chan, 2 * b->n_codebooks);
  g_assert_cmpmem(a->cb_group, 4 * a->n_codebooks, b->cb_group, 4 * b->n_codebooks);
  g_assert_cmpmem(
      a->lut, a->n_codebooks * a->buckets * a->cout * mdn_table_entry_bytes(a->spec.table_bits),
      b->lut, b->n_codebooks * b->buckets * b->cout * mdn_table_entry_bytes(b->spec.table_bits));
  g_assert_cmpmem(a->lut_scale, 4 * a->cout, b->lut_scale, 4 * b->cout);
  g_assert_cmpmem(a->lut_offset, 4 * a->cout, b->lut_offset, 4 * b->cout);
}

static void
assert_models_equal(const MdnModel *a, const MdnModel *b)
{
  const MdnKernel *ka = mdn_model_kernel(a), *kb = mdn_model_kernel(b);
  int t;

  g_assert_cmpint(ka->cin, ==, kb->cin);
  g_assert_cmpint(ka->cout, ==, kb->cout);
  g_assert_cmpint(ka->taps, ==, kb->taps);
  g_assert_cmpint(ka->dilation, ==, kb->dilation);
  g_assert_cmpmem(&ka->rate, sizeof(double), &kb->rate, sizeof(double));
  g_assert_cmpmem(ka->weights, 4 * ka->cin * ka->cout * ka->taps, kb->weights,
                  4 * kb->cin * kb->cout * kb->taps);
  g_assert_cmpmem(ka->bias, 4 * ka->cout, kb->bias, 4 * kb->cout);
  g_assert_cmpmem(mdn_model_provenance(a), sizeof(MdnProvenance), mdn_model_provenance(b),
                  sizeof(MdnProvenance));
  g_assert_cmpint(mdn_model_n_tiers(a), ==, mdn_model_n_tiers(b));
  for (t = 0; t < mdn_model_n_tiers(a); t++)
    assert_tiers_equal(mdn_model_tier(a, t), mdn_model_tier(b, t));
}

static void
roundtrip_one(MdnModel *m)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp("mdn-preset-XXXXXX", &error);
  char *path = g_build_filename(dir, "model.mdn", NULL);
  GBytes *a, *b;
  MdnModel *loaded;

  g_assert_no_error(error);
  a = mdn_model_serialize(m, &error);
  g_assert_no_error(error);
  g_assert_true(mdn_model_save(m, path, &error));
  g_assert_no_error(error);
  loaded = mdn_model_load(path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(loaded);
  assert_models_equal(m, loaded);
  b = mdn_model_serialize(loaded, &error);
  g_assert_no_error(error);
  g_assert_true(g_bytes_equal(a, b));
  /* The info a tool prints survives the trip too. */
  if (mdn_model_n_tiers(m) > 0) {
    MdnTierInfo ia, ib;
    mdn_model_tier_info(m, 0, &ia);
    mdn_model_tier_info(loaded, 0, &ib);
    g_assert_cmpmem(&ia, sizeof ia, &ib, sizeof ib);
    g_assert_cmpuint(ia.table_bytes, >, 0);
  }
  mdn_model_free(loaded);
  g_bytes_unref(a);
  g_bytes_unref(b);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

static void
test_roundtrip(void)
{
  MdnModel *m;
  MdnTier *t;

  m = make_model(1, 2, 3, 10, 1, 2);
  roundtrip_one(m);
  mdn_model_free(m);
  m = make_model(2, 3, 1, 33, 2, 1);
  roundtrip_one(m);
  mdn_model_free(m);
  m = make_model(3, 1, 1, 64, 1, 0); /* kernel only */
  roundtrip_one(m);
  mdn_model_free(m);
  /* Special floats that must keep their bits: -0, denormals, huge thresholds. */
  m = make_model(4, 1, 2, 5, 3, 1);
  t = m->tiers[0];
  m->kernel->weights[0] = -0.0f;
  m->kernel->weights[1] = 1e-45f;
  m->kernel->bias[1] = -0.0f;
  t->thresholds[0] = 3e38f;
  t->thresholds[1] = -3e38f;
  roundtrip_one(m);
  mdn_model_free(m);
}

static GBytes *
small_preset(void)
{
  GError *error = NULL;
  MdnModel *m = make_model(7, 2, 3, 10, 1, 2);
  GBytes *b = mdn_model_serialize(m, &error);

  g_assert_no_error(error);
  mdn_model_free(m);
  return b;
}

/* A loaded model (from hostile bytes) must pass every check. */
static void
assert_valid_model(MdnModel *m)
{
  GError *error = NULL;
  GBytes *again;
  int t;

  g_assert_true(mdn_kernel_validate(mdn_model_kernel(m), &error));
  g_assert_no_error(error);
  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    const MdnTier *tier = mdn_model_tier(m, t);
    g_assert_true(mdn_tier_validate(tier, &error));
    g_assert_no_error(error);
    g_assert_cmpint(tier->cin, ==, mdn_model_kernel(m)->cin);
    g_assert_cmpint(tier->taps, ==, mdn_model_kernel(m)->taps);
  }
  again = mdn_model_serialize(m, &error);
  g_assert_no_error(error);
  g_bytes_unref(again);
  /* What passes validation is safe to run: every path on a short signal. */
  {
    const MdnKernel *k = mdn_model_kernel(m);
    const size_t n = 150;
    MdnStream *stream = mdn_stream_new(m, 1, &error);
    float *in = g_new(float, n * k->cin), *out = g_new(float, n * k->cout);
    size_t j;

    g_assert_no_error(error);
    for (j = 0; j < n * k->cin; j++)
      in[j] = (float)sin(0.37 * j) * 0.5f;
    for (t = MDN_TIER_EXACT; t < mdn_model_n_tiers(m); t++)
      g_assert_true(mdn_stream_process(stream, t, in, out, n));
    mdn_stream_free(stream);
    g_free(in);
    g_free(out);
  }
}

static int
try_load(const guint8 *data, size_t size)
{
  GError *error = NULL;
  MdnModel *m = mdn_model_load_from_data(data, size, &error);

  if (m) {
    g_assert_no_error(error);
    assert_valid_model(m);
    mdn_model_free(m);
    return 1;
  }
  g_assert_nonnull(error);
  g_assert_true(error->domain == MDN_ERROR);
  g_assert_cmpint(error->code, !=, MDN_ERROR_VERSION); /* no mutation here touches it */
  g_assert_cmpuint(strlen(error->message), >, 0);
  g_error_free(error);
  return 0;
}

static void
test_truncate(void)
{
  GBytes *b = small_preset();
  gsize size, cut;
  const guint8 *data = g_bytes_get_data(b, &size);
  guint8 *copy = g_malloc(size);
  int ok = 0;

  g_assert_cmpuint(size, >, 200);
  /* Plain truncation: the header's length gives it away. */
  for (cut = 0; cut < size; cut++) {
    memcpy(copy, data, cut);
    g_assert_cmpint(try_load(copy, cut), ==, 0);
  }
  /* Truncation with the length patched, so the GVariant parser sees it. */
  for (cut = HEADER_BYTES; cut < size; cut++) {
    guint32 len = GUINT32_TO_LE((guint32)(cut - HEADER_BYTES));
    memcpy(copy, data, cut);
    memcpy(copy + 12, &len, 4);
    ok += try_load(copy, cut);
  }
  g_assert_cmpint(ok, <, (int)(size / 10));
  g_free(copy);
  g_bytes_unref(b);
}

static void
test_mutate(void)
{
  GBytes *b = small_preset();
  gsize size;
  const guint8 *data = g_bytes_get_data(b, &size);
  guint8 *copy = g_malloc(size);
  const char *env = g_getenv("MDN_FUZZ_ITERATIONS");
  int iterations = env ? atoi(env) : 4000;
  GRand *r = g_rand_new_with_seed(20261129);
  int it, ok = 0, failed = 0;

  g_assert_cmpint(try_load(data, size), ==, 1);
  for (it = 0; it < iterations; it++) {
    int flips = g_rand_int_range(r, 1, 5), f;
    memcpy(copy, data, size);
    for (f = 0; f < flips; f++) {
      /* Leave the magic and version alone: they have their own tests. Half
       * the flips hit the last 128 bytes, where GVariant keeps the framing
       * offsets of the outer containers and the small per-tier arrays. */
      gsize at = (it & 1) ? g_rand_int_range(r, 12, size) : g_rand_int_range(r, size - 128, size);
      copy[at] ^= (guint8)g_rand_int_range(r, 1, 256);
    }
    if (try_load(copy, size))
      ok++;
    else
      failed++;
  }
  g_test_message("%d mutations: %d loaded (and passed validation), %d refused", iterations, ok,
                 failed);
  /* Both outcomes happen: the fuzzer reaches the checks past the parser. */
  if (iterations >= 200) {
    g_assert_cmpint(failed, >, 0);
    g_assert_cmpint(ok, >, 0);
  }
  g_rand_free(r);
  g_free(copy);
  g_bytes_unref(b);
}

/* ---- hand-made payloads ---- */

static GBytes *
wrap_version(GVariant *root, guint32 version)
{
  GVariant *v = g_variant_ref_sink(g_variant_new_variant(root));
  gsize size = g_variant_get_size(v);
  guint8 *out = g_malloc(HEADER_BYTES + size);
  guint32 le;

  g_assert_cmpint(G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
  memcpy(out, "MDNPRST", 8);
  le = GUINT32_TO_LE(version);
  memcpy(out + 8, &le, 4);
  le = GUINT32_TO_LE((guint32)size);
  memcpy(out + 12, &le, 4);
  g_variant_store(v, out + HEADER_BYTES);
  g_variant_unref(v);
  return g_bytes_new_take(out, HEADER_BYTES + size);
}

static GBytes *
wrap(GVariant *root)
{
  return wrap_version(root, 1);
}

static GVariant *
u32_array(const guint32 *v, gsize n)
{
  return g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, v, n, 4);
}

static GVariant *
zeros_u32(gsize n)
{
  guint32 *z = g_new0(guint32, n ? n : 1);
  GVariant *v = u32_array(z, n);
  g_free(z);
  return v;
}

static GVariant *
kernel_variant(gint32 cin, gint32 cout, gint32 taps, gint32 dil, GVariant *weights, GVariant *bias)
{
  return g_variant_new("(iiiid@au@au)", cin, cout, taps, dil, 48000.0, weights, bias);
}

static GVariant *
root_variant(GVariant *kernel, GVariant *tiers)
{
  if (!tiers)
    tiers = g_variant_new_array(G_VARIANT_TYPE(TIER_T), NULL, 0);
  return g_variant_new("(@(iiiidauau)(dst)@a" TIER_T ")", kernel, 1.0, "2026-11-29", 5ull, tiers);
}

/* A tier for a 1->1, 8-tap kernel: s4 d4, 2 codebooks, 1 exact tap. */
static GVariant *
tier_variant_bits(guint32 exact_tap, gsize lut_bytes, guint32 nan_threshold, int table_bits,
                  guint8 lut_fill)
{
  guint8 split[4] = { 0, 1, 2, 3 };
  guint32 thr[15] = { 0 };
  guint16 exact_chan[1] = { 0 }, cb_chan[2] = { 0, 0 };
  guint32 exact_taps[1] = { exact_tap }, cb_group[2] = { 0, 1 };
  guint8 *lut = g_malloc0(lut_bytes ? lut_bytes : 1);
  GVariant *v;

  memset(lut, lut_fill, lut_bytes);
  thr[3] = nan_threshold;
  v = g_variant_new(
      "((iiii)sdd@ay@au@aq@au@au@aq@au@ay@au@au)", 4, 4, 1, table_bits, "s4d4e1", 20.0, 10.0,
      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, split, 4, 1), u32_array(thr, 15),
      g_variant_new_fixed_array(G_VARIANT_TYPE_UINT16, exact_chan, 1, 2), u32_array(exact_taps, 1),
      zeros_u32(1), g_variant_new_fixed_array(G_VARIANT_TYPE_UINT16, cb_chan, 2, 2),
      u32_array(cb_group, 2), g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, lut, lut_bytes, 1),
      zeros_u32(1), zeros_u32(1));
  g_free(lut);
  return v;
}

static GVariant *
tier_variant(guint32 exact_tap, gsize lut_bytes, guint32 nan_threshold)
{
  return tier_variant_bits(exact_tap, lut_bytes, nan_threshold, 8, 0);
}

static GError *
load_error(GBytes *b)
{
  GError *error = NULL;
  gsize size;
  const void *data = g_bytes_get_data(b, &size);
  MdnModel *m = mdn_model_load_from_data(data, size, &error);

  g_assert_null(m);
  g_assert_nonnull(error);
  g_test_message("refused: %s", error->message);
  g_bytes_unref(b);
  return error;
}

static void
expect_corrupt(GBytes *b, const char *fragment)
{
  GError *error = load_error(b);

  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  if (fragment && !strstr(error->message, fragment))
    g_error("message \"%s\" lacks \"%s\"", error->message, fragment);
  g_error_free(error);
}

static void
test_absurd_sizes(void)
{
  GVariant *tiers;
  GError *error = NULL;
  GBytes *b;
  MdnModel *m;
  gsize size;
  const void *data;

  /* taps near 2^31, no weights behind it. */
  expect_corrupt(
      wrap(root_variant(kernel_variant(1, 1, G_MAXINT32, 1, zeros_u32(4), zeros_u32(1)), NULL)),
      "taps");
  /* 256*256*65536 = 2^32: zero in 32-bit arithmetic. */
  expect_corrupt(
      wrap(root_variant(kernel_variant(256, 256, 65536, 1, zeros_u32(0), zeros_u32(256)), NULL)),
      "exceed");
  /* Negative and absurd channel counts and dilations. */
  expect_corrupt(wrap(root_variant(kernel_variant(-1, 1, 4, 1, zeros_u32(4), zeros_u32(1)), NULL)),
                 "channels");
  expect_corrupt(
      wrap(root_variant(kernel_variant(1, 1, 4, 1 << 30, zeros_u32(4), zeros_u32(1)), NULL)),
      "dilation");
  /* Weights that do not match the shape. */
  expect_corrupt(wrap(root_variant(kernel_variant(2, 2, 4, 1, zeros_u32(15), zeros_u32(2)), NULL)),
                 "weights has 15 entries, expected 16");
  expect_corrupt(wrap(root_variant(kernel_variant(2, 2, 4, 1, zeros_u32(16), zeros_u32(3)), NULL)),
                 "bias");

  /* A well-formed tier loads... */
  {
    GVariant *one = tier_variant(3, 2 * 16, 0);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  b = wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers));
  data = g_bytes_get_data(b, &size);
  m = mdn_model_load_from_data(data, size, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, 1);
  g_assert_cmpstr(m->tiers[0]->name, ==, "s4d4e1");
  mdn_model_free(m);
  g_bytes_unref(b);

  /* ...a lut larger (or smaller) than the shape says does not. */
  {
    GVariant *one = tier_variant(3, 4096, 0);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers)),
                 "tier 0: lut has 4096 bytes, expected 32");
  {
    GVariant *one = tier_variant(3, 100, 0);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers)),
                 "lut has 100 bytes");
  /* Narrow tables: entries up to 2^bits - 1 load, a larger one does not
   * (the vector scans add them in 8 bits), and 4-bit tables do not exist. */
  {
    GVariant *one = tier_variant_bits(3, 32, 0, 6, 63);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  b = wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers));
  data = g_bytes_get_data(b, &size);
  m = mdn_model_load_from_data(data, size, &error);
  g_assert_no_error(error);
  g_assert_cmpint(m->tiers[0]->spec.table_bits, ==, 6);
  mdn_model_free(m);
  g_bytes_unref(b);
  {
    GVariant *one = tier_variant_bits(3, 32, 0, 6, 64);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers)),
                 "table entry 0 is 64, above 63 (6-bit tables)");
  {
    GVariant *one = tier_variant_bits(3, 32, 0, 4, 0);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers)),
                 "table bits must be 5, 6, 7, 8 or 16 (got 4)");
  /* An exact tap beyond the kernel. */
  {
    GVariant *one = tier_variant(8, 32, 0);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers)),
                 "exact dim 0");
  /* The same tier against a 1-tap kernel: too many codebooks and exact dims. */
  {
    GVariant *one = tier_variant(0, 32, 0);
    tiers = g_variant_new_array(NULL, &one, 1);
  }
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 1, 1, zeros_u32(1), zeros_u32(1)), tiers)),
                 "tier 0");

  /* A payload of the wrong type, and bytes that are no GVariant at all. */
  expect_corrupt(wrap(g_variant_new_string("hello")), "type");
  {
    guint8 junk[64];
    memset(junk, 0xff, sizeof junk);
    memcpy(junk, "MDNPRST\0\1\0\0\0\60\0\0\0", 16);
    expect_corrupt(g_bytes_new(junk, sizeof junk), NULL);
    expect_corrupt(g_bytes_new("NOTAPRST\1\0\0\0\0\0\0\0", 16), "not a maddness preset");
    expect_corrupt(g_bytes_new("MDN", 3), "not a maddness preset");
  }
  /* A size beyond the cap is refused before the data is read. */
  m = mdn_model_load_from_data("MDNPRST", MDN_PRESET_MAX_BYTES + 1, &error);
  g_assert_null(m);
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_clear_error(&error);
}

static void
test_version(void)
{
  GBytes *good = small_preset();
  gsize size;
  const guint8 *data = g_bytes_get_data(good, &size);
  guint8 *copy = g_memdup2(data, size);
  GError *error;

  copy[8] = 7; /* version 7 */
  error = load_error(g_bytes_new(copy, size));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_VERSION);
  g_assert_nonnull(strstr(error->message, "version 7"));
  g_assert_nonnull(strstr(error->message, "versions 1 to 3"));
  g_error_free(error);
  error = load_error(wrap_version(g_variant_new_string("future"), 4));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_VERSION);
  g_error_free(error);
  g_free(copy);
  g_bytes_unref(good);
}

static void
test_nonfinite(void)
{
  guint32 w[4] = { 0, 0, 0x7fc00000u /* NaN */, 0 };
  guint32 inf = 0x7f800000u;
  GVariant *tiers, *one;

  expect_corrupt(
      wrap(root_variant(kernel_variant(1, 1, 4, 1, u32_array(w, 4), zeros_u32(1)), NULL)),
      "weight[2] is not a finite number");
  expect_corrupt(
      wrap(root_variant(kernel_variant(1, 1, 4, 1, zeros_u32(4), u32_array(&inf, 1)), NULL)),
      "bias");
  one = tier_variant(3, 32, 0xff800000u /* -Inf */);
  tiers = g_variant_new_array(NULL, &one, 1);
  expect_corrupt(wrap(root_variant(kernel_variant(1, 1, 8, 1, zeros_u32(8), zeros_u32(1)), tiers)),
                 "thresholds[3]");
}

static void
test_files(void)
{
  GError *error = NULL;
  MdnModel *m = make_model(9, 1, 1, 4, 1, 1);
  char *dir = g_dir_make_tmp("mdn-preset-XXXXXX", &error);
  char *missing = g_build_filename(dir, "none", "x.mdn", NULL);
  char *junk = g_build_filename(dir, "junk.mdn", NULL);

  g_assert_no_error(error);
  g_assert_false(mdn_model_save(m, missing, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  g_clear_error(&error);
  g_assert_null(mdn_model_load(missing, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  g_assert_nonnull(strstr(error->message, "x.mdn"));
  g_clear_error(&error);
  g_assert_true(g_file_set_contents(junk, "not a preset at all", -1, NULL));
  g_assert_null(mdn_model_load(junk, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_assert_true(g_str_has_prefix(error->message, junk));
  g_clear_error(&error);
  g_unlink(junk);
  g_rmdir(dir);
  g_free(junk);
  g_free(missing);
  g_free(dir);
  mdn_model_free(m);
}

static void
test_tier_checks(void)
{
  GError *error = NULL;
  MdnModel *m = make_model(11, 2, 2, 9, 1, 1);
  MdnTier *t = m->tiers[0];
  MdnTierSpec bad = { 3, 4, 0, 8, 0 };
  MdnTierInfo info;
  guint8 saved;

  /* table bytes: lut + thresholds + exact weights + scale/offset */
  mdn_tier_get_info(t, &info);
  g_assert_cmpuint(info.table_bytes, ==,
                   (size_t)t->n_codebooks * 16 * 2 + 4 * (2 * 15 + t->n_exact * 2 + 2 * 2));
  g_assert_cmpint(info.buckets, ==, 16);
  g_assert_cmpint(info.codebooks, ==, 2 * 3);
  saved = t->split[1];
  t->split[1] = 4; /* s = 4: columns 0..3 */
  g_assert_false(mdn_tier_validate(t, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_clear_error(&error);
  t->split[1] = saved;
  t->cb_group[0] = 3; /* 3 groups */
  g_assert_false(mdn_tier_validate(t, &error));
  g_clear_error(&error);
  t->cb_group[0] = 0;
  t->cb_chan[0] = 2;
  g_assert_false(mdn_tier_validate(t, &error));
  g_clear_error(&error);
  t->cb_chan[0] = 0;
  t->lut_scale[1] = NAN;
  g_assert_false(mdn_tier_validate(t, &error));
  g_clear_error(&error);
  t->lut_scale[1] = 1;
  t->name[1] = ' ';
  g_assert_false(mdn_tier_validate(t, &error));
  g_assert_nonnull(strstr(error->message, "name"));
  g_clear_error(&error);
  t->name[1] = '4';
  g_assert_true(mdn_tier_validate(t, &error));
  g_assert_no_error(error);

  g_assert_null(mdn_tier_alloc(&bad, 1, 1, 8, 1, 0, 1, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  bad.taps_per_codebook = 4;
  g_assert_null(mdn_tier_alloc(&bad, 1, 1, 8, 1, 9, 1, &error)); /* 9 exact > 8 dims */
  g_clear_error(&error);
  g_assert_null(mdn_tier_alloc(&bad, 1, 1, 8, 1, 0, 3, &error)); /* 3 codebooks > 2 */
  g_clear_error(&error);
  /* A span beyond MDN_MAX_SPAN (taps within MDN_MAX_TAPS, dilated): the
   * kernel's shape rule holds for tiers too, when allocated and when loaded. */
  g_assert_null(mdn_tier_alloc(&bad, 1, 1, MDN_MAX_TAPS, 2, 0, 0, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "MDN_MAX_SPAN"));
  g_clear_error(&error);
  t->taps = MDN_MAX_TAPS;
  t->dilation = 2;
  g_assert_false(mdn_tier_validate(t, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_assert_nonnull(strstr(error->message, "MDN_MAX_SPAN"));
  g_clear_error(&error);
  t->taps = 9;
  t->dilation = 1;
  /* The spec rule, for the loader's validation too. */
  t->spec.taps_per_codebook = 3;
  g_assert_false(mdn_tier_validate(t, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_assert_cmpstr(error->message, ==, "taps per codebook must be 1, 2, 4 or 8 (got 3)");
  g_clear_error(&error);
  mdn_model_free(m);
}

/* ---- files the loader must not read: refused at once ------------------------ */

typedef struct {
  const char *path;
  const char *kind; /* what the message calls it */
} SpecialFile;

/* In a bounded child: a FIFO would block a reader for ever, /dev/zero grow
 * its buffer without end. */
static gboolean
load_refused(gpointer data)
{
  const SpecialFile *f = data;
  char *want = g_strdup_printf("%s: not a regular file (%s)", f->path, f->kind);
  GError *error = NULL;

  g_assert_null(mdn_model_load(f->path, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  g_assert_cmpstr(error->message, ==, want);
  g_error_free(error);
  g_free(want);
  return TRUE;
}

static void
test_special_files(void)
{
  char *dir = g_dir_make_tmp("mdn-preset-XXXXXX", NULL);
  char *fifo = g_build_filename(dir, "fifo.mdn", NULL);
  const SpecialFile cases[] = {
    { fifo, "a FIFO" },
    { "/dev/zero", "a character device" },
    { dir, "a directory" },
  };
  size_t j;

  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  for (j = 0; j < G_N_ELEMENTS(cases); j++)
    g_assert_true(mdn_test_fork_bounded(load_refused, (gpointer)&cases[j], 10));
  g_unlink(fifo);
  g_rmdir(dir);
  g_free(fifo);
  g_free(dir);
}

/* Each message names the file once, first. */
static void
test_messages(void)
{
  char *dir = g_dir_make_tmp("mdn-preset-XXXXXX", NULL);
  char *empty = g_build_filename(dir, "empty.mdn", NULL);
  char *missing = g_build_filename(dir, "missing.mdn", NULL);
  char *cut = g_build_filename(dir, "cut.mdn", NULL);
  GBytes *good = small_preset();
  gsize size;
  const char *data = g_bytes_get_data(good, &size);
  GError *error = NULL;
  char *want;

  g_assert_true(g_file_set_contents(empty, "", 0, NULL));
  g_assert_null(mdn_model_load(empty, &error));
  want = g_strdup_printf("%s: not a maddness preset (no \"MDNPRST\" header)", empty);
  g_assert_cmpstr(error->message, ==, want);
  g_clear_error(&error);
  g_free(want);

  g_assert_null(mdn_model_load(missing, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  want = g_strdup_printf("%s: %s", missing, g_strerror(ENOENT));
  g_assert_cmpstr(error->message, ==, want);
  g_clear_error(&error);
  g_free(want);

  g_assert_true(g_file_set_contents(cut, data, size - 1, NULL));
  g_assert_null(mdn_model_load(cut, &error));
  want = g_strdup_printf("%s: truncated or padded: the header says %zu payload bytes, the data "
                         "has %zu",
                         cut, size - HEADER_BYTES, size - 1 - HEADER_BYTES);
  g_assert_cmpstr(error->message, ==, want);
  g_clear_error(&error);
  g_free(want);

  g_bytes_unref(good);
  g_unlink(empty);
  g_unlink(cut);
  g_rmdir(dir);
  g_free(empty);
  g_free(missing);
  g_free(cut);
  g_free(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/preset/roundtrip", test_roundtrip);
  g_test_add_func("/preset/tier-checks", test_tier_checks);
  g_test_add_func("/preset/files", test_files);
  g_test_add_func("/preset/special-files", test_special_files);
  g_test_add_func("/preset/messages", test_messages);
  g_test_add_func("/preset/version", test_version);
  g_test_add_func("/preset/nonfinite", test_nonfinite);
  g_test_add_func("/preset/absurd-sizes", test_absurd_sizes);
  g_test_add_func("/preset/fuzz/truncate", test_truncate);
  g_test_add_func("/preset/fuzz/mutate", test_mutate);
  return g_test_run();
}

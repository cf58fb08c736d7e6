/* test-preset-variants.c: presets of format versions 2 and 3: rate variants
 * and per-class claims (round trip, the loader's checks on hostile payloads,
 * version 1 files as one variant), the tier fields of version 3 (version 1
 * and 2 tiers load with the rules they were fitted with), MdnPreset's rules, the kernel of a
 * preset at a rate, resampling impulse responses (libsoxr), and fits
 * measured on classes of held-out audio.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-signals.h"
#include "mdn-test-fit.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

/* Must match engine/runtime/preset.c and docs/preset-format.md. */
#define HEADER_BYTES 16
#define TIER_T "((iiii)sddayauaqauauaqauayauauiau)"
#define KERNEL_T "(iiiidauau)"
#define VARIANT_T "(" KERNEL_T "(dst)a" TIER_T "a(sad))"

/* ---- models ---- */

/* A 1->cout kernel at `rate` with a tier whose tables are all zero (valid). */
static MdnModel *
small_model(double rate, int cout, int taps, int n_tiers)
{
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(1, cout, taps, 1, rate, &error);
  MdnModel *m;
  int j;

  g_assert_no_error(error);
  for (j = 0; j < cout * taps; j++)
    k->weights[j] = (float)(j + 1) / (float)(cout * taps);
  m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  g_strlcpy(m->provenance.date, "2026-12-06T00:00:00Z", sizeof m->provenance.date);
  m->provenance.seconds = 2;
  m->provenance.seed = (guint64)rate;
  for (j = 0; j < n_tiers; j++) {
    MdnTierSpec spec = { 4, 2 + j, 1, 8, 0 };
    MdnTier *t = mdn_tier_alloc(&spec, 1, cout, taps, 1, 1, (taps + 3) / 4, &error);
    int c;

    g_assert_no_error(error);
    for (c = 0; c < t->n_codebooks; c++)
      t->cb_group[c] = c;
    for (c = 0; c < cout; c++)
      t->lut_scale[c] = 0.01f;
    t->snr_db = 10 + 5 * j;
    t->cost = 5 + j;
    mdn_model_add_tier(m, t);
  }
  mdn_kernel_free(k);
  return m;
}

static void
set_two_classes(MdnModel *m)
{
  const char *names[2] = { "speech", "bright" };
  double snr[2 * 8];
  GError *error = NULL;
  int t;

  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    snr[2 * t] = 30 + t;
    snr[2 * t + 1] = 12.5 + t;
  }
  g_assert_true(mdn_model_set_classes(m, 2, names, snr, &error));
  g_assert_no_error(error);
}

/* A preset at 44.1, 48 and 96 kHz; the 48 kHz variant with classes. */
static MdnPreset *
three_rates(void)
{
  MdnPreset *p = mdn_preset_new();
  GError *error = NULL;
  MdnModel *m48 = small_model(48000, 2, 12, 2);

  set_two_classes(m48);
  /* Added out of order: the preset keeps them by rate. */
  g_assert_true(mdn_preset_add_variant(p, small_model(96000, 2, 24, 1), &error));
  g_assert_true(mdn_preset_add_variant(p, m48, &error));
  g_assert_true(mdn_preset_add_variant(p, small_model(44100, 2, 11, 0), &error));
  g_assert_no_error(error);
  return p;
}

static void
test_roundtrip(void)
{
  MdnPreset *p = three_rates(), *q;
  GError *error = NULL;
  GBytes *a, *b;
  gsize size;
  const void *data;
  const MdnModel *v;
  char *rates;

  g_assert_cmpint(mdn_preset_n_variants(p), ==, 3);
  g_assert_cmpfloat(mdn_model_kernel(mdn_preset_variant(p, 0))->rate, ==, 44100);
  g_assert_cmpfloat(mdn_model_kernel(mdn_preset_variant(p, 2))->rate, ==, 96000);
  rates = mdn_preset_describe_rates(p);
  g_assert_cmpstr(rates, ==, "44100, 48000 and 96000 Hz");
  g_free(rates);
  a = mdn_preset_serialize(p, &error);
  g_assert_no_error(error);
  data = g_bytes_get_data(a, &size);
  g_assert_cmpmem(data, 8, "MDNPRST", 8);
  g_assert_cmpint(((const guint8 *)data)[8], ==, 3);
  q = mdn_preset_load_from_data(data, size, &error);
  g_assert_no_error(error);
  b = mdn_preset_serialize(q, &error);
  g_assert_no_error(error);
  g_assert_true(g_bytes_equal(a, b));
  /* The classes and claims came back. */
  v = mdn_preset_variant_at_rate(q, 48000);
  g_assert_nonnull(v);
  g_assert_cmpint(mdn_model_n_classes(v), ==, 2);
  g_assert_cmpstr(mdn_model_class_name(v, 1), ==, "bright");
  g_assert_cmpfloat(mdn_model_tier_class_snr(v, 1, 0), ==, 31);
  g_assert_cmpfloat(mdn_model_tier(v, 1)->snr_db, ==, 13.5); /* the worst class */
  g_assert_cmpint(mdn_model_n_classes(mdn_preset_variant_at_rate(q, 96000)), ==, 0);
  g_assert_null(mdn_preset_variant_at_rate(q, 22050));
  g_assert_nonnull(mdn_preset_variant_at_rate(q, 44100.4));
  /* mdn_model_load_from_data: the default variant, 48 kHz. */
  {
    MdnModel *m = mdn_model_load_from_data(data, size, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(mdn_model_kernel(m)->rate, ==, 48000);
    g_assert_cmpint(mdn_model_n_tiers(m), ==, 2);
    mdn_model_free(m);
  }
  g_bytes_unref(a);
  g_bytes_unref(b);
  mdn_preset_free(q);
  mdn_preset_free(p);
}

static void
test_add_variant(void)
{
  MdnPreset *p = three_rates();
  GError *error = NULL;
  int r;

  /* Same rate: replaced. */
  g_assert_true(mdn_preset_add_variant(p, small_model(48000, 2, 7, 3), &error));
  g_assert_cmpint(mdn_preset_n_variants(p), ==, 3);
  g_assert_cmpint(mdn_model_kernel(mdn_preset_variant_at_rate(p, 48000))->taps, ==, 7);
  /* Other channels: refused, the model freed. */
  g_assert_false(mdn_preset_add_variant(p, small_model(32000, 3, 7, 0), &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "1 -> 3"));
  g_clear_error(&error);
  /* At most MDN_MAX_VARIANTS. */
  for (r = 0; mdn_preset_n_variants(p) < MDN_MAX_VARIANTS; r++)
    g_assert_true(mdn_preset_add_variant(p, small_model(8000 + 1000 * r, 2, 4, 0), &error));
  g_assert_false(mdn_preset_add_variant(p, small_model(200000, 2, 4, 0), &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  /* Without 48 kHz the default variant is the highest rate. */
  {
    MdnPreset *q = mdn_preset_new();
    g_assert_null(mdn_preset_default_variant(q));
    g_assert_null(mdn_preset_serialize(q, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_true(mdn_preset_add_variant(q, small_model(96000, 1, 4, 0), &error));
    g_assert_true(mdn_preset_add_variant(q, small_model(44100, 1, 4, 0), &error));
    g_assert_cmpfloat(mdn_model_kernel(mdn_preset_default_variant(q))->rate, ==, 96000);
    mdn_preset_free(q);
  }
  mdn_preset_free(p);
}

static void
test_set_classes(void)
{
  MdnModel *m = small_model(48000, 1, 8, 2);
  const char *bad_name[2] = { "speech", "Music" };
  const char *twice[2] = { "noise", "noise" };
  const char *ok[2] = { "a", "b" };
  double snr[4] = { 1, 2, 3, NAN };
  GError *error = NULL;

  g_assert_false(mdn_model_set_classes(m, 2, bad_name, snr, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(mdn_model_set_classes(m, 2, twice, snr, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(mdn_model_set_classes(m, 2, ok, snr, &error)); /* a NaN */
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(mdn_model_set_classes(m, MDN_MAX_CLASSES + 1, ok, snr, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_cmpint(mdn_model_n_classes(m), ==, 0);
  snr[3] = -4;
  g_assert_true(mdn_model_set_classes(m, 2, ok, snr, &error));
  g_assert_cmpfloat(mdn_model_tier(m, 0)->snr_db, ==, 1);
  g_assert_cmpfloat(mdn_model_tier(m, 1)->snr_db, ==, -4);
  /* A tier added later: its claim stands for every class, and it saves. */
  {
    MdnModel *one = small_model(48000, 1, 8, 1);
    MdnTier *extra = (MdnTier *)mdn_model_tier(one, 0);
    GBytes *b;

    one->n_tiers = 0; /* the tier is handed over */
    mdn_model_free(one);
    extra->snr_db = 7;
    mdn_model_add_tier(m, extra);
    g_assert_cmpfloat(mdn_model_tier_class_snr(m, 2, 0), ==, 7);
    g_assert_cmpfloat(mdn_model_tier_class_snr(m, 2, 1), ==, 7);
    b = mdn_model_serialize(m, &error);
    g_assert_no_error(error);
    g_bytes_unref(b);
  }
  /* Cleared: the claims stay. */
  g_assert_true(mdn_model_set_classes(m, 0, NULL, NULL, &error));
  g_assert_cmpint(mdn_model_n_classes(m), ==, 0);
  g_assert_cmpfloat(mdn_model_tier(m, 1)->snr_db, ==, -4);
  mdn_model_free(m);
}

/* ---- hand-made version 3 payloads ---- */

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
wrap3(GVariant *root)
{
  return wrap_version(root, 3);
}

/* A variant's payload: the serialised model's kernel, provenance and tiers
 * with `claims` (NULL: none). */
static GVariant *
variant_of(MdnModel *m, GVariant *claims)
{
  GBytes *b = mdn_model_serialize(m, NULL);
  gsize size;
  const guint8 *data = g_bytes_get_data(b, &size);
  GBytes *payload = g_bytes_new(data + HEADER_BYTES, size - HEADER_BYTES);
  GVariant *outer
      = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARIANT, payload, TRUE));
  GVariant *root = g_variant_get_variant(outer), *one = g_variant_get_child_value(root, 0);
  GVariant *kids[3], *result;
  int j;

  for (j = 0; j < 3; j++)
    kids[j] = g_variant_get_child_value(one, j);
  if (!claims)
    claims = g_variant_new_array(G_VARIANT_TYPE("(sad)"), NULL, 0);
  result = g_variant_new("(@" KERNEL_T "@(dst)@a" TIER_T "@a(sad))", kids[0], kids[1], kids[2],
                         claims);
  for (j = 0; j < 3; j++)
    g_variant_unref(kids[j]);
  g_variant_unref(one);
  g_variant_unref(root);
  g_variant_unref(outer);
  g_bytes_unref(payload);
  g_bytes_unref(b);
  mdn_model_free(m);
  return result;
}

static GVariant *
claim(const char *name, const double *snr, gsize n)
{
  return g_variant_new("(s@ad)", name, g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE, snr, n, 8));
}

static GVariant *
claims_of(GVariant **items, gsize n)
{
  return g_variant_new_array(G_VARIANT_TYPE("(sad)"), items, n);
}

static GVariant *
variants(GVariant **items, gsize n)
{
  return g_variant_new_array(G_VARIANT_TYPE(VARIANT_T), items, n);
}

static void
expect_refused(GBytes *b, const char *fragment)
{
  GError *error = NULL;
  gsize size;
  const void *data = g_bytes_get_data(b, &size);
  MdnPreset *p = mdn_preset_load_from_data(data, size, &error);

  g_assert_null(p);
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_test_message("refused: %s", error->message);
  if (fragment && !strstr(error->message, fragment))
    g_error("message \"%s\" lacks \"%s\"", error->message, fragment);
  g_error_free(error);
  g_bytes_unref(b);
}

static void
test_hostile(void)
{
  /* Tier claims of small_model(.., 2 tiers): 10 and 15 dB. */
  const double good[2] = { 10, 15 }, above[2] = { 11, 16 }, nan2[2] = { NAN, 15 };
  GVariant *v[MDN_MAX_VARIANTS + 1], *c[MDN_MAX_CLASSES + 1];
  int j;

  expect_refused(wrap3(variants(NULL, 0)), "0 rate variants");
  for (j = 0; j <= MDN_MAX_VARIANTS; j++)
    v[j] = variant_of(small_model(8000 + 1000 * j, 1, 4, 0), NULL);
  expect_refused(wrap3(variants(v, MDN_MAX_VARIANTS + 1)), "17 rate variants");
  /* Out of order, twice the same rate (rounded), other channels. */
  v[0] = variant_of(small_model(48000, 1, 4, 0), NULL);
  v[1] = variant_of(small_model(44100, 1, 4, 0), NULL);
  expect_refused(wrap3(variants(v, 2)), "44100 Hz after 48000 Hz");
  v[0] = variant_of(small_model(48000, 1, 4, 0), NULL);
  v[1] = variant_of(small_model(48000.3, 1, 4, 0), NULL);
  expect_refused(wrap3(variants(v, 2)), "each rate once");
  v[0] = variant_of(small_model(44100, 1, 4, 0), NULL);
  v[1] = variant_of(small_model(48000, 2, 4, 0), NULL);
  expect_refused(wrap3(variants(v, 2)), "variant 1: 1 -> 2 channels");
  /* Claims: the worst class must be the tier's claim, exactly. */
  c[0] = claim("speech", good, 2);
  c[1] = claim("bright", above, 2);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 2));
  {
    GBytes *b = wrap3(variants(v, 1));
    gsize size;
    const void *data = g_bytes_get_data(b, &size);
    GError *error = NULL;
    MdnPreset *p = mdn_preset_load_from_data(data, size, &error);

    g_assert_no_error(error);
    g_assert_cmpint(mdn_model_n_classes(mdn_preset_variant(p, 0)), ==, 2);
    mdn_preset_free(p);
    g_bytes_unref(b);
  }
  c[0] = claim("speech", above, 2);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 1));
  expect_refused(wrap3(variants(v, 1)), "not the worst of its classes'");
  c[0] = claim("speech", good, 1);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 1));
  expect_refused(wrap3(variants(v, 1)), "1 SNRs for 2 tiers");
  c[0] = claim("speech", nan2, 2);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 1));
  expect_refused(wrap3(variants(v, 1)), "NaN");
  c[0] = claim("Speech", good, 2);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 1));
  expect_refused(wrap3(variants(v, 1)), "only a-z");
  c[0] = claim("", good, 2);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 1));
  expect_refused(wrap3(variants(v, 1)), "1..31 bytes");
  c[0] = claim("speech", good, 2);
  c[1] = claim("speech", good, 2);
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, 2));
  expect_refused(wrap3(variants(v, 1)), "twice");
  for (j = 0; j <= MDN_MAX_CLASSES; j++) {
    char name[8];
    g_snprintf(name, sizeof name, "c%d", j);
    c[j] = claim(name, good, 2);
  }
  v[0] = variant_of(small_model(48000, 1, 8, 2), claims_of(c, MDN_MAX_CLASSES + 1));
  expect_refused(wrap3(variants(v, 1)), "17 classes");
  c[0] = claim("speech", good, 0);
  v[0] = variant_of(small_model(48000, 1, 8, 0), claims_of(c, 1));
  expect_refused(wrap3(variants(v, 1)), "classes without tiers");
  /* A version 3 payload in a file of version 1 or 2: each reads its own
   * type (version 2's tiers lack the fields version 3 added). */
  v[0] = variant_of(small_model(48000, 1, 8, 1), NULL);
  {
    GBytes *b = wrap3(variants(v, 1));
    gsize size;
    const void *data = g_bytes_get_data(b, &size);
    guint8 *copy = g_memdup2(data, size);

    copy[8] = 1;
    expect_refused(g_bytes_new(copy, size), "expected ((iiiidauau)");
    copy[8] = 2;
    expect_refused(g_bytes_new_take(copy, size),
                   "expected a((iiiidauau)(dst)a((iiii)sddayauaqauauaqauayauau)a(sad))");
    g_bytes_unref(b);
  }
}

/* The normalisation block of a tier (version 3): saved and loaded as it is,
 * refused unless a power of two in range; version 1 and 2 files, which
 * cannot hold it, give each tier format version 1's block (and, without
 * hyperplanes, axis encoders). */
static void
test_norm_block(void)
{
  const int bad[] = { 0, -64, 100, MDN_NORM_BLOCK_MIN / 2, MDN_NORM_BLOCK_MAX * 2 };
  const char *old[] = { "v2-lowpass-tiers.mdn", "v2-variants-lowpass.mdn", "v1-lowpass-tiers.mdn",
                        "lowpass-tiers.mdn" };
  const char *dir = g_getenv("MDN_FUZZ_CORPUS");
  MdnModel *m = small_model(48000, 1, 8, 2);
  GError *error = NULL;
  GBytes *b;
  MdnPreset *p;
  guint j;
  int v, t;

  m->tiers[0]->norm_block = 256;
  b = mdn_model_serialize(m, &error);
  g_assert_no_error(error);
  mdn_model_free(m);
  m = mdn_model_load_from_data(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &error);
  g_assert_no_error(error);
  g_assert_cmpint(m->tiers[0]->norm_block, ==, 256);
  g_assert_cmpint(m->tiers[1]->norm_block, ==, MDN_NORM_BLOCK);
  mdn_model_free(m);
  g_bytes_unref(b);
  for (j = 0; j < G_N_ELEMENTS(bad); j++) {
    GVariant *items[1];
    m = small_model(48000, 1, 8, 2);
    m->tiers[1]->norm_block = bad[j];
    items[0] = variant_of(m, NULL);
    expect_refused(wrap3(variants(items, 1)), "tier 1: normalisation block of");
  }

  g_assert_nonnull(dir);
  for (j = 0; j < G_N_ELEMENTS(old); j++) {
    char *path = g_build_filename(dir, old[j], NULL), *data;
    gsize size;
    const int file_version = j < 2 ? 2 : j < 3 ? 1 : 3;
    const int expected = file_version < 3 ? MDN_NORM_BLOCK_V1 : MDN_NORM_BLOCK;
    int n = 0;

    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    g_assert_cmpint(data[8], ==, file_version);
    p = mdn_preset_load(path, &error);
    g_assert_no_error(error);
    for (v = 0; v < mdn_preset_n_variants(p); v++)
      for (t = 0; t < mdn_model_n_tiers(mdn_preset_variant(p, v)); t++, n++) {
        g_assert_cmpint(mdn_preset_variant(p, v)->tiers[t]->norm_block, ==, expected);
        /* versions 1 and 2 have no hyperplanes field: axis encoders */
        g_assert_null(mdn_preset_variant(p, v)->tiers[t]->hyperplanes);
        g_assert_false(mdn_preset_variant(p, v)->tiers[t]->spec.hyperplanes);
      }
    g_assert_cmpint(n, >, 0);
    /* Written back as version 3, the block is kept. */
    b = mdn_preset_serialize(p, &error);
    g_assert_no_error(error);
    g_assert_cmpint(((const guint8 *)g_bytes_get_data(b, NULL))[8], ==, 3);
    mdn_preset_free(p);
    p = mdn_preset_load_from_data(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &error);
    g_assert_no_error(error);
    for (v = 0; v < mdn_preset_n_variants(p); v++)
      for (t = 0; t < mdn_model_n_tiers(mdn_preset_variant(p, v)); t++)
        g_assert_cmpint(mdn_preset_variant(p, v)->tiers[t]->norm_block, ==, expected);
    mdn_preset_free(p);
    g_bytes_unref(b);
    g_free(data);
    g_free(path);
  }
}

/* Version 1 files: one variant, no classes, the same model. */
static void
test_version1(void)
{
  const char *dir = g_getenv("MDN_FUZZ_CORPUS");
  const char *files[] = { "v1-lowpass-tiers.mdn", "v1-gain.mdn", "v1-room-fft.mdn" };
  guint f;

  g_assert_nonnull(dir);
  for (f = 0; f < G_N_ELEMENTS(files); f++) {
    char *path = g_build_filename(dir, files[f], NULL), *data;
    gsize size;
    GError *error = NULL;
    MdnPreset *p;
    GBytes *again;
    MdnModel *m;

    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    g_assert_cmpint(data[8], ==, 1); /* still a version 1 file */
    p = mdn_preset_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(mdn_preset_n_variants(p), ==, 1);
    g_assert_cmpint(mdn_model_n_classes(mdn_preset_variant(p, 0)), ==, 0);
    m = mdn_model_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(mdn_model_n_tiers(m), ==, mdn_model_n_tiers(mdn_preset_variant(p, 0)));
    /* Written back as version 3, it loads to the same model. */
    again = mdn_preset_serialize(p, &error);
    g_assert_no_error(error);
    g_assert_cmpint(((const guint8 *)g_bytes_get_data(again, NULL))[8], ==, 3);
    {
      MdnModel *m2 = mdn_model_load_from_data(g_bytes_get_data(again, NULL),
                                              g_bytes_get_size(again), &error);
      GBytes *x = mdn_model_serialize(m, NULL), *y = mdn_model_serialize(m2, NULL);
      g_assert_no_error(error);
      g_assert_true(g_bytes_equal(x, y));
      g_bytes_unref(x);
      g_bytes_unref(y);
      mdn_model_free(m2);
    }
    g_bytes_unref(again);
    mdn_model_free(m);
    mdn_preset_free(p);
    g_free(data);
    g_free(path);
  }
}

/* mdn_kernel_load: a preset's variant at the rate asked, else its default. */
static void
test_kernel_of_variant(void)
{
  MdnPreset *p = three_rates();
  GError *error = NULL;
  char *dir = g_dir_make_tmp("mdn-variants-XXXXXX", &error);
  char *path = g_build_filename(dir, "three.mdn", NULL);
  gboolean has_rate = FALSE;
  MdnKernel *k;

  g_assert_true(mdn_preset_save(p, path, &error));
  g_assert_no_error(error);
  k = mdn_kernel_load(path, 44100, &has_rate, &error);
  g_assert_no_error(error);
  g_assert_true(has_rate);
  g_assert_cmpfloat(k->rate, ==, 44100);
  g_assert_cmpint(k->taps, ==, 11);
  mdn_kernel_free(k);
  k = mdn_kernel_load(path, 22050, NULL, &error);
  g_assert_cmpfloat(k->rate, ==, 48000);
  mdn_kernel_free(k);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  mdn_preset_free(p);
}

/* ---- resampling impulse responses ---- */

/* |H(f)| of row `row` of k at frequency f (Hz). */
static double
gain_at(const MdnKernel *k, int row, double f)
{
  double re = 0, im = 0;
  int j;

  for (j = 0; j < k->taps; j++) {
    double w = 2 * M_PI * f * j / k->rate;
    re += k->weights[(size_t)row * k->taps + j] * cos(w);
    im -= k->weights[(size_t)row * k->taps + j] * sin(w);
  }
  return sqrt(re * re + im * im);
}

/* A 480-tap room response behind `delay` frames of silence, at 48 kHz,
 * faded out over its last quarter (as the shipped reverb's). */
static MdnKernel *
delayed_room(int delay)
{
  MdnKernel *room = mdn_design_room_ir(480 - delay, 0.05, 48000, 4);
  MdnKernel *k = mdn_kernel_new(1, 1, 480, 1, 48000, NULL);
  int j;

  memcpy(k->weights + delay, room->weights, sizeof(float) * room->taps);
  for (j = 360; j < 480; j++)
    k->weights[j] *= (float)(0.5 + 0.5 * cos(M_PI * (j - 360) / 120.0));
  mdn_kernel_free(room);
  return k;
}

static void
test_resample(void)
{
  /* A 6 kHz lowpass (as the shipped preset) and a room response, at 48 kHz. */
  MdnKernel *lp = mdn_design_lowpass(64, 6000, 48000), *room = delayed_room(96);
  const double rates[] = { 44100, 96000, 32000 };
  GError *error = NULL;
  guint r;

  for (r = 0; r < G_N_ELEMENTS(rates); r++) {
    MdnKernel *x = mdn_kernel_resample(lp, rates[r], &error), *y;
    double f, worst = 0;

    g_assert_no_error(error);
    g_assert_cmpfloat(x->rate, ==, rates[r]);
    g_assert_cmpint(x->taps, ==, (int)ceil(64 * rates[r] / 48000 - 1e-9));
    /* The same response in hertz: passband within 0.1 dB, the stop band
     * still below -60 dB, up to the lower Nyquist frequency less a margin. */
    for (f = 0; f < 4500; f += 250) {
      double d = 20 * log10(gain_at(x, 0, f) / gain_at(lp, 0, f));
      worst = MAX(worst, fabs(d));
    }
    g_test_message("%g Hz: passband differs by %.4f dB at most", rates[r], worst);
    g_assert_cmpfloat(worst, <, 0.1);
    for (f = 8000; f < 0.45 * MIN(rates[r], 48000); f += 500)
      g_assert_cmpfloat(gain_at(x, 0, f), <, 1e-3);
    /* A room response with 2 ms of leading silence: the same magnitude
     * response up to 18 kHz (or 0.45 of the lower rate), within 1 % of its RMS (its notches make a
     * ratio in dB meaningless; its tail, cut at the last tap, rings a little). */
    y = mdn_kernel_resample(room, rates[r], &error);
    g_assert_no_error(error);
    {
      double rms = 0, err = 0;
      int bins = 0;
      for (f = 50; f < MIN(18000, 0.45 * rates[r]); f += 50, bins++) {
        double a = gain_at(room, 0, f), b = gain_at(y, 0, f);
        rms += a * a;
        err = MAX(err, fabs(a - b));
      }
      rms = sqrt(rms / bins);
      g_test_message("%g Hz: room response differs by %.4f of its RMS at most", rates[r],
                     err / rms);
      g_assert_cmpfloat(err / rms, <, 0.01);
    }
    mdn_kernel_free(y);
    mdn_kernel_free(x);
  }
  /* A response that starts at its first sample would lose the resampler's
   * ringing before it: refused, saying why. */
  {
    MdnKernel *early = delayed_room(0);
    g_assert_null(mdn_kernel_resample(early, 96000, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "leading silence"));
    g_clear_error(&error);
    g_assert_null(mdn_kernel_resample(lp, 44100.5, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    mdn_kernel_free(early);
  }
  /* Dilated kernels are designed, not resampled. */
  {
    MdnKernel *d = mdn_design_random_kernel(1, 1, 4, 2, 48000, 1);
    g_assert_null(mdn_kernel_resample(d, 44100, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_null(mdn_kernel_resample(lp, -1, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    mdn_kernel_free(d);
  }
  mdn_kernel_free(lp);
  mdn_kernel_free(room);
}

/* ---- fits measured per class ---- */

static void
test_fit_classes(void)
{
  const double rate = 16000;
  const size_t n = 2 * 16000, n_held = 16000;
  MdnKernel *k = mdn_design_lowpass(16, 3000, rate);
  float *train = mdn_signal_speech(n, rate, 1);
  float *speech = mdn_signal_speech(n_held, rate, 2), *music = mdn_signal_music(n_held, rate, 3);
  MdnHeldOut sets[2] = { { "speech", speech, n_held }, { "music", music, n_held } };
  MdnTierSpec *specs = NULL;
  MdnFitOptions options;
  GError *error = NULL;
  MdnModel *m;
  int t, c;

  mdn_fit_options_init(&options);
  options.n_specs = mdn_tier_ladder_parse("s4d4e1,s2d6e2", &specs, &error);
  options.specs = specs;
  options.keep_dominated = TRUE;
  options.heldout = sets;
  options.n_heldout = 2;
  m = mdn_fit(k, train, n, &options, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_classes(m), ==, 2);
  g_assert_cmpstr(mdn_model_class_name(m, 0), ==, "speech");
  g_assert_cmpstr(mdn_model_class_name(m, 1), ==, "music");
  /* All the audio was trained on (no tail held out). */
  g_assert_cmpfloat(mdn_model_provenance(m)->seconds, ==, 2);
  for (t = 0; t < mdn_model_n_tiers(m); t++) {
    double worst = INFINITY;
    for (c = 0; c < 2; c++) {
      /* The stored SNR is what a stream gets on that audio, against the
       * double reference (the fit measured against the exact path). */
      double got = mdn_test_stream_snr(m, t, sets[c].audio, n_held, 0);
      double stored = mdn_model_tier_class_snr(m, t, c);
      g_test_message("tier %d %s: stored %.3f, measured %.3f dB", t, sets[c].name, stored, got);
      g_assert_cmpfloat(fabs(got - stored), <, 0.01);
      worst = MIN(worst, stored);
    }
    g_assert_cmpfloat(mdn_model_tier(m, t)->snr_db, ==, worst);
  }
  mdn_model_free(m);

  /* Bad classes are refused before any work. */
  sets[1].name = "speech";
  g_assert_null(mdn_fit(k, train, n, &options, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "twice"));
  g_clear_error(&error);
  sets[1].name = "Music!";
  g_assert_null(mdn_fit(k, train, n, &options, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  sets[1].name = "music";
  sets[1].n_frames = 10;
  g_assert_null(mdn_fit(k, train, n, &options, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_TOO_LITTLE_AUDIO);
  g_clear_error(&error);
  sets[1].n_frames = n_held;
  music[5] = NAN;
  g_assert_null(mdn_fit(k, train, n, &options, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "music"));
  g_clear_error(&error);
  options.n_heldout = MDN_MAX_CLASSES + 1;
  g_assert_null(mdn_fit(k, train, n, &options, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_free(specs);
  g_free(train);
  g_free(speech);
  g_free(music);
  mdn_kernel_free(k);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/preset-variants/roundtrip", test_roundtrip);
  g_test_add_func("/preset-variants/add-variant", test_add_variant);
  g_test_add_func("/preset-variants/set-classes", test_set_classes);
  g_test_add_func("/preset-variants/hostile", test_hostile);
  g_test_add_func("/preset-variants/version1", test_version1);
  g_test_add_func("/preset-variants/norm-block", test_norm_block);
  g_test_add_func("/preset-variants/kernel-of-variant", test_kernel_of_variant);
  g_test_add_func("/preset-variants/resample", test_resample);
  g_test_add_func("/preset-variants/fit-classes", test_fit_classes);
  return g_test_run();
}

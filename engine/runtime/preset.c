/* preset.c: .mdn preset files (see docs/preset-format.md).
 *
 * A file is a 16-byte header (magic, format version, payload length, all
 * little-endian) followed by one GVariant of type "v" holding MDN_PRESET_TYPE,
 * serialised little-endian. Floats are stored as their bit patterns ("au"),
 * so a round trip is bit-exact. The loader reads every array's size from the
 * serialised data and checks it against the kernel's shape BEFORE it
 * allocates anything, so a hostile file cannot ask for more memory than
 * about its own size.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Version 3: the tier tuple gains the fields of TIER_V3_FIELDS. Version 2:
 * rate variants, each with its per-class claims. Version 1 (one model, no
 * classes) is still read, as a preset of one variant; versions 1 and 2 as
 * tiers of the rules they were fitted with (TIER_V1 below). */
#define PRESET_VERSION 3u
#define PRESET_VERSION_2 2u
#define PRESET_VERSION_1 1u
#define PRESET_HEADER_BYTES 16

#define KERNEL_TYPE "(iiiidauau)"
#define PROVENANCE_TYPE "(dst)"
/* The tier tuple: the fields of versions 1 and 2, then those version 3
 * added (TIER_NORM_BLOCK on). A field added to version 3 before its release
 * goes at the end of TIER_V3_FIELDS, of the enum below, of tier_to_variant()
 * and of stored_tier_read_v3(), and gets its version-1 value in TIER_V1. */
#define TIER_V1_FIELDS "(iiii)sddayauaqauauaqauayauau"
#define TIER_V3_FIELDS "iau"
#define TIER_V1_TYPE "(" TIER_V1_FIELDS ")"
#define TIER_TYPE "(" TIER_V1_FIELDS TIER_V3_FIELDS ")"
/* Per held-out class: its name and one SNR per tier. */
#define CLAIMS_TYPE "a(sad)"
#define MODEL_V1_TYPE "(" KERNEL_TYPE PROVENANCE_TYPE "a" TIER_V1_TYPE ")"
#define VARIANT_V2_TYPE "(" KERNEL_TYPE PROVENANCE_TYPE "a" TIER_V1_TYPE CLAIMS_TYPE ")"
#define PRESET_V2_TYPE "a" VARIANT_V2_TYPE
#define VARIANT_TYPE "(" KERNEL_TYPE PROVENANCE_TYPE "a" TIER_TYPE CLAIMS_TYPE ")"
#define MDN_PRESET_TYPE "a" VARIANT_TYPE

/* Children of a tier tuple. */
enum {
  TIER_SPEC,
  TIER_NAME,
  TIER_SNR,
  TIER_COST,
  TIER_SPLIT,
  TIER_THRESHOLDS,
  TIER_EXACT_CHAN,
  TIER_EXACT_TAP,
  TIER_EXACT_W,
  TIER_CB_CHAN,
  TIER_CB_GROUP,
  TIER_LUT,
  TIER_LUT_SCALE,
  TIER_LUT_OFFSET,
  TIER_N_V1_FIELDS, /* the tuple of versions 1 and 2 ends here */
  TIER_NORM_BLOCK = TIER_N_V1_FIELDS,
  TIER_HYPERPLANES, /* empty: axis encoders */
  TIER_N_FIELDS
};

/* What a tier of version 1 or 2 holds for the fields version 3 added: the
 * rules those versions' fits used, and no hyperplanes (axis encoders). */
static const struct {
  int norm_block;
  gsize n_hyperplanes;
} TIER_V1 = { MDN_NORM_BLOCK_V1, 0 };

static void
put_le32(guint8 *p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static guint32
get_le32(const guint8 *p)
{
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

/* ---- saving ---------------------------------------------------------------- */

static GVariant *
fixed_array(const GVariantType *elem_type, const void *data, size_t n, size_t elem_size)
{
  return g_variant_new_fixed_array(elem_type, n ? data : NULL, n, elem_size);
}

static GVariant *
lut_to_variant(const MdnTier *t)
{
  size_t n = (size_t)t->n_codebooks * t->buckets * t->cout;
  size_t bytes = n * mdn_table_entry_bytes(t->spec.table_bits);

#if G_BYTE_ORDER == G_BIG_ENDIAN
  if (t->spec.table_bits == 16) {
    /* The file holds 16-bit entries little-endian. */
    guint16 *le = g_new(guint16, n ? n : 1);
    const guint16 *src = t->lut;
    GVariant *v;
    size_t j;
    for (j = 0; j < n; j++)
      le[j] = GUINT16_TO_LE(src[j]);
    v = fixed_array(G_VARIANT_TYPE_BYTE, le, bytes, 1);
    g_free(le);
    return v;
  }
#endif
  return fixed_array(G_VARIANT_TYPE_BYTE, t->lut, bytes, 1);
}

/* The one writer of a tier tuple (TIER_TYPE). */
static GVariant *
tier_to_variant(const MdnTier *t)
{
  /* TIER_V1_FIELDS, then TIER_V3_FIELDS with its arrays as @au */
  return g_variant_new(
      "((iiii)sdd@ay@au@aq@au@au@aq@au@ay@au@au"
      "i@au)",
      t->spec.taps_per_codebook, t->spec.depth, t->spec.exact_taps, t->spec.table_bits, t->name,
      t->snr_db, t->cost,
      fixed_array(G_VARIANT_TYPE_BYTE, t->split, (size_t)t->cin * t->spec.depth, 1),
      fixed_array(G_VARIANT_TYPE_UINT32, t->thresholds, (size_t)t->cin * (t->buckets - 1), 4),
      fixed_array(G_VARIANT_TYPE_UINT16, t->exact_chan, t->n_exact, 2),
      fixed_array(G_VARIANT_TYPE_UINT32, t->exact_tap, t->n_exact, 4),
      fixed_array(G_VARIANT_TYPE_UINT32, t->exact_w, (size_t)t->n_exact * t->cout, 4),
      fixed_array(G_VARIANT_TYPE_UINT16, t->cb_chan, t->n_codebooks, 2),
      fixed_array(G_VARIANT_TYPE_UINT32, t->cb_group, t->n_codebooks, 4), lut_to_variant(t),
      fixed_array(G_VARIANT_TYPE_UINT32, t->lut_scale, t->cout, 4),
      fixed_array(G_VARIANT_TYPE_UINT32, t->lut_offset, t->cout, 4), t->norm_block,
      fixed_array(G_VARIANT_TYPE_UINT32, t->hyperplanes,
                  t->hyperplanes ? (size_t)t->cin * t->spec.depth * t->spec.taps_per_codebook : 0,
                  4));
}

static GVariant *
claims_to_variant(const MdnModel *m)
{
  GVariantBuilder claims;
  int c, t;

  g_variant_builder_init(&claims, G_VARIANT_TYPE(CLAIMS_TYPE));
  for (c = 0; c < m->n_classes; c++) {
    double *snr = g_new(double, m->n_tiers + 1);

    for (t = 0; t < m->n_tiers; t++)
      snr[t] = m->tiers[t]->class_snr[c];
    g_variant_builder_add(&claims, "(s@ad)", m->class_names[c],
                          fixed_array(G_VARIANT_TYPE_DOUBLE, snr, m->n_tiers, sizeof(double)));
    g_free(snr);
  }
  return g_variant_builder_end(&claims);
}

static GVariant *
model_to_variant(const MdnModel *m)
{
  const MdnKernel *k = m->kernel;
  GVariantBuilder tiers;
  int t;

  g_variant_builder_init(&tiers, G_VARIANT_TYPE("a" TIER_TYPE));
  for (t = 0; t < m->n_tiers; t++)
    g_variant_builder_add_value(&tiers, tier_to_variant(m->tiers[t]));
  return g_variant_new(
      "(@" KERNEL_TYPE "@" PROVENANCE_TYPE "@a" TIER_TYPE "@" CLAIMS_TYPE ")",
      g_variant_new(
          "(iiiid@au@au)", k->cin, k->cout, k->taps, k->dilation, k->rate,
          fixed_array(G_VARIANT_TYPE_UINT32, k->weights, (size_t)k->cin * k->cout * k->taps, 4),
          fixed_array(G_VARIANT_TYPE_UINT32, k->bias, k->cout, 4)),
      g_variant_new("(dst)", m->provenance.seconds, m->provenance.date, m->provenance.seed),
      g_variant_builder_end(&tiers), claims_to_variant(m));
}

/* The file of the variants models[0..n-1] (by rate, checked by the caller). */
static GBytes *
serialize_variants(MdnModel *const *models, int n, GError **error)
{
  GVariantBuilder variants;
  GVariant *payload, *le;
  guint8 *out;
  gsize size;
  int v;

  /* What the loader would refuse is not written. */
  for (v = 0; v < n; v++)
    if (!mdn_model_check_history(models[v], 1, MDN_ERROR_INVALID_ARGUMENT, error))
      return NULL;
  g_variant_builder_init(&variants, G_VARIANT_TYPE(MDN_PRESET_TYPE));
  for (v = 0; v < n; v++)
    g_variant_builder_add_value(&variants, model_to_variant(models[v]));
  payload = g_variant_ref_sink(g_variant_new_variant(g_variant_builder_end(&variants)));
#if G_BYTE_ORDER == G_BIG_ENDIAN
  le = g_variant_byteswap(payload);
  g_variant_unref(payload);
#else
  le = payload;
#endif
  size = g_variant_get_size(le);
  if (size > MDN_PRESET_MAX_BYTES - PRESET_HEADER_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "model too large for a preset: %zu bytes (limit %zu)", (size_t)size,
                MDN_PRESET_MAX_BYTES);
    g_variant_unref(le);
    return NULL;
  }
  out = g_malloc(PRESET_HEADER_BYTES + size);
  memcpy(out, MDN_PRESET_MAGIC, MDN_PRESET_MAGIC_BYTES);
  put_le32(out + 8, PRESET_VERSION);
  put_le32(out + 12, (guint32)size);
  g_variant_store(le, out + PRESET_HEADER_BYTES);
  g_variant_unref(le);
  return g_bytes_new_take(out, PRESET_HEADER_BYTES + size);
}

GBytes *
mdn_model_serialize(const MdnModel *m, GError **error)
{
  MdnModel *one = (MdnModel *)m;

  return serialize_variants(&one, 1, error);
}

GBytes *
mdn_preset_serialize(const MdnPreset *p, GError **error)
{
  if (p->n_variants < 1) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "a preset without variants");
    return NULL;
  }
  return serialize_variants(p->variants, p->n_variants, error);
}

/* Writes `data` through a temporary file renamed over `path`: never half a preset. */
static gboolean
save_bytes(GBytes *data, const char *path, GError **error)
{
  GError *local = NULL;
  gsize size;
  const char *p;

  if (!data) {
    g_prefix_error(error, "%s: ", path);
    return FALSE;
  }
  p = g_bytes_get_data(data, &size);
  if (!g_file_set_contents(path, p, size, &local)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s", local->message);
    g_error_free(local);
    g_bytes_unref(data);
    return FALSE;
  }
  g_bytes_unref(data);
  return TRUE;
}

gboolean
mdn_preset_save(const MdnPreset *p, const char *path, GError **error)
{
  return save_bytes(mdn_preset_serialize(p, error), path, error);
}

gboolean
mdn_model_save(const MdnModel *m, const char *path, GError **error)
{
  return save_bytes(mdn_model_serialize(m, error), path, error);
}

/* ---- loading ---------------------------------------------------------------- */

/* Reads child `index` of `tuple` as a fixed array: the child is stored in
 * kids[index] (unreffed by the caller) and its element count in *n. */
static const void *
get_array(GVariant *tuple, int index, gsize elem_size, GVariant **kids, gsize *n)
{
  const void *p;

  kids[index] = g_variant_get_child_value(tuple, index);
  p = g_variant_get_fixed_array(kids[index], n, elem_size);
  return *n ? p : NULL;
}

static gboolean
check_count(const char *what, gsize got, guint64 expected, GError **error)
{
  if (got != expected) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s has %" G_GUINT64_FORMAT " entries, expected %" G_GUINT64_FORMAT, what,
                (guint64)got, expected);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_finite(const char *what, const float *v, size_t n, GError **error)
{
  size_t j;

  for (j = 0; j < n; j++)
    if (!isfinite(v[j])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s[%zu] is not a finite number", what, j);
      return FALSE;
    }
  return TRUE;
}

static MdnKernel *
kernel_from_variant(GVariant *kv, GError **error)
{
  GVariant *kids[7] = { NULL };
  MdnKernel *k = NULL;
  const float *w, *b;
  gsize n_w, n_b;
  gint32 cin, cout, taps, dilation;
  double rate;
  int j;

  for (j = 0; j < 5; j++)
    kids[j] = g_variant_get_child_value(kv, j);
  cin = g_variant_get_int32(kids[0]);
  cout = g_variant_get_int32(kids[1]);
  taps = g_variant_get_int32(kids[2]);
  dilation = g_variant_get_int32(kids[3]);
  rate = g_variant_get_double(kids[4]);
  for (j = 0; j < 5; j++) {
    g_variant_unref(kids[j]);
    kids[j] = NULL;
  }

  if (!mdn_kernel_shape_check(cin, cout, taps, dilation, MDN_ERROR_CORRUPT, error)
      || !mdn_kernel_rate_check(rate, MDN_ERROR_CORRUPT, error)) {
    g_prefix_error(error, "kernel: ");
    return NULL;
  }
  w = get_array(kv, 5, 4, kids, &n_w);
  b = get_array(kv, 6, 4, kids, &n_b);
  if (!check_count("kernel: weights", n_w, (guint64)cin * cout * taps, error)
      || !check_count("kernel: bias", n_b, (guint64)cout, error)
      || !check_finite("kernel: weight", w, n_w, error)
      || !check_finite("kernel: bias", b, n_b, error))
    goto out;
  k = mdn_kernel_new(cin, cout, taps, dilation, rate, error);
  if (!k)
    goto out;
  memcpy(k->weights, w, n_w * sizeof(float));
  memcpy(k->bias, b, n_b * sizeof(float));
out:
  for (j = 5; j < 7; j++)
    if (kids[j])
      g_variant_unref(kids[j]);
  return k;
}

/* The arrays of a tier tuple: element size and name of each. */
static const gsize tier_elem_size[TIER_N_FIELDS] = {
  [TIER_SPLIT] = 1,     [TIER_THRESHOLDS] = 4, [TIER_EXACT_CHAN] = 2,  [TIER_EXACT_TAP] = 4,
  [TIER_EXACT_W] = 4,   [TIER_CB_CHAN] = 2,    [TIER_CB_GROUP] = 4,    [TIER_LUT] = 1,
  [TIER_LUT_SCALE] = 4, [TIER_LUT_OFFSET] = 4, [TIER_HYPERPLANES] = 4,
};
static const char *const tier_field_name[TIER_N_FIELDS] = {
  [TIER_SPLIT] = "split",
  [TIER_THRESHOLDS] = "thresholds",
  [TIER_EXACT_CHAN] = "exact_chan",
  [TIER_EXACT_TAP] = "exact_tap",
  [TIER_EXACT_W] = "exact_w",
  [TIER_CB_CHAN] = "cb_chan",
  [TIER_CB_GROUP] = "cb_group",
  [TIER_LUT] = "lut",
  [TIER_LUT_SCALE] = "lut_scale",
  [TIER_LUT_OFFSET] = "lut_offset",
  [TIER_HYPERPLANES] = "hyperplanes",
};

/* A stored tier as read, before it is trusted: views into the variant. The
 * exact dims and codebooks are as many as exact_chan and cb_chan hold. */
typedef struct {
  GVariant *kids[TIER_N_FIELDS]; /* the children held */
  MdnTierSpec spec;
  const char *name;
  gsize name_len;
  double snr_db, cost;
  int norm_block;
  const void *array[TIER_N_FIELDS]; /* NULL when empty */
  gsize count[TIER_N_FIELDS];       /* elements */
} StoredTier;

/* The fields version 3 added, from its tuple (TIER_V3_FIELDS). */
static void
stored_tier_read_v3(GVariant *tv, StoredTier *st)
{
  st->kids[TIER_NORM_BLOCK] = g_variant_get_child_value(tv, TIER_NORM_BLOCK);
  st->norm_block = g_variant_get_int32(st->kids[TIER_NORM_BLOCK]);
  st->array[TIER_HYPERPLANES] = get_array(tv, TIER_HYPERPLANES, tier_elem_size[TIER_HYPERPLANES],
                                          st->kids, &st->count[TIER_HYPERPLANES]);
}

/* The one reader of a tier tuple: of TIER_TYPE (version 3) or of
 * TIER_V1_TYPE (versions 1 and 2, the later fields from TIER_V1). */
static void
stored_tier_read(GVariant *tv, guint32 version, StoredTier *st)
{
  GVariant *spec_v = g_variant_get_child_value(tv, TIER_SPEC);
  int field;

  g_variant_get(spec_v, "(iiii)", &st->spec.taps_per_codebook, &st->spec.depth,
                &st->spec.exact_taps, &st->spec.table_bits);
  g_variant_unref(spec_v);
  st->kids[TIER_NAME] = g_variant_get_child_value(tv, TIER_NAME);
  st->name = g_variant_get_string(st->kids[TIER_NAME], &st->name_len);
  st->kids[TIER_SNR] = g_variant_get_child_value(tv, TIER_SNR);
  st->snr_db = g_variant_get_double(st->kids[TIER_SNR]);
  st->kids[TIER_COST] = g_variant_get_child_value(tv, TIER_COST);
  st->cost = g_variant_get_double(st->kids[TIER_COST]);
  for (field = TIER_SPLIT; field < TIER_N_V1_FIELDS; field++)
    st->array[field] = get_array(tv, field, tier_elem_size[field], st->kids, &st->count[field]);
  if (version >= PRESET_VERSION)
    stored_tier_read_v3(tv, st);
  else {
    st->norm_block = TIER_V1.norm_block;
    st->count[TIER_HYPERPLANES] = TIER_V1.n_hyperplanes;
  }
  st->spec.hyperplanes = st->count[TIER_HYPERPLANES] > 0;
}

static void
stored_tier_clear(StoredTier *st)
{
  int field;

  for (field = 0; field < TIER_N_FIELDS; field++)
    if (st->kids[field])
      g_variant_unref(st->kids[field]);
}

/* The spec, the name and the numbers of exact dims and codebooks against
 * the kernel, then every other array's size against what they imply. */
static gboolean
stored_tier_check(const StoredTier *st, const MdnKernel *k, GError **error)
{
  const guint64 dims = (guint64)k->cin * k->taps, n_exact = st->count[TIER_EXACT_CHAN];
  const guint64 n_cb = st->count[TIER_CB_CHAN];
  guint64 buckets, groups, expected[TIER_N_FIELDS] = { 0 };
  int field;

  if (!mdn_tier_spec_validate(&st->spec, MDN_ERROR_CORRUPT, error))
    return FALSE;
  if ((guint64)st->spec.exact_taps > dims || n_exact > dims) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "exact taps must be 0..%" G_GUINT64_FORMAT
                " (cin*taps), got %d in the spec and %" G_GUINT64_FORMAT " exact dims",
                dims, st->spec.exact_taps, n_exact);
    return FALSE;
  }
  if (st->name_len >= MDN_TIER_NAME_MAX) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "name is %zu bytes, limit %d",
                (size_t)st->name_len, MDN_TIER_NAME_MAX - 1);
    return FALSE;
  }
  buckets = (guint64)1 << st->spec.depth;
  groups = ((guint64)k->taps + st->spec.taps_per_codebook - 1) / st->spec.taps_per_codebook;
  if (n_cb > (guint64)k->cin * groups) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%" G_GUINT64_FORMAT " codebooks, more than cin*groups = %" G_GUINT64_FORMAT, n_cb,
                (guint64)k->cin * groups);
    return FALSE;
  }
  expected[TIER_SPLIT] = (guint64)k->cin * st->spec.depth;
  expected[TIER_THRESHOLDS] = (guint64)k->cin * (buckets - 1);
  expected[TIER_EXACT_TAP] = n_exact;
  expected[TIER_EXACT_W] = n_exact * k->cout;
  expected[TIER_CB_GROUP] = n_cb;
  expected[TIER_LUT_SCALE] = expected[TIER_LUT_OFFSET] = (guint64)k->cout;
  /* hyperplanes: none (axis encoders) or s floats per channel and level */
  expected[TIER_HYPERPLANES] = st->count[TIER_HYPERPLANES]
                                   ? (guint64)k->cin * st->spec.depth * st->spec.taps_per_codebook
                                   : 0;
  if (!mdn_norm_block_ok(st->norm_block)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "normalisation block of %d frames, not a power of two in %d..%d", st->norm_block,
                MDN_NORM_BLOCK_MIN, MDN_NORM_BLOCK_MAX);
    return FALSE;
  }
  for (field = TIER_SPLIT; field < TIER_N_FIELDS; field++)
    if (field != TIER_EXACT_CHAN && field != TIER_CB_CHAN && field != TIER_LUT
        && field != TIER_NORM_BLOCK
        && !check_count(tier_field_name[field], st->count[field], expected[field], error))
      return FALSE;
  expected[TIER_LUT] = n_cb * buckets * k->cout * mdn_table_entry_bytes(st->spec.table_bits);
  if (st->count[TIER_LUT] != expected[TIER_LUT]) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "lut has %zu bytes, expected %" G_GUINT64_FORMAT, (size_t)st->count[TIER_LUT],
                expected[TIER_LUT]);
    return FALSE;
  }
  return TRUE;
}

/* Where array `field` of a stored tier goes in an MdnTier. */
static void *
tier_field_dest(MdnTier *t, int field)
{
  switch (field) {
  case TIER_SPLIT:
    return t->split;
  case TIER_THRESHOLDS:
    return t->thresholds;
  case TIER_EXACT_CHAN:
    return t->exact_chan;
  case TIER_EXACT_TAP:
    return t->exact_tap;
  case TIER_EXACT_W:
    return t->exact_w;
  case TIER_CB_CHAN:
    return t->cb_chan;
  case TIER_CB_GROUP:
    return t->cb_group;
  case TIER_LUT:
    return t->lut;
  case TIER_LUT_SCALE:
    return t->lut_scale;
  case TIER_LUT_OFFSET:
    return t->lut_offset;
  case TIER_HYPERPLANES:
    return t->hyperplanes;
  default:
    g_assert_not_reached();
  }
}

/* A checked stored tier as an MdnTier, validated value by value. */
static MdnTier *
stored_tier_copy(const StoredTier *st, const MdnKernel *k, GError **error)
{
  /* Sizes match data that is present, so this allocation is bounded by the file. */
  MdnTier *t = mdn_tier_alloc(&st->spec, k->cin, k->cout, k->taps, k->dilation,
                              (int)st->count[TIER_EXACT_CHAN], (int)st->count[TIER_CB_CHAN], error);
  int field;

  if (!t)
    return NULL;
  if (st->name_len > 0)
    memcpy(t->name, st->name, st->name_len + 1);
  t->snr_db = st->snr_db;
  t->cost = st->cost;
  t->norm_block = st->norm_block;
  for (field = TIER_SPLIT; field < TIER_N_FIELDS; field++)
    if (field != TIER_NORM_BLOCK && st->count[field])
      memcpy(tier_field_dest(t, field), st->array[field], st->count[field] * tier_elem_size[field]);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  if (st->spec.table_bits == 16) {
    guint16 *v = t->lut;
    size_t e;
    for (e = 0; e < st->count[TIER_LUT] / 2; e++)
      v[e] = GUINT16_FROM_LE(v[e]);
  }
#endif
  if (!mdn_tier_validate(t, error)) {
    mdn_tier_free(t);
    return NULL;
  }
  return t;
}

static MdnTier *
tier_from_variant(GVariant *tv, guint32 version, const MdnKernel *k, GError **error)
{
  StoredTier st = { 0 };
  MdnTier *t = NULL;

  stored_tier_read(tv, version, &st);
  if (stored_tier_check(&st, k, error))
    t = stored_tier_copy(&st, k, error);
  stored_tier_clear(&st);
  return t;
}

static MdnModel *
model_from_variant(GVariant *root, guint32 version, GError **error)
{
  GVariant *kv, *pv, *tiers;
  MdnKernel *k;
  MdnModel *m = NULL;
  double seconds;
  const char *date;
  gsize n_date, n_tiers, j;
  guint64 seed;

  kv = g_variant_get_child_value(root, 0);
  k = kernel_from_variant(kv, error);
  g_variant_unref(kv);
  if (!k)
    return NULL;

  pv = g_variant_get_child_value(root, 1);
  g_variant_get(pv, "(d&st)", &seconds, &date, &seed);
  n_date = strlen(date);
  if (!(isfinite(seconds) && seconds >= 0)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "provenance: seconds must be finite and >= 0 (got %g)", seconds);
    goto fail;
  }
  if (n_date >= sizeof m->provenance.date) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "provenance: date is %zu bytes, limit %zu",
                (size_t)n_date, sizeof m->provenance.date - 1);
    goto fail;
  }

  m = mdn_model_new(k, error);
  if (!m)
    goto fail;
  m->provenance.seconds = seconds;
  memcpy(m->provenance.date, date, n_date + 1);
  m->provenance.seed = seed;

  tiers = g_variant_get_child_value(root, 2);
  n_tiers = g_variant_n_children(tiers);
  for (j = 0; j < n_tiers; j++) {
    GVariant *tv = g_variant_get_child_value(tiers, j);
    MdnTier *t = tier_from_variant(tv, version, k, error);
    g_variant_unref(tv);
    if (!t) {
      g_prefix_error(error, "tier %zu: ", (size_t)j);
      g_variant_unref(tiers);
      goto fail;
    }
    mdn_model_add_tier(m, t);
  }
  g_variant_unref(tiers);
  /* Many tiers over a long span can ask more of a stream than any shape
   * limit above says: a preset must stream at least one group. */
  if (!mdn_model_check_history(m, 1, MDN_ERROR_CORRUPT, error))
    goto fail;
  g_variant_unref(pv);
  mdn_kernel_free(k);
  return m;

fail:
  g_variant_unref(pv);
  mdn_kernel_free(k);
  mdn_model_free(m);
  return NULL;
}

/* The per-class claims of a variant: names, one SNR per tier each, and
 * every tier's claim the worst of its classes. Checked before anything is
 * allocated beyond what the file holds. */
static gboolean
claims_from_variant(MdnModel *m, GVariant *cv, GError **error)
{
  const gsize n_classes = g_variant_n_children(cv);
  const char *names[MDN_MAX_CLASSES];
  GVariant *kids[MDN_MAX_CLASSES] = { NULL };
  double *snr = NULL;
  gboolean ok = FALSE;
  gsize c, d;
  int t;

  if (n_classes == 0)
    return TRUE;
  if (n_classes > MDN_MAX_CLASSES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "claims: %zu classes, limit %d",
                (size_t)n_classes, MDN_MAX_CLASSES);
    return FALSE;
  }
  if (m->n_tiers == 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "claims: classes without tiers");
    return FALSE;
  }
  /* Names and array lengths first: nothing is allocated before every
   * length is known to match the tiers the file holds. */
  for (c = 0; c < n_classes; c++) {
    GVariant *name_v, *snr_v;
    gsize len, n;

    kids[c] = g_variant_get_child_value(cv, c);
    name_v = g_variant_get_child_value(kids[c], 0);
    names[c] = g_variant_get_string(name_v, &len);
    g_variant_unref(name_v); /* the string stays in kids[c] */
    if (!mdn_class_name_check(names[c], len, MDN_ERROR_CORRUPT, error)) {
      g_prefix_error(error, "claims: class %zu: ", (size_t)c);
      goto out;
    }
    for (d = 0; d < c; d++)
      if (strcmp(names[c], names[d]) == 0) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "claims: class \"%s\" twice", names[c]);
        goto out;
      }
    snr_v = g_variant_get_child_value(kids[c], 1);
    n = g_variant_n_children(snr_v);
    g_variant_unref(snr_v);
    if (n != (gsize)m->n_tiers) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "claims: class \"%s\" has %zu SNRs for %d tiers", names[c], (size_t)n,
                  m->n_tiers);
      goto out;
    }
  }
  snr = g_new(double, (gsize)m->n_tiers *n_classes);
  for (c = 0; c < n_classes; c++) {
    GVariant *snr_v = g_variant_get_child_value(kids[c], 1);
    gsize n;
    const double *values = g_variant_get_fixed_array(snr_v, &n, sizeof(double));

    for (t = 0; t < m->n_tiers; t++) {
      if (isnan(values[t])) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "claims: class \"%s\": the SNR of tier %d is NaN", names[c], t);
        g_variant_unref(snr_v);
        goto out;
      }
      snr[(gsize)t * n_classes + c] = values[t];
    }
    g_variant_unref(snr_v);
  }
  /* A tier's claim is the worst of its classes, exactly. */
  for (t = 0; t < m->n_tiers; t++) {
    double worst = snr[(gsize)t * n_classes];

    for (c = 1; c < n_classes; c++)
      worst = MIN(worst, snr[(gsize)t * n_classes + c]);
    if (worst != m->tiers[t]->snr_db) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "tier %d: its SNR (%g dB) is not the worst of its classes' (%g dB)", t,
                  m->tiers[t]->snr_db, worst);
      goto out;
    }
  }
  ok = mdn_model_set_classes(m, (int)n_classes, names, snr, error);
out:
  for (c = 0; c < n_classes; c++)
    if (kids[c])
      g_variant_unref(kids[c]);
  g_free(snr);
  return ok;
}

static long
variant_rate(const MdnModel *m)
{
  return lround(m->kernel->rate);
}

/* A variant of a version-2 or -3 payload. */
static MdnModel *
variant_from_variant(GVariant *vv, guint32 version, GError **error)
{
  MdnModel *m = model_from_variant(vv, version, error);
  GVariant *cv;

  if (!m)
    return NULL;
  cv = g_variant_get_child_value(vv, 3);
  if (!claims_from_variant(m, cv, error)) {
    mdn_model_free(m);
    m = NULL;
  }
  g_variant_unref(cv);
  return m;
}

static MdnPreset *
preset_from_variants(GVariant *root, guint32 version, GError **error)
{
  const gsize n = g_variant_n_children(root);
  MdnPreset *p;
  gsize v;

  if (n < 1 || n > MDN_MAX_VARIANTS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%zu rate variants, expected 1..%d", (size_t)n,
                MDN_MAX_VARIANTS);
    return NULL;
  }
  p = mdn_preset_new();
  for (v = 0; v < n; v++) {
    GVariant *vv = g_variant_get_child_value(root, v);
    MdnModel *m = variant_from_variant(vv, version, error);
    const MdnModel *prev = v > 0 ? p->variants[v - 1] : NULL;

    g_variant_unref(vv);
    if (!m) {
      g_prefix_error(error, "variant %zu: ", (size_t)v);
      goto fail;
    }
    if (prev && variant_rate(m) <= variant_rate(prev)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "variant %zu: %ld Hz after %ld Hz (variants are stored by rate, lowest "
                  "first, each rate once)",
                  (size_t)v, variant_rate(m), variant_rate(prev));
      mdn_model_free(m);
      goto fail;
    }
    if (prev && (m->kernel->cin != prev->kernel->cin || m->kernel->cout != prev->kernel->cout)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "variant %zu: %d -> %d channels, the variant before it %d -> %d", (size_t)v,
                  m->kernel->cin, m->kernel->cout, prev->kernel->cin, prev->kernel->cout);
      mdn_model_free(m);
      goto fail;
    }
    p->variants[p->n_variants++] = m;
  }
  return p;

fail:
  mdn_preset_free(p);
  return NULL;
}

MdnPreset *
mdn_preset_load_from_data(const void *data, size_t size, GError **error)
{
  const guint8 *p = data;
  guint32 version, length;
  GBytes *bytes;
  GVariant *outer, *root;
  MdnPreset *preset = NULL;
  const char *expected;

  if (size > MDN_PRESET_MAX_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%zu bytes, larger than the preset size limit of %zu", size, MDN_PRESET_MAX_BYTES);
    return NULL;
  }
  if (size < PRESET_HEADER_BYTES || memcmp(p, MDN_PRESET_MAGIC, MDN_PRESET_MAGIC_BYTES) != 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "not a maddness preset (no \"" MDN_PRESET_MAGIC "\" header)");
    return NULL;
  }
  version = get_le32(p + 8);
  if (version < PRESET_VERSION_1 || version > PRESET_VERSION) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_VERSION,
                "preset format version %u, this build reads versions %u to %u", version,
                PRESET_VERSION_1, PRESET_VERSION);
    return NULL;
  }
  length = get_le32(p + 12);
  if (length != size - PRESET_HEADER_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "truncated or padded: the header says %u payload bytes, the data has %zu", length,
                size - PRESET_HEADER_BYTES);
    return NULL;
  }

  /* g_bytes_new copies into malloc'd, hence aligned, memory. */
  bytes = g_bytes_new(p + PRESET_HEADER_BYTES, length);
  outer = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARIANT, bytes, FALSE));
  g_bytes_unref(bytes);
  if (!g_variant_is_normal_form(outer)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "corrupt payload (not a GVariant in normal form)");
    g_variant_unref(outer);
    return NULL;
  }
  root = g_variant_get_variant(outer);
  g_variant_unref(outer);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  {
    GVariant *swapped = g_variant_byteswap(root);
    g_variant_unref(root);
    root = swapped;
  }
#endif
  expected = version == PRESET_VERSION_1   ? MODEL_V1_TYPE
             : version == PRESET_VERSION_2 ? PRESET_V2_TYPE
                                           : MDN_PRESET_TYPE;
  if (!g_variant_is_of_type(root, G_VARIANT_TYPE(expected))) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "payload has type %s, expected %s",
                g_variant_get_type_string(root), expected);
    g_variant_unref(root);
    return NULL;
  }
  if (version == PRESET_VERSION_1) {
    /* One model without classes: a preset of one variant. */
    MdnModel *m = model_from_variant(root, version, error);

    if (m) {
      preset = mdn_preset_new();
      preset->variants[preset->n_variants++] = m;
    }
  } else {
    preset = preset_from_variants(root, version, error);
  }
  g_variant_unref(root);
  return preset;
}

/* The default variant taken out of `preset`, which is freed. */
static MdnModel *
take_default_variant(MdnPreset *preset)
{
  const MdnModel *def = mdn_preset_default_variant(preset);
  MdnModel *m = NULL;
  int v;

  for (v = 0; v < preset->n_variants; v++)
    if (preset->variants[v] == def) {
      m = preset->variants[v];
      preset->variants[v] = NULL;
    }
  mdn_preset_free(preset);
  return m;
}

MdnModel *
mdn_model_load_from_data(const void *data, size_t size, GError **error)
{
  MdnPreset *preset = mdn_preset_load_from_data(data, size, error);

  return preset ? take_default_variant(preset) : NULL;
}

/* The bytes of a preset file, read to its end: a regular file
 * (mdn_file_open_regular) of at most MDN_PRESET_MAX_BYTES, even if it grows
 * while it is read. Errors name the file. */
static guint8 *
read_preset_file(const char *path, size_t *size, GError **error)
{
  int fd = mdn_file_open_regular(path, error);
  struct stat st;
  guint8 *data = NULL;
  size_t len = 0, cap;

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0) {
    int saved = errno;
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(saved));
    goto fail;
  }
  if ((guint64)st.st_size > MDN_PRESET_MAX_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s: %" G_GUINT64_FORMAT " bytes, larger than the preset size limit of %zu", path,
                (guint64)st.st_size, MDN_PRESET_MAX_BYTES);
    goto fail;
  }
  cap = (size_t)st.st_size + 1; /* room to see the end */
  data = g_malloc(cap);
  for (;;) {
    gssize got;
    if (len == cap) {
      if (len > MDN_PRESET_MAX_BYTES) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "%s: grew past the preset size limit of %zu bytes while read", path,
                    MDN_PRESET_MAX_BYTES);
        goto fail;
      }
      cap = MIN(2 * cap, MDN_PRESET_MAX_BYTES + 1);
      data = g_realloc(data, cap);
    }
    got = read(fd, data + len, cap - len);
    if (got == 0)
      break;
    if (got < 0 && errno != EINTR) {
      int saved = errno;
      g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(saved));
      goto fail;
    }
    len += got > 0 ? (size_t)got : 0;
  }
  close(fd);
  *size = len;
  return data;

fail:
  close(fd);
  g_free(data);
  return NULL;
}

MdnPreset *
mdn_preset_load(const char *path, GError **error)
{
  size_t size = 0;
  guint8 *data = read_preset_file(path, &size, error);
  MdnPreset *p;

  if (!data)
    return NULL;
  p = mdn_preset_load_from_data(data, size, error);
  g_free(data);
  if (!p)
    g_prefix_error(error, "%s: ", path);
  return p;
}

MdnModel *
mdn_model_load(const char *path, GError **error)
{
  MdnPreset *preset = mdn_preset_load(path, error);

  return preset ? take_default_variant(preset) : NULL;
}

/* ---- presets of rate variants ------------------------------------------------ */

MdnPreset *
mdn_preset_new(void)
{
  return g_new0(MdnPreset, 1);
}

void
mdn_preset_free(MdnPreset *p)
{
  int v;

  if (!p)
    return;
  for (v = 0; v < p->n_variants; v++)
    mdn_model_free(p->variants[v]);
  g_free(p);
}

int
mdn_preset_n_variants(const MdnPreset *p)
{
  return p->n_variants;
}

const MdnModel *
mdn_preset_variant(const MdnPreset *p, int index)
{
  if (index < 0 || index >= p->n_variants)
    return NULL;
  return p->variants[index];
}

const MdnModel *
mdn_preset_variant_at_rate(const MdnPreset *p, double rate)
{
  int v;

  for (v = 0; v < p->n_variants; v++)
    if (fabs(p->variants[v]->kernel->rate - rate) < 0.5)
      return p->variants[v];
  return NULL;
}

const MdnModel *
mdn_preset_default_variant(const MdnPreset *p)
{
  const MdnModel *m = mdn_preset_variant_at_rate(p, 48000);

  if (m || p->n_variants == 0)
    return m;
  return p->variants[p->n_variants - 1];
}

gboolean
mdn_preset_add_variant(MdnPreset *p, MdnModel *m, GError **error)
{
  const long rate = variant_rate(m);
  int v, at;

  if (p->n_variants > 0
      && (m->kernel->cin != p->variants[0]->kernel->cin
          || m->kernel->cout != p->variants[0]->kernel->cout)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "a %d -> %d channel model cannot be a variant of a %d -> %d channel preset",
                m->kernel->cin, m->kernel->cout, p->variants[0]->kernel->cin,
                p->variants[0]->kernel->cout);
    mdn_model_free(m);
    return FALSE;
  }
  for (at = 0; at < p->n_variants && variant_rate(p->variants[at]) < rate; at++)
    ;
  if (at < p->n_variants && variant_rate(p->variants[at]) == rate) {
    mdn_model_free(p->variants[at]);
    p->variants[at] = m;
    return TRUE;
  }
  if (p->n_variants == MDN_MAX_VARIANTS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "a preset holds at most %d rate variants", MDN_MAX_VARIANTS);
    mdn_model_free(m);
    return FALSE;
  }
  for (v = p->n_variants; v > at; v--)
    p->variants[v] = p->variants[v - 1];
  p->variants[at] = m;
  p->n_variants++;
  return TRUE;
}

char *
mdn_preset_describe_rates(const MdnPreset *p)
{
  GString *text = g_string_new(NULL);
  int v;

  for (v = 0; v < p->n_variants; v++) {
    if (v > 0)
      g_string_append(text, v + 1 == p->n_variants ? " and " : ", ");
    g_string_append_printf(text, "%ld", variant_rate(p->variants[v]));
  }
  g_string_append(text, " Hz");
  return g_string_free(text, FALSE);
}

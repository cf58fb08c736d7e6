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

/* Version 2: each tier also holds its encoders' hyperplanes (empty for axis
 * encoders). A model without hyperplane tiers is written as version 1, which
 * older readers read; both are read. */
#define PRESET_VERSION 2u
#define PRESET_VERSION_AXIS 1u
#define PRESET_HEADER_BYTES 16

#define KERNEL_TYPE "(iiiidauau)"
#define PROVENANCE_TYPE "(dst)"
#define TIER_TYPE_V1 "((iiii)sddayauaqauauaqauayauau)"
#define TIER_TYPE "((iiii)sddayauaqauauaqauayauauau)"
#define MDN_PRESET_TYPE_V1 "(" KERNEL_TYPE PROVENANCE_TYPE "a" TIER_TYPE_V1 ")"
#define MDN_PRESET_TYPE "(" KERNEL_TYPE PROVENANCE_TYPE "a" TIER_TYPE ")"

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
  TIER_HYPERPLANES, /* version 2 */
  TIER_N_FIELDS
};

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

/* A tier of a version 1 file (no hyperplanes) or of a version 2 file. */
static GVariant *
tier_to_variant(const MdnTier *t, guint32 version)
{
  GVariant *v1 = g_variant_new(
      "((iiii)sdd@ay@au@aq@au@au@aq@au@ay@au@au)", t->spec.taps_per_codebook, t->spec.depth,
      t->spec.exact_taps, t->spec.table_bits, t->name, t->snr_db, t->cost,
      fixed_array(G_VARIANT_TYPE_BYTE, t->split, (size_t)t->cin * t->spec.depth, 1),
      fixed_array(G_VARIANT_TYPE_UINT32, t->thresholds, (size_t)t->cin * (t->buckets - 1), 4),
      fixed_array(G_VARIANT_TYPE_UINT16, t->exact_chan, t->n_exact, 2),
      fixed_array(G_VARIANT_TYPE_UINT32, t->exact_tap, t->n_exact, 4),
      fixed_array(G_VARIANT_TYPE_UINT32, t->exact_w, (size_t)t->n_exact * t->cout, 4),
      fixed_array(G_VARIANT_TYPE_UINT16, t->cb_chan, t->n_codebooks, 2),
      fixed_array(G_VARIANT_TYPE_UINT32, t->cb_group, t->n_codebooks, 4), lut_to_variant(t),
      fixed_array(G_VARIANT_TYPE_UINT32, t->lut_scale, t->cout, 4),
      fixed_array(G_VARIANT_TYPE_UINT32, t->lut_offset, t->cout, 4));
  GVariant *fields[TIER_N_FIELDS];
  gsize j;

  if (version == PRESET_VERSION_AXIS)
    return v1;
  /* Version 2: the same fields and the hyperplanes. */
  for (j = 0; j < TIER_HYPERPLANES; j++)
    fields[j] = g_variant_get_child_value(v1, j);
  fields[TIER_HYPERPLANES] = fixed_array(
      G_VARIANT_TYPE_UINT32, t->hyperplanes,
      t->hyperplanes ? (size_t)t->cin * t->spec.depth * t->spec.taps_per_codebook : 0, 4);
  g_variant_unref(g_variant_ref_sink(v1));
  v1 = g_variant_new_tuple(fields, TIER_N_FIELDS);
  for (j = 0; j < TIER_HYPERPLANES; j++)
    g_variant_unref(fields[j]);
  return v1;
}

GBytes *
mdn_model_serialize(const MdnModel *m, GError **error)
{
  const MdnKernel *k = m->kernel;
  GVariantBuilder tiers;
  GVariant *payload, *le, *parts[3];
  GBytes *data;
  guint8 *out;
  gsize size;
  guint32 version = PRESET_VERSION_AXIS;
  int t;

  /* What the loader would refuse is not written. */
  if (!mdn_model_check_history(m, 1, MDN_ERROR_INVALID_ARGUMENT, error))
    return NULL;
  for (t = 0; t < m->n_tiers; t++)
    if (m->tiers[t]->hyperplanes)
      version = PRESET_VERSION;
  g_variant_builder_init(
      &tiers, G_VARIANT_TYPE(version == PRESET_VERSION ? "a" TIER_TYPE : "a" TIER_TYPE_V1));
  for (t = 0; t < m->n_tiers; t++)
    g_variant_builder_add_value(&tiers, tier_to_variant(m->tiers[t], version));
  parts[0] = g_variant_new(
      "(iiiid@au@au)", k->cin, k->cout, k->taps, k->dilation, k->rate,
      fixed_array(G_VARIANT_TYPE_UINT32, k->weights, (size_t)k->cin * k->cout * k->taps, 4),
      fixed_array(G_VARIANT_TYPE_UINT32, k->bias, k->cout, 4));
  parts[1] = g_variant_new("(dst)", m->provenance.seconds, m->provenance.date, m->provenance.seed);
  parts[2] = g_variant_builder_end(&tiers);
  payload = g_variant_ref_sink(g_variant_new_variant(g_variant_new_tuple(parts, 3)));
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
  put_le32(out + 8, version);
  put_le32(out + 12, (guint32)size);
  g_variant_store(le, out + PRESET_HEADER_BYTES);
  g_variant_unref(le);
  data = g_bytes_new_take(out, PRESET_HEADER_BYTES + size);
  return data;
}

gboolean
mdn_model_save(const MdnModel *m, const char *path, GError **error)
{
  GError *local = NULL;
  GBytes *data = mdn_model_serialize(m, error);
  gsize size;
  const char *p;

  if (!data) {
    g_prefix_error(error, "%s: ", path);
    return FALSE;
  }
  p = g_bytes_get_data(data, &size);
  /* Writes a temporary file and renames it over `path`: never half a preset. */
  if (!g_file_set_contents(path, p, size, &local)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s", local->message);
    g_error_free(local);
    g_bytes_unref(data);
    return FALSE;
  }
  g_bytes_unref(data);
  return TRUE;
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
  const void *array[TIER_N_FIELDS]; /* NULL when empty */
  gsize count[TIER_N_FIELDS];       /* elements */
} StoredTier;

static void
stored_tier_read(GVariant *tv, StoredTier *st)
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
  /* A version 1 tier has no hyperplanes: count 0, an axis tier. */
  for (field = TIER_SPLIT; field < (int)g_variant_n_children(tv); field++)
    st->array[field] = get_array(tv, field, tier_elem_size[field], st->kids, &st->count[field]);
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
  /* hyperplanes: none (axis encoders) or one of s floats per channel and level */
  expected[TIER_HYPERPLANES] = st->count[TIER_HYPERPLANES]
                                   ? (guint64)k->cin * st->spec.depth * st->spec.taps_per_codebook
                                   : 0;
  for (field = TIER_SPLIT; field < TIER_N_FIELDS; field++)
    if (field != TIER_EXACT_CHAN && field != TIER_CB_CHAN && field != TIER_LUT
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
  for (field = TIER_SPLIT; field < TIER_N_FIELDS; field++)
    if (st->count[field])
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
tier_from_variant(GVariant *tv, const MdnKernel *k, GError **error)
{
  StoredTier st = { 0 };
  MdnTier *t = NULL;

  stored_tier_read(tv, &st);
  if (stored_tier_check(&st, k, error))
    t = stored_tier_copy(&st, k, error);
  stored_tier_clear(&st);
  return t;
}

static MdnModel *
model_from_variant(GVariant *root, GError **error)
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
    MdnTier *t = tier_from_variant(tv, k, error);
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

MdnModel *
mdn_model_load_from_data(const void *data, size_t size, GError **error)
{
  const guint8 *p = data;
  guint32 version, length;
  GBytes *bytes;
  GVariant *outer, *root;
  MdnModel *m;

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
  if (version < 1 || version > PRESET_VERSION) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_VERSION,
                "preset format version %u, this build reads versions 1 to %u", version,
                PRESET_VERSION);
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
  if (!g_variant_is_of_type(
          root,
          G_VARIANT_TYPE(version == PRESET_VERSION_AXIS ? MDN_PRESET_TYPE_V1 : MDN_PRESET_TYPE))) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "payload has type %s, expected %s",
                g_variant_get_type_string(root),
                version == PRESET_VERSION_AXIS ? MDN_PRESET_TYPE_V1 : MDN_PRESET_TYPE);
    g_variant_unref(root);
    return NULL;
  }
  m = model_from_variant(root, error);
  g_variant_unref(root);
  return m;
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

MdnModel *
mdn_model_load(const char *path, GError **error)
{
  size_t size = 0;
  guint8 *data = read_preset_file(path, &size, error);
  MdnModel *m;

  if (!data)
    return NULL;
  m = mdn_model_load_from_data(data, size, error);
  g_free(data);
  if (!m)
    g_prefix_error(error, "%s: ", path);
  return m;
}

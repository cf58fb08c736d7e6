/* tier-data.c: the data side of MdnTier: allocation, validation, info.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <math.h>
#include <string.h>

/* The spec and the kernel's shape, by the engine's one rule for each. */
static gboolean
spec_and_shape_ok(const MdnTierSpec *spec, int cin, int cout, int taps, int dilation,
                  MdnErrorCode code, GError **error)
{
  return mdn_tier_spec_validate(spec, code, error)
         && mdn_kernel_shape_check(cin, cout, taps, dilation, code, error);
}

static size_t
lut_entries(const MdnTier *t)
{
  return (size_t)t->n_codebooks * t->buckets * t->cout;
}

MdnTier *
mdn_tier_alloc(const MdnTierSpec *spec, int cin, int cout, int taps, int dilation, int n_exact,
               int n_codebooks, GError **error)
{
  MdnTier *t;
  guint64 groups, lut_bytes, total;
  int buckets;

  if (!spec_and_shape_ok(spec, cin, cout, taps, dilation, MDN_ERROR_INVALID_ARGUMENT, error))
    return NULL;
  groups = ((guint64)taps + spec->taps_per_codebook - 1) / spec->taps_per_codebook;
  if (n_exact < 0 || (guint64)n_exact > (guint64)cin * taps) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "exact dims must be 0..%" G_GUINT64_FORMAT " (cin*taps), got %d",
                (guint64)cin * taps, n_exact);
    return NULL;
  }
  if (n_codebooks < 0 || (guint64)n_codebooks > (guint64)cin * groups) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "codebooks must be 0..%" G_GUINT64_FORMAT " (cin*groups), got %d",
                (guint64)cin * groups, n_codebooks);
    return NULL;
  }
  buckets = 1 << spec->depth;
  /* Bound the whole tier: one that could not be saved as a preset is refused. */
  lut_bytes = (guint64)n_codebooks * buckets * cout * mdn_table_entry_bytes(spec->table_bits);
  total = lut_bytes + (guint64)cin * buckets * 5
          + (spec->hyperplanes ? (guint64)cin * spec->depth * spec->taps_per_codebook * 4 : 0)
          + (guint64)n_exact * (cout * 4 + 6) + (guint64)n_codebooks * 6 + (guint64)cout * 8;
  if (total > MDN_PRESET_MAX_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "tier too large: %" G_GUINT64_FORMAT " bytes (limit %zu)", total,
                MDN_PRESET_MAX_BYTES);
    return NULL;
  }

  t = g_new0(MdnTier, 1);
  t->spec = *spec;
  mdn_tier_spec_name(spec, t->name);
  t->cin = cin;
  t->cout = cout;
  t->taps = taps;
  t->dilation = dilation;
  t->buckets = buckets;
  /* The rule of this version's fits; the preset loader sets a stored tier's
   * (format versions 1 and 2: MDN_NORM_BLOCK_V1). */
  t->norm_block = MDN_NORM_BLOCK;
  t->n_exact = n_exact;
  t->n_codebooks = n_codebooks;
  t->split = g_new0(guint8, (size_t)cin * spec->depth);
  t->thresholds = g_new0(float, (size_t)cin *(buckets - 1));
  if (spec->hyperplanes)
    t->hyperplanes = g_new0(float, (size_t)cin * spec->depth * spec->taps_per_codebook);
  t->exact_chan = g_new0(guint16, n_exact);
  t->exact_tap = g_new0(guint32, n_exact);
  t->exact_w = g_new0(float, (size_t)n_exact *cout);
  t->cb_chan = g_new0(guint16, n_codebooks);
  t->cb_group = g_new0(guint32, n_codebooks);
  t->lut = g_try_malloc0(lut_bytes ? lut_bytes : 1);
  t->lut_scale = g_new0(float, cout);
  t->lut_offset = g_new0(float, cout);
  if (!t->lut) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "out of memory for %" G_GUINT64_FORMAT " bytes of lookup tables", lut_bytes);
    mdn_tier_free(t);
    return NULL;
  }
  return t;
}

void
mdn_tier_free(MdnTier *t)
{
  if (!t)
    return;
  g_free(t->split);
  g_free(t->thresholds);
  g_free(t->hyperplanes);
  g_free(t->exact_chan);
  g_free(t->exact_tap);
  g_free(t->exact_w);
  g_free(t->cb_chan);
  g_free(t->cb_group);
  g_free(t->lut);
  g_free(t->lut_scale);
  g_free(t->lut_offset);
  g_free(t->class_snr);
  g_free(t);
}

/* Index of the first non-finite value, or -1. */
static gssize
first_nonfinite(const float *v, size_t n)
{
  size_t j;

  for (j = 0; j < n; j++)
    if (!isfinite(v[j]))
      return (gssize)j;
  return -1;
}

static gboolean
floats_ok(const char *what, const float *v, size_t n, GError **error)
{
  gssize bad = first_nonfinite(v, n);

  if (bad >= 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s[%zd] is not a finite number", what, bad);
    return FALSE;
  }
  return TRUE;
}

/* The name: terminated, printable ASCII (tools print it as one word of a line). */
static gboolean
tier_name_ok(const MdnTier *t, GError **error)
{
  int j;

  if (memchr(t->name, 0, sizeof t->name) == NULL) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "tier name is not terminated");
    return FALSE;
  }
  for (j = 0; t->name[j]; j++)
    if (!g_ascii_isgraph(t->name[j])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "tier name has byte 0x%02x, not printable ASCII", (guint8)t->name[j]);
      return FALSE;
    }
  return TRUE;
}

/* Every split column, exact dim and codebook within the shape. */
static gboolean
tier_indices_ok(const MdnTier *t, GError **error)
{
  const int s = t->spec.taps_per_codebook, groups = mdn_tier_groups(t);
  int j;

  for (j = 0; j < t->cin * t->spec.depth; j++)
    if (t->split[j] >= s) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "split[%d][%d] is %u, must be < %d (taps per codebook)", j / t->spec.depth,
                  j % t->spec.depth, t->split[j], s);
      return FALSE;
    }
  for (j = 0; j < t->n_exact; j++)
    if (t->exact_chan[j] >= t->cin || t->exact_tap[j] >= (guint32)t->taps) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "exact dim %d is (channel %u, tap %u), outside %d channels x %d taps", j,
                  t->exact_chan[j], t->exact_tap[j], t->cin, t->taps);
      return FALSE;
    }
  for (j = 0; j < t->n_codebooks; j++)
    if (t->cb_chan[j] >= t->cin || t->cb_group[j] >= (guint32)groups) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "codebook %d is (channel %u, group %u), outside %d channels x %d groups", j,
                  t->cb_chan[j], t->cb_group[j], t->cin, groups);
      return FALSE;
    }
  return TRUE;
}

/* Narrow table entries within their bits: the vector scans add them in 8
 * bits, where a larger one would wrap. */
static gboolean
narrow_entries_ok(const MdnTier *t, GError **error)
{
  const guint8 *lut = t->lut, max = (guint8)((1u << t->spec.table_bits) - 1);
  size_t e, n = lut_entries(t);

  if (t->spec.table_bits >= 8)
    return TRUE;
  for (e = 0; e < n; e++)
    if (lut[e] > max) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "table entry %zu is %u, above %u (%d-bit tables)", e, lut[e], max,
                  t->spec.table_bits);
      return FALSE;
    }
  return TRUE;
}

gboolean
mdn_tier_validate(const MdnTier *t, GError **error)
{
  if (!spec_and_shape_ok(&t->spec, t->cin, t->cout, t->taps, t->dilation, MDN_ERROR_CORRUPT, error))
    return FALSE;
  if (!mdn_norm_block_ok(t->norm_block)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "normalisation block of %d frames, not a power of two in %d..%d", t->norm_block,
                MDN_NORM_BLOCK_MIN, MDN_NORM_BLOCK_MAX);
    return FALSE;
  }
  if (t->buckets != 1 << t->spec.depth) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "buckets is %d, expected %d for depth %d",
                t->buckets, 1 << t->spec.depth, t->spec.depth);
    return FALSE;
  }
  if (t->n_exact < 0 || (guint64)t->n_exact > (guint64)t->cin * t->taps) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%d exact dims, more than cin*taps = %d",
                t->n_exact, t->cin * t->taps);
    return FALSE;
  }
  if (t->n_codebooks < 0 || (guint64)t->n_codebooks > (guint64)t->cin * mdn_tier_groups(t)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%d codebooks, more than cin*groups = %d*%d",
                t->n_codebooks, t->cin, mdn_tier_groups(t));
    return FALSE;
  }
  if (!tier_name_ok(t, error))
    return FALSE;
  if ((t->hyperplanes != NULL) != (t->spec.hyperplanes != 0)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "spec says %s encoders, the tier has %s",
                t->spec.hyperplanes ? "hyperplane" : "axis",
                t->hyperplanes ? "hyperplanes" : "none");
    return FALSE;
  }
  if (isnan(t->snr_db) || !isfinite(t->cost) || t->cost < 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "bad snr_db %g or cost %g", t->snr_db,
                t->cost);
    return FALSE;
  }
  return tier_indices_ok(t, error) && narrow_entries_ok(t, error)
         && floats_ok("thresholds", t->thresholds, (size_t)t->cin * (t->buckets - 1), error)
         && (!t->hyperplanes
             || floats_ok("hyperplanes", t->hyperplanes,
                          (size_t)t->cin * t->spec.depth * t->spec.taps_per_codebook, error))
         && floats_ok("exact_w", t->exact_w, (size_t)t->n_exact * t->cout, error)
         && floats_ok("lut_scale", t->lut_scale, t->cout, error)
         && floats_ok("lut_offset", t->lut_offset, t->cout, error);
}

size_t
mdn_tier_table_bytes(const MdnTier *t)
{
  return lut_entries(t) * mdn_table_entry_bytes(t->spec.table_bits)
         + sizeof(float)
               * ((size_t)t->cin * (t->buckets - 1) /* thresholds */
                  + (t->hyperplanes ? (size_t)t->cin * t->spec.depth * t->spec.taps_per_codebook
                                    : 0)
                  + (size_t)t->n_exact * t->cout /* exact weights */
                  + (size_t)2 * t->cout);        /* lut scale and offset */
}

void
mdn_tier_get_info(const MdnTier *t, MdnTierInfo *info)
{
  memset(info, 0, sizeof *info);
  g_strlcpy(info->name, t->name, sizeof info->name);
  info->spec = t->spec;
  info->buckets = t->buckets;
  info->codebooks = t->n_codebooks;
  info->snr_db = t->snr_db;
  info->cost = t->cost;
  info->table_bytes = mdn_tier_table_bytes(t);
  info->norm_block = t->norm_block;
}

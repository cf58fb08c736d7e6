/* model.c: a kernel plus its ladder of MADDNESS tiers.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <math.h>
#include <string.h>

MdnModel *
mdn_model_new(const MdnKernel *kernel, GError **error)
{
  MdnModel *m;

  if (!mdn_kernel_validate(kernel, error))
    return NULL;
  m = g_new0(MdnModel, 1);
  m->kernel = mdn_kernel_copy(kernel);
  return m;
}

void
mdn_model_free(MdnModel *m)
{
  int t;

  if (!m)
    return;
  mdn_model_clear_classes(m);
  for (t = 0; t < m->n_tiers; t++)
    mdn_tier_free(m->tiers[t]);
  g_free(m->tiers);
  mdn_kernel_free(m->kernel);
  g_free(m);
}

const MdnKernel *
mdn_model_kernel(const MdnModel *m)
{
  return m->kernel;
}

int
mdn_model_n_tiers(const MdnModel *m)
{
  return m->n_tiers;
}

const MdnTier *
mdn_model_tier(const MdnModel *m, int index)
{
  if (index < 0 || index >= m->n_tiers)
    return NULL;
  return m->tiers[index];
}

void
mdn_model_tier_info(const MdnModel *m, int index, MdnTierInfo *info)
{
  g_return_if_fail(index >= 0 && index < m->n_tiers);
  mdn_tier_get_info(m->tiers[index], info);
}

const MdnProvenance *
mdn_model_provenance(const MdnModel *m)
{
  return &m->provenance;
}

double
mdn_model_exact_cost(const MdnModel *m)
{
  return mdn_exact_cost_per_frame(m->kernel);
}

void
mdn_model_add_tier(MdnModel *m, MdnTier *tier)
{
  int c;

  m->tiers = g_renew(MdnTier *, m->tiers, m->n_tiers + 1);
  m->tiers[m->n_tiers++] = tier;
  /* A tier added to a model with classes, without SNRs for them: its one
   * SNR stands for every class (its claim stays the worst). */
  if (m->n_classes > 0 && !tier->class_snr) {
    tier->class_snr = g_new(double, m->n_classes);
    for (c = 0; c < m->n_classes; c++)
      tier->class_snr[c] = tier->snr_db;
  }
}

guint64
mdn_model_history_bytes(const MdnModel *m, int groups, size_t *frames_out)
{
  const MdnKernel *k = m->kernel;
  size_t frames, fdl_bytes, group_bytes, spectra_bytes;
  guint64 per_channel, channels;
  int t;

  g_return_val_if_fail(groups >= 1, G_MAXUINT64);
  channels = (guint64)groups * k->cin;
  mdn_exact_history_bound(k, &frames, &fdl_bytes, &group_bytes, &spectra_bytes);
  per_channel = fdl_bytes;
  for (t = 0; t < m->n_tiers; t++) {
    size_t h = mdn_tier_history(m->tiers[t]);
    frames = MAX(frames, h);
    /* tier.c keeps codes for [frame0 - reach, frame0 + 2 chunks) plus a row
     * pad; reach + pad <= the tier's history. */
    per_channel += (guint64)h + 2 * MDN_CHUNK;
  }
  /* stream.c: one float buffer per channel, a ring of the history plus a
   * chunk, stored twice. */
  per_channel += sizeof(float) * 2 * ((guint64)frames + MDN_CHUNK);
  /* audit.c, once per stream when there are tiers to audit: one input
   * channel's window of taps floats. */
  if (m->n_tiers > 0)
    spectra_bytes += sizeof(float) * (guint64)k->taps;
  if (frames_out)
    *frames_out = frames;
  /* Per group, the exact path's output spectra and tails. Saturate rather
   * than wrap round (absurdly many tiers). */
  if (per_channel + group_bytes > (G_MAXUINT64 - spectra_bytes) / channels)
    return G_MAXUINT64;
  return per_channel * channels + (guint64)group_bytes * groups + spectra_bytes;
}

gboolean
mdn_model_check_history(const MdnModel *m, int groups, MdnErrorCode code, GError **error)
{
  const MdnKernel *k = m->kernel;
  size_t frames;
  guint64 bytes = mdn_model_history_bytes(m, groups, &frames);

  if (bytes <= MDN_MAX_STREAM_HISTORY_BYTES)
    return TRUE;
  g_set_error(error, MDN_ERROR, code,
              "%d taps at dilation %d with %d tiers on %d x %d input channels need %zu frames of "
              "history, %" G_GUINT64_FORMAT " bytes: more than the limit of %" G_GUINT64_FORMAT
              " (MDN_MAX_STREAM_HISTORY_BYTES)",
              k->taps, k->dilation, m->n_tiers, groups, k->cin, frames, bytes,
              (guint64)MDN_MAX_STREAM_HISTORY_BYTES);
  return FALSE;
}

/* ---- held-out classes ----------------------------------------------------- */

gboolean
mdn_class_name_check(const char *name, size_t len, MdnErrorCode code, GError **error)
{
  size_t j;

  if (len < 1 || len >= MDN_CLASS_NAME_MAX) {
    g_set_error(error, MDN_ERROR, code, "a class name has 1..%d bytes (got %zu)",
                MDN_CLASS_NAME_MAX - 1, len);
    return FALSE;
  }
  for (j = 0; j < len; j++)
    if (!(g_ascii_islower(name[j]) || g_ascii_isdigit(name[j]) || name[j] == '_'
          || name[j] == '-')) {
      g_set_error(error, MDN_ERROR, code,
                  "class name \"%.*s\": only a-z, 0-9, '_' and '-' are allowed", (int)len, name);
      return FALSE;
    }
  return TRUE;
}

int
mdn_model_n_classes(const MdnModel *m)
{
  return m->n_classes;
}

const char *
mdn_model_class_name(const MdnModel *m, int index)
{
  g_return_val_if_fail(index >= 0 && index < m->n_classes, NULL);
  return m->class_names[index];
}

double
mdn_model_tier_class_snr(const MdnModel *m, int tier, int index)
{
  g_return_val_if_fail(tier >= 0 && tier < m->n_tiers, NAN);
  g_return_val_if_fail(index >= 0 && index < m->n_classes, NAN);
  return m->tiers[tier]->class_snr[index];
}

void
mdn_model_clear_classes(MdnModel *m)
{
  int c, t;

  for (c = 0; c < m->n_classes; c++)
    g_free(m->class_names[c]);
  g_clear_pointer(&m->class_names, g_free);
  for (t = 0; t < m->n_tiers; t++)
    g_clear_pointer(&m->tiers[t]->class_snr, g_free);
  m->n_classes = 0;
}

gboolean
mdn_model_set_classes(MdnModel *m, int n_classes, const char *const *names, const double *snr,
                      GError **error)
{
  int c, d, t;

  if (n_classes < 0 || n_classes > MDN_MAX_CLASSES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%d classes (limit %d)", n_classes,
                MDN_MAX_CLASSES);
    return FALSE;
  }
  if (n_classes > 0 && m->n_tiers == 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "classes for a model without tiers");
    return FALSE;
  }
  for (c = 0; c < n_classes; c++) {
    if (!mdn_class_name_check(names[c], strlen(names[c]), MDN_ERROR_INVALID_ARGUMENT, error))
      return FALSE;
    for (d = 0; d < c; d++)
      if (strcmp(names[c], names[d]) == 0) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "class \"%s\" given twice",
                    names[c]);
        return FALSE;
      }
    for (t = 0; t < m->n_tiers; t++)
      if (isnan(snr[(size_t)t * n_classes + c])) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                    "tier %d: the SNR of class \"%s\" is NaN", t, names[c]);
        return FALSE;
      }
  }
  mdn_model_clear_classes(m);
  if (n_classes == 0)
    return TRUE;
  m->n_classes = n_classes;
  m->class_names = g_new(char *, n_classes);
  for (c = 0; c < n_classes; c++)
    m->class_names[c] = g_strdup(names[c]);
  for (t = 0; t < m->n_tiers; t++) {
    MdnTier *tier = m->tiers[t];

    tier->class_snr = g_new(double, n_classes);
    for (c = 0; c < n_classes; c++) {
      tier->class_snr[c] = snr[(size_t)t * n_classes + c];
      tier->snr_db = c == 0 ? tier->class_snr[c] : MIN(tier->snr_db, tier->class_snr[c]);
    }
  }
  return TRUE;
}

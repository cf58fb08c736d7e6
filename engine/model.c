/* model.c: a kernel plus its ladder of MADDNESS tiers. */
#include "mdn-private.h"

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
  m->tiers = g_renew(MdnTier *, m->tiers, m->n_tiers + 1);
  m->tiers[m->n_tiers++] = tier;
}

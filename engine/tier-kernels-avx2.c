#include "tier-kernels.h"
const MdnTierKernels *
mdn_tier_kernels_avx2(void)
{
  return mdn_tier_kernels_scalar();
}

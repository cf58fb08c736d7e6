/* arm/init.c: the NEON kernels, put into the tables over the plain-C
 * reference (dsp.h) when the flags have NEON (every AArch64 CPU; tests
 * build the tables without it too). The stream has no NEON kernel.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"

void
mdn_exact_dsp_init_arm(MdnExactDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_NEON))
    return;
  dsp->fir = mdn_exact_fir_neon;
  dsp->fir_flag = MDN_CPU_FLAG_NEON;
}

void
mdn_fft_dsp_init_arm(MdnFftDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_NEON))
    return;
  dsp->step[MDN_FFT_R4_FWD] = mdn_fft_r4_fwd_neon;
  dsp->step[MDN_FFT_R2_FWD] = mdn_fft_r2_fwd_neon;
  dsp->step[MDN_FFT_REAL_FWD] = mdn_fft_real_fwd_neon;
  dsp->step[MDN_FFT_R4_INV] = mdn_fft_r4_inv_neon;
  dsp->step[MDN_FFT_R2_INV] = mdn_fft_r2_inv_neon;
  dsp->step[MDN_FFT_REAL_INV] = mdn_fft_real_inv_neon;
  dsp->mac = mdn_fft_mac_neon;
  dsp->flag = MDN_CPU_FLAG_NEON;
}

void
mdn_tier_dsp_init_arm(MdnTierDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_NEON))
    return;
  dsp->encode = mdn_tier_encode_neon;
  dsp->encode_step = 16;
  dsp->encode_flag = MDN_CPU_FLAG_NEON;
  for (int s = 0; s < MDN_TIER_N_SCANS; s++) {
    dsp->scan[s] = mdn_tier_scan_neon;
    dsp->scan_flag[s] = MDN_CPU_FLAG_NEON;
  }
  dsp->uses_planes = TRUE;
  dsp->output = mdn_tier_output_neon;
  dsp->output_flag = MDN_CPU_FLAG_NEON;
  dsp->max_abs = mdn_tier_max_abs_neon;
  dsp->count_below = mdn_tier_count_below_neon;
  dsp->run_end = mdn_tier_run_end_neon;
  dsp->encode_hyperplanes = mdn_tier_encode_hyperplanes_neon;
  dsp->sigma_flag = MDN_CPU_FLAG_NEON;
}

/* x86/init.c: the x86 kernels the CPU flags allow, put into the tables over
 * the plain-C reference (dsp.h). Compiled without ISA flags: this runs on
 * every CPU, the kernels only where their level's flag is set. Each level
 * assumes the one below (mdn_cpu_flags_detect() sets them so); an entry a
 * level has no kernel for keeps the lower level's. MDN_HAVE_*: the kernel
 * file was built (the compiler takes its flags).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"

void
mdn_exact_dsp_init_x86(MdnExactDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_SSE2))
    return;
#ifdef MDN_HAVE_EXACT_SSE2
  dsp->cmac = mdn_exact_cmac_sse2;
  dsp->cmac_flag = MDN_CPU_FLAG_SSE2;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_EXACT_AVX2
  dsp->fir = mdn_exact_fir_avx2;
  dsp->fir_flag = MDN_CPU_FLAG_AVX2;
  dsp->cmac = mdn_exact_cmac_avx2;
  dsp->cmac_flag = MDN_CPU_FLAG_AVX2;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX512))
    return;
#ifdef MDN_HAVE_EXACT_AVX512
  dsp->fir = mdn_exact_fir_avx512;
  dsp->fir_flag = MDN_CPU_FLAG_AVX512;
  dsp->cmac = mdn_exact_cmac_avx512;
  dsp->cmac_flag = MDN_CPU_FLAG_AVX512;
#endif
}

void
mdn_tier_dsp_init_x86(MdnTierDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_SSE2) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_TIER_AVX2
  dsp->encode = mdn_tier_encode_avx2;
  dsp->encode_step = 32;
  for (int s = 0; s < MDN_TIER_N_SCANS; s++)
    dsp->scan[s] = mdn_tier_scan_avx2;
  dsp->uses_planes = TRUE;
  dsp->exact = mdn_tier_exact_avx2;
  dsp->combine = mdn_tier_combine_avx2;
  dsp->combine_rows = mdn_tier_combine_rows_avx2;
  dsp->max_abs = mdn_tier_max_abs_avx2;
  dsp->count_below = mdn_tier_count_below_avx2;
  dsp->run_end = mdn_tier_run_end_avx2;
#endif
#ifdef MDN_HAVE_TIER_HYPER_AVX2
  dsp->encode_hyperplanes = mdn_tier_encode_hyperplanes_avx2;
#endif

  /* combine, max_abs, count_below and run_end stay AVX2's. */
  if (!(flags & MDN_CPU_FLAG_AVX512))
    return;
#ifdef MDN_HAVE_TIER_AVX512
  dsp->encode = mdn_tier_encode_avx512;
  dsp->encode_step = 0; /* masked tails: any count */
  for (int s = 0; s < MDN_TIER_N_SCANS; s++)
    dsp->scan[s] = mdn_tier_scan_avx512;
  dsp->uses_planes = TRUE;
  dsp->exact = mdn_tier_exact_avx512;
#endif
#ifdef MDN_HAVE_TIER_HYPER_AVX512
  dsp->encode_hyperplanes = mdn_tier_encode_hyperplanes_avx512;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX512VBMI))
    return;
#ifdef MDN_HAVE_TIER_AVX512
  /* one or two byte permutes per lookup of 32 to 256 entries (16: the same
   * vpshufb either way) */
  for (int s = 0; s < MDN_TIER_N_SCANS; s++)
    dsp->scan[s] = mdn_tier_scan_avx512vbmi;
#endif
}

void
mdn_stream_dsp_init_x86(MdnStreamDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_SSE2) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_STREAM_AVX2
  dsp->deinterleave = mdn_deinterleave_avx2;
#endif
}

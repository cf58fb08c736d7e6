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
  if (!(flags & MDN_CPU_FLAG_SSE2) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_EXACT_AVX2
  dsp->fir = mdn_exact_fir_avx2;
  dsp->fir_flag = MDN_CPU_FLAG_AVX2;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX512))
    return;
#ifdef MDN_HAVE_EXACT_AVX512
  dsp->fir = mdn_exact_fir_avx512;
  dsp->fir_flag = MDN_CPU_FLAG_AVX512;
#endif
}

/* The FFT's entries come from one level together (fft.h). */
void
mdn_fft_dsp_init_x86(MdnFftDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_SSE2) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_FFT_AVX2
  dsp->step[MDN_FFT_R4_FWD] = mdn_fft_r4_fwd_avx2;
  dsp->step[MDN_FFT_R2_FWD] = mdn_fft_r2_fwd_avx2;
  dsp->step[MDN_FFT_REAL_FWD] = mdn_fft_real_fwd_avx2;
  dsp->step[MDN_FFT_R4_INV] = mdn_fft_r4_inv_avx2;
  dsp->step[MDN_FFT_R2_INV] = mdn_fft_r2_inv_avx2;
  dsp->step[MDN_FFT_REAL_INV] = mdn_fft_real_inv_avx2;
  dsp->mac = mdn_fft_mac_avx2;
  dsp->flag = MDN_CPU_FLAG_AVX2;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX512))
    return;
#ifdef MDN_HAVE_FFT_AVX512
  dsp->step[MDN_FFT_R4_FWD] = mdn_fft_r4_fwd_avx512;
  dsp->step[MDN_FFT_R2_FWD] = mdn_fft_r2_fwd_avx512;
  dsp->step[MDN_FFT_REAL_FWD] = mdn_fft_real_fwd_avx512;
  dsp->step[MDN_FFT_R4_INV] = mdn_fft_r4_inv_avx512;
  dsp->step[MDN_FFT_R2_INV] = mdn_fft_r2_inv_avx512;
  dsp->step[MDN_FFT_REAL_INV] = mdn_fft_real_inv_avx512;
  dsp->mac = mdn_fft_mac_avx512;
  dsp->flag = MDN_CPU_FLAG_AVX512;
#endif
}

void
mdn_tier_dsp_init_x86(MdnTierDsp *dsp, unsigned flags)
{
  int s;

  if (!(flags & MDN_CPU_FLAG_SSE2) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_TIER_AVX2
  dsp->encode = mdn_tier_encode_avx2;
  dsp->encode_step = 32;
  dsp->encode_flag = MDN_CPU_FLAG_AVX2;
  for (s = 0; s < MDN_TIER_N_SCANS; s++) {
    dsp->scan[s] = mdn_tier_scan_avx2;
    dsp->scan_flag[s] = MDN_CPU_FLAG_AVX2;
  }
  dsp->uses_planes = TRUE;
  dsp->output = mdn_tier_output_avx2;
  dsp->output_flag = MDN_CPU_FLAG_AVX2;
  dsp->max_abs = mdn_tier_max_abs_avx2;
  dsp->count_below = mdn_tier_count_below_avx2;
  dsp->run_end = mdn_tier_run_end_avx2;
  dsp->sigma_flag = MDN_CPU_FLAG_AVX2;
#endif
#ifdef MDN_HAVE_TIER_HYPER_AVX2
  dsp->encode_hyperplanes = mdn_tier_encode_hyperplanes_avx2;
#endif

  /* max_abs, count_below and run_end stay AVX2's. */
  if (!(flags & MDN_CPU_FLAG_AVX512))
    return;
#ifdef MDN_HAVE_TIER_AVX512
  dsp->encode = mdn_tier_encode_avx512;
  dsp->encode_step = 0; /* masked tails: any count */
  dsp->encode_flag = MDN_CPU_FLAG_AVX512;
  for (s = 0; s < MDN_TIER_N_SCANS; s++) {
    dsp->scan[s] = mdn_tier_scan_avx512;
    dsp->scan_flag[s] = MDN_CPU_FLAG_AVX512;
  }
  dsp->uses_planes = TRUE;
  dsp->output = mdn_tier_output_avx512;
  dsp->output_flag = MDN_CPU_FLAG_AVX512;
#endif
#ifdef MDN_HAVE_TIER_HYPER_AVX512
  dsp->encode_hyperplanes = mdn_tier_encode_hyperplanes_avx512;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX512VBMI))
    return;
#ifdef MDN_HAVE_TIER_AVX512
  /* one or two byte permutes per lookup of 32 to 256 entries (16: the same
   * vpshufb either way) */
  for (s = 0; s < MDN_TIER_N_SCANS; s++) {
    dsp->scan[s] = mdn_tier_scan_avx512vbmi;
    dsp->scan_flag[s] = MDN_CPU_FLAG_AVX512VBMI;
  }
#endif
  (void)s;
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

void
mdn_net_dsp_init_x86(MdnNetDsp *dsp, unsigned flags)
{
  if (!(flags & MDN_CPU_FLAG_SSE2) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
#ifdef MDN_HAVE_NET_AVX2
  dsp->gemm = mdn_net_gemm_avx2;
  dsp->tanh = mdn_net_tanh_avx2;
#endif

  if (!(flags & MDN_CPU_FLAG_AVX512))
    return;
#ifdef MDN_HAVE_NET_AVX512
  dsp->gemm = mdn_net_gemm_avx512;
  dsp->tanh = mdn_net_tanh_avx512;
#endif
}

/* ---- per-family choice ------------------------------------------------
 * Each family takes the kernel of the level measured fastest for it on the
 * CPUs of its kind, which is not always the highest the flags allow. The
 * evidence, as ratios of time against the AVX2 kernel in the same run:
 *
 * Intel (a Xeon with AVX-512 VBMI, issue 13, `preset-speed` and
 * `maddness-bench`, MADDNESS_ISA=avx2 against =avx512): the AVX-512 kernels
 * lose for 16-entry tables (bank16 s8d4e2q6 3.8-4.5x against exact with
 * AVX2, 3.7-3.8x with AVX-512; beam8 2.0-2.8x against 2.0-2.1x) and on the
 * lowpass exact path and tiers (lowpass64 fastest tier 1.18x with AVX2,
 * 0.85x with AVX-512); the VBMI scan wins for 64-entry tables (bank16
 * s4d6e16 1.3-1.4x against 1.9x; beam8 s4d6e16 0.86x against 1.3-1.5x). So
 * there: the 16-entry scan and the direct form stay AVX2's; no other
 * family was measured, so the others keep the highest level.
 */

/* The AVX2 level's table (kernels of levels up to AVX2 only). */
static void
avx2_level(MdnTierDsp *dsp, unsigned flags)
{
  mdn_tier_dsp_init_levels(dsp, flags & (MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2));
}

void
mdn_tier_dsp_choose_x86(MdnTierDsp *dsp, unsigned flags)
{
  MdnTierDsp avx2;

  if (!(flags & MDN_CPU_FLAG_AVX512) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
  avx2_level(&avx2, flags);
  if (flags & MDN_CPU_FLAG_INTEL) {
    dsp->scan[MDN_TIER_SCAN16] = avx2.scan[MDN_TIER_SCAN16];
    dsp->scan_flag[MDN_TIER_SCAN16] = avx2.scan_flag[MDN_TIER_SCAN16];
    dsp->encode = avx2.encode;
    dsp->encode_step = avx2.encode_step;
    dsp->encode_flag = avx2.encode_flag;
    dsp->output = avx2.output;
    dsp->output_flag = avx2.output_flag;
  }
}

void
mdn_exact_dsp_choose_x86(MdnExactDsp *dsp, unsigned flags)
{
  MdnExactDsp avx2;

  if (!(flags & MDN_CPU_FLAG_AVX512) || !(flags & MDN_CPU_FLAG_AVX2))
    return;
  mdn_exact_dsp_init_levels(&avx2, flags & (MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2));
  if (flags & MDN_CPU_FLAG_INTEL) {
    dsp->fir = avx2.fir;
    dsp->fir_flag = avx2.fir_flag;
  }
}

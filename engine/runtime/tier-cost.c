/* tier-cost.c: the time model of a tier and the rule of which tiers pay.
 *
 * A tier's time per frame is sum_j w_j x_j over the terms of tier-cost.h
 * (mdn_tier_cost_terms), each weight that of the kernel doing it on the
 * running table, in multiply-adds of the exact path's direct form on the
 * same table. Its speed-up is the exact path's modelled time
 * (mdn_exact_time(): direct form or FFT, exact-plan.c) over the tier's: on
 * a kernel the direct form runs, the ratio of the fit's own timings,
 * whatever the absolute ns of exact-plan.c's weights.
 *
 * The weights are least-squares fits (relative error) of whole tiers run
 * through mdn_stream_process against that run's direct form:
 *   ninja -C build bench/tier-cost
 *   MADDNESS_ISA=avx2 build/bench/tier-cost --fit
 *   MADDNESS_ISA=avx512 build/bench/tier-cost --fit
 * (random tiers of 1..8 -> 1..16 channels, 16..256 taps, s2/s4/s8, depths
 * 3..8, 0..24 exact taps, 6-, 8- and 16-bit tables, on speech-like input in
 * 1024-frame calls; AMD EPYC Zen 4 class, 2 vCPUs shared with other builds,
 * gcc -O2, default x86-64 build; thread CPU time, best of interleaved
 * rounds). `tier-cost --check` prints predicted against measured speed-ups.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-cost.h"
#include "exact-plan.h"

typedef struct {
  unsigned flag; /* MDN_CPU_FLAG_* of the output entry, 0: plain C */
  double frame, sigma, output, exact;
} OutputWeights;

typedef struct {
  unsigned flag; /* of the encode entry */
  double encode, reencode, hyper;
} EncodeWeights;

typedef struct {
  unsigned flag; /* of the scan entry of each slot */
  double codebook[MDN_TIER_N_SCANS], lookup[MDN_TIER_N_SCANS];
} ScanWeights;

/* Rows of `tier-cost --fit --rounds 11 --shapes 300` (2026-12-06, after
 * issue 15's exact-path kernels; median error of the tier's time: scalar
 * 13.1%, 90th percentile 32%; AVX2 9.9% and 27%; AVX-512 11.8% and 36%).
 * A weight of 0: that term's time is inside the others' on this CPU. The
 * fit's unit, the direct form's multiply-add, measured 0.058 (scalar), 0.030
 * (AVX2) and 0.024 ns (AVX-512) there. Not measured: NEON (plain C's rows
 * stand: a level without a row of its own takes row 0), AVX-512 without
 * VBMI's scans (AVX2's rows, which --kernels measured slower than those
 * kernels). */
static const OutputWeights output_w[] = {
  { 0, 169.374, 0.0, 2.2946, 10.1534 },
  { MDN_CPU_FLAG_AVX2, 1.880, 0.0, 6.6554, 1.0181 },
  { MDN_CPU_FLAG_AVX512, 4.422, 8.9806, 6.5493, 1.0423 },
};
/* hyper: a hyperplane tier's projections, not in --fit's random tiers but
 * from `build/bench/tier-encode --rounds 5` (hyperplane less axis encoder,
 * ns per position, over depth * s, in the units above; mean of its five
 * shapes, which spread by about 2x either way; 2026-12-06). */
static const EncodeWeights encode_w[] = {
  { 0, 32.6222, 11.0022, 7.0 },
  { MDN_CPU_FLAG_AVX2, 5.3567, 2.3781, 0.65 },
  { MDN_CPU_FLAG_AVX512, 2.9598, 1.7732, 0.35 },
};
static const ScanWeights scan_w[] = {
  { 0,
    { 17.2079, 12.8894, 13.6113, 14.1547, 10.4629 },
    { 0.9224, 2.3298, 0.9506, 2.1379, 2.8469 } },
  { MDN_CPU_FLAG_AVX2, { 0.0, 0.0, 0.0, 0.0, 2.1803 }, { 0.3000, 0.4957, 1.0800, 2.4887, 4.5119 } },
  { MDN_CPU_FLAG_AVX512,
    { 0.0, 0.0, 0.0, 0.0, 2.1803 },
    { 0.3000, 0.4957, 1.0800, 2.4887, 4.5119 } },
  { MDN_CPU_FLAG_AVX512VBMI,
    { 0.0, 0.0, 0.0, 0.0, 0.0 },
    { 0.2892, 0.3345, 0.4006, 0.6057, 1.2742 } },
};

void
mdn_tier_cost_terms(const MdnTier *tier, double *x)
{
  const double planes = mdn_table_entry_bytes(tier->spec.table_bits);
  x[MDN_TIER_TERM_FRAME] = 1.0;
  x[MDN_TIER_TERM_SIGMA] = tier->cin;
  const double reach
      = (double)(mdn_tier_groups(tier) - 1) * tier->spec.taps_per_codebook * tier->dilation;
  x[MDN_TIER_TERM_ENCODE] = (double)tier->cin * tier->spec.depth;
  x[MDN_TIER_TERM_REENCODE] = x[MDN_TIER_TERM_ENCODE] * reach / tier->norm_block;
  x[MDN_TIER_TERM_OUTPUT] = tier->cout;
  x[MDN_TIER_TERM_EXACT] = (double)tier->n_exact * tier->cout;
  x[MDN_TIER_TERM_CODEBOOK] = (double)tier->n_codebooks * planes;
  x[MDN_TIER_TERM_LOOKUP] = (double)tier->n_codebooks * tier->cout * planes;
  x[MDN_TIER_TERM_HYPER] = tier->hyperplanes
                               ? x[MDN_TIER_TERM_ENCODE] * tier->spec.taps_per_codebook
                                     * (1.0 + reach / tier->norm_block)
                               : 0.0;
}

/* The row of `flag` in each table, else its first (plain C): a level
 * without weights of its own is not assumed faster than the reference. */
static const OutputWeights *
output_row(unsigned flag)
{
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(output_w); j++)
    if (output_w[j].flag == flag)
      return &output_w[j];
  return &output_w[0];
}

static const EncodeWeights *
encode_row(unsigned flag)
{
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(encode_w); j++)
    if (encode_w[j].flag == flag)
      return &encode_w[j];
  return &encode_w[0];
}

static const ScanWeights *
scan_row(unsigned flag)
{
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(scan_w); j++)
    if (scan_w[j].flag == flag)
      return &scan_w[j];
  return &scan_w[0];
}

void
mdn_tier_cost_weights(const MdnTierDsp *dsp, int slot, double *w)
{
  const OutputWeights *o = output_row(dsp->output_flag);
  const EncodeWeights *e = encode_row(dsp->encode_flag);
  const ScanWeights *s = scan_row(dsp->scan_flag[slot]);
  int j;

  w[MDN_TIER_TERM_FRAME] = o->frame;
  w[MDN_TIER_TERM_SIGMA] = o->sigma;
  w[MDN_TIER_TERM_OUTPUT] = o->output;
  w[MDN_TIER_TERM_EXACT] = o->exact;
  w[MDN_TIER_TERM_ENCODE] = e->encode;
  w[MDN_TIER_TERM_REENCODE] = e->reencode;
  w[MDN_TIER_TERM_HYPER] = e->hyper;
  /* A larger table never costs less than a smaller one (the fit's noise
   * can order two near slots either way): the most of the slots up to
   * this one. */
  w[MDN_TIER_TERM_CODEBOOK] = w[MDN_TIER_TERM_LOOKUP] = 0;
  for (j = 0; j <= slot; j++) {
    w[MDN_TIER_TERM_CODEBOOK] = MAX(w[MDN_TIER_TERM_CODEBOOK], s->codebook[j]);
    w[MDN_TIER_TERM_LOOKUP] = MAX(w[MDN_TIER_TERM_LOOKUP], s->lookup[j]);
  }
}

double
mdn_tier_time(const MdnTier *tier, const MdnDsp *dsp)
{
  double x[MDN_TIER_N_TERMS], w[MDN_TIER_N_TERMS], macs = 0;
  int j;

  mdn_tier_cost_terms(tier, x);
  mdn_tier_cost_weights(&dsp->tier, mdn_tier_scan_index(tier->spec.depth), w);
  for (j = 0; j < MDN_TIER_N_TERMS; j++)
    macs += w[j] * x[j];
  return macs * mdn_exact_direct_ns(&dsp->exact);
}

double
mdn_tier_speedup_dsp(const MdnKernel *kernel, const MdnTier *tier, const MdnDsp *dsp)
{
  return mdn_exact_time(kernel, &dsp->exact, &dsp->fft) / mdn_tier_time(tier, dsp);
}

/* ---- public ---------------------------------------------------------------- */

double
mdn_model_tier_speedup(const MdnModel *model, int tier)
{
  const MdnTier *t = mdn_model_tier(model, tier);
  return t != NULL ? mdn_tier_speedup_dsp(mdn_model_kernel(model), t, mdn_dsp()) : 1.0;
}

/* Tier t is dominated when another tier claims at least its SNR and is
 * predicted at least as fast (strictly better in one of them): offering t
 * would let a higher quality run faster than a lower one. */
static gboolean
dominated(const MdnModel *model, int t, double speedup_t)
{
  const double snr_t = mdn_model_tier(model, t)->snr_db;
  int u;
  for (u = 0; u < mdn_model_n_tiers(model); u++) {
    const double snr_u = mdn_model_tier(model, u)->snr_db,
                 speedup_u = mdn_model_tier_speedup(model, u);
    if (u != t && snr_u >= snr_t && speedup_u >= speedup_t
        && (snr_u > snr_t || speedup_u > speedup_t || u < t))
      return TRUE;
  }
  return FALSE;
}

int
mdn_model_paying_tiers(const MdnModel *model, int *tiers)
{
  int t, n = 0;
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    const double speedup = mdn_model_tier_speedup(model, t);
    if (speedup >= MDN_TIER_MIN_SPEEDUP && !dominated(model, t, speedup))
      tiers[n++] = t;
  }
  return n;
}

int
mdn_quality_tier(int quality, const int *tiers, int n_tiers)
{
  if (quality >= MDN_MAX_QUALITY || n_tiers <= 0)
    return MDN_TIER_EXACT;
  return tiers[MIN(n_tiers - 1, MAX(quality, 0) * n_tiers / MDN_MAX_QUALITY)];
}

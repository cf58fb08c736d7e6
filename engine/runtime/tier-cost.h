/* tier-cost.h: the time model of a tier on the engine's kernels
 * (tier-cost.c): per-frame counts of each kind of operation, weighed by the
 * measured cost of the kernel that does it, against the exact path's
 * modelled time (exact-plan.c) on the same table.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_TIER_COST_H
#define MDN_TIER_COST_H

#include "dsp.h"
#include "mdn-private.h"

G_BEGIN_DECLS

/* The terms of the model, per frame of one group. */
enum {
  MDN_TIER_TERM_FRAME,    /* 1: bookkeeping of a frame */
  MDN_TIER_TERM_SIGMA,    /* cin: the row normalisation's input peaks */
  MDN_TIER_TERM_ENCODE,   /* cin * depth: tree levels encoded once per frame */
  MDN_TIER_TERM_REENCODE, /* cin * depth * reach / L: again at a block start (at most) */
  MDN_TIER_TERM_OUTPUT,   /* cout: outputs combined (tables, sigma, bias) */
  MDN_TIER_TERM_EXACT,    /* n_exact * cout: the exact taps' multiply-adds */
  MDN_TIER_TERM_CODEBOOK, /* n_codebooks * planes: codebooks read */
  MDN_TIER_TERM_LOOKUP,   /* n_codebooks * cout * planes: table lookups */
  MDN_TIER_TERM_HYPER,    /* cin * depth * s * (1 + reach / L): hyperplane projections */
  MDN_TIER_N_TERMS
};

/* The counts of each term per frame (x[MDN_TIER_N_TERMS]); the codebook
 * and lookup terms are of the scan slot mdn_tier_scan_index(depth). */
void mdn_tier_cost_terms(const MdnTier *tier, double *x);

/* The weights, in multiply-adds of the exact path's direct form on the same
 * table (mdn_exact_direct_ns()), of each term with the kernels of `dsp`
 * (each family's by the level of its kernel: encode_flag, output_flag,
 * scan_flag[slot]). */
void mdn_tier_cost_weights(const MdnTierDsp *dsp, int scan_slot, double *w);

/* Modelled time per frame of `tier` in ns of mdn_exact_time()'s scale, and
 * the exact path's against it (> 1: the tier is predicted faster). */
double mdn_tier_time(const MdnTier *tier, const MdnDsp *dsp);
double mdn_tier_speedup_dsp(const MdnKernel *kernel, const MdnTier *tier, const MdnDsp *dsp);

G_END_DECLS

#endif /* MDN_TIER_COST_H */

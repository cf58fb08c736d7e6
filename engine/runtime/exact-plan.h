/* exact-plan.h: the exact path's planner (exact-plan.c): the direct form,
 * or a non-uniform partitioning for the FFT path (exact.c), of least
 * modelled time with the kernels of the tables (exact-kernels.h, fft.h);
 * the history and memory a plan reads.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_EXACT_PLAN_H
#define MDN_EXACT_PLAN_H

#include "exact-kernels.h"
#include "fft.h"

G_BEGIN_DECLS

#define MDN_EXACT_MAX_LEVELS 10

/* Level l: partitions of `block` taps (expanded, dilation included) from
 * tap `start` (a multiple of block; delay s = start / block), `parts` of
 * them. */
typedef struct {
  int block, start, parts;
} MdnExactLevel;

/* Expanded taps [0, head) in direct form (the whole kernel when there are
 * no levels), then the levels, growing, each starting where the one before
 * ends, the last reaching the kernel's end. */
typedef struct {
  int head;        /* D */
  int direct_taps; /* taps k with k*dil < D */
  int n_levels;
  MdnExactLevel level[MDN_EXACT_MAX_LEVELS];
} MdnExactPlan;

/* The plan of least modelled time with the kernels of these tables. */
void mdn_exact_plan(const MdnKernel *kernel, const MdnExactDsp *dsp, const MdnFftDsp *fft,
                    MdnExactPlan *plan);
/* The plans of this process (its tables, mdn_dsp(): fixed once, so every
 * plan agrees with mdn_exact_history()). */
void mdn_exact_plan_process(const MdnKernel *kernel, MdnExactPlan *plan);
void mdn_exact_plan_direct(const MdnKernel *kernel, MdnExactPlan *plan);
/* The plan with these level sizes (blocks[0] is the head too): each later
 * level starts at the first multiple of its size that is at least twice its
 * size and past one partition of the level before. FALSE when that does not
 * make a plan (sizes not growing powers of two, a level past the end). */
gboolean mdn_exact_plan_levels(const MdnKernel *kernel, const int *blocks, int n_blocks,
                               MdnExactPlan *plan);
/* Frames of input history the plan reads. */
size_t mdn_exact_plan_history(const MdnKernel *kernel, const MdnExactPlan *plan);

/* For the benchmark and the tests (declared again where used; nothing else
 * should force a plan): partition 0: the direct form, P > 0: head P and one
 * level of partitions of P (when the kernel has 2P taps); the history of
 * those and of level sizes; the planner's level sizes (returns their count,
 * 0: direct); a plan's features for the fit of the time model, per frame:
 * {direct multiply-adds, FDL complex multiply-adds, FFT (N/2) log2 N,
 * transforms} (FALSE for a plan mdn_exact_plan_levels() refuses); the
 * planner's plan as text. */
void mdn_exact_plan_forced(const MdnKernel *kernel, int partition, MdnExactPlan *plan);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_levels(const MdnKernel *kernel, const int *blocks, int n_blocks);
int mdn_exact_plan_blocks(const MdnKernel *kernel, int *blocks);
gboolean mdn_exact_plan_features(const MdnKernel *kernel, const int *blocks, int n_blocks,
                                 double features[4]);
char *mdn_exact_plan_describe(const MdnKernel *kernel);

G_END_DECLS

#endif /* MDN_EXACT_PLAN_H */

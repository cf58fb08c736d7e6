/* exact-plan.h: the exact path's planner (exact-plan.c): direct form or
 * partitioned FFT, and which partition size, by a time model weighted per
 * kernel of the table (exact-kernels.h); the history a plan reads.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_EXACT_PLAN_H
#define MDN_EXACT_PLAN_H

#include "exact-kernels.h"

G_BEGIN_DECLS

typedef struct {
  int partition;   /* P, 0 for the direct form */
  int n_parts;     /* NP: partitions of the expanded kernel, first included */
  int direct_taps; /* taps k computed in direct form (k*dil < P, or all) */
} MdnExactPlan;

/* The plan of least modelled time with the kernels of `dsp`. */
void mdn_exact_plan(const MdnKernel *kernel, const MdnExactDsp *dsp, MdnExactPlan *plan);
/* Partition 0: the direct form; P > 0 (even): the FFT path with that
 * partition size when the expanded kernel has at least 2P taps (else the
 * direct form). */
void mdn_exact_plan_forced(const MdnKernel *kernel, int partition, MdnExactPlan *plan);
/* Frames of input history the plan reads. */
size_t mdn_exact_plan_history(const MdnKernel *kernel, const MdnExactPlan *plan);

/* For the benchmark and the tests (declared again where used; nothing else
 * should force a plan): the history of a forced plan; the operation counts
 * of one as {direct multiply-adds, complex multiply-add ops, FFT ops} per
 * frame, as the time model weighs them; the partition the planner picks
 * for this process's kernels (0: direct). */
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);
void mdn_exact_plan_ops(const MdnKernel *kernel, int partition, double ops[3]);
int mdn_exact_partition(const MdnKernel *kernel);

G_END_DECLS

#endif /* MDN_EXACT_PLAN_H */

/* fit-private.h: internal interfaces shared by fit.c, tree.c and ridge.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_FIT_PRIVATE_H
#define MDN_FIT_PRIVATE_H

#include "mdn-private.h"

G_BEGIN_DECLS

/* The rules a fit follows where the engine has a choice; mdn_fit() uses
 * mdn_fit_rules_init()'s. Tests and bench/fit-heldout compare them. */
typedef enum {
  MDN_SPLIT_INPUT,  /* the paper's: the window's squared error */
  MDN_SPLIT_METRIC, /* the output error the window's error causes, summed over
                     * every codebook that reads the code (fit.c) */
} MdnSplitRule;

typedef struct {
  MdnSplitRule split;
  /* Rows of the trees and the ridge weigh (sigma_t / gain_t)^weight_power:
   * 0 treats every block alike, 2 minimises the raw output error. */
  double weight_power;
} MdnFitRules;

void mdn_fit_rules_init(MdnFitRules *rules);
/* mdn_fit() with other rules. */
MdnModel *mdn_fit_with_rules(const MdnKernel *kernel, const float *audio, size_t n_frames,
                             const MdnFitOptions *options, const MdnFitRules *rules,
                             GError **error);

/* Called now and then from long loops: fraction 0..1 of the current step.
 * Returns FALSE when the fit must stop (cancelled). */
typedef gboolean (*MdnFitTick)(double fraction, gpointer data);

/* tree.c: learns one balanced tree of `depth` levels over n windows of s
 * columns (x[n][s], normalised). Each level uses one column shared by all of
 * its nodes, each node with its own threshold; columns and thresholds
 * minimise the summed SSE of the children's targets y[n][dim] (y = x for the
 * paper's rule; y = L^T x, with L L^T an output metric, for metric splits),
 * each row weighing weight[t] (NULL: 1).
 * Writes split[depth] and thresholds[(1 << depth) - 1] laid out as in
 * MdnTier (node of level l at (1 << l) - 1 + node). Node v of a window goes
 * right when x > threshold, exactly as mdn_tier_encode_one() compares.
 * Returns FALSE when tick asked to stop. *loss gets the final summed SSE. */
gboolean mdn_tree_learn(const float *x, size_t n, int s, const float *y, int dim,
                        const float *weight, int depth, guint8 *split, float *thresholds,
                        double *loss, MdnFitTick tick, gpointer tick_data);

/* tree.c: a plane tree: level l compares the projection planes[l] . x (s
 * floats, mdn_tier_project's rule) with its node's threshold. The planes
 * are the axes and principal directions of the targets y = R x (metric: R,
 * [s][s] upper triangular, as fit.c's channel metric; NULL: y = x) about
 * their nodes' means, whichever gains most. s <= 8. Otherwise as
 * mdn_tree_learn(). */
gboolean mdn_tree_learn_hyperplanes(const float *x, size_t n, int s, const double *metric,
                                    const float *weight, int depth, float *planes,
                                    float *thresholds, double *loss, MdnFitTick tick,
                                    gpointer tick_data);

/* ridge.c: solves the lookup tables (A^T A + lambda I) L = A^T r, where row t
 * of A is the one-hot encoding of codes[t][0..n_codebooks-1] (each code <
 * buckets) plus a constant 1 (the intercept, not penalised), by
 * Jacobi-preconditioned conjugate gradient with the matrix-vector products
 * taken from the code lists (A^T A is never formed).
 * codes: [n_rows][n_codebooks]; target: [n_rows][cout] (row-major).
 * weight: [n_rows] (NULL: 1): weighted least squares, (A^T D A + lambda I) L
 * = A^T D r with D = diag (weight).
 * lut: [n_codebooks * buckets][cout]; offset: [cout].
 * Stops when ||residual|| <= tol * ||A^T r|| per output or after max_iter
 * iterations. Returns FALSE when tick asked to stop. */
gboolean mdn_ridge_solve(const guint8 *codes, size_t n_rows, int n_codebooks, int buckets,
                         const double *target, const double *weight, int cout, double lambda,
                         double tol, int max_iter, double *lut, double *offset, int *iterations,
                         MdnFitTick tick, gpointer tick_data);

G_END_DECLS

#endif /* MDN_FIT_PRIVATE_H */

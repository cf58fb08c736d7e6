/* fit-private.h: internal interfaces shared by fit.c, tree.c and ridge.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_FIT_PRIVATE_H
#define MDN_FIT_PRIVATE_H

#include "mdn-private.h"

G_BEGIN_DECLS

/* Called now and then from long loops: fraction 0..1 of the current step.
 * Returns FALSE when the fit must stop (cancelled). */
typedef gboolean (*MdnFitTick)(double fraction, gpointer data);

/* tree.c: learns one balanced tree of `depth` levels over n windows of s
 * columns (x[n][s], normalised). Each level uses one column shared by all of
 * its nodes, each node with its own threshold; columns and thresholds
 * minimise the summed SSE of the children's targets y[n][dim] (y = x for the
 * paper's rule, or a codebook's partial output for output-aware splits).
 * Writes split[depth] and thresholds[(1 << depth) - 1] laid out as in
 * MdnTier (node of level l at (1 << l) - 1 + node). Node v of a window goes
 * right when x > threshold, exactly as mdn_tier_encode_one() compares.
 * Returns FALSE when tick asked to stop. *loss gets the final summed SSE. */
gboolean mdn_tree_learn(const float *x, size_t n, int s, const float *y, int dim, int depth,
                        guint8 *split, float *thresholds, double *loss, MdnFitTick tick,
                        gpointer tick_data);

/* ridge.c: solves the lookup tables (A^T A + lambda I) L = A^T r, where row t
 * of A is the one-hot encoding of codes[t][0..n_codebooks-1] (each code <
 * buckets) plus a constant 1 (the intercept, not penalised), by
 * Jacobi-preconditioned conjugate gradient with the matrix-vector products
 * taken from the code lists (A^T A is never formed).
 * codes: [n_rows][n_codebooks]; target: [n_rows][cout] (row-major).
 * lut: [n_codebooks * buckets][cout]; offset: [cout].
 * Stops when ||residual|| <= tol * ||A^T r|| per output or after max_iter
 * iterations. Returns FALSE when tick asked to stop. */
gboolean mdn_ridge_solve(const guint8 *codes, size_t n_rows, int n_codebooks, int buckets,
                         const double *target, int cout, double lambda, double tol, int max_iter,
                         double *lut, double *offset, int *iterations, MdnFitTick tick,
                         gpointer tick_data);

G_END_DECLS

#endif /* MDN_FIT_PRIVATE_H */

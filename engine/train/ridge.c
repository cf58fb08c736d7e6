/* ridge.c: the lookup tables as a sparse ridge regression.
 *
 * Row t of the design matrix A is the one-hot encoding of the row's codes
 * (exactly n_codebooks ones among n_codebooks * buckets columns) plus a
 * constant 1 for the intercept. The tables solve
 *     (A^T A + lambda I') L = A^T r      (I' leaves the intercept unpenalised)
 * for all outputs at once. A^T A is never formed (32768 unknowns for 2048
 * taps at s4d6 would be 8 GB dense): A^T A p is computed from the code lists
 * in two passes over the rows, 2 * n_rows * n_codebooks table reads per
 * output. Jacobi preconditioner: the diagonal of A^T A is the bucket counts.
 * With row weights D the same holds for A^T D A: each row's sum is scaled by
 * its weight before it is spread back, and the diagonal holds the buckets'
 * summed weights.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fit-private.h"

#include <math.h>
#include <string.h>

typedef struct {
  const guint8 *codes;
  const double *weight; /* [n_rows], or NULL: 1 */
  size_t n_rows;
  int n_cb, buckets, cout;
  size_t unknowns; /* n_cb * buckets + 1 (intercept last) */
  double lambda;
  double *row_sum; /* [cout] scratch */
  MdnFitTick tick; /* called every ROWS_PER_TICK rows: a product can take seconds */
  gpointer tick_data;
  double fraction; /* what the tick reports meanwhile */
} Problem;

#define ROWS_PER_TICK 8192

/* q = (A^T A + lambda I') p, for [unknowns][cout] arrays. FALSE: stop. */
static gboolean
apply(const Problem *pr, const double *p, double *q)
{
  const size_t icpt = pr->unknowns - 1;
  const int cout = pr->cout, nb = pr->buckets;
  size_t t, u;
  int c, o;

  memset(q, 0, sizeof(double) * pr->unknowns * cout);
  if (cout == 1) {
    for (t = 0; t < pr->n_rows; t++) {
      const guint8 *code = pr->codes + t * pr->n_cb;
      double acc = p[icpt];
      for (c = 0; c < pr->n_cb; c++)
        acc += p[(size_t)c * nb + code[c]];
      if (pr->weight)
        acc *= pr->weight[t];
      for (c = 0; c < pr->n_cb; c++)
        q[(size_t)c * nb + code[c]] += acc;
      q[icpt] += acc;
      if (t % ROWS_PER_TICK == ROWS_PER_TICK - 1 && pr->tick
          && !pr->tick(pr->fraction, pr->tick_data))
        return FALSE;
    }
  } else {
    double *acc = pr->row_sum;
    for (t = 0; t < pr->n_rows; t++) {
      const guint8 *code = pr->codes + t * pr->n_cb;
      memcpy(acc, p + icpt * cout, sizeof(double) * cout);
      for (c = 0; c < pr->n_cb; c++) {
        const double *pc = p + ((size_t)c * nb + code[c]) * cout;
        for (o = 0; o < cout; o++)
          acc[o] += pc[o];
      }
      if (pr->weight)
        for (o = 0; o < cout; o++)
          acc[o] *= pr->weight[t];
      for (c = 0; c < pr->n_cb; c++) {
        double *qc = q + ((size_t)c * nb + code[c]) * cout;
        for (o = 0; o < cout; o++)
          qc[o] += acc[o];
      }
      for (o = 0; o < cout; o++)
        q[icpt * cout + o] += acc[o];
      if (t % ROWS_PER_TICK == ROWS_PER_TICK - 1 && pr->tick
          && !pr->tick(pr->fraction, pr->tick_data))
        return FALSE;
    }
  }
  for (u = 0; u < icpt * cout; u++)
    q[u] += pr->lambda * p[u];
  return TRUE;
}

/* Conjugate gradient on all outputs at once: column o of each [unknowns][cout]
 * array is output o's own problem, stopped on its own when it converges. */
typedef struct {
  size_t unknowns, len; /* len = unknowns * cout */
  int cout;
  double *x, *r, *z, *p, *q; /* [len]: solution, residual, preconditioned, direction, A p */
  double *diag;              /* [unknowns]: the Jacobi preconditioner */
  double *rz, *bnorm, *pq;   /* [cout]: r.z, ||A^T r||, p.q */
  double *rnorm;             /* [cout]: ||r|| / ||A^T r|| */
  guint8 *active;            /* [cout]: not converged yet */
  int n_active;
} Cg;

static void
cg_init(Cg *cg, size_t unknowns, int cout)
{
  memset(cg, 0, sizeof *cg);
  cg->unknowns = unknowns;
  cg->cout = cout;
  cg->len = unknowns * cout;
  cg->x = g_new0(double, cg->len);
  cg->r = g_new0(double, cg->len);
  cg->z = g_new(double, cg->len);
  cg->p = g_new(double, cg->len);
  cg->q = g_new(double, cg->len);
  cg->diag = g_new0(double, unknowns);
  cg->rz = g_new0(double, cout);
  cg->bnorm = g_new0(double, cout);
  cg->pq = g_new0(double, cout);
  cg->rnorm = g_new0(double, cout);
  cg->active = g_new0(guint8, cout);
}

static void
cg_clear(Cg *cg)
{
  g_free(cg->x);
  g_free(cg->r);
  g_free(cg->z);
  g_free(cg->p);
  g_free(cg->q);
  g_free(cg->diag);
  g_free(cg->rz);
  g_free(cg->bnorm);
  g_free(cg->pq);
  g_free(cg->rnorm);
  g_free(cg->active);
}

/* b = A^T D r (kept in cg->r: the initial residual for x = 0) and the
 * diagonal of A^T D A + lambda I' (bucket weights, the rows' total weight
 * for the intercept). */
static void
cg_right_hand_side(Cg *cg, const Problem *pr, const double *target)
{
  const size_t icpt = cg->unknowns - 1;
  const int cout = cg->cout;
  double total = 0;
  size_t t, u;
  int c, o;

  for (t = 0; t < pr->n_rows; t++) {
    const guint8 *code = pr->codes + t * pr->n_cb;
    const double *rt = target + t * cout;
    const double wt = pr->weight ? pr->weight[t] : 1.0;
    for (c = 0; c < pr->n_cb; c++) {
      const size_t k = (size_t)c * pr->buckets + code[c];
      cg->diag[k] += wt;
      for (o = 0; o < cout; o++)
        cg->r[k * cout + o] += wt * rt[o];
    }
    for (o = 0; o < cout; o++)
      cg->r[icpt * cout + o] += wt * rt[o];
    total += wt;
  }
  cg->diag[icpt] = total > 0 ? total : 1;
  for (u = 0; u < icpt; u++)
    cg->diag[u] += pr->lambda;
}

/* The first direction p = z = M^-1 r, and which outputs have work to do. */
static void
cg_start(Cg *cg)
{
  const int cout = cg->cout;
  size_t u;
  int o;

  for (o = 0; o < cout; o++) {
    for (u = 0; u < cg->unknowns; u++)
      cg->bnorm[o] += cg->r[u * cout + o] * cg->r[u * cout + o];
    cg->bnorm[o] = sqrt(cg->bnorm[o]);
    cg->active[o] = cg->bnorm[o] > 0;
    cg->n_active += cg->active[o];
  }
  for (u = 0; u < cg->len; u++)
    cg->z[u] = cg->p[u] = cg->r[u] / cg->diag[u / cout];
  for (u = 0; u < cg->len; u++)
    cg->rz[u % cout] += cg->r[u] * cg->z[u];
}

/* Moves x along p (q = A p given) and retires the outputs that converged;
 * returns the worst relative residual of those still active. */
static double
cg_update(Cg *cg, double tol)
{
  const int cout = cg->cout;
  double worst = 0;
  size_t u;
  int o;

  memset(cg->pq, 0, sizeof(double) * cout);
  for (u = 0; u < cg->len; u++)
    cg->pq[u % cout] += cg->p[u] * cg->q[u];
  memset(cg->rnorm, 0, sizeof(double) * cout);
  for (u = 0; u < cg->len; u++) {
    o = (int)(u % cout);
    if (cg->active[o] && cg->pq[o] > 0) {
      double alpha = cg->rz[o] / cg->pq[o];
      cg->x[u] += alpha * cg->p[u];
      cg->r[u] -= alpha * cg->q[u];
    }
    cg->rnorm[o] += cg->r[u] * cg->r[u];
  }
  for (o = 0; o < cout; o++) {
    if (!cg->active[o])
      continue;
    cg->rnorm[o] = sqrt(cg->rnorm[o]) / cg->bnorm[o];
    if (cg->rnorm[o] <= tol || !(cg->pq[o] > 0)) {
      cg->active[o] = 0;
      cg->n_active--;
    } else if (cg->rnorm[o] > worst)
      worst = cg->rnorm[o];
  }
  return worst;
}

/* The next direction of the active outputs: p = z + (r.z new / r.z) p. */
static void
cg_next_direction(Cg *cg)
{
  const int cout = cg->cout;
  double *rz_new = cg->pq; /* reuse: pq is no longer needed this iteration */
  size_t u;
  int o;

  memset(rz_new, 0, sizeof(double) * cout);
  for (u = 0; u < cg->len; u++) {
    cg->z[u] = cg->r[u] / cg->diag[u / cout];
    rz_new[u % cout] += cg->r[u] * cg->z[u];
  }
  for (u = 0; u < cg->len; u++) {
    o = (int)(u % cout);
    if (cg->active[o])
      cg->p[u] = cg->z[u] + (rz_new[o] / cg->rz[o]) * cg->p[u];
  }
  for (o = 0; o < cout; o++)
    if (cg->active[o])
      cg->rz[o] = rz_new[o];
}

/* Progress of iteration `it`: by the residual's way down to tol (log
 * scale), else by count. *start_ratio is the first iteration's residual. */
static double
cg_fraction(int it, int max_iter, double worst, double tol, double *start_ratio)
{
  double frac = (double)it / max_iter;

  if (it == 1)
    *start_ratio = worst;
  if (*start_ratio > tol && worst > 0 && worst < *start_ratio)
    frac = MAX(frac, log(*start_ratio / worst) / log(*start_ratio / tol));
  return MIN(frac, 1.0);
}

gboolean
mdn_ridge_solve(const guint8 *codes, size_t n_rows, int n_codebooks, int buckets,
                const double *target, const double *weight, int cout, double lambda, double tol,
                int max_iter, double *lut, double *offset, int *iterations, MdnFitTick tick,
                gpointer tick_data)
{
  Problem pr = {
    .codes = codes,
    .weight = weight,
    .n_rows = n_rows,
    .n_cb = n_codebooks,
    .buckets = buckets,
    .cout = cout,
    .unknowns = (size_t)n_codebooks * buckets + 1,
    .lambda = lambda,
    .tick = tick,
    .tick_data = tick_data,
  };
  const size_t icpt = pr.unknowns - 1;
  double start_ratio = 1;
  gboolean ok = TRUE;
  int it = 0;
  Cg cg;

  pr.row_sum = g_new(double, cout);
  cg_init(&cg, pr.unknowns, cout);
  cg_right_hand_side(&cg, &pr, target);
  cg_start(&cg);
  while (ok && cg.n_active > 0 && it < max_iter) {
    double worst;
    if (!apply(&pr, cg.p, cg.q)) {
      ok = FALSE;
      break;
    }
    worst = cg_update(&cg, tol);
    it++;
    if (cg.n_active == 0)
      break;
    cg_next_direction(&cg);
    if (tick) {
      pr.fraction = cg_fraction(it, max_iter, worst, tol, &start_ratio);
      ok = tick(pr.fraction, tick_data);
    }
  }
  if (ok) {
    memcpy(lut, cg.x, sizeof(double) * icpt * cout);
    memcpy(offset, cg.x + icpt * cout, sizeof(double) * cout);
    if (iterations)
      *iterations = it;
  }
  cg_clear(&cg);
  g_free(pr.row_sum);
  return ok;
}

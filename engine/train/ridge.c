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
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fit-private.h"

#include <math.h>
#include <string.h>

typedef struct {
  const guint8 *codes;
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

gboolean
mdn_ridge_solve(const guint8 *codes, size_t n_rows, int n_codebooks, int buckets,
                const double *target, int cout, double lambda, double tol, int max_iter,
                double *lut, double *offset, int *iterations, MdnFitTick tick, gpointer tick_data)
{
  Problem pr = {
    .codes = codes,
    .n_rows = n_rows,
    .n_cb = n_codebooks,
    .buckets = buckets,
    .cout = cout,
    .unknowns = (size_t)n_codebooks * buckets + 1,
    .lambda = lambda,
    .tick = tick,
    .tick_data = tick_data,
  };
  const size_t nu = pr.unknowns, icpt = nu - 1, len = nu * cout;
  double *x = g_new0(double, len), *r = g_new0(double, len), *z = g_new(double, len);
  double *p = g_new(double, len), *q = g_new(double, len);
  double *diag = g_new0(double, nu);
  double *rz = g_new0(double, cout), *bnorm = g_new0(double, cout);
  double *pq = g_new0(double, cout), *rnorm = g_new0(double, cout);
  guint8 *active = g_new0(guint8, cout);
  double start_ratio = 1;
  gboolean ok = TRUE;
  size_t t, u;
  int c, o, it = 0, n_active = 0;

  pr.row_sum = g_new(double, cout);

  /* b = A^T r (kept in r: the initial residual for x = 0) and the diagonal. */
  for (t = 0; t < n_rows; t++) {
    const guint8 *code = codes + t * n_codebooks;
    const double *rt = target + t * cout;
    for (c = 0; c < n_codebooks; c++) {
      const size_t k = (size_t)c * buckets + code[c];
      diag[k] += 1;
      for (o = 0; o < cout; o++)
        r[k * cout + o] += rt[o];
    }
    for (o = 0; o < cout; o++)
      r[icpt * cout + o] += rt[o];
  }
  diag[icpt] = n_rows > 0 ? (double)n_rows : 1;
  for (u = 0; u < icpt; u++)
    diag[u] += lambda;

  for (o = 0; o < cout; o++) {
    for (u = 0; u < nu; u++)
      bnorm[o] += r[u * cout + o] * r[u * cout + o];
    bnorm[o] = sqrt(bnorm[o]);
    active[o] = bnorm[o] > 0;
    n_active += active[o];
  }
  for (u = 0; u < len; u++)
    z[u] = p[u] = r[u] / diag[u / cout];
  for (u = 0; u < len; u++)
    rz[u % cout] += r[u] * z[u];

  while (n_active > 0 && it < max_iter) {
    double worst = 0;
    if (!apply(&pr, p, q)) {
      ok = FALSE;
      break;
    }
    memset(pq, 0, sizeof(double) * cout);
    for (u = 0; u < len; u++)
      pq[u % cout] += p[u] * q[u];
    memset(rnorm, 0, sizeof(double) * cout);
    for (u = 0; u < len; u++) {
      o = (int)(u % cout);
      if (active[o] && pq[o] > 0) {
        double alpha = rz[o] / pq[o];
        x[u] += alpha * p[u];
        r[u] -= alpha * q[u];
      }
      rnorm[o] += r[u] * r[u];
    }
    it++;
    for (o = 0; o < cout; o++) {
      if (!active[o])
        continue;
      rnorm[o] = sqrt(rnorm[o]) / bnorm[o];
      if (rnorm[o] <= tol || !(pq[o] > 0)) {
        active[o] = 0;
        n_active--;
      } else if (rnorm[o] > worst)
        worst = rnorm[o];
    }
    if (n_active == 0)
      break;
    {
      double *rz_new = pq; /* reuse: pq is no longer needed this iteration */
      memset(rz_new, 0, sizeof(double) * cout);
      for (u = 0; u < len; u++) {
        z[u] = r[u] / diag[u / cout];
        rz_new[u % cout] += r[u] * z[u];
      }
      for (u = 0; u < len; u++) {
        o = (int)(u % cout);
        if (active[o])
          p[u] = z[u] + (rz_new[o] / rz[o]) * p[u];
      }
      for (o = 0; o < cout; o++)
        if (active[o])
          rz[o] = rz_new[o];
    }
    if (tick) {
      /* Progress by the residual's way down to tol (log scale), else by count. */
      double frac = (double)it / max_iter;
      if (it == 1)
        start_ratio = worst;
      if (start_ratio > tol && worst > 0 && worst < start_ratio)
        frac = MAX(frac, log(start_ratio / worst) / log(start_ratio / tol));
      pr.fraction = MIN(frac, 1.0);
      if (!tick(pr.fraction, tick_data)) {
        ok = FALSE;
        break;
      }
    }
  }

  if (ok) {
    memcpy(lut, x, sizeof(double) * icpt * cout);
    memcpy(offset, x + icpt * cout, sizeof(double) * cout);
    if (iterations)
      *iterations = it;
  }
  g_free(x);
  g_free(r);
  g_free(z);
  g_free(p);
  g_free(q);
  g_free(diag);
  g_free(rz);
  g_free(bnorm);
  g_free(pq);
  g_free(rnorm);
  g_free(active);
  g_free(pr.row_sum);
  return ok;
}

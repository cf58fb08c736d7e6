/* tree.c: greedy learning of one MADDNESS encoder tree (Blalock & Guttag
 * 2021, section 4.2): every level splits on ONE column shared by all of its
 * nodes, each node with its own threshold; the column is the one whose best
 * per-node thresholds leave the least summed SSE in the children.
 *
 * SSE of a set = sum w ||y||^2 - ||sum w y||^2 / sum w (w: the rows' weights,
 * 1 unless given), so for a fixed node the best split maximises the gain
 * ||S_left||^2 / W_left + ||S_right||^2 / W_right.
 * Each column is sorted once; a level scans it in order, keeping running
 * left-side sums per node, so a level costs O(n * dim) per column.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fit-private.h"

#include <string.h>

typedef struct {
  float value;
  guint32 index;
} SortItem;

static int
cmp_item(const void *a, const void *b)
{
  const SortItem *x = a, *y = b;
  if (x->value < y->value)
    return -1;
  if (x->value > y->value)
    return 1;
  /* Ties by index: a total order, so the result does not depend on qsort. */
  return (x->index > y->index) - (x->index < y->index);
}

static double
sq_norm(const double *v, int dim)
{
  double acc = 0;
  int d;
  for (d = 0; d < dim; d++)
    acc += v[d] * v[d];
  return acc;
}

/* ||total - left||^2 without forming the difference. */
static double
sq_norm_diff(const double *total, const double *left, int dim)
{
  double acc = 0;
  int d;
  for (d = 0; d < dim; d++) {
    double r = total[d] - left[d];
    acc += r * r;
  }
  return acc;
}

/* A threshold t with lo <= t < hi, so that lo goes left and hi right. */
static float
threshold_between(float lo, float hi)
{
  float mid = (float)(0.5 * ((double)lo + (double)hi));
  if (!(mid < hi) || mid < lo)
    mid = lo;
  return mid;
}

/* The work of learning one tree: the rows, the columns' orders and the
 * per-node sums of the level being split. */
typedef struct {
  const float *x;      /* [n][s] windows */
  const float *y;      /* [n][dim] targets */
  const float *weight; /* [n], or NULL: 1 */
  size_t n;
  int s, dim;
  guint32 **order;       /* [s][n]: the rows by value of column j */
  guint8 *node;          /* [n]: each row's node in the current level (depth <= 8: < 128) */
  double *total_sum;     /* [nodes][dim]: the node's weighted targets summed */
  double *total_weight;  /* [nodes] */
  double *left_sum;      /* [nodes][dim]: of the rows scanned so far */
  double *left_weight;   /* [nodes] */
  size_t *left_count;    /* [nodes] */
  float *last;           /* [nodes]: the last value scanned */
  double *gain;          /* [nodes]: the best split's gain so far */
  float *threshold;      /* [nodes]: its threshold */
  guint8 *found;         /* [nodes]: a split was found */
  float *best_threshold; /* [nodes]: of the best column */
  MdnFitTick tick;
  gpointer tick_data;
  int step, steps;
} TreeWork;

static void
tree_work_init(TreeWork *w, int max_nodes)
{
  w->order = g_new0(guint32 *, w->s);
  w->node = g_new0(guint8, w->n ? w->n : 1);
  w->total_sum = g_new0(double, (size_t)max_nodes * w->dim);
  w->left_sum = g_new0(double, (size_t)max_nodes * w->dim);
  w->total_weight = g_new0(double, max_nodes);
  w->left_weight = g_new0(double, max_nodes);
  w->left_count = g_new0(size_t, max_nodes);
  w->last = g_new0(float, max_nodes);
  w->gain = g_new0(double, max_nodes);
  w->threshold = g_new0(float, max_nodes);
  w->best_threshold = g_new0(float, max_nodes);
  w->found = g_new0(guint8, max_nodes);
}

static void
tree_work_clear(TreeWork *w)
{
  int j;

  for (j = 0; j < w->s; j++)
    g_free(w->order[j]);
  g_free(w->order);
  g_free(w->node);
  g_free(w->total_sum);
  g_free(w->left_sum);
  g_free(w->total_weight);
  g_free(w->left_weight);
  g_free(w->left_count);
  g_free(w->last);
  g_free(w->gain);
  g_free(w->threshold);
  g_free(w->best_threshold);
  g_free(w->found);
}

/* One step of the tree's work done: FALSE when tick asks to stop. */
static gboolean
tree_tick(TreeWork *w)
{
  return !w->tick || w->tick((double)++w->step / w->steps, w->tick_data);
}

/* Sorts each column once; every level scans it in this order. */
static gboolean
sort_columns(TreeWork *w)
{
  SortItem *items = g_new(SortItem, w->n ? w->n : 1);
  gboolean ok = TRUE;
  size_t t;
  int j;

  for (j = 0; j < w->s && ok; j++) {
    for (t = 0; t < w->n; t++) {
      items[t].value = w->x[t * w->s + j];
      items[t].index = (guint32)t;
    }
    qsort(items, w->n, sizeof *items, cmp_item);
    w->order[j] = g_new(guint32, w->n ? w->n : 1);
    for (t = 0; t < w->n; t++)
      w->order[j][t] = items[t].index;
    ok = tree_tick(w);
  }
  g_free(items);
  return ok;
}

static double
row_weight(const TreeWork *w, size_t t)
{
  return w->weight ? (double)w->weight[t] : 1.0;
}

/* The targets' weight and weighted sum per node of the current level. */
static void
node_totals(TreeWork *w, int nodes)
{
  size_t t;
  int d;

  memset(w->total_sum, 0, sizeof(double) * nodes * w->dim);
  memset(w->total_weight, 0, sizeof(double) * nodes);
  for (t = 0; t < w->n; t++) {
    double *ts = w->total_sum + (size_t)w->node[t] * w->dim;
    const float *yt = w->y + t * w->dim;
    const double wt = row_weight(w, t);
    w->total_weight[w->node[t]] += wt;
    for (d = 0; d < w->dim; d++)
      ts[d] += wt * yt[d];
  }
}

/* Scans the values vals[t * stride] (t < n) in the order ord: each node's
 * best threshold (w->threshold) and the summed gain of the level's best
 * splits on them. */
static double
scan_values(TreeWork *w, const float *vals, size_t stride, const guint32 *ord, int nodes)
{
  double total = 0;
  size_t t;
  int v, d;

  memset(w->left_sum, 0, sizeof(double) * nodes * w->dim);
  memset(w->left_weight, 0, sizeof(double) * nodes);
  memset(w->left_count, 0, sizeof(size_t) * nodes);
  for (v = 0; v < nodes; v++) {
    /* No split (all left) is the baseline for each node. */
    w->gain[v] = w->total_weight[v] > 0
                     ? sq_norm(w->total_sum + (size_t)v * w->dim, w->dim) / w->total_weight[v]
                     : 0;
    w->threshold[v] = 0;
    w->last[v] = 0;
    w->found[v] = 0;
  }
  for (t = 0; t < w->n; t++) {
    const guint32 idx = ord[t];
    const int nd = w->node[idx];
    const float val = vals[(size_t)idx * stride];
    double *ls = w->left_sum + (size_t)nd * w->dim;
    const float *yt = w->y + (size_t)idx * w->dim;
    const double wt = row_weight(w, idx);
    const size_t n_left = w->left_count[nd];

    if (n_left > 0 && val > w->last[nd]) {
      const double *ts = w->total_sum + (size_t)nd * w->dim;
      const double w_left = w->left_weight[nd], w_right = w->total_weight[nd] - w_left;
      if (w_left > 0 && w_right > 0) {
        double g = sq_norm(ls, w->dim) / w_left + sq_norm_diff(ts, ls, w->dim) / w_right;
        if (g > w->gain[nd]) {
          w->gain[nd] = g;
          w->threshold[nd] = threshold_between(w->last[nd], val);
          w->found[nd] = 1;
        }
      }
    }
    w->left_count[nd] = n_left + 1;
    w->left_weight[nd] += wt;
    for (d = 0; d < w->dim; d++)
      ls[d] += wt * yt[d];
    w->last[nd] = val;
  }
  for (v = 0; v < nodes; v++) {
    /* A node that never split sends everything left: its largest value. */
    if (!w->found[v])
      w->threshold[v] = w->last[v];
    total += w->gain[v];
  }
  return total;
}

/* Level l: the column whose best per-node thresholds gain the most, written
 * to split[l] and the level's thresholds; the rows move to their children.
 * *level_gain gets the gain. FALSE when tick asked to stop. */
static gboolean
learn_level(TreeWork *w, int l, guint8 *split, float *thresholds, double *level_gain)
{
  const int nodes = 1 << l;
  double best_total = -1;
  int best_col = 0, j;
  size_t t;

  node_totals(w, nodes);
  for (j = 0; j < w->s; j++) {
    double total = scan_values(w, w->x + j, w->s, w->order[j], nodes);
    if (total > best_total) {
      best_total = total;
      best_col = j;
      memcpy(w->best_threshold, w->threshold, sizeof(float) * nodes);
    }
    if (!tree_tick(w))
      return FALSE;
  }
  split[l] = (guint8)best_col;
  memcpy(thresholds + (nodes - 1), w->best_threshold, sizeof(float) * nodes);
  *level_gain = best_total;
  for (t = 0; t < w->n; t++) {
    const int nd = w->node[t];
    w->node[t] = (guint8)(2 * nd + (w->x[t * w->s + best_col] > w->best_threshold[nd]));
  }
  return TRUE;
}

gboolean
mdn_tree_learn(const float *x, size_t n, int s, const float *y, int dim, const float *weight,
               int depth, guint8 *split, float *thresholds, double *loss, MdnFitTick tick,
               gpointer tick_data)
{
  TreeWork w = {
    .x = x,
    .y = y,
    .weight = weight,
    .n = n,
    .s = s,
    .dim = dim,
    .tick = tick,
    .tick_data = tick_data,
    .steps = s * (depth + 1),
  };
  double sumsq = 0, level_gain = 0;
  gboolean ok;
  size_t t;
  int d, l;

  g_return_val_if_fail(depth >= 1 && depth <= 8 && s >= 1 && s <= 255, FALSE);
  tree_work_init(&w, 1 << (depth - 1));
  ok = sort_columns(&w);
  for (t = 0; t < n; t++)
    for (d = 0; d < dim; d++)
      sumsq += row_weight(&w, t) * y[t * dim + d] * y[t * dim + d];
  for (l = 0; l < depth && ok; l++)
    ok = learn_level(&w, l, split, thresholds, &level_gain);
  if (ok && loss)
    *loss = sumsq - level_gain;
  tree_work_clear(&w);
  return ok;
}

/* ---- hyperplane trees ------------------------------------------------------
 *
 * Level l compares the projection p = plane[l] . window with its node's
 * threshold (the same rule as the axis tree, whose level l is the plane
 * e_split[l]). Candidates per level: every axis, the two leading principal
 * directions of the rows' scatter about their nodes' means (pooled over the
 * level's nodes) and the leading one of each of the PLANE_NODE_CANDIDATES
 * nodes with the most scatter, all in the targets' space y = R x and brought
 * back to the windows' (u . y = (R^T u) . x). Each is scored by the same scan
 * as an axis; the best is kept. */

#define PLANE_POOLED_CANDIDATES 2
#define PLANE_NODE_CANDIDATES 8
#define PLANE_MAX_S 8

/* Cyclic Jacobi: the eigenvalues of the symmetric n x n matrix a (destroyed)
 * into vals, eigenvector k into column k of vecs (row-major n x n). */
static void
sym_eigen(double *a, int n, double *vals, double *vecs)
{
  double frob = 0;
  int sweep, p, q, k;

  for (p = 0; p < n * n; p++)
    frob += a[p] * a[p];
  for (p = 0; p < n; p++)
    for (q = 0; q < n; q++)
      vecs[p * n + q] = p == q;
  for (sweep = 0; sweep < 64; sweep++) {
    double off = 0;
    for (p = 0; p < n; p++)
      for (q = p + 1; q < n; q++)
        off += a[p * n + q] * a[p * n + q];
    if (!(off > 1e-28 * frob))
      break;
    for (p = 0; p < n; p++)
      for (q = p + 1; q < n; q++) {
        double apq = a[p * n + q], theta, t, c, sn;
        if (apq == 0)
          continue;
        theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        c = 1 / sqrt(t * t + 1);
        sn = t * c;
        for (k = 0; k < n; k++) {
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - sn * akq;
          a[k * n + q] = sn * akp + c * akq;
        }
        for (k = 0; k < n; k++) {
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - sn * aqk;
          a[q * n + k] = sn * apk + c * aqk;
        }
        for (k = 0; k < n; k++) {
          double vkp = vecs[k * n + p], vkq = vecs[k * n + q];
          vecs[k * n + p] = c * vkp - sn * vkq;
          vecs[k * n + q] = sn * vkp + c * vkq;
        }
      }
  }
  for (k = 0; k < n; k++)
    vals[k] = a[k * n + k];
}

/* The plane of direction u (y space) in window space, R^T u, scaled to a
 * largest component of +1 (the thresholds take the scale; the sign makes
 * the result unique). FALSE for a null direction. */
static gboolean
plane_of(const double *u, const double *r, int s, float *plane)
{
  double v[PLANE_MAX_S], big = 0;
  int a, b, at = 0;

  for (b = 0; b < s; b++) {
    v[b] = 0;
    if (!r)
      v[b] = u[b];
    else
      for (a = 0; a <= b; a++)
        v[b] += r[a * s + b] * u[a];
  }
  for (b = 0; b < s; b++)
    if (fabs(v[b]) > big) {
      big = fabs(v[b]);
      at = b;
    }
  if (!(big > 0))
    return FALSE;
  if (v[at] < 0)
    big = -big;
  for (b = 0; b < s; b++)
    plane[b] = (float)(v[b] / big);
  return TRUE;
}

/* The projection of row t on plane, in float as the runtime computes it
 * (mdn_tier_encode_one): terms added in column order. */
static float
project(const float *plane, const float *xt, int s)
{
  float p = 0.0f;
  int j;
  for (j = 0; j < s; j++)
    p += plane[j] * xt[j];
  return p;
}

/* The level's candidate planes (beyond the axes) into cand[][s]: the leading
 * eigenvectors of the pooled scatter about the nodes' means and of the
 * scatter of the nodes with most. Returns how many. */
static int
plane_candidates(const TreeWork *w, const double *r, int nodes, float *cand)
{
  const int s = w->s;
  double *scatter = g_new0(double, (size_t)(nodes + 1) * s * s), *mean = g_new0(double, nodes *s);
  double vals[PLANE_MAX_S], vecs[PLANE_MAX_S * PLANE_MAX_S], u[PLANE_MAX_S];
  double *pooled = scatter + (size_t)nodes * s * s, *trace = g_new0(double, nodes);
  int *by_trace = g_new(int, nodes), n_cand = 0, v, a, b, k;
  size_t t;

  for (v = 0; v < nodes; v++)
    for (a = 0; a < s; a++)
      mean[v * s + a]
          = w->total_weight[v] > 0 ? w->total_sum[(size_t)v * s + a] / w->total_weight[v] : 0;
  for (t = 0; t < w->n; t++) {
    const int nd = w->node[t];
    const double wt = row_weight(w, t);
    double d[PLANE_MAX_S], *sc = scatter + (size_t)nd * s * s;
    for (a = 0; a < s; a++)
      d[a] = w->y[t * s + a] - mean[nd * s + a];
    for (a = 0; a < s; a++)
      for (b = a; b < s; b++)
        sc[a * s + b] += wt * d[a] * d[b];
  }
  for (v = 0; v < nodes; v++) {
    double *sc = scatter + (size_t)v * s * s;
    for (a = 0; a < s; a++)
      for (b = a; b < s; b++) {
        sc[b * s + a] = sc[a * s + b];
        pooled[a * s + b] += sc[a * s + b];
        if (a != b)
          pooled[b * s + a] += sc[a * s + b];
      }
    for (a = 0; a < s; a++)
      trace[v] += sc[a * s + a];
    by_trace[v] = v;
  }
  sym_eigen(pooled, s, vals, vecs);
  for (k = 0; k < PLANE_POOLED_CANDIDATES && k < s; k++) {
    int best = -1;
    for (a = 0; a < s; a++) /* the k-th largest eigenvalue: skip those taken */
      if (!isnan(vals[a]) && (best < 0 || vals[a] > vals[best]))
        best = a;
    if (best < 0)
      break;
    for (a = 0; a < s; a++)
      u[a] = vecs[a * s + best];
    vals[best] = NAN;
    n_cand += plane_of(u, r, s, cand + (size_t)n_cand * s);
  }
  /* the nodes by scatter, most first (insertion sort: ties by node) */
  for (v = 1; v < nodes; v++)
    for (k = v; k > 0 && trace[by_trace[k]] > trace[by_trace[k - 1]]; k--) {
      int tmp = by_trace[k];
      by_trace[k] = by_trace[k - 1];
      by_trace[k - 1] = tmp;
    }
  for (k = 0; k < nodes && k < PLANE_NODE_CANDIDATES && nodes > 1; k++) {
    double *sc = scatter + (size_t)by_trace[k] * s * s;
    int best = 0;
    if (!(trace[by_trace[k]] > 0))
      break;
    sym_eigen(sc, s, vals, vecs);
    for (a = 1; a < s; a++)
      if (vals[a] > vals[best])
        best = a;
    for (a = 0; a < s; a++)
      u[a] = vecs[a * s + best];
    n_cand += plane_of(u, r, s, cand + (size_t)n_cand * s);
  }
  g_free(scatter);
  g_free(mean);
  g_free(trace);
  g_free(by_trace);
  return n_cand;
}

/* Sorts the rows by proj into ord. */
static void
sort_by(const float *proj, size_t n, SortItem *items, guint32 *ord)
{
  size_t t;

  for (t = 0; t < n; t++) {
    items[t].value = proj[t];
    items[t].index = (guint32)t;
  }
  qsort(items, n, sizeof *items, cmp_item);
  for (t = 0; t < n; t++)
    ord[t] = items[t].index;
}

/* Level l of a plane tree: the axis or candidate plane whose best per-node
 * thresholds gain the most, written to plane (s floats) and the level's
 * thresholds; the rows move to their children. FALSE when tick asked to
 * stop. */
static gboolean
learn_plane_level(TreeWork *w, const double *r, int l, float *plane, float *thresholds,
                  double *level_gain)
{
  const int nodes = 1 << l, s = w->s;
  float *cand = g_new(float, (size_t)(PLANE_POOLED_CANDIDATES + PLANE_NODE_CANDIDATES) * s);
  float *proj = g_new(float, w->n ? w->n : 1), *best_proj = g_new(float, w->n ? w->n : 1);
  guint32 *ord = g_new(guint32, w->n ? w->n : 1);
  SortItem *items = g_new(SortItem, w->n ? w->n : 1);
  double best_total = -1;
  gboolean ok = TRUE;
  int j, c, n_cand;
  size_t t;

  node_totals(w, nodes);
  for (j = 0; j < s && ok; j++) {
    double total = scan_values(w, w->x + j, s, w->order[j], nodes);
    if (total > best_total) {
      best_total = total;
      memset(plane, 0, sizeof(float) * s);
      plane[j] = 1.0f;
      memcpy(w->best_threshold, w->threshold, sizeof(float) * nodes);
    }
    ok = tree_tick(w);
  }
  n_cand = ok ? plane_candidates(w, r, nodes, cand) : 0;
  for (c = 0; c < n_cand && ok; c++) {
    const float *pl = cand + (size_t)c * s;
    double total;
    for (t = 0; t < w->n; t++)
      proj[t] = project(pl, w->x + t * s, s);
    sort_by(proj, w->n, items, ord);
    total = scan_values(w, proj, 1, ord, nodes);
    if (total > best_total) {
      best_total = total;
      memcpy(plane, pl, sizeof(float) * s);
      memcpy(w->best_threshold, w->threshold, sizeof(float) * nodes);
    }
    ok = tree_tick(w);
  }
  if (ok) {
    memcpy(thresholds + (nodes - 1), w->best_threshold, sizeof(float) * nodes);
    *level_gain = best_total;
    for (t = 0; t < w->n; t++) {
      const int nd = w->node[t];
      w->node[t] = (guint8)(2 * nd + (project(plane, w->x + t * s, s) > w->best_threshold[nd]));
    }
  }
  g_free(cand);
  g_free(proj);
  g_free(best_proj);
  g_free(ord);
  g_free(items);
  return ok;
}

gboolean
mdn_tree_learn_hyperplanes(const float *x, size_t n, int s, const double *metric,
                           const float *weight, int depth, float *planes, float *thresholds,
                           double *loss, MdnFitTick tick, gpointer tick_data)
{
  float *y = g_new(float, n *s + 1);
  TreeWork w = {
    .x = x,
    .y = y,
    .weight = weight,
    .n = n,
    .s = s,
    .dim = s,
    .tick = tick,
    .tick_data = tick_data,
    .steps = s + depth * (s + PLANE_POOLED_CANDIDATES + PLANE_NODE_CANDIDATES),
  };
  double sumsq = 0, level_gain = 0;
  gboolean ok;
  size_t t;
  int a, b, l;

  g_return_val_if_fail(depth >= 1 && depth <= 8 && s >= 1 && s <= PLANE_MAX_S, FALSE);
  for (t = 0; t < n; t++)
    for (a = 0; a < s; a++) {
      double acc = metric ? 0 : x[t * s + a];
      if (metric)
        for (b = a; b < s; b++)
          acc += metric[a * s + b] * x[t * s + b];
      y[t * s + a] = (float)acc;
      sumsq += row_weight(&w, t) * y[t * s + a] * y[t * s + a];
    }
  tree_work_init(&w, 1 << (depth - 1));
  ok = sort_columns(&w);
  for (l = 0; l < depth && ok; l++)
    ok = learn_plane_level(&w, metric, l, planes + (size_t)l * s, thresholds, &level_gain);
  if (ok && loss)
    *loss = sumsq - level_gain;
  tree_work_clear(&w);
  g_free(y);
  return ok;
}

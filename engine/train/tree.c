/* tree.c: greedy learning of one MADDNESS encoder tree (Blalock & Guttag
 * 2021, section 4.2): every level splits on ONE column shared by all of its
 * nodes, each node with its own threshold; the column is the one whose best
 * per-node thresholds leave the least summed SSE in the children.
 *
 * SSE of a set = sum ||y||^2 - ||sum y||^2 / count, so for a fixed node the
 * best split maximises the gain ||S_left||^2 / n_left + ||S_right||^2 / n_right.
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
  const float *x; /* [n][s] windows */
  const float *y; /* [n][dim] targets */
  size_t n;
  int s, dim;
  guint32 **order;       /* [s][n]: the rows by value of column j */
  guint8 *node;          /* [n]: each row's node in the current level (depth <= 8: < 128) */
  double *total_sum;     /* [nodes][dim]: the node's targets summed */
  size_t *total_count;   /* [nodes] */
  double *left_sum;      /* [nodes][dim]: of the rows scanned so far */
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
  w->total_count = g_new0(size_t, max_nodes);
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
  g_free(w->total_count);
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

/* The targets' count and sum per node of the current level. */
static void
node_totals(TreeWork *w, int nodes)
{
  size_t t;
  int d;

  memset(w->total_sum, 0, sizeof(double) * nodes * w->dim);
  memset(w->total_count, 0, sizeof(size_t) * nodes);
  for (t = 0; t < w->n; t++) {
    double *ts = w->total_sum + (size_t)w->node[t] * w->dim;
    const float *yt = w->y + t * w->dim;
    w->total_count[w->node[t]]++;
    for (d = 0; d < w->dim; d++)
      ts[d] += yt[d];
  }
}

/* Scans column j in order: each node's best threshold (w->threshold) and
 * the summed gain of the level's best splits on it. */
static double
scan_column(TreeWork *w, int j, int nodes)
{
  const guint32 *ord = w->order[j];
  double total = 0;
  size_t t;
  int v, d;

  memset(w->left_sum, 0, sizeof(double) * nodes * w->dim);
  memset(w->left_count, 0, sizeof(size_t) * nodes);
  for (v = 0; v < nodes; v++) {
    /* No split (all left) is the baseline for each node. */
    w->gain[v] = w->total_count[v]
                     ? sq_norm(w->total_sum + (size_t)v * w->dim, w->dim) / w->total_count[v]
                     : 0;
    w->threshold[v] = 0;
    w->last[v] = 0;
    w->found[v] = 0;
  }
  for (t = 0; t < w->n; t++) {
    const guint32 idx = ord[t];
    const int nd = w->node[idx];
    const float val = w->x[(size_t)idx * w->s + j];
    double *ls = w->left_sum + (size_t)nd * w->dim;
    const float *yt = w->y + (size_t)idx * w->dim;
    size_t n_left = w->left_count[nd];

    if (n_left > 0 && val > w->last[nd]) {
      const double *ts = w->total_sum + (size_t)nd * w->dim;
      size_t n_right = w->total_count[nd] - n_left;
      double g = sq_norm(ls, w->dim) / n_left + sq_norm_diff(ts, ls, w->dim) / n_right;
      if (g > w->gain[nd]) {
        w->gain[nd] = g;
        w->threshold[nd] = threshold_between(w->last[nd], val);
        w->found[nd] = 1;
      }
    }
    w->left_count[nd] = n_left + 1;
    for (d = 0; d < w->dim; d++)
      ls[d] += yt[d];
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
    double total = scan_column(w, j, nodes);
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
mdn_tree_learn(const float *x, size_t n, int s, const float *y, int dim, int depth, guint8 *split,
               float *thresholds, double *loss, MdnFitTick tick, gpointer tick_data)
{
  TreeWork w = {
    .x = x,
    .y = y,
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
      sumsq += (double)y[t * dim + d] * y[t * dim + d];
  for (l = 0; l < depth && ok; l++)
    ok = learn_level(&w, l, split, thresholds, &level_gain);
  if (ok && loss)
    *loss = sumsq - level_gain;
  tree_work_clear(&w);
  return ok;
}

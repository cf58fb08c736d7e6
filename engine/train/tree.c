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

gboolean
mdn_tree_learn(const float *x, size_t n, int s, const float *y, int dim, int depth, guint8 *split,
               float *thresholds, double *loss, MdnFitTick tick, gpointer tick_data)
{
  const int max_nodes = 1 << (depth - 1);
  guint32 **order = g_new0(guint32 *, s);
  guint8 *node = g_new0(guint8, n ? n : 1); /* depth <= 8: node ids < 128 */
  double *tot_sum = g_new0(double, (size_t)max_nodes *dim);
  double *left_sum = g_new0(double, (size_t)max_nodes *dim);
  size_t *tot_cnt = g_new0(size_t, max_nodes);
  size_t *left_cnt = g_new0(size_t, max_nodes);
  float *last = g_new0(float, max_nodes);
  double *gain = g_new0(double, max_nodes);
  float *thr = g_new0(float, max_nodes);
  float *best_thr = g_new0(float, max_nodes);
  guint8 *found = g_new0(guint8, max_nodes);
  double sumsq = 0, level_gain = 0;
  gboolean ok = TRUE;
  size_t t;
  int j, l, step = 0;
  const int steps = s * (depth + 1);

  g_return_val_if_fail(depth >= 1 && depth <= 8 && s >= 1 && s <= 255, FALSE);

  /* Sort each column once; every level scans it in this order. */
  {
    SortItem *items = g_new(SortItem, n ? n : 1);
    for (j = 0; j < s && ok; j++) {
      for (t = 0; t < n; t++) {
        items[t].value = x[t * s + j];
        items[t].index = (guint32)t;
      }
      qsort(items, n, sizeof *items, cmp_item);
      order[j] = g_new(guint32, n ? n : 1);
      for (t = 0; t < n; t++)
        order[j][t] = items[t].index;
      if (tick && !tick((double)++step / steps, tick_data))
        ok = FALSE;
    }
    g_free(items);
  }
  for (t = 0; t < n; t++) {
    int d;
    for (d = 0; d < dim; d++)
      sumsq += (double)y[t * dim + d] * y[t * dim + d];
  }

  for (l = 0; l < depth && ok; l++) {
    const int nodes = 1 << l;
    double best_total = -1;
    int best_col = 0, v;

    memset(tot_sum, 0, sizeof(double) * nodes * dim);
    memset(tot_cnt, 0, sizeof(size_t) * nodes);
    for (t = 0; t < n; t++) {
      double *ts = tot_sum + (size_t)node[t] * dim;
      const float *yt = y + t * dim;
      int d;
      tot_cnt[node[t]]++;
      for (d = 0; d < dim; d++)
        ts[d] += yt[d];
    }

    for (j = 0; j < s && ok; j++) {
      const guint32 *ord = order[j];
      double total = 0;

      memset(left_sum, 0, sizeof(double) * nodes * dim);
      memset(left_cnt, 0, sizeof(size_t) * nodes);
      for (v = 0; v < nodes; v++) {
        /* No split (all left) is the baseline for each node. */
        gain[v] = tot_cnt[v] ? sq_norm(tot_sum + (size_t)v * dim, dim) / tot_cnt[v] : 0;
        thr[v] = 0;
        last[v] = 0;
        found[v] = 0;
      }
      for (t = 0; t < n; t++) {
        const guint32 idx = ord[t];
        const int nd = node[idx];
        const float val = x[(size_t)idx * s + j];
        double *ls = left_sum + (size_t)nd * dim;
        const float *yt = y + (size_t)idx * dim;
        size_t nl = left_cnt[nd];
        int d;

        if (nl > 0 && val > last[nd]) {
          const double *ts = tot_sum + (size_t)nd * dim;
          size_t nr = tot_cnt[nd] - nl;
          double g = sq_norm(ls, dim) / nl + sq_norm_diff(ts, ls, dim) / nr;
          if (g > gain[nd]) {
            gain[nd] = g;
            thr[nd] = threshold_between(last[nd], val);
            found[nd] = 1;
          }
        }
        left_cnt[nd] = nl + 1;
        for (d = 0; d < dim; d++)
          ls[d] += yt[d];
        last[nd] = val;
      }
      for (v = 0; v < nodes; v++) {
        /* A node that never split sends everything left: its largest value. */
        if (!found[v])
          thr[v] = last[v];
        total += gain[v];
      }
      if (total > best_total) {
        best_total = total;
        best_col = j;
        memcpy(best_thr, thr, sizeof(float) * nodes);
      }
      if (tick && !tick((double)++step / steps, tick_data))
        ok = FALSE;
    }
    if (!ok)
      break;

    split[l] = (guint8)best_col;
    memcpy(thresholds + (nodes - 1), best_thr, sizeof(float) * nodes);
    level_gain = best_total;
    for (t = 0; t < n; t++) {
      const int nd = node[t];
      node[t] = (guint8)(2 * nd + (x[t * s + best_col] > best_thr[nd]));
    }
  }

  if (ok && loss)
    *loss = sumsq - level_gain;
  for (j = 0; j < s; j++)
    g_free(order[j]);
  g_free(order);
  g_free(node);
  g_free(tot_sum);
  g_free(left_sum);
  g_free(tot_cnt);
  g_free(left_cnt);
  g_free(last);
  g_free(gain);
  g_free(thr);
  g_free(best_thr);
  g_free(found);
  return ok;
}

/* graph.c: a trained model's graph of buffers and operations (net-private.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"

#include <string.h>

MdnNetGraph *
mdn_net_graph_new(void)
{
  return g_new0(MdnNetGraph, 1);
}

void
mdn_net_graph_free(MdnNetGraph *g)
{
  int i;

  if (!g)
    return;
  for (i = 0; i < g->n_ops; i++) {
    MdnNetOp *op = &g->ops[i];
    g_free(op->rows);
    g_free(op->w);
    g_free(op->bias);
    mdn_net_act_clear(&op->act);
    mdn_net_act_clear(&op->act2);
  }
  g_free(g->ops);
  g_free(g->bufs);
  g_free(g->summary);
  g_free(g);
}

int
mdn_net_graph_add_buf(MdnNetGraph *g, int channels)
{
  g->bufs = g_renew(MdnNetBuf, g->bufs, g->n_bufs + 1);
  g->bufs[g->n_bufs].channels = channels;
  g->bufs[g->n_bufs].history = 0;
  return g->n_bufs++;
}

void
mdn_net_graph_need_history(MdnNetGraph *g, int buf, size_t lag)
{
  g->bufs[buf].history = MAX(g->bufs[buf].history, lag);
}

MdnNetOp *
mdn_net_graph_add_op(MdnNetGraph *g, MdnOpKind kind)
{
  MdnNetOp *op;

  g->ops = g_renew(MdnNetOp, g->ops, g->n_ops + 1);
  op = &g->ops[g->n_ops++];
  memset(op, 0, sizeof(*op));
  op->kind = kind;
  op->base_buf = -1;
  return op;
}

/* A buffer's length in frames per channel: its history plus room for new
 * frames (at least a chunk, and as much as the history so that moving the
 * history to the front happens at most once per `history` frames). */
size_t
mdn_net_buf_len(const MdnNetBuf *b)
{
  return b->history == 0 ? MDN_NET_CHUNK : b->history + MAX(b->history, (size_t)MDN_NET_CHUNK);
}

guint64
mdn_net_graph_state_bytes(const MdnNetGraph *g)
{
  guint64 bytes = 0;
  int i;

  for (i = 0; i < g->n_bufs; i++)
    bytes += (guint64)g->bufs[i].channels * mdn_net_buf_len(&g->bufs[i]) * sizeof(float);
  bytes += (guint64)(g->max_rows + 2 * g->max_cout) * sizeof(float *);
  return bytes;
}

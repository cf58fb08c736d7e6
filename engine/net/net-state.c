/* net-state.c: one stream group's state of a model graph, and running it.
 *
 * Every buffer is one float row per channel, [history | room]; a chunk's
 * frames go at `fill`, and when the room is used up the last `history`
 * frames move to the front (at most once per max(history, chunk) frames).
 * The operations run in order over the chunk, each across all its frames:
 * a GEMM's rows are pointers into the buffers at their lags, so a dilated
 * conv reads its history in place (no im2col copy).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"

#include <string.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

struct _MdnNetState {
  const MdnNetGraph *g;
  const MdnNetDsp *k;
  size_t *len;  /* [n_bufs] frames per channel row */
  size_t *fill; /* [n_bufs] */
  float **data; /* [n_bufs]: channels * len */
  const float **xrows;
  float **yrows;
  const float **brows;
  float *zeros_in, *warm_out; /* one frame each, for warming */
  float *tmp;                 /* [MDN_NET_CHUNK]: a blended gate's pre-activation */
};

MdnNetState *
mdn_net_state_new(const MdnNetGraph *g, GError **error)
{
  MdnNetState *s;
  guint64 bytes = mdn_net_graph_state_bytes(g);
  int b;

  if (bytes > MDN_NET_MAX_STATE_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "the model's history and scratch need %" G_GUINT64_FORMAT
                " bytes per stream: more than the limit of %" G_GUINT64_FORMAT,
                bytes, (guint64)MDN_NET_MAX_STATE_BYTES);
    return NULL;
  }
  s = g_new0(MdnNetState, 1);
  s->g = g;
  s->k = &mdn_dsp()->net;
  s->len = g_new0(size_t, g->n_bufs);
  s->fill = g_new0(size_t, g->n_bufs);
  s->data = g_new0(float *, g->n_bufs);
  for (b = 0; b < g->n_bufs; b++) {
    s->len[b] = mdn_net_buf_len(&g->bufs[b]);
    s->fill[b] = g->bufs[b].history;
    s->data[b] = g_try_malloc0_n((gsize)g->bufs[b].channels * s->len[b], sizeof(float));
    if (!s->data[b]) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "out of memory for the model's history");
      mdn_net_state_free(s);
      return NULL;
    }
  }
  s->xrows = g_new0(const float *, MAX(g->max_rows, 1));
  s->yrows = g_new0(float *, MAX(g->max_cout, 1));
  s->brows = g_new0(const float *, MAX(g->max_cout, 1));
  s->zeros_in = g_new0(float, g->in_channels);
  s->warm_out = g_new0(float, g->out_channels);
  s->tmp = g_new0(float, MDN_NET_CHUNK);
  mdn_net_state_warm(s);
  return s;
}

void
mdn_net_state_free(MdnNetState *s)
{
  int b;

  if (!s)
    return;
  if (s->data)
    for (b = 0; b < s->g->n_bufs; b++)
      g_free(s->data[b]);
  g_free(s->data);
  g_free(s->len);
  g_free(s->fill);
  g_free(s->xrows);
  g_free(s->yrows);
  g_free(s->brows);
  g_free(s->zeros_in);
  g_free(s->warm_out);
  g_free(s->tmp);
  g_free(s);
}

/* The current chunk's first frame of channel c of buffer b. */
static inline float *
at(const MdnNetState *s, int b, int c)
{
  return s->data[b] + (size_t)c * s->len[b] + s->fill[b];
}

static void
run_op(MdnNetState *s, const MdnNetOp *op, size_t n)
{
  int c, r;
  size_t t;

  switch (op->kind) {
  case MDN_OP_GEMM:
    for (r = 0; r < op->n_rows; r++)
      s->xrows[r] = at(s, op->rows[r].buf, op->rows[r].chan) - op->rows[r].lag;
    for (c = 0; c < op->cout; c++) {
      s->yrows[c] = at(s, op->dst, op->dst_chan + c);
      s->brows[c] = op->base_buf >= 0 ? at(s, op->base_buf, op->base_chan + c) : NULL;
    }
    s->k->gemm(s->yrows, op->base_buf >= 0 ? s->brows : NULL, op->bias, op->w, op->cout, op->n_rows,
               s->xrows, n);
    break;
  case MDN_OP_ACT:
    for (c = 0; c < op->cout; c++)
      mdn_act_apply(s->k, &op->act, at(s, op->dst, op->dst_chan + c), n, c);
    break;
  case MDN_OP_GATE:
    for (c = 0; c < op->cout; c++) {
      float *restrict top = at(s, op->dst, op->dst_chan + c);
      float *restrict bottom = at(s, op->dst, op->dst_chan + op->cout + c);
      if (op->gating == MDN_GATING_GATED) {
        mdn_act_apply(s->k, &op->act, top, n, c);
        mdn_act_apply(s->k, &op->act2, bottom, n, c);
        for (t = 0; t < n; t++)
          top[t] *= bottom[t];
      } else {
        /* blended: a * act(top) + (1 - a) * top, a = act2(bottom) */
        float *restrict pre = s->tmp;
        memcpy(pre, top, sizeof(float) * n);
        mdn_act_apply(s->k, &op->act, top, n, c);
        mdn_act_apply(s->k, &op->act2, bottom, n, c);
        for (t = 0; t < n; t++)
          top[t] = bottom[t] * top[t] + (1.0f - bottom[t]) * pre[t];
      }
    }
    break;
  case MDN_OP_ADD:
    for (c = 0; c < op->cout; c++) {
      float *restrict dst = at(s, op->dst, op->dst_chan + c);
      const float *restrict src = at(s, op->src, op->src_chan + c);
      if (op->copy)
        memcpy(dst, src, sizeof(float) * n);
      else
        for (t = 0; t < n; t++)
          dst[t] += src[t];
    }
    break;
  }
}

size_t
mdn_net_state_process(MdnNetState *s, const float *in, size_t in_stride, float *out,
                      size_t out_stride, size_t n)
{
  const MdnNetGraph *g = s->g;
  size_t nonfinite = 0, t;
  int b, c, i;

  g_assert(n <= MDN_NET_CHUNK);
  for (b = 0; b < g->n_bufs; b++) {
    const size_t h = g->bufs[b].history;
    if (h == 0) {
      s->fill[b] = 0;
    } else if (s->fill[b] + n > s->len[b]) {
      for (c = 0; c < g->bufs[b].channels; c++) {
        float *row = s->data[b] + (size_t)c * s->len[b];
        memmove(row, row + s->fill[b] - h, sizeof(float) * h);
      }
      s->fill[b] = h;
    }
  }

  /* the input, non-finite samples replaced by 0 */
  for (c = 0; c < g->in_channels; c++) {
    float *x = at(s, 0, c);
    for (t = 0; t < n; t++) {
      const float v = in[t * in_stride + c];
      if (isfinite(v)) {
        x[t] = v;
      } else {
        x[t] = 0.0f;
        nonfinite++;
      }
    }
  }

  for (i = 0; i < g->n_ops; i++)
    run_op(s, &g->ops[i], n);

  for (c = 0; c < g->out_channels; c++) {
    const float *y = at(s, g->output, c);
    for (t = 0; t < n; t++)
      out[t * out_stride + c] = y[t];
  }
  for (b = 0; b < g->n_bufs; b++)
    if (g->bufs[b].history > 0)
      s->fill[b] += n;
  return nonfinite;
}

/* NAM warms a model by running silence through it for its receptive field,
 * which leaves every history holding the constant the network settles to on
 * silence. The same state, exactly, without running that many frames: run
 * one silent frame, then fill every history with that frame's values; repeat
 * until no value changes (each pass settles at least one more buffer along
 * the graph, so at most one pass per buffer and one more). */
void
mdn_net_state_warm(MdnNetState *s)
{
  const MdnNetGraph *g = s->g;
  int pass, b, c;
  size_t t;
#if defined(__SSE__)
  /* as while streaming: denormals flushed */
  const unsigned int csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040);
#endif

  for (b = 0; b < g->n_bufs; b++) {
    memset(s->data[b], 0, sizeof(float) * g->bufs[b].channels * s->len[b]);
    s->fill[b] = g->bufs[b].history;
  }
  for (pass = 0; pass <= g->n_bufs + 1; pass++) {
    gboolean changed = FALSE;
    mdn_net_state_process(s, s->zeros_in, g->in_channels, s->warm_out, g->out_channels, 1);
    for (b = 0; b < g->n_bufs; b++) {
      const size_t h = g->bufs[b].history;
      if (h == 0)
        continue;
      for (c = 0; c < g->bufs[b].channels; c++) {
        float *row = s->data[b] + (size_t)c * s->len[b] + s->fill[b] - 1 - h;
        const float v = row[h];
        for (t = 0; t < h; t++) {
          if (memcmp(&row[t], &v, sizeof(float)) != 0) {
            changed = TRUE;
            row[t] = v;
          }
        }
      }
    }
    if (!changed)
      break;
  }
#if defined(__SSE__)
  _mm_setcsr(csr);
#endif
}

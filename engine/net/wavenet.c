/* wavenet.c: NAM's WaveNet as a graph of the engine's operations.
 *
 * The model (facts from NAM's documentation and NeuralAmpModelerCore):
 * layer arrays in sequence; array a rechannels its input (1x1, no bias) to
 * C channels, then runs layers l = 0..L-1 on the residual stream h:
 *   z = conv_K,d(h) + bias + mixin(x)     (x: the model input, the condition)
 *   z = act(z)   or gated/blended from z's two halves (2B channels)
 *   h' = h + layer1x1(z) + bias          (h' = h when layer1x1 is inactive)
 *   head_acc += head1x1(z) + bias, or += z
 * head_acc starts at 0 (array 0) or at the previous array's head output; the
 * array's head output is a causal conv (K, dilation, optional bias) of
 * head_acc. The model's output is head_scale times the last head output,
 * optionally through a post-stack head (activation then conv, repeated).
 * Weights are in that order, each conv as [group][out][in][tap] then its
 * bias; tap k of K reads (K - 1 - k) * dilation frames back; head_scale is
 * the last weight.
 *
 * Exact rewrites the graph makes (the output is the same function): the
 * mixin joins its layer's conv as extra rows of one product; the first
 * layer's conv folds onto the input through the rechannel when the input has
 * fewer channels; head_scale is folded into the last head conv; the residual
 * output of the very last layer (never read) is not computed.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"

#include <string.h>

static void
array_clear(MdnWaveNetArray *a)
{
  int l;

  if (a->acts)
    for (l = 0; l < a->n_layers; l++)
      mdn_net_act_clear(&a->acts[l]);
  if (a->secondary)
    for (l = 0; l < a->n_layers; l++)
      mdn_net_act_clear(&a->secondary[l]);
  g_free(a->acts);
  g_free(a->secondary);
  g_free(a->kernel_sizes);
  g_free(a->dilations);
  g_free(a->gating);
  g_free(a->allowed);
  memset(a, 0, sizeof(*a));
}

void
mdn_wavenet_desc_clear(MdnWaveNetDesc *d)
{
  int a;

  for (a = 0; a < d->n_arrays; a++)
    array_clear(&d->arrays[a]);
  g_free(d->arrays);
  g_free(d->head_kernels);
  mdn_net_act_clear(&d->head_act);
  g_free(d->weights);
  memset(d, 0, sizeof(*d));
}

static int
head_out_size(const MdnWaveNetArray *a)
{
  return a->head1x1_active ? a->head1x1_out : a->bottleneck;
}

static gboolean
check_range(const char *what, int array, int value, int lo, int hi, GError **error)
{
  if (value >= lo && value <= hi)
    return TRUE;
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
              "layer array %d: %s %d out of range %d..%d", array, what, value, lo, hi);
  return FALSE;
}

static gboolean
check_groups(const char *what, int array, int groups, int cin, int cout, GError **error)
{
  if (!check_range(what, array, groups, 1, MDN_MAX_CHANNELS, error))
    return FALSE;
  if (cin % groups == 0 && cout % groups == 0)
    return TRUE;
  g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
              "layer array %d: %s %d do not divide %d input and %d output channels", array, what,
              groups, cin, cout);
  return FALSE;
}

/* Weights of a conv: cin * cout / groups * taps (+ cout bias). */
static guint64
conv_weights(int cin, int cout, int taps, int groups, gboolean bias)
{
  return (guint64)cin / groups * cout * taps + (bias ? cout : 0);
}

gboolean
mdn_wavenet_desc_check(const MdnWaveNetDesc *d, size_t *n_weights, GError **error)
{
  guint64 count = 0;
  int a, l, i, cin;

  if (!check_range("input channels", 0, d->in_channels, 1, MDN_MAX_CHANNELS, error)
      || !check_range("layer arrays", 0, d->n_arrays, 1, MDN_NET_MAX_ARRAYS, error))
    return FALSE;
  for (a = 0; a < d->n_arrays; a++) {
    const MdnWaveNetArray *p = &d->arrays[a];
    const int ho = head_out_size(p);

    if (!check_range("input_size", a, p->input_size, 1, MDN_MAX_CHANNELS, error)
        || !check_range("condition_size", a, p->condition_size, 1, MDN_MAX_CHANNELS, error)
        || !check_range("channels", a, p->channels, 1, MDN_MAX_CHANNELS, error)
        || !check_range("bottleneck", a, p->bottleneck, 1, MDN_MAX_CHANNELS, error)
        || !check_range("head size", a, p->head_size, 1, MDN_MAX_CHANNELS, error)
        || !check_range("head kernel size", a, p->head_kernel, 1, MDN_NET_MAX_KERNEL, error)
        || !check_range("head dilation", a, p->head_dilation, 1, MDN_NET_MAX_DILATION, error)
        || !check_range("layers", a, p->n_layers, 1, MDN_NET_MAX_LAYERS, error)
        || !check_range("head1x1 out_channels", a, ho, 1, MDN_MAX_CHANNELS, error))
      return FALSE;
    if (p->condition_size != d->in_channels) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "layer array %d: condition_size %d is not the model's %d input channels (the "
                  "condition is the input; a condition DSP is not supported)",
                  a, p->condition_size, d->in_channels);
      return FALSE;
    }
    cin = a == 0 ? d->in_channels : d->arrays[a - 1].channels;
    if (p->input_size != cin) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "layer array %d: input_size %d, but its input has %d channels", a, p->input_size,
                  cin);
      return FALSE;
    }
    if (a > 0 && d->arrays[a - 1].head_size != ho) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "layer array %d: the previous array's head_size %d is not this array's head "
                  "input of %d channels",
                  a, d->arrays[a - 1].head_size, ho);
      return FALSE;
    }
    if (!p->layer1x1_active && p->bottleneck != p->channels) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "layer array %d: bottleneck %d must equal channels %d when layer1x1 is inactive",
                  a, p->bottleneck, p->channels);
      return FALSE;
    }
    for (l = 0; l < p->n_layers; l++) {
      const int bg = p->gating[l] == MDN_GATING_NONE ? p->bottleneck : 2 * p->bottleneck;
      if (!check_range("gated layer's conv outputs (2 x bottleneck)", a, bg, 1, MDN_MAX_CHANNELS,
                       error)
          || !check_range("kernel size", a, p->kernel_sizes[l], 1, MDN_NET_MAX_KERNEL, error)
          || !check_range("dilation", a, p->dilations[l], 1, MDN_NET_MAX_DILATION, error)
          || !check_groups("groups_input", a, p->groups_input, p->channels, bg, error)
          || !check_groups("groups_input_mixin", a, p->groups_input_mixin, p->condition_size, bg,
                           error))
        return FALSE;
      count += conv_weights(p->channels, bg, p->kernel_sizes[l], p->groups_input, TRUE);
      count += conv_weights(p->condition_size, bg, 1, p->groups_input_mixin, FALSE);
      if (p->layer1x1_active) {
        if (!check_groups("layer1x1 groups", a, p->layer1x1_groups, p->bottleneck, p->channels,
                          error))
          return FALSE;
        count += conv_weights(p->bottleneck, p->channels, 1, p->layer1x1_groups, TRUE);
      }
      if (p->head1x1_active) {
        if (!check_groups("head1x1 groups", a, p->head1x1_groups, p->bottleneck, p->head1x1_out,
                          error))
          return FALSE;
        count += conv_weights(p->bottleneck, p->head1x1_out, 1, p->head1x1_groups, TRUE);
      }
      if (p->acts[l].type == MDN_ACT_PRELU && p->acts[l].n_slopes > 0
          && p->acts[l].n_slopes != p->bottleneck) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "layer array %d layer %d: PReLU has %d slopes for %d channels", a, l,
                    p->acts[l].n_slopes, p->bottleneck);
        return FALSE;
      }
    }
    count += conv_weights(p->input_size, p->channels, 1, 1, FALSE);
    count += conv_weights(ho, p->head_size, p->head_kernel, 1, p->head_bias);
    if (count > MDN_NET_MAX_WEIGHTS)
      break;
  }
  if (d->with_head) {
    cin = d->arrays[d->n_arrays - 1].head_size;
    if (!check_range("head kernels", 0, d->n_head_kernels, 1, MDN_NET_MAX_LAYERS, error)
        || !check_range("head channels", 0, d->head_channels, 1, MDN_MAX_CHANNELS, error)
        || !check_range("head out_channels", 0, d->head_out, 1, MDN_MAX_CHANNELS, error))
      return FALSE;
    for (i = 0; i < d->n_head_kernels; i++) {
      const int cout = i + 1 == d->n_head_kernels ? d->head_out : d->head_channels;
      if (!check_range("head kernel size", 0, d->head_kernels[i], 1, MDN_NET_MAX_KERNEL, error))
        return FALSE;
      count += conv_weights(cin, cout, d->head_kernels[i], 1, TRUE);
      cin = cout;
    }
  }
  count += 1; /* head_scale */
  if (count > MDN_NET_MAX_WEIGHTS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "the model needs %" G_GUINT64_FORMAT " weights or more: more than the limit of %d",
                count, MDN_NET_MAX_WEIGHTS);
    return FALSE;
  }
  *n_weights = (size_t)count;
  return TRUE;
}

size_t
mdn_wavenet_receptive_field(const MdnWaveNetDesc *d)
{
  size_t rf = 1;
  int a, l;

  for (a = 0; a < d->n_arrays; a++) {
    const MdnWaveNetArray *p = &d->arrays[a];
    for (l = 0; l < p->n_layers; l++)
      rf += (size_t)(p->kernel_sizes[l] - 1) * p->dilations[l];
    rf += (size_t)(p->head_kernel - 1) * p->head_dilation;
  }
  if (d->with_head)
    for (l = 0; l < d->n_head_kernels; l++)
      rf += d->head_kernels[l] - 1;
  return rf;
}

/* ---- slimming ------------------------------------------------------------ */

/* Copies the first slim_out x slim_in of a [full_out][full_in][taps] conv,
 * then the first slim_out biases. */
static void
slice_conv(const float **src, int full_in, int full_out, int slim_in, int slim_out, int taps,
           gboolean bias, GArray *dst)
{
  int i, j;
  for (i = 0; i < full_out; i++)
    for (j = 0; j < full_in; j++) {
      if (i < slim_out && j < slim_in)
        g_array_append_vals(dst, *src, taps);
      *src += taps;
    }
  if (bias) {
    g_array_append_vals(dst, *src, slim_out);
    *src += full_out;
  }
}

static void
copy_array(MdnWaveNetArray *dst, const MdnWaveNetArray *src)
{
  int l;

  *dst = *src;
  dst->kernel_sizes = g_memdup2(src->kernel_sizes, sizeof(int) * src->n_layers);
  dst->dilations = g_memdup2(src->dilations, sizeof(int) * src->n_layers);
  dst->gating = g_memdup2(src->gating, sizeof(MdnGating) * src->n_layers);
  dst->acts = g_new0(MdnNetAct, src->n_layers);
  dst->secondary = g_new0(MdnNetAct, src->n_layers);
  for (l = 0; l < src->n_layers; l++) {
    mdn_net_act_copy(&dst->acts[l], &src->acts[l]);
    mdn_net_act_copy(&dst->secondary[l], &src->secondary[l]);
  }
  dst->n_allowed = 0;
  dst->allowed = NULL;
}

gboolean
mdn_wavenet_desc_slice(const MdnWaveNetDesc *full, const int *channels, MdnWaveNetDesc *slim,
                       GError **error)
{
  const float *src = full->weights;
  GArray *w;
  int a, l;

  if (full->with_head) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "a slimmable WaveNet with a post-stack head is not supported");
    return FALSE;
  }
  for (a = 0; a < full->n_arrays; a++) {
    const MdnWaveNetArray *p = &full->arrays[a];
    if (p->head_kernel != 1 || p->groups_input != 1 || p->groups_input_mixin != 1
        || (p->layer1x1_active && p->layer1x1_groups != 1)
        || (p->head1x1_active && p->head1x1_groups != 1)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "layer array %d: slimming needs groups of 1 and a head kernel of 1", a);
      return FALSE;
    }
    if (channels[a] < 1 || channels[a] > p->channels) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "layer array %d: allowed channels %d out of range 1..%d", a, channels[a],
                  p->channels);
      return FALSE;
    }
  }

  memset(slim, 0, sizeof(*slim));
  slim->in_channels = full->in_channels;
  slim->n_arrays = full->n_arrays;
  slim->arrays = g_new0(MdnWaveNetArray, full->n_arrays);
  w = g_array_new(FALSE, FALSE, sizeof(float));
  for (a = 0; a < full->n_arrays; a++) {
    const MdnWaveNetArray *p = &full->arrays[a];
    MdnWaveNetArray *s = &slim->arrays[a];
    const int ch = channels[a];
    const int bn = p->layer1x1_active ? MAX(1, p->bottleneck * ch / p->channels) : ch;

    copy_array(s, p);
    s->channels = ch;
    s->bottleneck = bn;
    s->input_size = a == 0 ? p->input_size : channels[a - 1];
    s->head_size = a + 1 < full->n_arrays ? channels[a + 1] : p->head_size;

    slice_conv(&src, p->input_size, p->channels, s->input_size, ch, 1, FALSE, w);
    for (l = 0; l < p->n_layers; l++) {
      const gboolean gated = p->gating[l] != MDN_GATING_NONE;
      const int full_bg = gated ? 2 * p->bottleneck : p->bottleneck, slim_bg = gated ? 2 * bn : bn;
      slice_conv(&src, p->channels, full_bg, ch, slim_bg, p->kernel_sizes[l], TRUE, w);
      slice_conv(&src, p->condition_size, full_bg, p->condition_size, slim_bg, 1, FALSE, w);
      if (p->layer1x1_active)
        slice_conv(&src, p->bottleneck, p->channels, bn, ch, 1, TRUE, w);
      if (p->head1x1_active)
        slice_conv(&src, p->bottleneck, p->head1x1_out, bn, p->head1x1_out, 1, TRUE, w);
      if (s->acts[l].type == MDN_ACT_PRELU && s->acts[l].n_slopes > bn)
        s->acts[l].n_slopes = bn; /* the first bn channels' slopes */
    }
    slice_conv(&src, head_out_size(p), p->head_size, head_out_size(s), s->head_size, 1,
               p->head_bias, w);
  }
  g_array_append_val(w, *src);
  slim->head_scale = full->head_scale;
  slim->n_weights = w->len;
  slim->weights = (float *)g_array_free(w, FALSE);
  return TRUE;
}

/* ---- building the graph ------------------------------------------------- */

typedef struct {
  MdnNetGraph *g;
  const float *w; /* the next unread weight */
} Builder;

/* One GEMM op: cout outputs of buffer dst from channel dst_chan, base
 * (-1: none). Returns its index: adding ops moves the array, so ops are
 * referred to by index while a graph is built. */
static int
add_gemm(Builder *b, int dst, int dst_chan, int cout, int base_buf, int base_chan)
{
  MdnNetOp *op = mdn_net_graph_add_op(b->g, MDN_OP_GEMM);
  op->dst = dst;
  op->dst_chan = dst_chan;
  op->cout = cout;
  op->base_buf = base_buf;
  op->base_chan = base_chan;
  b->g->max_cout = MAX(b->g->max_cout, cout);
  return b->g->n_ops - 1;
}

#define OP(b, index) (&(b)->g->ops[index])

static void
gemm_set_rows(Builder *b, int index, int n_rows)
{
  MdnNetOp *op = OP(b, index);
  op->n_rows = n_rows;
  op->rows = g_new0(MdnNetRow, n_rows);
  op->w = g_new0(float, (size_t)op->cout *n_rows);
  b->g->max_rows = MAX(b->g->max_rows, n_rows);
  b->g->macs_per_frame += (double)op->cout * n_rows;
}

/* Rows rows[r0 ..] of `op` for channels src_chan .. + n_in of buffer src with
 * `taps` taps at dilation dil (row j * taps + k reads (taps-1-k)*dil back). */
static void
gemm_rows(Builder *b, int index, int r0, int src, int src_chan, int n_in, int taps, int dil)
{
  MdnNetOp *op = OP(b, index);
  int j, k;
  for (j = 0; j < n_in; j++)
    for (k = 0; k < taps; k++) {
      MdnNetRow *row = &op->rows[r0 + j * taps + k];
      row->buf = (guint16)src;
      row->chan = (guint16)(src_chan + j);
      row->lag = (guint32)((size_t)(taps - 1 - k) * dil);
    }
  mdn_net_graph_need_history(b->g, src, (size_t)(taps - 1) * dil);
}

/* Reads a conv's weights from the file: cout / groups outputs per group,
 * each [cin / groups][taps], into the ops of its groups (ops[g], their row
 * columns col0 ..), then the bias (into ops' bias when `bias`). scale
 * multiplies every weight and bias (head_scale folded). */
static void
read_conv(Builder *b, const int *ops, int groups, int col0, int cin, int cout, int taps,
          gboolean bias, float scale)
{
  const int ipg = cin / groups, opg = cout / groups;
  int g, i, c;

  for (g = 0; g < groups; g++)
    for (i = 0; i < opg; i++) {
      float *wrow = OP(b, ops[g])->w + (size_t)i * OP(b, ops[g])->n_rows + col0;
      for (c = 0; c < ipg * taps; c++)
        wrow[c] = scale * *b->w++;
    }
  if (bias)
    for (g = 0; g < groups; g++) {
      MdnNetOp *op = OP(b, ops[g]);
      if (!op->bias)
        op->bias = g_new0(float, opg);
      for (i = 0; i < opg; i++)
        op->bias[i] += scale * *b->w++;
    }
}

/* A conv of `groups` groups from buffer src (channels src_chan ..) into dst
 * (channels dst_chan ..), base as add_gemm, extra_rows columns left for the
 * caller after the conv's own rows. The ops go to ops[]. */
static void
conv_ops(Builder *b, int *ops, int groups, int src, int src_chan, int cin, int dst, int dst_chan,
         int cout, int taps, int dil, int base_buf, int base_chan, int extra_rows)
{
  const int ipg = cin / groups, opg = cout / groups;
  int g;

  for (g = 0; g < groups; g++) {
    ops[g] = add_gemm(b, dst, dst_chan + g * opg, opg, base_buf,
                      base_buf < 0 ? 0 : base_chan + g * opg);
    gemm_set_rows(b, ops[g], ipg * taps + extra_rows);
    gemm_rows(b, ops[g], 0, src, src_chan + g * ipg, ipg, taps, dil);
  }
}

static void
add_act(Builder *b, int buf, int chan, int n, const MdnNetAct *act)
{
  MdnNetOp *op;
  if (act->type == MDN_ACT_IDENTITY)
    return;
  op = mdn_net_graph_add_op(b->g, MDN_OP_ACT);
  op->dst = buf;
  op->dst_chan = chan;
  op->cout = n;
  mdn_net_act_copy(&op->act, act);
}

static void
add_add(Builder *b, int dst, int src, int n, gboolean copy)
{
  MdnNetOp *op = mdn_net_graph_add_op(b->g, MDN_OP_ADD);
  op->dst = dst;
  op->src = src;
  op->cout = n;
  op->copy = copy;
}

static void
fold_first_layer(Builder *b, int rechannel, int x, int z, const MdnWaveNetArray *p, int bg,
                 int taps, int dil)
{
  const int cin = p->input_size, ch = p->channels;
  const float *w = b->w, *bias = w + (size_t)bg * ch * taps, *mix = bias + bg;
  const float *r = OP(b, rechannel)->w; /* [ch][cin] */
  int index = add_gemm(b, z, 0, bg, -1, 0), o, i, k, c;
  MdnNetOp *op;

  gemm_set_rows(b, index, cin * taps);
  gemm_rows(b, index, 0, x, 0, cin, taps, dil);
  op = OP(b, index);
  op->bias = g_new0(float, bg);
  for (o = 0; o < bg; o++) {
    for (i = 0; i < cin; i++)
      for (k = 0; k < taps; k++) {
        double sum = k == taps - 1 && cin == p->condition_size ? mix[(size_t)o * cin + i] : 0.0;
        for (c = 0; c < ch; c++)
          sum += (double)w[((size_t)o * ch + c) * taps + k] * r[(size_t)c * cin + i];
        op->w[(size_t)o * op->n_rows + i * taps + k] = (float)sum;
      }
    op->bias[o] = bias[o];
  }
  b->w = mix + (size_t)bg * p->condition_size;
}

MdnNetGraph *
mdn_wavenet_build(const MdnWaveNetDesc *d, GError **error)
{
  Builder b;
  int ops[MDN_MAX_CHANNELS]; /* the ops of one conv's groups, by index */
  int rechannel = -1;
  size_t n_weights;
  int a, l, x, h, acc = -1, next_acc, out;
  GString *summary;

  if (!mdn_wavenet_desc_check(d, &n_weights, error))
    return NULL;
  if (n_weights != d->n_weights) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "the file has %zu weights; its config needs %zu", d->n_weights, n_weights);
    return NULL;
  }

  b.g = mdn_net_graph_new();
  b.w = d->weights;
  b.g->in_channels = d->in_channels;
  b.g->n_weights = n_weights;
  b.g->receptive_field = mdn_wavenet_receptive_field(d);
  summary = g_string_new("WaveNet");
  x = mdn_net_graph_add_buf(b.g, d->in_channels);

  h = x;
  for (a = 0; a < d->n_arrays; a++) {
    const MdnWaveNetArray *p = &d->arrays[a];
    const int ho = head_out_size(p);
    const gboolean last_array = a + 1 == d->n_arrays;
    int in0;

    g_string_append_printf(summary, "%s %dch x%d", a ? "," : ":", p->channels, p->n_layers);
    if (p->bottleneck != p->channels)
      g_string_append_printf(summary, " bottleneck %d", p->bottleneck);

    /* rechannel: the array's input (x, or the previous array's last h) */
    in0 = mdn_net_graph_add_buf(b.g, p->channels);
    conv_ops(&b, ops, 1, h, 0, p->input_size, in0, 0, p->channels, 1, 1, -1, 0, 0);
    read_conv(&b, ops, 1, 0, p->input_size, p->channels, 1, FALSE, 1.0f);
    rechannel = ops[0];
    h = in0;
    if (a == 0)
      acc = mdn_net_graph_add_buf(b.g, ho);

    for (l = 0; l < p->n_layers; l++) {
      const MdnGating gating = p->gating[l];
      const int bn = p->bottleneck, bg = gating == MDN_GATING_NONE ? bn : 2 * bn;
      const int taps = p->kernel_sizes[l], dil = p->dilations[l];
      const gboolean merge_mixin = p->groups_input == 1 && p->groups_input_mixin == 1;
      const gboolean h_read = !(last_array && l + 1 == p->n_layers);
      const int z = mdn_net_graph_add_buf(b.g, bg);
      int next_h = h;

      /* z = conv(h) + bias + mixin(x): one product when neither is grouped */
      if (a == 0 && l == 0 && merge_mixin && p->input_size < p->channels) {
        /* The first layer reads h = R x (the rechannel, no bias): its conv
         * folds onto x itself, W'[o][i][k] = sum_c W[o][c][k] R[c][i], and
         * the mixin joins the lag-0 tap: input_size * K rows instead of
         * channels * K + condition_size (the same function; its weights
         * rounded once from double). */
        fold_first_layer(&b, rechannel, x, z, p, bg, taps, dil);
      } else {
        conv_ops(&b, ops, p->groups_input, h, 0, p->channels, z, 0, bg, taps, dil, -1, 0,
                 merge_mixin ? p->condition_size : 0);
      }
      if (a == 0 && l == 0 && merge_mixin && p->input_size < p->channels) {
        /* folded above */
      } else if (merge_mixin) {
        gemm_rows(&b, ops[0], p->channels * taps, x, 0, p->condition_size, 1, 1);
        read_conv(&b, ops, 1, 0, p->channels, bg, taps, TRUE, 1.0f);
        read_conv(&b, ops, 1, p->channels * taps, p->condition_size, bg, 1, FALSE, 1.0f);
      } else {
        read_conv(&b, ops, p->groups_input, 0, p->channels, bg, taps, TRUE, 1.0f);
        conv_ops(&b, ops, p->groups_input_mixin, x, 0, p->condition_size, z, 0, bg, 1, 1, z, 0, 0);
        read_conv(&b, ops, p->groups_input_mixin, 0, p->condition_size, bg, 1, FALSE, 1.0f);
      }

      if (gating == MDN_GATING_NONE) {
        add_act(&b, z, 0, bn, &p->acts[l]);
      } else {
        MdnNetOp *op = mdn_net_graph_add_op(b.g, MDN_OP_GATE);
        op->dst = z;
        op->dst_chan = 0;
        op->cout = bn;
        op->gating = gating;
        mdn_net_act_copy(&op->act, &p->acts[l]);
        mdn_net_act_copy(&op->act2, &p->secondary[l]);
      }

      /* residual: h' = h + layer1x1(z) + bias */
      if (p->layer1x1_active) {
        if (h_read) {
          next_h = mdn_net_graph_add_buf(b.g, p->channels);
          conv_ops(&b, ops, p->layer1x1_groups, z, 0, bn, next_h, 0, p->channels, 1, 1, h, 0, 0);
          read_conv(&b, ops, p->layer1x1_groups, 0, bn, p->channels, 1, TRUE, 1.0f);
        } else {
          b.w += conv_weights(bn, p->channels, 1, p->layer1x1_groups, TRUE);
        }
      }

      /* skip: head_acc (+)= head1x1(z) + bias, or z */
      if (p->head1x1_active) {
        const gboolean first = a == 0 && l == 0;
        conv_ops(&b, ops, p->head1x1_groups, z, 0, bn, acc, 0, p->head1x1_out, 1, 1,
                 first ? -1 : acc, 0, 0);
        read_conv(&b, ops, p->head1x1_groups, 0, bn, p->head1x1_out, 1, TRUE, 1.0f);
      } else {
        add_add(&b, acc, z, bn, a == 0 && l == 0);
      }
      h = next_h;
    }

    /* head: a causal conv of head_acc into the next array's head_acc (its
     * head input, of this head's size: checked), or the last head output.
     * head_scale, the file's last weight, multiplies that output (before a
     * post-stack head too): folded into this conv's weights and bias. */
    next_acc = mdn_net_graph_add_buf(b.g, p->head_size);
    conv_ops(&b, ops, 1, acc, 0, ho, next_acc, 0, p->head_size, p->head_kernel, p->head_dilation,
             -1, 0, 0);
    read_conv(&b, ops, 1, 0, ho, p->head_size, p->head_kernel, p->head_bias,
              last_array ? d->weights[d->n_weights - 1] : 1.0f);
    acc = next_acc;
  }
  out = acc;

  if (d->with_head) {
    int cin = d->arrays[d->n_arrays - 1].head_size, i;
    for (i = 0; i < d->n_head_kernels; i++) {
      const int cout = i + 1 == d->n_head_kernels ? d->head_out : d->head_channels;
      const int next = mdn_net_graph_add_buf(b.g, cout);
      add_act(&b, out, 0, cin, &d->head_act);
      conv_ops(&b, ops, 1, out, 0, cin, next, 0, cout, d->head_kernels[i], 1, -1, 0, 0);
      read_conv(&b, ops, 1, 0, cin, cout, d->head_kernels[i], TRUE, 1.0f);
      out = next;
      cin = cout;
    }
    g_string_append_printf(summary, ", head of %d convs", d->n_head_kernels);
  }
  b.w++; /* head_scale, folded above */
  g_assert(b.w == d->weights + d->n_weights);

  b.g->output = out;
  b.g->out_channels = b.g->bufs[out].channels;
  for (a = 0; a < d->n_arrays; a++)
    b.g->n_layers += d->arrays[a].n_layers;
  b.g->summary = g_string_free(summary, FALSE);
  return b.g;
}

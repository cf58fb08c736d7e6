/* net-private.h: trained models as a graph of conv1d layers (engine/net/).
 *
 * A model (MdnNet) holds one or more submodels (a slimmable file's sizes);
 * each submodel is compiled into a MdnNetGraph: buffers of planar channels
 * and a list of operations run in order over every chunk of frames.
 *
 * Buffers: channel c of buffer b is a row of floats; at run time the current
 * chunk's n frames sit at positions [fill, fill + n) and the `history` frames
 * before it hold the past (what dilated convolutions read back). Buffers with
 * no history are scratch: only the chunk.
 *
 * Operations:
 *   GEMM: y[o][t] = base[o][t] (or 0) + bias[o] (or 0) + sum_r w[o][r] * x_r[t]
 *         for the chunk's frames t; every row x_r is (buffer, channel, lag):
 *         that channel read `lag` frames back. A dilated conv with K taps over
 *         C channels is C*K rows; a 1x1 mixer C rows; a residual sum uses base.
 *   ACT:  an activation in place over channels of a buffer.
 *   GATE: top = act(top) * act2(bottom) (gated) or
 *         top = a * act(top) + (1 - a) * top, a = act2(bottom) (blended).
 *   ADD:  dst += src over channels (copy when `copy`).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_NET_PRIVATE_H
#define MDN_NET_PRIVATE_H

#include "mdn-private.h"
#include "dsp.h"

G_BEGIN_DECLS

/* Frames per inner chunk of mdn_net_stream_process(): bounds the scratch. */
#define MDN_NET_CHUNK 512

/* Limits on what a model file may ask for (hostile files). */
#define MDN_NET_MAX_SUBMODELS 16
#define MDN_NET_MAX_ARRAYS 16
#define MDN_NET_MAX_LAYERS 256 /* per layer array */
#define MDN_NET_MAX_KERNEL 256 /* taps of one conv */
#define MDN_NET_MAX_DILATION 65536
#define MDN_NET_MAX_WEIGHTS (1 << 22) /* per submodel */
/* History and scratch of one stream group of one submodel. */
#define MDN_NET_MAX_STATE_BYTES ((guint64)256 << 20)

typedef enum {
  MDN_ACT_IDENTITY,
  MDN_ACT_TANH,
  MDN_ACT_HARDTANH,
  MDN_ACT_FASTTANH, /* NAM's rational tanh approximation, as a model trained with it */
  MDN_ACT_RELU,
  MDN_ACT_LEAKYRELU,
  MDN_ACT_PRELU,
  MDN_ACT_SIGMOID,
  MDN_ACT_SILU,
  MDN_ACT_HARDSWISH,
  MDN_ACT_LEAKYHARDTANH,
  MDN_ACT_SOFTSIGN,
  MDN_N_ACTS
} MdnActType;

typedef struct {
  MdnActType type;
  float negative_slope;                         /* LeakyReLU, PReLU with one slope */
  float min_val, max_val, min_slope, max_slope; /* LeakyHardtanh */
  int n_slopes;                                 /* PReLU per channel: slopes[c % n_slopes] */
  float *slopes;
} MdnNetAct;

const char *mdn_act_name(MdnActType type);
/* The activation of one value in double precision (the tests' reference
 * and the constant folding); channel picks a PReLU slope. */
double mdn_act_double(const MdnNetAct *act, double x, int channel);
/* In place over n values of one channel, with the engine's kernels. */
void mdn_act_apply(const MdnNetDsp *k, const MdnNetAct *act, float *v, size_t n, int channel);
void mdn_net_act_copy(MdnNetAct *dst, const MdnNetAct *src);
void mdn_net_act_clear(MdnNetAct *act);

typedef enum { MDN_GATING_NONE, MDN_GATING_GATED, MDN_GATING_BLENDED } MdnGating;

/* ---- WaveNet description (what a .nam file says; wavenet.c builds it) ---- */

typedef struct {
  int input_size, condition_size, channels, bottleneck;
  int head_size, head_kernel, head_dilation;
  gboolean head_bias;
  int n_layers;
  int *kernel_sizes, *dilations; /* [n_layers] */
  MdnNetAct *acts, *secondary;   /* [n_layers] */
  MdnGating *gating;             /* [n_layers] */
  gboolean layer1x1_active;
  int layer1x1_groups;
  gboolean head1x1_active;
  int head1x1_out, head1x1_groups;
  int groups_input, groups_input_mixin;
  int n_allowed; /* slimmable: allowed channel counts, ascending, or 0 */
  int *allowed;
} MdnWaveNetArray;

typedef struct {
  int in_channels;
  int n_arrays;
  MdnWaveNetArray *arrays;
  float head_scale; /* also the last weight of the file (the file's wins) */
  /* Post-stack head: convs of kernel sizes head_kernels, each after an
   * activation, head_in -> head_channels ... -> head_out. */
  gboolean with_head;
  int head_channels, head_out, n_head_kernels;
  int *head_kernels;
  MdnNetAct head_act;
  float *weights; /* in the file's order */
  size_t n_weights;
} MdnWaveNetDesc;

void mdn_wavenet_desc_clear(MdnWaveNetDesc *desc);
/* Checks the shapes (limits above, NAM's rules) and counts the weights the
 * description needs; FALSE with an error naming what is wrong. */
gboolean mdn_wavenet_desc_check(const MdnWaveNetDesc *desc, size_t *n_weights, GError **error);
/* The description of the submodel with channels[a] channels in array a
 * (slimmable "slice_channels_uniform": the first channels of every tensor);
 * weights are sliced out of the full description's. */
gboolean mdn_wavenet_desc_slice(const MdnWaveNetDesc *full, const int *channels,
                                MdnWaveNetDesc *slim, GError **error);
/* Frames of input the output depends on (NAM's receptive field: 1 + sum of
 * (K - 1) * dilation). */
size_t mdn_wavenet_receptive_field(const MdnWaveNetDesc *desc);

/* The description of a .nam file holding one WaveNet (nam/nam-file.c):
 * what the tests' double-precision reference runs. */
gboolean mdn_nam_parse_wavenet(const void *data, size_t size, MdnWaveNetDesc *desc, GError **error);

/* ---- graph ---- */

typedef enum { MDN_OP_GEMM, MDN_OP_ACT, MDN_OP_GATE, MDN_OP_ADD } MdnOpKind;

typedef struct {
  guint16 buf, chan;
  guint32 lag;
} MdnNetRow;

typedef struct {
  MdnOpKind kind;
  /* GEMM: y = buffer dst, channels dst_chan .. + cout; rows; base: buffer
   * base_buf (-1 for none) from channel base_chan. */
  int dst, dst_chan, cout;
  int base_buf, base_chan;
  int n_rows;
  MdnNetRow *rows;
  float *w;    /* [cout][n_rows] */
  float *bias; /* [cout] or NULL */
  /* ACT, GATE (on dst from dst_chan, cout channels; GATE reads the bottom
   * half at dst_chan + cout), ADD (dst += src from src_chan, cout channels). */
  MdnNetAct act, act2;
  MdnGating gating;
  int src, src_chan;
  gboolean copy;
} MdnNetOp;

typedef struct {
  int channels;
  size_t history;
} MdnNetBuf;

typedef struct {
  int n_bufs;
  MdnNetBuf *bufs; /* buffer 0: the input; `output`: the output */
  int output;
  int n_ops;
  MdnNetOp *ops;
  int in_channels, out_channels;
  /* Reported: */
  size_t receptive_field;
  double macs_per_frame;
  size_t n_weights; /* the file's */
  int n_layers;     /* dilated convs */
  char *summary;    /* one line: arrays, channels */
  int max_rows, max_cout;
} MdnNetGraph;

MdnNetGraph *mdn_net_graph_new(void);
void mdn_net_graph_free(MdnNetGraph *g);
int mdn_net_graph_add_buf(MdnNetGraph *g, int channels);
/* Records that `buf` is read `lag` frames back. */
void mdn_net_graph_need_history(MdnNetGraph *g, int buf, size_t lag);
MdnNetOp *mdn_net_graph_add_op(MdnNetGraph *g, MdnOpKind kind);
size_t mdn_net_buf_len(const MdnNetBuf *b);
/* State bytes of one group (buffers with their room, scratch pointers). */
guint64 mdn_net_graph_state_bytes(const MdnNetGraph *g);

/* Builds the graph of a checked description. */
MdnNetGraph *mdn_wavenet_build(const MdnWaveNetDesc *desc, GError **error);

/* ---- the model ---- */

struct _MdnNet {
  char *architecture; /* of the file: "WaveNet", "SlimmableContainer" */
  char *version;
  double rate;
  gboolean rate_from_file;
  MdnNetMetadata metadata;
  int n_submodels;
  MdnNetGraph **graphs;     /* smallest first */
  double *max_value;        /* [n_submodels]: NAM's slimmable size bound */
  int quality_submodel[11]; /* quality 0..10 -> submodel */
};

/* Takes ownership of the graphs (array included). */
MdnNet *mdn_net_new_from_graphs(MdnNetGraph **graphs, int n, const double *max_value, double rate,
                                GError **error);

/* One group's state of one graph (net-stream.c). */
typedef struct _MdnNetState MdnNetState;
MdnNetState *mdn_net_state_new(const MdnNetGraph *g, GError **error);
void mdn_net_state_free(MdnNetState *s);
/* The state the graph reaches after enough silence (NAM's prewarm). */
void mdn_net_state_warm(MdnNetState *s);
/* n <= MDN_NET_CHUNK frames: in has stride in_stride (the group's channels
 * first), out stride out_stride. Returns non-finite inputs replaced by 0. */
size_t mdn_net_state_process(MdnNetState *s, const float *in, size_t in_stride, float *out,
                             size_t out_stride, size_t n);

G_END_DECLS

#endif /* MDN_NET_PRIVATE_H */

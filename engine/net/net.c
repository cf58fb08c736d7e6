/* net.c: a trained model (one or more submodels) and its streams.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"

#include <string.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

MdnNet *
mdn_net_new_from_graphs(MdnNetGraph **graphs, int n, const double *max_value, double rate,
                        GError **error)
{
  MdnNet *net;
  int i, q;

  for (i = 1; i < n; i++)
    if (graphs[i]->in_channels != graphs[0]->in_channels
        || graphs[i]->out_channels != graphs[0]->out_channels) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "submodel %d has %d->%d channels, submodel 0 %d->%d", i, graphs[i]->in_channels,
                  graphs[i]->out_channels, graphs[0]->in_channels, graphs[0]->out_channels);
      for (i = 0; i < n; i++)
        mdn_net_graph_free(graphs[i]);
      g_free(graphs);
      return NULL;
    }
  net = g_new0(MdnNet, 1);
  net->graphs = graphs;
  net->n_submodels = n;
  net->rate = rate;
  net->max_value = g_new(double, n);
  for (i = 0; i < n; i++)
    net->max_value[i] = max_value ? max_value[i] : 1.0;
  /* NAM's rule: the first submodel whose max_value is above quality / 10,
   * else the last. */
  for (q = 0; q <= 10; q++) {
    net->quality_submodel[q] = n - 1;
    for (i = 0; i < n; i++)
      if (q / 10.0 < net->max_value[i]) {
        net->quality_submodel[q] = i;
        break;
      }
  }
  net->metadata.loudness = net->metadata.input_level_dbu = net->metadata.output_level_dbu = NAN;
  net->metadata.gain = NAN;
  return net;
}

void
mdn_net_free(MdnNet *net)
{
  int i;

  if (!net)
    return;
  for (i = 0; i < net->n_submodels; i++)
    mdn_net_graph_free(net->graphs[i]);
  g_free(net->graphs);
  g_free(net->max_value);
  g_free(net->architecture);
  g_free(net->version);
  g_free(net);
}

const char *
mdn_net_architecture(const MdnNet *net)
{
  return net->architecture ? net->architecture : "WaveNet";
}

const char *
mdn_net_version(const MdnNet *net)
{
  return net->version ? net->version : "";
}

double
mdn_net_rate(const MdnNet *net)
{
  return net->rate;
}

gboolean
mdn_net_rate_from_file(const MdnNet *net)
{
  return net->rate_from_file;
}

const MdnNetMetadata *
mdn_net_metadata(const MdnNet *net)
{
  return &net->metadata;
}

int
mdn_net_in_channels(const MdnNet *net)
{
  return net->graphs[0]->in_channels;
}

int
mdn_net_out_channels(const MdnNet *net)
{
  return net->graphs[0]->out_channels;
}

int
mdn_net_n_submodels(const MdnNet *net)
{
  return net->n_submodels;
}

int
mdn_net_submodel_for_quality(const MdnNet *net, int quality)
{
  return net->quality_submodel[CLAMP(quality, 0, 10)];
}

void
mdn_net_submodel_info(const MdnNet *net, int submodel, MdnNetInfo *info)
{
  const MdnNetGraph *g;

  memset(info, 0, sizeof(*info));
  g_return_if_fail(submodel >= 0 && submodel < net->n_submodels);
  g = net->graphs[submodel];
  info->summary = g->summary;
  info->in_channels = g->in_channels;
  info->out_channels = g->out_channels;
  info->layers = g->n_layers;
  info->receptive_field = g->receptive_field;
  info->weights = g->n_weights;
  info->macs_per_frame = g->macs_per_frame;
}

/* ---- streams ---- */

struct _MdnNetStream {
  const MdnNet *net;
  int groups, in_channels, out_channels;
  int current;          /* the submodel the last call ran */
  MdnNetState **states; /* [n_submodels][groups] */
  guint64 nonfinite;
};

MdnNetStream *
mdn_net_stream_new(const MdnNet *net, int groups, GError **error)
{
  MdnNetStream *s;
  guint64 bytes = 0;
  int i, g;

  if (!net) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no model");
    return NULL;
  }
  if (groups < 1 || (gint64)groups * mdn_net_in_channels(net) > MDN_MAX_CHANNELS
      || (gint64)groups * mdn_net_out_channels(net) > MDN_MAX_CHANNELS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%d groups of a %d->%d model: out of range (at most %d channels)", groups,
                mdn_net_in_channels(net), mdn_net_out_channels(net), MDN_MAX_CHANNELS);
    return NULL;
  }
  for (i = 0; i < net->n_submodels; i++)
    bytes += mdn_net_graph_state_bytes(net->graphs[i]) * groups;
  if (bytes > MDN_MAX_STREAM_HISTORY_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%d groups of this model need %" G_GUINT64_FORMAT
                " bytes of history: more than the limit of %" G_GUINT64_FORMAT,
                groups, bytes, (guint64)MDN_MAX_STREAM_HISTORY_BYTES);
    return NULL;
  }
  s = g_new0(MdnNetStream, 1);
  s->net = net;
  s->groups = groups;
  s->in_channels = mdn_net_in_channels(net);
  s->out_channels = mdn_net_out_channels(net);
  s->current = -1;
  s->states = g_new0(MdnNetState *, (size_t)net->n_submodels * groups);
  for (i = 0; i < net->n_submodels; i++)
    for (g = 0; g < groups; g++) {
      MdnNetState *st = mdn_net_state_new(net->graphs[i], error);
      if (!st) {
        mdn_net_stream_free(s);
        return NULL;
      }
      s->states[(size_t)i * groups + g] = st;
    }
  return s;
}

void
mdn_net_stream_free(MdnNetStream *s)
{
  size_t i;

  if (!s)
    return;
  for (i = 0; i < (size_t)s->net->n_submodels * s->groups; i++)
    mdn_net_state_free(s->states[i]);
  g_free(s->states);
  g_free(s);
}

void
mdn_net_stream_reset(MdnNetStream *s)
{
  size_t i;

  for (i = 0; i < (size_t)s->net->n_submodels * s->groups; i++)
    mdn_net_state_warm(s->states[i]);
  s->nonfinite = 0;
  s->current = -1;
}

guint64
mdn_net_stream_nonfinite_count(const MdnNetStream *s)
{
  return s->nonfinite;
}

gboolean
mdn_net_stream_process(MdnNetStream *s, int submodel, const float *in, float *out, size_t n_frames)
{
  const size_t in_stride = (size_t)s->groups * s->in_channels;
  const size_t out_stride = (size_t)s->groups * s->out_channels;
  size_t done = 0;
  int g;
#if defined(__SSE__)
  unsigned int csr;
#endif

  if (submodel < 0 || submodel >= s->net->n_submodels)
    return FALSE;
  if (n_frames == 0)
    return TRUE;
  if (submodel != s->current) {
    /* NAM resets (and so warms) a submodel it switches to. */
    if (s->current >= 0)
      for (g = 0; g < s->groups; g++)
        mdn_net_state_warm(s->states[(size_t)submodel * s->groups + g]);
    s->current = submodel;
  }
#if defined(__SSE__)
  /* Denormals flushed to zero while running, as in mdn_stream_process(). */
  csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040);
#endif
  while (done < n_frames) {
    const size_t n = MIN(n_frames - done, (size_t)MDN_NET_CHUNK);
    for (g = 0; g < s->groups; g++)
      s->nonfinite += mdn_net_state_process(
          s->states[(size_t)submodel * s->groups + g], in + done * in_stride + g * s->in_channels,
          in_stride, out + done * out_stride + g * s->out_channels, out_stride, n);
    done += n;
  }
#if defined(__SSE__)
  _mm_setcsr(csr);
#endif
  return TRUE;
}

/* nam-reference.c: a plain-C double-precision forward pass of a NAM WaveNet,
 * straight from its description and its flat weights in the file's order
 * (written from NAM's documented semantics, independently of the engine's
 * graph builder), with NAM's warm-up: `warm` frames of silence run first.
 * Slow and simple: every tensor is a [channels][frames] double array over
 * the whole signal.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "nam-reference.h"

#include <math.h>
#include <string.h>

typedef struct {
  const float *w;
} Cursor;

/* A causal conv over whole signals: y[o][t] (+)= bias + sum over the group's
 * inputs and taps of w * x[i][t - (K - 1 - k) * dil], weights read in NAM's
 * [group][out][in][tap] order. y is overwritten unless accumulate. */
static void
conv(Cursor *c, double **y, double *const *x, int cin, int cout, int taps, int dil, int groups,
     gboolean bias, size_t n, gboolean accumulate, double scale)
{
  const int ipg = cin / groups, opg = cout / groups;
  int g, o, j, k;
  size_t t;

  if (!accumulate)
    for (o = 0; o < cout; o++)
      memset(y[o], 0, sizeof(double) * n);
  for (g = 0; g < groups; g++)
    for (o = 0; o < opg; o++)
      for (j = 0; j < ipg; j++)
        for (k = 0; k < taps; k++) {
          const double w = scale * *c->w++;
          const size_t lag = (size_t)(taps - 1 - k) * dil;
          double *yo = y[g * opg + o];
          const double *xi = x[g * ipg + j];
          for (t = lag; t < n; t++)
            yo[t] += w * xi[t - lag];
        }
  if (bias)
    for (o = 0; o < cout; o++) {
      const double b = scale * *c->w++;
      for (t = 0; t < n; t++)
        y[o][t] += b;
    }
}

static double **
tensor(int channels, size_t n)
{
  double **t = g_new(double *, channels + 1);
  int c;
  for (c = 0; c < channels; c++)
    t[c] = g_new0(double, n);
  t[channels] = NULL;
  return t;
}

static void
tensor_free(double **t)
{
  int c;
  if (!t)
    return;
  for (c = 0; t[c]; c++)
    g_free(t[c]);
  g_free(t);
}

static void
act(const MdnNetAct *a, double *v, size_t n, int channel)
{
  size_t t;
  for (t = 0; t < n; t++)
    v[t] = mdn_act_double(a, v[t], channel);
}

double *
mdn_test_wavenet_reference(const MdnWaveNetDesc *d, const float *in, size_t n_frames, size_t warm)
{
  const size_t n = warm + n_frames;
  const float scale = d->weights[d->n_weights - 1];
  Cursor c = { d->weights };
  double **x = tensor(d->in_channels, n), **h = NULL, **acc = NULL, **out;
  double *result;
  int a, l, ch, i;
  size_t t;

  for (ch = 0; ch < d->in_channels; ch++)
    for (t = 0; t < n_frames; t++)
      x[ch][warm + t] = in[t * d->in_channels + ch];

  for (a = 0; a < d->n_arrays; a++) {
    const MdnWaveNetArray *p = &d->arrays[a];
    const int ho = p->head1x1_active ? p->head1x1_out : p->bottleneck;
    double **in_a = a == 0 ? x : h, **head;

    h = tensor(p->channels, n);
    conv(&c, h, in_a, p->input_size, p->channels, 1, 1, 1, FALSE, n, FALSE, 1.0);
    if (a > 0)
      tensor_free(in_a);
    if (!acc)
      acc = tensor(ho, n);
    for (l = 0; l < p->n_layers; l++) {
      const int bn = p->bottleneck, bg = p->gating[l] == MDN_GATING_NONE ? bn : 2 * bn;
      double **z = tensor(bg, n);

      conv(&c, z, h, p->channels, bg, p->kernel_sizes[l], p->dilations[l], p->groups_input, TRUE, n,
           FALSE, 1.0);
      conv(&c, z, x, p->condition_size, bg, 1, 1, p->groups_input_mixin, FALSE, n, TRUE, 1.0);
      for (ch = 0; ch < bn; ch++) {
        if (p->gating[l] == MDN_GATING_NONE) {
          act(&p->acts[l], z[ch], n, ch);
        } else {
          for (t = 0; t < n; t++) {
            const double top = z[ch][t];
            const double f = mdn_act_double(&p->acts[l], top, ch);
            const double g = mdn_act_double(&p->secondary[l], z[bn + ch][t], ch);
            z[ch][t] = p->gating[l] == MDN_GATING_GATED ? f * g : g * f + (1 - g) * top;
          }
        }
      }
      if (p->layer1x1_active) {
        /* h += layer1x1(z) + bias */
        conv(&c, h, z, bn, p->channels, 1, 1, p->layer1x1_groups, TRUE, n, TRUE, 1.0);
      }
      if (p->head1x1_active) {
        conv(&c, acc, z, bn, p->head1x1_out, 1, 1, p->head1x1_groups, TRUE, n, TRUE, 1.0);
      } else {
        for (ch = 0; ch < bn; ch++)
          for (t = 0; t < n; t++)
            acc[ch][t] += z[ch][t];
      }
      tensor_free(z);
    }
    head = tensor(p->head_size, n);
    conv(&c, head, acc, ho, p->head_size, p->head_kernel, p->head_dilation, 1, p->head_bias, n,
         FALSE, 1.0);
    tensor_free(acc);
    acc = head;
  }
  /* head_scale on the last head output, then the post-stack head */
  out = acc;
  for (ch = 0; out[ch]; ch++)
    for (t = 0; t < n; t++)
      out[ch][t] *= scale;
  if (d->with_head) {
    int cin = d->arrays[d->n_arrays - 1].head_size;
    for (i = 0; i < d->n_head_kernels; i++) {
      const int cout = i + 1 == d->n_head_kernels ? d->head_out : d->head_channels;
      double **next = tensor(cout, n);
      for (ch = 0; ch < cin; ch++)
        act(&d->head_act, out[ch], n, ch);
      conv(&c, next, out, cin, cout, d->head_kernels[i], 1, 1, TRUE, n, FALSE, 1.0);
      tensor_free(out);
      out = next;
      cin = cout;
    }
  }
  g_assert(c.w + 1 == d->weights + d->n_weights);

  for (ch = 0; out[ch]; ch++)
    ;
  result = g_new(double, n_frames *ch + 1);
  for (i = 0; i < ch; i++)
    for (t = 0; t < n_frames; t++)
      result[t * ch + i] = out[i][warm + t];
  tensor_free(out);
  tensor_free(h);
  tensor_free(x);
  return result;
}

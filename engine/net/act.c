/* act.c: the activations of trained models, exact (not approximated): tanh
 * and the sigmoid through the kernels' rational tanh (accurate to a few float
 * ulps, test-net-kernels), the piecewise ones as written.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"

#include <math.h>
#include <string.h>

static const char *const act_names[MDN_N_ACTS] = {
  "Identity", "Tanh",    "Hardtanh", "Fasttanh",  "ReLU",          "LeakyReLU",
  "PReLU",    "Sigmoid", "SiLU",     "Hardswish", "LeakyHardtanh", "Softsign",
};

const char *
mdn_act_name(MdnActType type)
{
  return type >= 0 && type < MDN_N_ACTS ? act_names[type] : "unknown";
}

void
mdn_net_act_copy(MdnNetAct *dst, const MdnNetAct *src)
{
  *dst = *src;
  dst->slopes = src->n_slopes > 0 ? g_memdup2(src->slopes, sizeof(float) * src->n_slopes) : NULL;
}

void
mdn_net_act_clear(MdnNetAct *act)
{
  g_free(act->slopes);
  memset(act, 0, sizeof(*act));
}

/* NAM's "Fasttanh": a rational approximation the model was trained with, so
 * it is the model's function (evaluated as written). */
static double
fast_tanh_double(double x)
{
  const double ax = fabs(x), x2 = x * x;
  return x
         * (2.45550750702956 + 2.45550750702956 * ax
            + (0.893229853513558 + 0.821226666969744 * ax) * x2)
         / (2.44506634652299 + (2.44506634652299 + x2) * fabs(x + 0.814642734961073 * x * ax));
}

static float
fast_tanh_float(float x)
{
  const float ax = fabsf(x), x2 = x * x;
  return x
         * (2.45550750702956f + 2.45550750702956f * ax
            + (0.893229853513558f + 0.821226666969744f * ax) * x2)
         / (2.44506634652299f + (2.44506634652299f + x2) * fabsf(x + 0.814642734961073f * x * ax));
}

static double
slope_of(const MdnNetAct *act, int channel)
{
  return act->n_slopes > 0 ? act->slopes[channel % act->n_slopes] : act->negative_slope;
}

double
mdn_act_double(const MdnNetAct *act, double x, int channel)
{
  double s;
  switch (act->type) {
  case MDN_ACT_TANH:
    return tanh(x);
  case MDN_ACT_HARDTANH:
    return x < -1 ? -1 : (x > 1 ? 1 : x);
  case MDN_ACT_FASTTANH:
    return fast_tanh_double(x);
  case MDN_ACT_RELU:
    return x > 0 ? x : 0;
  case MDN_ACT_LEAKYRELU:
  case MDN_ACT_PRELU:
    s = slope_of(act, channel);
    return x > 0 ? x : s * x;
  case MDN_ACT_SIGMOID:
    return 1 / (1 + exp(-x));
  case MDN_ACT_SILU:
    return x / (1 + exp(-x));
  case MDN_ACT_HARDSWISH: {
    double t = x + 3;
    t = t < 0 ? 0 : (t > 6 ? 6 : t);
    return x * t / 6;
  }
  case MDN_ACT_LEAKYHARDTANH:
    if (x < act->min_val)
      return (x - act->min_val) * act->min_slope + act->min_val;
    if (x > act->max_val)
      return (x - act->max_val) * act->max_slope + act->max_val;
    return x;
  case MDN_ACT_SOFTSIGN:
    return x / (1 + fabs(x));
  case MDN_ACT_IDENTITY:
  default:
    return x;
  }
}

/* sigmoid(x) = (1 + tanh(x / 2)) / 2: the scalings are exact, so its error is
 * the tanh's (absolute, about 1e-7 at most). */
static void
sigmoid_apply(const MdnNetDsp *k, float *v, size_t n)
{
  size_t t;
  for (t = 0; t < n; t++)
    v[t] *= 0.5f;
  k->tanh(v, n);
  for (t = 0; t < n; t++)
    v[t] = 0.5f * v[t] + 0.5f;
}

void
mdn_act_apply(const MdnNetDsp *k, const MdnNetAct *act, float *restrict v, size_t n, int channel)
{
  size_t t;
  float s;

  switch (act->type) {
  case MDN_ACT_TANH:
    k->tanh(v, n);
    break;
  case MDN_ACT_HARDTANH:
    for (t = 0; t < n; t++)
      v[t] = v[t] < -1.0f ? -1.0f : (v[t] > 1.0f ? 1.0f : v[t]);
    break;
  case MDN_ACT_FASTTANH:
    for (t = 0; t < n; t++)
      v[t] = fast_tanh_float(v[t]);
    break;
  case MDN_ACT_RELU:
    for (t = 0; t < n; t++)
      v[t] = v[t] > 0.0f ? v[t] : 0.0f;
    break;
  case MDN_ACT_LEAKYRELU:
  case MDN_ACT_PRELU:
    s = (float)slope_of(act, channel);
    for (t = 0; t < n; t++)
      v[t] = v[t] > 0.0f ? v[t] : s * v[t];
    break;
  case MDN_ACT_SIGMOID:
    sigmoid_apply(k, v, n);
    break;
  case MDN_ACT_SILU: {
    /* x * sigmoid(x) in blocks, the sigmoid in a stack buffer. */
    float tmp[256];
    size_t done = 0, m;
    while (done < n) {
      m = MIN(n - done, G_N_ELEMENTS(tmp));
      memcpy(tmp, v + done, sizeof(float) * m);
      sigmoid_apply(k, tmp, m);
      for (t = 0; t < m; t++)
        v[done + t] *= tmp[t];
      done += m;
    }
    break;
  }
  case MDN_ACT_HARDSWISH:
    for (t = 0; t < n; t++) {
      float c = v[t] + 3.0f;
      c = c < 0.0f ? 0.0f : (c > 6.0f ? 6.0f : c);
      v[t] = v[t] * c * (1.0f / 6.0f);
    }
    break;
  case MDN_ACT_LEAKYHARDTANH:
    for (t = 0; t < n; t++) {
      const float x = v[t];
      v[t] = x < act->min_val   ? (x - act->min_val) * act->min_slope + act->min_val
             : x > act->max_val ? (x - act->max_val) * act->max_slope + act->max_val
                                : x;
    }
    break;
  case MDN_ACT_SOFTSIGN:
    for (t = 0; t < n; t++)
      v[t] = v[t] / (1.0f + fabsf(v[t]));
    break;
  case MDN_ACT_IDENTITY:
  default:
    break;
  }
}

/* kernel.c: the exact conv1d kernel (shape, weights, bias) and its checks.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(mdn - error - quark, mdn_error)

gboolean
mdn_kernel_shape_check(int cin, int cout, int taps, int dilation, MdnErrorCode code, GError **error)
{
  if (cin < 1 || cin > MDN_MAX_CHANNELS || cout < 1 || cout > MDN_MAX_CHANNELS) {
    g_set_error(error, MDN_ERROR, code, "channels must be 1..%d (got cin=%d cout=%d)",
                MDN_MAX_CHANNELS, cin, cout);
    return FALSE;
  }
  if (taps < 1 || taps > MDN_MAX_TAPS) {
    g_set_error(error, MDN_ERROR, code, "taps must be 1..%d (got %d)", MDN_MAX_TAPS, taps);
    return FALSE;
  }
  if (dilation < 1 || dilation > MDN_MAX_DILATION) {
    g_set_error(error, MDN_ERROR, code, "dilation must be 1..%d (got %d)", MDN_MAX_DILATION,
                dilation);
    return FALSE;
  }
  if ((guint64)(taps - 1) * (guint64)dilation + 1 > MDN_MAX_SPAN) {
    g_set_error(error, MDN_ERROR, code,
                "%d taps at dilation %d span %" G_GUINT64_FORMAT
                " frames, more than the limit of %d (MDN_MAX_SPAN)",
                taps, dilation, (guint64)(taps - 1) * (guint64)dilation + 1, MDN_MAX_SPAN);
    return FALSE;
  }
  /* 64-bit product: cannot overflow with the limits above. */
  if ((guint64)cin * (guint64)cout * (guint64)taps > MDN_MAX_WEIGHTS) {
    g_set_error(error, MDN_ERROR, code,
                "%d x %d x %d weights exceed the limit of %d (MDN_MAX_WEIGHTS)", cout, cin, taps,
                MDN_MAX_WEIGHTS);
    return FALSE;
  }
  return TRUE;
}

gboolean
mdn_kernel_rate_check(double rate, MdnErrorCode code, GError **error)
{
  if (!(rate > 0 && rate <= MDN_MAX_RATE)) {
    g_set_error(error, MDN_ERROR, code, "sample rate must be in (0, %.0f] Hz (got %g)",
                MDN_MAX_RATE, rate);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_shape(int cin, int cout, int taps, int dilation, double rate, GError **error)
{
  return mdn_kernel_shape_check(cin, cout, taps, dilation, MDN_ERROR_INVALID_ARGUMENT, error)
         && mdn_kernel_rate_check(rate, MDN_ERROR_INVALID_ARGUMENT, error);
}

MdnKernel *
mdn_kernel_new(int cin, int cout, int taps, int dilation, double rate, GError **error)
{
  MdnKernel *k;

  if (!check_shape(cin, cout, taps, dilation, rate, error))
    return NULL;
  k = g_new0(MdnKernel, 1);
  k->cin = cin;
  k->cout = cout;
  k->taps = taps;
  k->dilation = dilation;
  k->rate = rate;
  k->weights = g_new0(float, (size_t)cin *cout *taps);
  k->bias = g_new0(float, cout);
  return k;
}

MdnKernel *
mdn_kernel_copy(const MdnKernel *src)
{
  MdnKernel *k = mdn_kernel_new(src->cin, src->cout, src->taps, src->dilation, src->rate, NULL);

  g_return_val_if_fail(k != NULL, NULL);
  memcpy(k->weights, src->weights, sizeof(float) * src->cin * src->cout * src->taps);
  memcpy(k->bias, src->bias, sizeof(float) * src->cout);
  return k;
}

void
mdn_kernel_free(MdnKernel *k)
{
  if (!k)
    return;
  g_free(k->weights);
  g_free(k->bias);
  g_free(k);
}

gboolean
mdn_kernel_validate(const MdnKernel *k, GError **error)
{
  size_t n, j;

  if (!check_shape(k->cin, k->cout, k->taps, k->dilation, k->rate, error))
    return FALSE;
  n = (size_t)k->cin * k->cout * k->taps;
  for (j = 0; j < n; j++)
    if (!isfinite(k->weights[j])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "weight %zu is not a finite number", j);
      return FALSE;
    }
  for (j = 0; j < (size_t)k->cout; j++)
    if (!isfinite(k->bias[j])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "bias %zu is not a finite number", j);
      return FALSE;
    }
  return TRUE;
}

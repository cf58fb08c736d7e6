/* reference.c: the double-precision reference conv1d accuracy is measured
 * against.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mdn-signals.h"

double *
mdn_reference_conv(const MdnKernel *k, const float *in, size_t n_frames)
{
  double *out = g_new0(double, n_frames * k->cout + 1);
  size_t t;
  int o, i, tap;

  for (t = 0; t < n_frames; t++)
    for (o = 0; o < k->cout; o++) {
      double acc = k->bias[o];
      for (i = 0; i < k->cin; i++)
        for (tap = 0; tap < k->taps; tap++) {
          size_t back = (size_t)tap * k->dilation;
          if (back > t)
            break;
          acc += (double)mdn_kernel_weight(k, o, i, tap) * in[(t - back) * k->cin + i];
        }
      out[t * k->cout + o] = acc;
    }
  return out;
}

/* reference.c: the double-precision reference conv1d accuracy is measured
 * against, a dense solver and the audit-weighted SNR for tests and benches.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mdn-signals.h"

#include <math.h>

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

void
mdn_dense_solve(double *a, double *b, int n)
{
  int col, r, c;

  for (col = 0; col < n; col++) {
    int piv = col;
    for (r = col + 1; r < n; r++)
      if (fabs(a[r * n + col]) > fabs(a[piv * n + col]))
        piv = r;
    for (c = 0; c < n; c++) {
      double tmp = a[col * n + c];
      a[col * n + c] = a[piv * n + c];
      a[piv * n + c] = tmp;
    }
    {
      double tmp = b[col];
      b[col] = b[piv];
      b[piv] = tmp;
    }
    for (r = 0; r < n; r++) {
      double f;
      if (r == col)
        continue;
      f = a[r * n + col] / a[col * n + col];
      for (c = col; c < n; c++)
        a[r * n + c] -= f * a[col * n + c];
      b[r] -= f * b[col];
    }
  }
  for (r = 0; r < n; r++)
    b[r] /= a[r * n + r];
}

double
mdn_weighted_snr_db(const double *ref, const float *y, size_t n, int channels, double tau)
{
  double signal = 0, noise = 0, w = 1, decay = tau > 0 ? exp(-1.0 / tau) : 1;
  size_t t;
  int c;

  for (t = n; t-- > 0;) {
    for (c = 0; c < channels; c++) {
      double r = ref[t * channels + c], d = r - y[t * channels + c];
      signal += w * r * r;
      noise += w * d * d;
    }
    w *= decay;
  }
  return 10 * log10(signal / noise);
}

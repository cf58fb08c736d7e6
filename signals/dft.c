/* mdn-dft: a double-precision complex DFT (see mdn-dft.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-dft.h"

#include <math.h>

void
mdn_dft_double(double *z, size_t n, int sign)
{
  const double pi = 3.14159265358979323846;
  size_t i, j, len;

  for (i = 1, j = 0; i < n; i++) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      double t0 = z[2 * i], t1 = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = t0;
      z[2 * j + 1] = t1;
    }
  }
  for (len = 2; len <= n; len <<= 1)
    for (i = 0; i < n; i += len)
      for (j = 0; j < len / 2; j++) {
        double a = sign * 2.0 * pi * (double)j / (double)len;
        double wr = cos(a), wi = sin(a);
        double *u = z + 2 * (i + j), *v = z + 2 * (i + j + len / 2);
        double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
      }
}

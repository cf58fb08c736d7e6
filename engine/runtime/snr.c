/* snr.c: signal-to-noise ratio of an approximation against a reference.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <math.h>

double
mdn_snr_db(const double *reference, const float *test, size_t n)
{
  double signal = 0, noise = 0;
  size_t j;

  for (j = 0; j < n; j++) {
    double d = reference[j] - (double)test[j];
    signal += reference[j] * reference[j];
    noise += d * d;
  }
  if (noise == 0)
    return INFINITY;
  if (signal == 0)
    return -INFINITY;
  return 10.0 * log10(signal / noise);
}

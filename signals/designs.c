/* designs.c: kernels for the tests, the bench and the shipped presets:
 * windowed-sinc lowpass and band-pass bank, synthetic room response,
 * random trained-layer-like weights.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mdn-signals.h"

#include <math.h>

static double
blackman(int j, int n)
{
  if (n == 1)
    return 1;
  return 0.42 - 0.5 * cos(2 * M_PI * j / (n - 1)) + 0.08 * cos(4 * M_PI * j / (n - 1));
}

static double
sinc(double x)
{
  return x == 0 ? 1 : sin(M_PI * x) / (M_PI * x);
}

MdnKernel *
mdn_design_lowpass(int taps, double cutoff, double rate)
{
  MdnKernel *k = mdn_kernel_new(1, 1, taps, 1, rate, NULL);
  double fc = cutoff / rate, centre = (taps - 1) / 2.0, sum = 0;
  int j;
  for (j = 0; j < taps; j++) {
    k->weights[j] = (float)(2 * fc * sinc(2 * fc * (j - centre)) * blackman(j, taps));
    sum += k->weights[j];
  }
  for (j = 0; j < taps; j++)
    k->weights[j] = (float)(k->weights[j] / sum);
  return k;
}

MdnKernel *
mdn_design_room_ir(int taps, double rt60, double rate, guint32 seed)
{
  MdnKernel *k = mdn_kernel_new(1, 1, taps, 1, rate, NULL);
  GRand *rng = g_rand_new_with_seed(seed);
  double decay = log(1000.0) / (rt60 * rate); /* -60 dB after rt60 seconds */
  int j, r;
  k->weights[0] = 1.0f;
  for (r = 0; r < 12; r++) {
    int at = g_rand_int_range(rng, (int)(0.002 * rate), MAX((int)(0.002 * rate) + 1, taps / 6));
    if (at < taps)
      k->weights[at] += (float)(g_rand_double_range(rng, -0.6, 0.6) * exp(-decay * at));
  }
  for (j = taps / 8; j < taps; j++)
    k->weights[j] += (float)(0.15 * g_rand_double_range(rng, -1, 1) * exp(-decay * j));
  g_rand_free(rng);
  return k;
}

MdnKernel *
mdn_design_random_kernel(int cin, int cout, int taps, int dilation, double rate, guint32 seed)
{
  MdnKernel *k = mdn_kernel_new(cin, cout, taps, dilation, rate, NULL);
  GRand *rng = g_rand_new_with_seed(seed);
  double s = 1.0 / sqrt((double)cin * taps);
  size_t j, n = (size_t)cin * cout * taps;
  for (j = 0; j < n; j++) {
    /* Sum of uniforms: roughly Gaussian, like trained weights. */
    double g = g_rand_double(rng) + g_rand_double(rng) + g_rand_double(rng) - 1.5;
    k->weights[j] = (float)(2 * g * s);
  }
  for (j = 0; j < (size_t)cout; j++)
    k->bias[j] = (float)(0.01 * g_rand_double_range(rng, -1, 1));
  g_rand_free(rng);
  return k;
}

MdnKernel *
mdn_design_bank(int bands, int taps, double rate)
{
  MdnKernel *k = mdn_kernel_new(1, bands, taps, 1, rate, NULL);
  double lo = 80, hi = 0.45 * rate, centre = (taps - 1) / 2.0;
  int b, j;
  for (b = 0; b < bands; b++) {
    double f1 = lo * pow(hi / lo, (double)b / bands) / rate;
    double f2 = lo * pow(hi / lo, (double)(b + 1) / bands) / rate;
    for (j = 0; j < taps; j++) {
      double d = j - centre;
      k->weights[(size_t)b * taps + j]
          = (float)((2 * f2 * sinc(2 * f2 * d) - 2 * f1 * sinc(2 * f1 * d)) * blackman(j, taps));
    }
  }
  return k;
}

void
mdn_design_fractional_delay(float *h, int taps, double delay)
{
  double sum = 0;
  int j;

  for (j = 0; j < taps; j++) {
    double x = j - delay;
    double w = fabs(x) < taps / 2.0
                   ? 0.42 + 0.5 * cos(2 * M_PI * x / taps) + 0.08 * cos(4 * M_PI * x / taps)
                   : 0;
    h[j] = (float)(sinc(x) * w);
    sum += h[j];
  }
  for (j = 0; j < taps; j++)
    h[j] = (float)(h[j] / sum);
}

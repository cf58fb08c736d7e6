/* audio.c: deterministic speech-like and music-like test audio.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mdn-signals.h"

#include <math.h>

/* Two-pole resonator state, for formants. */
typedef struct {
  double y1, y2;
} Reson;

static double
reson_run(Reson *r, double x, double freq, double bw, double rate)
{
  double rad = exp(-M_PI * bw / rate);
  double a1 = 2 * rad * cos(2 * M_PI * freq / rate), a2 = -rad * rad;
  double y = (1 - rad) * x + a1 * r->y1 + a2 * r->y2;
  r->y2 = r->y1;
  r->y1 = y;
  return y;
}

static void
normalise_peak(float *x, size_t n, double peak)
{
  double m = 0;
  size_t j;
  /* Written as a compare, not fmax (same result, NaN skipped): gcc 12.2's
   * AArch64 vectoriser crashes on the fmax reduction (make check-neon). */
  for (j = 0; j < n; j++) {
    double a = fabs(x[j]);
    if (a > m)
      m = a;
  }
  if (m > 0)
    for (j = 0; j < n; j++)
      x[j] = (float)(x[j] * peak / m);
}

float *
mdn_signal_speech(size_t n, double rate, guint32 seed)
{
  GRand *rng = g_rand_new_with_seed(seed);
  float *x = g_new0(float, n ? n : 1);
  Reson r[3] = { { 0 } };
  double phase = 0, f0 = 120, f0_target = 140;
  double formant[3] = { 500, 1500, 2500 }, target[3] = { 700, 1200, 2600 };
  double env = 0, env_target = 1, fric = 0;
  size_t syllable_left = 0, j;
  int k;

  for (j = 0; j < n; j++) {
    double glottal, s;
    if (syllable_left == 0) {
      /* A new syllable: voiced vowel, fricative or pause. */
      double kind = g_rand_double(rng);
      syllable_left = (size_t)(rate * g_rand_double_range(rng, 0.08, 0.25));
      env_target = kind < 0.15 ? 0.0 : 1.0;
      fric = (kind >= 0.15 && kind < 0.3) ? 1.0 : 0.0;
      f0_target = g_rand_double_range(rng, 90, 220);
      target[0] = g_rand_double_range(rng, 300, 900);
      target[1] = g_rand_double_range(rng, 900, 2300);
      target[2] = g_rand_double_range(rng, 2300, 3500);
    }
    syllable_left--;
    env += (env_target - env) * (30.0 / rate);
    f0 += (f0_target - f0) * (8.0 / rate);
    for (k = 0; k < 3; k++)
      formant[k] += (target[k] - formant[k]) * (20.0 / rate);
    phase += f0 / rate;
    glottal = 0;
    if (phase >= 1.0) {
      phase -= 1.0;
      glottal = 1.0;
    }
    glottal += 0.02 * g_rand_double_range(rng, -1, 1);
    s = 0;
    for (k = 0; k < 3; k++)
      s += reson_run(&r[k], glottal, formant[k], 80 + 40 * k, rate) / (1 + k);
    s *= (1 - fric);
    s += fric * 0.05 * g_rand_double_range(rng, -1, 1);
    x[j] = (float)(s * env);
  }
  normalise_peak(x, n, 0.5);
  g_rand_free(rng);
  return x;
}

float *
mdn_signal_music(size_t n, double rate, guint32 seed)
{
  GRand *rng = g_rand_new_with_seed(seed);
  float *x = g_new0(float, n ? n : 1);
  const double scale[7] = { 0, 2, 4, 5, 7, 9, 11 };
  double note_f[4] = { 220, 277, 330, 110 }, note_amp[4] = { 0 }, note_ph[4][6] = { { 0 } };
  double drum = 0;
  size_t beat = (size_t)(rate * 0.25), j;
  int v, h;

  for (j = 0; j < n; j++) {
    double s = 0;
    if (j % beat == 0) {
      /* Every beat: maybe a new chord, maybe a drum hit. */
      if (g_rand_int_range(rng, 0, 4) == 0 || j == 0) {
        int root = g_rand_int_range(rng, 0, 7);
        for (v = 0; v < 3; v++) {
          int deg = root + 2 * v;
          note_f[v] = 220 * pow(2, (scale[deg % 7] + 12 * (deg / 7)) / 12.0);
          note_amp[v] = g_rand_double_range(rng, 0.5, 1.0);
        }
        note_f[3] = note_f[0] / 2;
        note_amp[3] = 1.0;
      }
      if (g_rand_int_range(rng, 0, 2) == 0)
        drum = 1.0;
    }
    for (v = 0; v < 4; v++) {
      for (h = 0; h < 6; h++) {
        note_ph[v][h] += note_f[v] * (h + 1) / rate;
        note_ph[v][h] -= floor(note_ph[v][h]);
        s += note_amp[v] * sin(2 * M_PI * note_ph[v][h]) / ((h + 1) * (h + 1));
      }
      note_amp[v] *= 1 - 1.5 / rate;
    }
    s += drum * g_rand_double_range(rng, -1, 1) * 1.5;
    drum *= 1 - 40.0 / rate;
    x[j] = (float)s;
  }
  normalise_peak(x, n, 0.5);
  g_rand_free(rng);
  return x;
}

float *
mdn_signal_multichannel(float *(*gen)(size_t, double, guint32), size_t n, int channels, double rate,
                        guint32 seed)
{
  float *out = g_new0(float, n *channels + 1);
  int c;
  size_t j;
  for (c = 0; c < channels; c++) {
    float *x = gen(n, rate, seed + c);
    for (j = 0; j < n; j++)
      out[j * channels + c] = x[j];
    g_free(x);
  }
  return out;
}

float *
mdn_signal_bells(size_t n, double rate, guint32 seed, double f_lo, double f_hi, double hiss)
{
  static const double ratios[] = { 1.0, 2.76, 5.40, 8.93 };
  GRand *rng = g_rand_new_with_seed(seed);
  float *x = g_new(float, n + 1);
  const size_t strike = (size_t)(0.2 * rate);
  double f0 = f_lo, age = 0;
  size_t t;
  int p;

  for (t = 0; t < n; t++, age += 1 / rate) {
    double v = 0;
    if (t % strike == 0) {
      f0 = g_rand_double_range(rng, f_lo, f_hi);
      age = 0;
    }
    for (p = 0; p < 4; p++) {
      double f = f0 * ratios[p];
      if (f < 0.45 * rate)
        v += sin(2 * G_PI * f * age) * exp(-age * (4 + 6 * p)) / (1 + p);
    }
    x[t] = (float)(0.3 * v + hiss * g_rand_double_range(rng, -1, 1));
  }
  g_rand_free(rng);
  return x;
}

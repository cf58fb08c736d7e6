/* design-kernels: writes the kernels of the shipped presets (taps files, a WAV
 * impulse response), designed at RATE, into OUTDIR; the demo's sample
 * (16-bit speech-like WAV) to SAMPLE when given; or simulates the 8-mic
 * array recording beam8 is fitted on from mono audio.
 *
 *   design-kernels OUTDIR RATE [SAMPLE.wav]
 *   design-kernels --array OUT.wav A.wav [B.wav]
 *
 * A filter is designed in hertz: at each rate the same cut-offs, bands and
 * beam directions, with taps in proportion to the rate (a 64-tap lowpass at
 * 48 kHz has 59 taps at 44.1 kHz and 128 at 96 kHz). The room response is a
 * WAV IR made at 48 kHz whatever RATE: the presets' other rates resample it
 * (maddness-fit --resample-kernel, libsoxr). --array puts A at +30 degrees
 * and B (gain 0.7; A rotated by half its length when B is not given) at -40
 * degrees, with sensor noise 40 dB down, at A's rate (presets/corpus/README.md).
 *
 * Everything is deterministic (fixed seeds), so `make presets` rebuilds the
 * same kernels and audio.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rate the designs' tap counts are given at, and the room IR's. */
#define BASE_RATE 48000.0
#define SAMPLE_SECONDS 8 /* the demo's sample: 768 kB at 16 bits */
#define SPEED_OF_SOUND 343.0
#define MIC_SPACING 0.035 /* m, beam8's linear array */
#define N_MICS 8

/* The designs' sinc (exactly 1 at 0), as signals/designs.c's. */
static double
sinc_f(double x)
{
  return x == 0 ? 1 : sin(M_PI * x) / (M_PI * x);
}

static gboolean
write_taps(const char *dir, const char *name, const MdnKernel *k, const char *comment,
           GError **error)
{
  char *path = g_build_filename(dir, name, NULL);
  FILE *f = fopen(path, "w");
  gboolean ok;

  if (!f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: cannot write", path);
    g_free(path);
    return FALSE;
  }
  fprintf(f, "# %s\n# made by presets/design-kernels.c at %g Hz\n", comment, k->rate);
  fprintf(f, "%d %d %d %d\n", k->cin, k->cout, k->taps, k->dilation);
  ok = mdn_kernel_write_taps_body(k, f, error);
  if (fclose(f) != 0 && ok) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: cannot write", path);
    ok = FALSE;
  }
  g_free(path);
  return ok;
}

/* The design's rate: every design below reads it. */
static double RATE = BASE_RATE;

/* Taps at RATE for `taps` at 48 kHz; odd stays odd (an integer centre). */
static int
scale_taps(int taps)
{
  int n = (int)lround(taps * RATE / BASE_RATE);

  return taps % 2 && n % 2 == 0 ? n + 1 : n;
}

static gboolean
write_wav(const char *path, const float *x, size_t frames, int channels, int format, GError **error)
{
  SF_INFO info
      = { .samplerate = (int)RATE, .channels = channels, .format = SF_FORMAT_WAV | format };
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);

  if (!f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
    return FALSE;
  }
  if (sf_writef_float(f, x, (sf_count_t)frames) != (sf_count_t)frames) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(f));
    sf_close(f);
    return FALSE;
  }
  sf_close(f);
  return TRUE;
}

static gboolean
write_wav_in(const char *dir, const char *name, const float *x, size_t frames, int channels,
             GError **error)
{
  char *path = g_build_filename(dir, name, NULL);
  gboolean ok = write_wav(path, x, frames, channels, SF_FORMAT_FLOAT, error);

  g_free(path);
  return ok;
}

/* 1->1 highpass: a delayed unit impulse minus a lowpass (odd taps: integer centre). */
static MdnKernel *
design_highpass(int taps, double cutoff)
{
  MdnKernel *k = mdn_design_lowpass(taps, cutoff, RATE);
  int j;

  for (j = 0; j < taps; j++)
    k->weights[j] = -k->weights[j];
  k->weights[(taps - 1) / 2] += 1.0f;
  return k;
}

/* 1->2 crossover: output 0 the lowpass, output 1 its complement; they sum to
 * the input delayed by (taps - 1) / 2. */
static MdnKernel *
design_crossover(int taps, double cutoff)
{
  MdnKernel *lp = mdn_design_lowpass(taps, cutoff, RATE);
  MdnKernel *k = mdn_kernel_new(1, 2, taps, 1, RATE, NULL);
  int j;

  for (j = 0; j < taps; j++) {
    k->weights[j] = lp->weights[j];
    k->weights[taps + j] = -lp->weights[j];
  }
  k->weights[taps + (taps - 1) / 2] += 1.0f;
  mdn_kernel_free(lp);
  return k;
}

/* Delay in samples at mic i of a plane wave from `degrees` (0: broadside),
 * relative to the array centre. */
static double
mic_delay(int i, double degrees)
{
  return (i - (N_MICS - 1) / 2.0) * MIC_SPACING * sin(degrees * M_PI / 180) / SPEED_OF_SOUND * RATE;
}

/* 8->2 filter-and-sum: output o is a delay-and-sum beam steered to
 * beam_degrees[o], each mic's delay a fractional-delay filter. */
static MdnKernel *
design_beam(int taps, const double *beam_degrees)
{
  MdnKernel *k = mdn_kernel_new(N_MICS, 2, taps, 1, RATE, NULL);
  int o, i, j;

  for (o = 0; o < 2; o++)
    for (i = 0; i < N_MICS; i++) {
      float *h = k->weights + ((size_t)o * N_MICS + i) * taps;
      /* Undo the arrival delay around the filter's centre. */
      mdn_design_fractional_delay(h, taps, (taps - 1) / 2.0 - mic_delay(i, beam_degrees[o]));
      for (j = 0; j < taps; j++)
        h[j] /= N_MICS;
    }
  return k;
}

/* What the array hears: `a` from +30 degrees, `b` (gain 0.7) from -40
 * degrees, and uncorrelated sensor noise 40 dB down. Interleaved, N_MICS
 * channels. */
static float *
array_recording(const float *a, const float *b, size_t n)
{
  const int taps = 65;
  float *out = g_new0(float, n *N_MICS);
  float h_a[65], h_b[65];
  GRand *rng = g_rand_new_with_seed(43);
  int i, j;
  size_t t;

  for (i = 0; i < N_MICS; i++) {
    mdn_design_fractional_delay(h_a, taps, (taps - 1) / 2.0 + mic_delay(i, 30));
    mdn_design_fractional_delay(h_b, taps, (taps - 1) / 2.0 + mic_delay(i, -40));
    for (t = 0; t < n; t++) {
      double acc = 0;
      for (j = 0; j < taps && (size_t)j <= t; j++)
        acc += h_a[j] * a[t - j] + 0.7 * h_b[j] * b[t - j];
      out[t * N_MICS + i] = (float)(acc + 0.005 * g_rand_double_range(rng, -1, 1));
    }
  }
  g_rand_free(rng);
  return out;
}

/* A mono WAV file as floats; sets RATE to its rate. */
static float *
read_mono(const char *path, size_t *n, GError **error)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  float *x;

  if (!f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
    return NULL;
  }
  if (info.channels != 1 || info.frames < 1) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: not mono audio", path);
    sf_close(f);
    return NULL;
  }
  *n = (size_t)info.frames;
  x = g_new(float, *n);
  *n = (size_t)sf_readf_float(f, x, info.frames);
  sf_close(f);
  RATE = info.samplerate;
  return x;
}

/* --array OUT A [B]: the 8-mic recording of A and B (or A rotated by half). */
static int
make_array(int argc, char **argv)
{
  GError *error = NULL;
  size_t n = 0, n_b = 0, t;
  float *a, *b = NULL, *x = NULL;
  gboolean ok = FALSE;

  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: design-kernels --array OUT.wav A.wav [B.wav]\n");
    return 2;
  }
  a = read_mono(argv[3], &n, &error);
  if (a && argc == 5) {
    double rate_a = RATE;
    b = read_mono(argv[4], &n_b, &error);
    if (b && (RATE != rate_a || n_b < n)) {
      g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "%s: not at %g Hz or shorter than %s", argv[4], rate_a, argv[3]);
      g_clear_pointer(&b, g_free);
    }
  } else if (a) {
    b = g_new(float, n);
    for (t = 0; t < n; t++)
      b[t] = a[(t + n / 2) % n];
  }
  if (a && b) {
    x = array_recording(a, b, n);
    ok = write_wav(argv[2], x, n, N_MICS, SF_FORMAT_FLOAT, &error);
  }
  if (!ok) {
    fprintf(stderr, "design-kernels: %s\n", error ? error->message : "failed");
    g_clear_error(&error);
  }
  g_free(a);
  g_free(b);
  g_free(x);
  return ok ? 0 : 1;
}

/* 1->bands band-pass bank from 80 Hz to 21.6 kHz at any rate (log-spaced
 * windowed-sinc band-passes, as mdn_design_bank at 48 kHz). */
static MdnKernel *
design_bank(int bands, int taps)
{
  MdnKernel *k = mdn_kernel_new(1, bands, taps, 1, RATE, NULL);
  const double lo = 80, hi = 21600, centre = (taps - 1) / 2.0;
  int b, j;

  for (b = 0; b < bands; b++) {
    double f1 = lo * pow(hi / lo, (double)b / bands) / RATE;
    double f2 = lo * pow(hi / lo, (double)(b + 1) / bands) / RATE;
    for (j = 0; j < taps; j++) {
      double d = j - centre, w = 0.42 - 0.5 * cos(2 * M_PI * j / (taps - 1))
                                 + 0.08 * cos(4 * M_PI * j / (taps - 1));
      k->weights[(size_t)b * taps + j]
          = (float)((2 * f2 * sinc_f(2 * f2 * d) - 2 * f1 * sinc_f(2 * f1 * d)) * w);
    }
  }
  return k;
}

/* 1->2 stereo room: two synthetic room responses (different reflections and
 * tails), faded out over the last quarter so the truncation is not heard. */
static float *
stereo_room(int taps, double rt60)
{
  /* The sound's travel time to the listener (0.7 m): 2 ms of silence before
   * the direct path, which also lets the IR be resampled without a delay
   * (mdn_kernel_resample). */
  const int predelay = (int)(0.002 * RATE);
  float *ir = g_new0(float, (size_t)taps * 2);
  int c, j;

  for (c = 0; c < 2; c++) {
    MdnKernel *k = mdn_design_room_ir(taps - predelay, rt60, RATE, 51 + c);
    for (j = predelay; j < taps; j++) {
      double fade
          = j < taps * 3 / 4 ? 1.0 : 0.5 + 0.5 * cos(M_PI * (j - taps * 3 / 4) / (taps / 4));
      /* -6 dB so that a loud input does not clip after the tail adds up. */
      ir[(size_t)j * 2 + c] = (float)(0.5 * k->weights[j - predelay] * fade);
    }
    mdn_kernel_free(k);
  }
  return ir;
}

int
main(int argc, char **argv)
{
  const double beams[2] = { -30, 30 };
  GError *error = NULL;
  const char *dir;
  MdnKernel *k;
  float *x;
  gboolean ok = TRUE;
  char *comment;

  if (argc >= 2 && strcmp(argv[1], "--array") == 0)
    return make_array(argc, argv);
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: design-kernels OUTDIR RATE [SAMPLE.wav]\n"
                    "       design-kernels --array OUT.wav A.wav [B.wav]\n");
    return 2;
  }
  dir = argv[1];
  RATE = g_ascii_strtod(argv[2], NULL);
  if (!(RATE >= 8000 && RATE <= 192000)) {
    fprintf(stderr, "design-kernels: RATE must be from 8000 to 192000 Hz\n");
    return 2;
  }
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    fprintf(stderr, "design-kernels: cannot make %s\n", dir);
    return 1;
  }

  k = mdn_design_lowpass(scale_taps(64), 6000, RATE);
  comment = g_strdup_printf("lowpass: %d-tap Blackman windowed sinc, 6 kHz", k->taps);
  ok = ok && write_taps(dir, "lowpass.taps", k, comment, &error);
  g_free(comment);
  mdn_kernel_free(k);
  k = design_highpass(scale_taps(127), 1000);
  comment = g_strdup_printf("highpass: delayed impulse minus a %d-tap Blackman lowpass at 1 kHz",
                            k->taps);
  ok = ok && write_taps(dir, "highpass.taps", k, comment, &error);
  g_free(comment);
  mdn_kernel_free(k);
  k = design_bank(16, scale_taps(128));
  comment = g_strdup_printf("bank16: 16 band-passes, %d taps, log-spaced from 80 Hz to 21.6 kHz",
                            k->taps);
  ok = ok && write_taps(dir, "bank16.taps", k, comment, &error);
  g_free(comment);
  mdn_kernel_free(k);
  k = design_crossover(scale_taps(127), 2000);
  comment
      = g_strdup_printf("crossover: 1->2 at 2 kHz, low band then its complement, %d taps", k->taps);
  ok = ok && write_taps(dir, "crossover.taps", k, comment, &error);
  g_free(comment);
  mdn_kernel_free(k);
  k = design_beam(scale_taps(48), beams);
  ok = ok
       && write_taps(dir, "beam8.taps", k,
                     "beam8: 8 mics 35 mm apart, filter-and-sum beams at -30 and +30 degrees",
                     &error);
  mdn_kernel_free(k);
  if (ok) {
    /* 1024 taps (21 ms) at 48 kHz: 2048 took minutes of CPU to fit with the
     * default ladder. Made at 48 kHz whatever RATE: an IR, resampled for
     * the other rates when the presets are fitted. */
    double rate = RATE;
    RATE = BASE_RATE;
    x = stereo_room(1024, 0.05);
    ok = write_wav_in(dir, "reverb-ir.wav", x, 1024, 2, &error);
    g_free(x);
    RATE = rate;
  }
  /* The demo's sample: speech-like audio of a seed no training audio uses. */
  if (ok && argc == 4) {
    const size_t n_sample = (size_t)(SAMPLE_SECONDS * RATE);
    x = mdn_signal_speech(n_sample, RATE, 31);
    ok = write_wav(argv[3], x, n_sample, 1, SF_FORMAT_PCM_16, &error);
    g_free(x);
  }
  if (!ok) {
    fprintf(stderr, "design-kernels: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  return 0;
}

/* design-kernels: writes the kernels of the shipped presets (taps files, a WAV
 * impulse response) and the audio they are fitted on, all at 48 kHz, into
 * OUTDIR; and the demo's sample (16-bit speech-like WAV) to SAMPLE.
 *
 *   design-kernels OUTDIR SAMPLE.wav
 *
 * Everything is deterministic: the audio comes from signals/'s generators
 * with fixed seeds, so `make presets` rebuilds the same kernels and audio.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

#define RATE 48000.0
/* Training audio lengths: enough rows for the default ladder, short enough that
 * the wide kernels (bank16, beam8, reverb) fit in well under a minute each. */
#define SPEECH_SECONDS 20 /* lowpass, highpass */
#define SHORT_SECONDS 5   /* reverb (1024 taps) */
#define MUSIC_SECONDS 8   /* bank16, crossover */
#define ARRAY_SECONDS 6   /* beam8: 8 channels */
#define SAMPLE_SECONDS 8  /* the demo's sample: 768 kB at 16 bits */
#define SPEED_OF_SOUND 343.0
#define MIC_SPACING 0.035 /* m, beam8's linear array */
#define N_MICS 8

static double
sinc(double x)
{
  return fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
}

/* Windowed-sinc fractional delay of `delay` samples (0 <= delay <= taps - 1). */
static void
fractional_delay(float *h, int taps, double delay)
{
  double sum = 0;
  int j;

  for (j = 0; j < taps; j++) {
    double x = j - delay;
    /* A Blackman window centred on the delay, spanning the whole filter. */
    double w = fabs(x) < taps / 2.0
                   ? 0.42 + 0.5 * cos(2 * M_PI * x / taps) + 0.08 * cos(4 * M_PI * x / taps)
                   : 0;
    h[j] = (float)(sinc(x) * w);
    sum += h[j];
  }
  for (j = 0; j < taps; j++) /* unit gain at DC */
    h[j] = (float)(h[j] / sum);
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
      fractional_delay(h, taps, (taps - 1) / 2.0 - mic_delay(i, beam_degrees[o]));
      for (j = 0; j < taps; j++)
        h[j] /= N_MICS;
    }
  return k;
}

/* What the array hears: speech from +30 degrees, music from -40 degrees, and
 * uncorrelated sensor noise 40 dB down. Interleaved, N_MICS channels. */
static float *
array_recording(size_t n)
{
  const int taps = 65;
  float *speech = mdn_signal_speech(n, RATE, 41);
  float *music = mdn_signal_music(n, RATE, 42);
  float *out = g_new0(float, n *N_MICS);
  float h_speech[65], h_music[65];
  GRand *rng = g_rand_new_with_seed(43);
  int i, j;
  size_t t;

  for (i = 0; i < N_MICS; i++) {
    fractional_delay(h_speech, taps, (taps - 1) / 2.0 + mic_delay(i, 30));
    fractional_delay(h_music, taps, (taps - 1) / 2.0 + mic_delay(i, -40));
    for (t = 0; t < n; t++) {
      double acc = 0;
      for (j = 0; j < taps && (size_t)j <= t; j++)
        acc += h_speech[j] * speech[t - j] + 0.7 * h_music[j] * music[t - j];
      out[t * N_MICS + i] = (float)(acc + 0.005 * g_rand_double_range(rng, -1, 1));
    }
  }
  g_rand_free(rng);
  g_free(speech);
  g_free(music);
  return out;
}

/* 1->2 stereo room: two synthetic room responses (different reflections and
 * tails), faded out over the last quarter so the truncation is not heard. */
static float *
stereo_room(int taps, double rt60)
{
  float *ir = g_new(float, (size_t)taps * 2);
  int c, j;

  for (c = 0; c < 2; c++) {
    MdnKernel *k = mdn_design_room_ir(taps, rt60, RATE, 51 + c);
    for (j = 0; j < taps; j++) {
      double fade
          = j < taps * 3 / 4 ? 1.0 : 0.5 + 0.5 * cos(M_PI * (j - taps * 3 / 4) / (taps / 4));
      /* -6 dB so that a loud input does not clip after the tail adds up. */
      ir[(size_t)j * 2 + c] = (float)(0.5 * k->weights[j] * fade);
    }
    mdn_kernel_free(k);
  }
  return ir;
}

int
main(int argc, char **argv)
{
  const size_t n_speech = (size_t)(SPEECH_SECONDS * RATE);
  const size_t n_short = (size_t)(SHORT_SECONDS * RATE);
  const size_t n_music = (size_t)(MUSIC_SECONDS * RATE);
  const size_t n_array = (size_t)(ARRAY_SECONDS * RATE);
  const size_t n_sample = (size_t)(SAMPLE_SECONDS * RATE);
  const double beams[2] = { -30, 30 };
  GError *error = NULL;
  const char *dir;
  MdnKernel *k;
  float *x;
  gboolean ok = TRUE;

  if (argc != 3) {
    fprintf(stderr, "usage: design-kernels OUTDIR SAMPLE.wav\n");
    return 2;
  }
  dir = argv[1];
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    fprintf(stderr, "design-kernels: cannot make %s\n", dir);
    return 1;
  }

  k = mdn_design_lowpass(64, 6000, RATE);
  ok = ok
       && write_taps(dir, "lowpass.taps", k, "lowpass: 64-tap Blackman windowed sinc, 6 kHz",
                     &error);
  mdn_kernel_free(k);
  k = design_highpass(127, 1000);
  ok = ok
       && write_taps(dir, "highpass.taps", k,
                     "highpass: delayed impulse minus a 127-tap Blackman lowpass at 1 kHz", &error);
  mdn_kernel_free(k);
  k = mdn_design_bank(16, 128, RATE);
  ok = ok
       && write_taps(dir, "bank16.taps", k,
                     "bank16: 16 band-passes, 128 taps, log-spaced from 80 Hz to 21.6 kHz", &error);
  mdn_kernel_free(k);
  k = design_crossover(127, 2000);
  ok = ok
       && write_taps(dir, "crossover.taps", k,
                     "crossover: 1->2 at 2 kHz, low band then its complement, 127 taps", &error);
  mdn_kernel_free(k);
  k = design_beam(48, beams);
  ok = ok
       && write_taps(dir, "beam8.taps", k,
                     "beam8: 8 mics 35 mm apart, filter-and-sum beams at -30 and +30 degrees",
                     &error);
  mdn_kernel_free(k);
  if (ok) {
    /* 1024 taps (21 ms): 2048 took minutes of CPU to fit with the default ladder. */
    x = stereo_room(1024, 0.05);
    ok = write_wav_in(dir, "reverb-ir.wav", x, 1024, 2, &error);
    g_free(x);
  }

  /* Training audio, and the demo's sample: other seeds than any training audio. */
  if (ok) {
    x = mdn_signal_speech(n_speech, RATE, 11);
    ok = write_wav_in(dir, "speech.wav", x, n_speech, 1, &error);
    g_free(x);
  }
  if (ok) {
    x = mdn_signal_speech(n_short, RATE, 12);
    ok = write_wav_in(dir, "speech-short.wav", x, n_short, 1, &error);
    g_free(x);
  }
  if (ok) {
    x = mdn_signal_music(n_music, RATE, 21);
    ok = write_wav_in(dir, "music.wav", x, n_music, 1, &error);
    g_free(x);
  }
  if (ok) {
    x = array_recording(n_array);
    ok = write_wav_in(dir, "array8.wav", x, n_array, N_MICS, &error);
    g_free(x);
  }
  if (ok) {
    x = mdn_signal_speech(n_sample, RATE, 31);
    ok = write_wav(argv[2], x, n_sample, 1, SF_FORMAT_PCM_16, &error);
    g_free(x);
  }
  if (!ok) {
    fprintf(stderr, "design-kernels: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* corpus-tool: the signal side of the training corpus (presets/corpus/): the
 * noise and tone signals, the cutting of rendered speech and music into class
 * files and the training mix, and the coverage report. make-corpus.sh drives it.
 *
 *   corpus-tool noise RATE SECONDS SEED OUT.wav
 *   corpus-tool tones RATE SECONDS SEED OUT.wav
 *   corpus-tool assemble RATE CHUNK SECONDS OUT.wav SOURCE.wav[:WEIGHT]...
 *   corpus-tool mix RATE CHUNK OUT.wav OUT-B.wav SPEECH.wav MUSIC.wav BRIGHT.wav NOISE.wav
 *   corpus-tool coverage FILE.wav...
 *
 * Everything is deterministic: the generators run on their own 64-bit PRNG from
 * SEED, and the WAV files are written without libsndfile's PEAK chunk (it holds
 * a time stamp), so the same arguments give the same bytes.
 * Dependencies: libsndfile, which the engine already needs (the coverage
 * report's FFT is the few lines of fft_double() below).
 */
#include <math.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define FADE_SECONDS 0.005      /* raised-cosine fade at every cut: no clicks */
#define TARGET_RMS_DBFS (-23.0) /* every class file's level, unless its peak forbids */
#define PEAK_LIMIT 0.98
#define SILENCE_DB (-45.0)     /* below the source's RMS: a pause */
#define MAX_PAUSE_SECONDS 0.25 /* longer pauses are shortened to this */

typedef struct {
  float *x;
  size_t n;
} Signal;

static void
die(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fputs("corpus-tool: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);

  if (!p)
    die("out of memory");
  return p;
}

static long
parse_long(const char *s, const char *what, long lo, long hi)
{
  char *end;
  long v = strtol(s, &end, 10);

  if (*s == '\0' || *end != '\0' || v < lo || v > hi)
    die("%s: '%s' is not an integer in [%ld, %ld]", what, s, lo, hi);
  return v;
}

static double
parse_seconds(const char *s, const char *what)
{
  char *end;
  double v = strtod(s, &end);

  if (*s == '\0' || *end != '\0' || !(v > 0 && v <= 3600))
    die("%s: '%s' is not a duration in seconds (0, 3600]", what, s);
  return v;
}

/* ---- deterministic random numbers (splitmix64) ---- */

typedef struct {
  uint64_t state;
  int have_spare;
  double spare;
} Rng;

static uint64_t
rng_next(Rng *r)
{
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double
rng_uniform(Rng *r) /* [0, 1) */
{
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double
rng_range(Rng *r, double lo, double hi)
{
  return lo + (hi - lo) * rng_uniform(r);
}

static double
rng_log_range(Rng *r, double lo, double hi)
{
  return exp(rng_range(r, log(lo), log(hi)));
}

static double
rng_gauss(Rng *r)
{
  double u, v;

  if (r->have_spare) {
    r->have_spare = 0;
    return r->spare;
  }
  u = 1.0 - rng_uniform(r); /* (0, 1]: log(u) is finite */
  v = rng_uniform(r);
  r->spare = sqrt(-2 * log(u)) * sin(2 * M_PI * v);
  r->have_spare = 1;
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ---- WAV files ---- */

/* Any file libsndfile reads, at RATE, averaged to mono. */
static Signal
read_mono(const char *path, int rate)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  Signal s;
  float *frames;
  sf_count_t got, i;
  int c;

  if (!f)
    die("%s: %s", path, sf_strerror(NULL));
  if (info.samplerate != rate)
    die("%s: rate %d Hz, expected %d", path, info.samplerate, rate);
  if (info.frames <= 0 || info.channels <= 0)
    die("%s: empty", path);
  frames = xcalloc((size_t)info.frames * (size_t)info.channels, sizeof *frames);
  got = sf_readf_float(f, frames, info.frames);
  sf_close(f);
  if (got != info.frames)
    die("%s: short read", path);
  s.n = (size_t)got;
  s.x = xcalloc(s.n, sizeof *s.x);
  for (i = 0; i < got; i++) {
    double acc = 0;
    for (c = 0; c < info.channels; c++)
      acc += frames[(size_t)i * (size_t)info.channels + (size_t)c];
    s.x[i] = (float)(acc / info.channels);
  }
  free(frames);
  return s;
}

/* 32-bit float mono WAV, without the PEAK chunk (its time stamp would make two
 * runs differ). */
static void
write_mono(const char *path, int rate, const Signal *s)
{
  SF_INFO info = { .samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);

  if (!f)
    die("%s: %s", path, sf_strerror(NULL));
  sf_command(f, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
  if (sf_writef_float(f, s->x, (sf_count_t)s->n) != (sf_count_t)s->n)
    die("%s: %s", path, sf_strerror(f));
  if (sf_close(f) != 0)
    die("%s: cannot close", path);
}

/* ---- small signal helpers ---- */

static double
rms(const float *x, size_t n)
{
  double acc = 0;
  size_t i;

  for (i = 0; i < n; i++)
    acc += (double)x[i] * x[i];
  return n ? sqrt(acc / n) : 0;
}

static double
peak(const float *x, size_t n)
{
  double p = 0;
  size_t i;

  for (i = 0; i < n; i++)
    p = fmax(p, fabs(x[i]));
  return p;
}

static void
scale(float *x, size_t n, double gain)
{
  size_t i;

  for (i = 0; i < n; i++)
    x[i] = (float)(x[i] * gain);
}

static void
fade_edges(float *x, size_t n, int rate)
{
  size_t f = (size_t)(FADE_SECONDS * rate), i;

  if (f * 2 > n)
    f = n / 2;
  for (i = 0; i < f; i++) {
    double g = 0.5 - 0.5 * cos(M_PI * (i + 0.5) / f);
    x[i] = (float)(x[i] * g);
    x[n - 1 - i] = (float)(x[n - 1 - i] * g);
  }
}

/* Attack-decay envelope of a note of n samples. */
static double
envelope(size_t i, size_t n, int rate, double attack, double decay)
{
  double t = (double)i / rate, a = t < attack ? t / attack : 1.0;
  double release = (double)(n - i) / rate; /* 10 ms release: no click at the end */

  return a * exp(-t / decay) * (release < 0.01 ? release / 0.01 : 1.0);
}

/* RBJ biquads, direct form I. */
typedef struct {
  double b0, b1, b2, a1, a2, x1, x2, y1, y2;
} Biquad;

static Biquad
biquad_bandpass(double f0, double q, int rate)
{
  double w = 2 * M_PI * f0 / rate, alpha = sin(w) / (2 * q), a0 = 1 + alpha;
  Biquad b = { alpha / a0, 0, -alpha / a0, -2 * cos(w) / a0, (1 - alpha) / a0, 0, 0, 0, 0 };

  return b;
}

static Biquad
biquad_highpass(double f0, double q, int rate)
{
  double w = 2 * M_PI * f0 / rate, alpha = sin(w) / (2 * q), c = cos(w), a0 = 1 + alpha;
  Biquad b = {
    (1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0, 0, 0, 0, 0
  };

  return b;
}

static double
biquad_run(Biquad *b, double x)
{
  double y = b->b0 * x + b->b1 * b->x1 + b->b2 * b->x2 - b->a1 * b->y1 - b->a2 * b->y2;

  b->x2 = b->x1;
  b->x1 = x;
  b->y2 = b->y1;
  b->y1 = y;
  return y;
}

/* ---- noise ---- */

enum { NOISE_WHITE, NOISE_PINK, NOISE_BROWN, NOISE_BURSTS, N_NOISE };

/* Pink: Paul Kellet's refined filter on white noise (within 0.05 dB of -3 dB
 * per octave above rate/2000 or so). */
static void
noise_pink(Rng *r, float *y, size_t n)
{
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  size_t i;

  for (i = 0; i < n; i++) {
    double w = rng_gauss(r);
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    y[i] = (float)(b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362);
    b6 = w * 0.115926;
  }
}

/* Brown: leaky integral of white noise (-6 dB per octave above 20 Hz), then
 * a 25 Hz highpass so that no DC drifts in. */
static void
noise_brown(Rng *r, float *y, size_t n, int rate)
{
  double leak = exp(-2 * M_PI * 20.0 / rate), acc = 0;
  Biquad hp = biquad_highpass(25, 0.7071, rate);
  size_t i;

  for (i = 0; i < n; i++) {
    acc = leak * acc + rng_gauss(r);
    y[i] = (float)biquad_run(&hp, acc);
  }
}

/* Bursts of band-limited noise: 15-400 ms, a band-pass (two biquads) at a centre
 * between 80 Hz and 0.45 rate or a highpass from 2 kHz up (hiss, sibilant-like),
 * sharp attack, exponential decay, levels over 12 dB, gaps up to 80 ms. */
static void
noise_bursts(Rng *r, float *y, size_t n, int rate)
{
  size_t i = 0;

  memset(y, 0, n * sizeof *y);
  while (i < n) {
    size_t len = (size_t)(rng_log_range(r, 0.015, 0.4) * rate), j;
    double level = pow(10, rng_range(r, -12, 0) / 20);
    double decay = rng_log_range(r, 0.03, 0.3);
    Biquad f1, f2;

    if (rng_uniform(r) < 0.7) {
      double fc = rng_log_range(r, 80, 0.45 * rate), q = rng_range(r, 0.7, 6);
      f1 = biquad_bandpass(fc, q, rate);
      f2 = biquad_bandpass(fc, q, rate);
    } else {
      double fc = rng_log_range(r, 2000, 0.4 * rate);
      f1 = biquad_highpass(fc, 0.7071, rate);
      f2 = biquad_highpass(fc, 0.7071, rate);
    }
    if (len > n - i)
      len = n - i;
    for (j = 0; j < len; j++)
      y[i + j] = (float)(level * envelope(j, len, rate, 0.001, decay)
                         * biquad_run(&f2, biquad_run(&f1, rng_gauss(r))));
    i += len + (size_t)(rng_range(r, 0, 0.08) * rate);
  }
}

/* ---- tones ---- */

enum { TONE_SINES, TONE_SWEEP, TONE_SAWSQUARE, TONE_BELLS, N_TONE };

/* Notes of one to three sines, 1 kHz to 0.45 rate, with vibrato. */
static void
tone_sines(Rng *r, float *y, size_t n, int rate)
{
  size_t i = 0;

  memset(y, 0, n * sizeof *y);
  while (i < n) {
    size_t len = (size_t)(rng_range(r, 0.1, 0.6) * rate), j;
    int voices = 1 + (int)(rng_uniform(r) * 3), v;
    double decay = rng_log_range(r, 0.1, 2.0);

    if (len > n - i)
      len = n - i;
    for (v = 0; v < voices; v++) {
      double f = rng_log_range(r, 1000, 0.45 * rate), phase = 0;
      double vib_rate = rng_range(r, 3, 7), vib_depth = rng_range(r, 0, 0.01);
      double level = pow(10, rng_range(r, -18, 0) / 20);
      for (j = 0; j < len; j++) {
        double fi = f * (1 + vib_depth * sin(2 * M_PI * vib_rate * j / rate));
        phase += 2 * M_PI * fmin(fi, 0.49 * rate) / rate;
        y[i + j] += (float)(level * envelope(j, len, rate, 0.005, decay) * sin(phase));
      }
    }
    i += len;
  }
}

/* Exponential sweep over the whole segment, up or down, between 200 Hz and 0.95
 * Nyquist: the same time in every octave. */
static void
tone_sweep(Rng *r, float *y, size_t n, int rate)
{
  double f0 = 200, f1 = 0.95 * rate / 2, phase = 0;
  int up = rng_uniform(r) < 0.5;
  size_t i;

  for (i = 0; i < n; i++) {
    double frac = (double)i / n, f = f0 * pow(f1 / f0, up ? frac : 1 - frac);
    phase += 2 * M_PI * f / rate;
    y[i] = (float)(0.5 * sin(phase));
  }
  fade_edges(y, n, rate);
}

/* PolyBLEP correction at a discontinuity (phase t in [0, 1), step dt). */
static double
poly_blep(double t, double dt)
{
  if (t < dt) {
    t /= dt;
    return t + t - t * t - 1;
  }
  if (t > 1 - dt) {
    t = (t - 1) / dt;
    return t * t + t + t + 1;
  }
  return 0;
}

/* Band-limited saws, squares and pulses (PolyBLEP), fundamentals 300 Hz to 5
 * kHz: harmonics up to Nyquist. */
static void
tone_sawsquare(Rng *r, float *y, size_t n, int rate)
{
  size_t i = 0;

  while (i < n) {
    size_t len = (size_t)(rng_range(r, 0.08, 0.5) * rate), j;
    double f = rng_log_range(r, 300, 5000), dt = f / rate, t = 0;
    double width = rng_uniform(r) < 0.5 ? 0.5 : rng_range(r, 0.1, 0.4);
    int saw = rng_uniform(r) < 0.5;
    double level = pow(10, rng_range(r, -15, 0) / 20), decay = rng_log_range(r, 0.2, 3);

    if (len > n - i)
      len = n - i;
    for (j = 0; j < len; j++) {
      double v;
      if (saw)
        v = 2 * t - 1 - poly_blep(t, dt);
      else {
        v = (t < width ? 1 : -1) + poly_blep(t, dt) - poly_blep(fmod(t + 1 - width, 1.0), dt);
        v += 1 - 2 * width; /* no DC for pulses */
      }
      y[i + j] = (float)(0.5 * level * envelope(j, len, rate, 0.003, decay) * v);
      t += dt;
      if (t >= 1)
        t -= 1;
    }
    i += len;
  }
}

/* Synthetic bells: inharmonic partials (a struck bar's ratios) decaying at
 * their own rates, fundamental 800 Hz to 0.2 rate; partials above 0.48 rate
 * are left out. */
static void
tone_bells(Rng *r, float *y, size_t n, int rate)
{
  static const double ratios[] = { 1.0, 2.756, 5.404, 8.933, 13.34, 18.64 };
  size_t i = 0;

  memset(y, 0, n * sizeof *y);
  while (i < n) {
    size_t len = (size_t)(rng_range(r, 0.15, 0.8) * rate), j;
    double f = rng_log_range(r, 800, 0.2 * rate), decay = rng_log_range(r, 0.2, 1.5);
    double level = pow(10, rng_range(r, -15, 0) / 20);
    size_t p;

    if (len > n - i)
      len = n - i;
    for (p = 0; p < sizeof ratios / sizeof ratios[0]; p++) {
      double fp = f * ratios[p], amp = level / (1 + 0.5 * p);
      if (fp > 0.48 * rate)
        break;
      for (j = 0; j < len; j++)
        y[i + j] += (float)(amp * envelope(j, len, rate, 0.001, decay / (1 + p))
                            * sin(2 * M_PI * fp * j / rate));
    }
    i += len;
  }
}

/* Segments of 0.8-2.5 s, each kind once per round in a shuffled order, each at
 * the same RMS (times 0 to -9 dB; less if its peak is more than 18 dB above
 * it), faded at its edges. */
static int
make_synth(int argc, char **argv, int tones)
{
  int rate, kinds = tones ? N_TONE : N_NOISE, order[4], k, round_pos = 0;
  double seconds;
  Rng rng = { 0 };
  Signal s;
  size_t i = 0;

  if (argc != 6)
    die("usage: corpus-tool %s RATE SECONDS SEED OUT.wav", argv[1]);
  rate = (int)parse_long(argv[2], "RATE", 8000, 384000);
  seconds = parse_seconds(argv[3], "SECONDS");
  rng.state = (uint64_t)parse_long(argv[4], "SEED", 0, 1L << 30) * 2654435761u + (tones ? 7 : 3);
  s.n = (size_t)llround(seconds * rate);
  s.x = xcalloc(s.n, sizeof *s.x);
  for (k = 0; k < kinds; k++)
    order[k] = k;
  while (i < s.n) {
    size_t len = (size_t)(rng_range(&rng, 0.8, 2.5) * rate);
    int kind;
    double r;
    float *y = s.x + i;

    if (round_pos == 0) /* Fisher-Yates */
      for (k = kinds - 1; k > 0; k--) {
        int j = (int)(rng_uniform(&rng) * (k + 1)), tmp = order[k];
        order[k] = order[j];
        order[j] = tmp;
      }
    kind = order[round_pos];
    round_pos = (round_pos + 1) % kinds;
    if (len > s.n - i)
      len = s.n - i;
    if (tones) {
      if (kind == TONE_SINES)
        tone_sines(&rng, y, len, rate);
      else if (kind == TONE_SWEEP)
        tone_sweep(&rng, y, len, rate);
      else if (kind == TONE_SAWSQUARE)
        tone_sawsquare(&rng, y, len, rate);
      else
        tone_bells(&rng, y, len, rate);
    } else {
      size_t j;
      if (kind == NOISE_WHITE)
        for (j = 0; j < len; j++)
          y[j] = (float)rng_gauss(&rng);
      else if (kind == NOISE_PINK)
        noise_pink(&rng, y, len);
      else if (kind == NOISE_BROWN)
        noise_brown(&rng, y, len, rate);
      else
        noise_bursts(&rng, y, len, rate);
    }
    /* At most 18 dB from peak to RMS, or sparse bursts would set the class's
     * peak and leave it quieter than the others. */
    r = fmax(rms(y, len), peak(y, len) / 8);
    if (r > 0)
      scale(y, len, pow(10, rng_range(&rng, -9, 0) / 20) * 0.1 / r);
    fade_edges(y, len, rate);
    i += len;
  }
  write_mono(argv[5], rate, &s);
  printf("%s: %.1f s of %s (%s) at %d Hz, seed %s\n", argv[5], seconds, tones ? "tones" : "noise",
         tones ? "sines, sweeps, saw/square, synthetic bells" : "white, pink, brown, bursts", rate,
         argv[4]);
  free(s.x);
  return 0;
}

/* ---- assembling a class file ---- */

/* 4th-order Butterworth highpass at 20 Hz, in place: no DC (fluidsynth's
 * output has some) and no rumble under the audio band. */
static void
remove_rumble(Signal *s, int rate)
{
  Biquad a = biquad_highpass(20, 0.5412, rate), b = biquad_highpass(20, 1.3066, rate);
  size_t i;

  for (i = 0; i < s->n; i++)
    s->x[i] = (float)biquad_run(&b, biquad_run(&a, s->x[i]));
}

/* Shortens every pause (10 ms blocks SILENCE_DB under the signal's RMS) to
 * MAX_PAUSE_SECONDS, in place. */
static void
shorten_pauses(Signal *s, int rate)
{
  size_t block = (size_t)(rate / 100), keep = (size_t)(MAX_PAUSE_SECONDS * 100), run = 0;
  double threshold = rms(s->x, s->n) * pow(10, SILENCE_DB / 20);
  size_t in, out = 0;

  for (in = 0; in + block <= s->n; in += block) {
    int quiet = rms(s->x + in, block) < threshold;
    run = quiet ? run + 1 : 0;
    if (run <= keep) {
      memmove(s->x + out, s->x + in, block * sizeof *s->x);
      out += block;
    }
  }
  s->n = out;
}

/* Scales to TARGET_RMS_DBFS, or less if the peak would pass PEAK_LIMIT. */
static double
normalise(Signal *s)
{
  double r = rms(s->x, s->n), p = peak(s->x, s->n), gain;

  if (r <= 0)
    die("silent signal");
  gain = pow(10, TARGET_RMS_DBFS / 20) / r;
  if (p * gain > PEAK_LIMIT)
    gain = PEAK_LIMIT / p;
  scale(s->x, s->n, gain);
  return 20 * log10(r * gain);
}

/* The class file: each source without rumble, its pauses shortened, at unit
 * RMS; SECONDS / CHUNK chunks taken from the sources in proportion to their
 * weights (smooth weighted round robin, so they alternate), each source's
 * chunks evenly spaced over all of it, each chunk levelled and faded at its
 * edges; then the whole at TARGET_RMS_DBFS. */
static int
assemble(int argc, char **argv)
{
  int rate, n_src, k;
  double chunk_s, seconds;
  size_t chunk, n_chunks, c;
  Signal *src, out;
  long *weight, *current, total_w = 0;
  size_t *count, *taken;
  int *owner;

  if (argc < 7)
    die("usage: corpus-tool assemble RATE CHUNK SECONDS OUT.wav SOURCE.wav[:WEIGHT]...");
  rate = (int)parse_long(argv[2], "RATE", 8000, 384000);
  chunk_s = parse_seconds(argv[3], "CHUNK");
  seconds = parse_seconds(argv[4], "SECONDS");
  chunk = (size_t)llround(chunk_s * rate);
  n_chunks = (size_t)llround(seconds / chunk_s);
  if (fabs(n_chunks * chunk_s - seconds) > 1e-6 || n_chunks == 0)
    die("SECONDS (%g) is not a multiple of CHUNK (%g)", seconds, chunk_s);
  n_src = argc - 6;
  src = xcalloc((size_t)n_src, sizeof *src);
  weight = xcalloc((size_t)n_src, sizeof *weight);
  current = xcalloc((size_t)n_src, sizeof *current);
  count = xcalloc((size_t)n_src, sizeof *count);
  taken = xcalloc((size_t)n_src, sizeof *taken);
  owner = xcalloc(n_chunks, sizeof *owner);
  for (k = 0; k < n_src; k++) {
    char *path = argv[6 + k], *colon = strrchr(path, ':');
    weight[k] = 1;
    if (colon) {
      *colon = '\0';
      weight[k] = parse_long(colon + 1, "WEIGHT", 1, 100);
    }
    total_w += weight[k];
    src[k] = read_mono(path, rate);
    remove_rumble(&src[k], rate);
    shorten_pauses(&src[k], rate);
    if (src[k].n < chunk)
      die("%s: %.2f s after pauses are shortened, less than one chunk", path,
          (double)src[k].n / rate);
    scale(src[k].x, src[k].n, 1.0 / rms(src[k].x, src[k].n));
  }
  for (c = 0; c < n_chunks; c++) {
    int best = 0;
    for (k = 0; k < n_src; k++) {
      current[k] += weight[k];
      if (current[k] > current[best])
        best = k;
    }
    current[best] -= total_w;
    owner[c] = best;
    count[best]++;
  }
  for (k = 0; k < n_src; k++)
    if (count[k] * chunk > src[k].n)
      fprintf(stderr, "corpus-tool: warning: %s: %.1f s for %zu chunks of %g s: chunks overlap\n",
              argv[6 + k], (double)src[k].n / rate, count[k], chunk_s);
  out.n = n_chunks * chunk;
  out.x = xcalloc(out.n, sizeof *out.x);
  for (c = 0; c < n_chunks; c++) {
    int s = owner[c];
    size_t span = src[s].n - chunk;
    size_t at = count[s] > 1 ? (size_t)((double)span * taken[s] / (count[s] - 1)) : 0;
    double r, p;
    memcpy(out.x + c * chunk, src[s].x + at, chunk * sizeof *out.x);
    /* Level every chunk to the source's RMS (within 12 dB), so that a quiet piece
     * (small bells) weighs in the fit as much as a loud one (a synth lead); but
     * no peak above 20 dB over that RMS, or one click would set the class's level. */
    r = rms(out.x + c * chunk, chunk);
    p = peak(out.x + c * chunk, chunk);
    if (r > 0)
      scale(out.x + c * chunk, chunk, fmin(fmin(fmax(1 / r, 0.25), 4.0), 10 / p));
    fade_edges(out.x + c * chunk, chunk, rate);
    taken[s]++;
  }
  {
    double level = normalise(&out);
    write_mono(argv[5], rate, &out);
    printf("%s: %zu chunks of %g s from %d source(s), RMS %.1f dBFS, peak %.1f dBFS\n", argv[5],
           n_chunks, chunk_s, n_src, level, 20 * log10(peak(out.x, out.n)));
  }
  for (k = 0; k < n_src; k++)
    free(src[k].x);
  free(src);
  free(weight);
  free(current);
  free(count);
  free(taken);
  free(owner);
  free(out.x);
  return 0;
}

/* ---- the training mix ---- */

/* One cycle of ten chunks: speech 3, music 3, bright 2, noise 2 (30/30/20/20 %).
 * Its last six positions (the last 20 % of a 3-cycle mix, which the fit holds
 * out) hold speech 2, music 2, bright 1, noise 1. */
static const int mix_cycle[10] = { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 };
/* The second source for array simulations: speech <-> music, bright <-> noise. */
static const int swap_class[4] = { 1, 0, 3, 2 };

static void
mix_sequence(const int *classes, size_t n_slots, size_t chunk, Signal *cls, Signal *out)
{
  size_t used[4] = { 0 }, i;

  out->n = n_slots * chunk;
  out->x = xcalloc(out->n, sizeof *out->x);
  for (i = 0; i < n_slots; i++) {
    int c = classes[i];
    memcpy(out->x + i * chunk, cls[c].x + used[c] * chunk, chunk * sizeof *out->x);
    used[c]++;
  }
}

static int
mix(int argc, char **argv)
{
  static const char *const names[4] = { "speech", "music", "bright", "noise" };
  int rate, c, *seq_a, *seq_b;
  double chunk_s;
  size_t chunk, n_slots, cycles, i, held_from, need[4] = { 0 };
  Signal cls[4], a, b;

  if (argc != 10)
    die("usage: corpus-tool mix RATE CHUNK OUT.wav OUT-B.wav SPEECH MUSIC BRIGHT NOISE");
  rate = (int)parse_long(argv[2], "RATE", 8000, 384000);
  chunk_s = parse_seconds(argv[3], "CHUNK");
  chunk = (size_t)llround(chunk_s * rate);
  for (c = 0; c < 4; c++)
    cls[c] = read_mono(argv[6 + c], rate);
  cycles = cls[0].n / (3 * chunk);
  if (cycles == 0)
    die("%s: shorter than three chunks", argv[6]);
  for (i = 0; i < 10; i++)
    need[mix_cycle[i]] += cycles;
  for (c = 0; c < 4; c++)
    if (cls[c].n != need[c] * chunk)
      die("%s: %zu samples; a %zu-cycle mix needs %zu chunks of %zu samples of %s", argv[6 + c],
          cls[c].n, cycles, need[c], chunk, names[c]);
  n_slots = 10 * cycles;
  seq_a = xcalloc(n_slots, sizeof *seq_a);
  seq_b = xcalloc(n_slots, sizeof *seq_b);
  for (i = 0; i < n_slots; i++) {
    seq_a[i] = mix_cycle[i % 10];
    seq_b[i] = swap_class[seq_a[i]];
  }
  /* B takes each class's chunks in the same order as A; so that B's last 20 %
   * uses only chunks from A's last 20 %, both must hold each class equally often
   * there. */
  held_from = n_slots - n_slots / 5;
  {
    size_t na[4] = { 0 }, nb[4] = { 0 };
    for (i = held_from; i < n_slots; i++) {
      na[seq_a[i]]++;
      nb[seq_b[i]]++;
    }
    for (c = 0; c < 4; c++)
      if (na[c] != nb[c])
        die("the held-out fifth of the mix is not balanced for the second source");
  }
  mix_sequence(seq_a, n_slots, chunk, cls, &a);
  mix_sequence(seq_b, n_slots, chunk, cls, &b);
  write_mono(argv[4], rate, &a);
  write_mono(argv[5], rate, &b);
  printf("%s, %s: %zu chunks of %g s (%g s), speech/music/bright/noise 30/30/20/20 %%\n", argv[4],
         argv[5], n_slots, chunk_s, n_slots * chunk_s);
  for (c = 0; c < 4; c++)
    free(cls[c].x);
  free(a.x);
  free(b.x);
  free(seq_a);
  free(seq_b);
  return 0;
}

/* ---- coverage: share of energy per octave band ---- */

/* Band edges: octaves down from 24 kHz (so that 3, 6 and 12 kHz are edges),
 * one above it for rates past 48 kHz, cut at Nyquist. */
static const double band_edges[]
    = { 0, 23.4375, 46.875, 93.75, 187.5, 375, 750, 1500, 3000, 6000, 12000, 24000, 48000, 96000 };
#define N_BANDS (sizeof band_edges / sizeof band_edges[0] - 1)

static void
band_label(char *buf, size_t size, double lo, double hi)
{
  char a[16], b[16];

  if (lo >= 1000)
    snprintf(a, sizeof a, "%gk", lo / 1000);
  else
    snprintf(a, sizeof a, "%.0f", lo);
  if (hi >= 1000)
    snprintf(b, sizeof b, "%.4gk", hi / 1000);
  else
    snprintf(b, sizeof b, "%.0f", hi);
  snprintf(buf, size, "%s-%s Hz", a, b);
}

typedef struct {
  double band[N_BANDS], above4k, above6k, total, rms_db, peak_db, seconds;
} Coverage;

/* In-place radix-2 complex DFT (forward) of n points, interleaved (re, im),
 * n a power of two: enough for a report, and no FFT library to depend on. */
static void
fft_double(double *z, size_t n)
{
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
        double a = -2.0 * M_PI * (double)j / (double)len, wr = cos(a), wi = sin(a);
        double *u = z + 2 * (i + j), *v = z + 2 * (i + j + len / 2);
        double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
      }
}

/* Welch: Hann windows of about 6 Hz resolution, half overlap. */
static Coverage
coverage_of(const char *path, int *rate_out)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  Coverage cov;
  Signal s;
  size_t nfft = 1, hop, start, k;
  double *buf, *win;

  if (!f)
    die("%s: %s", path, sf_strerror(NULL));
  sf_close(f);
  memset(&cov, 0, sizeof cov);
  s = read_mono(path, info.samplerate);
  *rate_out = info.samplerate;
  while ((double)info.samplerate / nfft > 6.0)
    nfft *= 2;
  hop = nfft / 2;
  buf = xcalloc(2 * nfft, sizeof *buf);
  win = xcalloc(nfft, sizeof *win);
  for (k = 0; k < nfft; k++)
    win[k] = 0.5 - 0.5 * cos(2 * M_PI * k / nfft);
  for (start = 0; start + nfft <= s.n; start += hop) {
    for (k = 0; k < nfft; k++) {
      buf[2 * k] = s.x[start + k] * win[k];
      buf[2 * k + 1] = 0;
    }
    fft_double(buf, nfft);
    for (k = 0; k <= nfft / 2; k++) {
      double freq = (double)k * info.samplerate / nfft;
      double p = buf[2 * k] * buf[2 * k] + buf[2 * k + 1] * buf[2 * k + 1];
      size_t b = 0;
      if (k > 0 && k < nfft / 2)
        p *= 2; /* the negative frequencies */
      while (b + 1 < N_BANDS && freq >= band_edges[b + 1])
        b++;
      cov.band[b] += p;
      cov.total += p;
      if (freq >= 4000)
        cov.above4k += p;
      if (freq >= 6000)
        cov.above6k += p;
    }
  }
  if (cov.total <= 0)
    die("%s: silent or shorter than %zu samples", path, nfft);
  for (k = 0; k < N_BANDS; k++)
    cov.band[k] /= cov.total;
  cov.above4k /= cov.total;
  cov.above6k /= cov.total;
  cov.rms_db = 20 * log10(rms(s.x, s.n) + 1e-30);
  cov.peak_db = 20 * log10(peak(s.x, s.n) + 1e-30);
  cov.seconds = (double)s.n / info.samplerate;
  free(buf);
  free(win);
  free(s.x);
  return cov;
}

/* A markdown table: one row per octave band up to Nyquist, one column per file. */
static int
coverage(int argc, char **argv)
{
  int n = argc - 2, i, rate = 0;
  size_t b, top = 0;
  Coverage *cov;
  char label[48];

  if (n < 1)
    die("usage: corpus-tool coverage FILE.wav...");
  cov = xcalloc((size_t)n, sizeof *cov);
  for (i = 0; i < n; i++) {
    int r;
    cov[i] = coverage_of(argv[2 + i], &r);
    if (i > 0 && r != rate)
      die("%s: rate %d Hz, the others %d Hz", argv[2 + i], r, rate);
    rate = r;
  }
  while (top + 1 < N_BANDS && band_edges[top + 1] < rate / 2.0)
    top++;
  printf("Share of energy per octave band (%%), %d Hz:\n\n| band |", rate);
  for (i = 0; i < n; i++) {
    const char *base = strrchr(argv[2 + i], '/');
    char name[64];
    snprintf(name, sizeof name, "%s", base ? base + 1 : argv[2 + i]);
    if (strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".wav") == 0)
      name[strlen(name) - 4] = '\0';
    printf(" %s |", name);
  }
  printf("\n|---|");
  for (i = 0; i < n; i++)
    printf("---:|");
  printf("\n");
  for (b = 0; b <= top; b++) {
    band_label(label, sizeof label, band_edges[b], fmin(band_edges[b + 1], rate / 2.0));
    printf("| %s |", label);
    for (i = 0; i < n; i++)
      printf(" %.1f |", 100 * cov[i].band[b]);
    printf("\n");
  }
  printf("| above 4 kHz |");
  for (i = 0; i < n; i++)
    printf(" %.1f |", 100 * cov[i].above4k);
  printf("\n| above 6 kHz |");
  for (i = 0; i < n; i++)
    printf(" %.1f |", 100 * cov[i].above6k);
  printf("\n| seconds |");
  for (i = 0; i < n; i++)
    printf(" %.0f |", cov[i].seconds);
  printf("\n| RMS, peak (dBFS) |");
  for (i = 0; i < n; i++)
    printf(" %.1f, %.1f |", cov[i].rms_db, cov[i].peak_db);
  printf("\n");
  free(cov);
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "noise") == 0)
    return make_synth(argc, argv, 0);
  if (argc >= 2 && strcmp(argv[1], "tones") == 0)
    return make_synth(argc, argv, 1);
  if (argc >= 2 && strcmp(argv[1], "assemble") == 0)
    return assemble(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "mix") == 0)
    return mix(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "coverage") == 0)
    return coverage(argc, argv);
  fprintf(stderr, "usage: corpus-tool noise|tones RATE SECONDS SEED OUT.wav\n"
                  "       corpus-tool assemble RATE CHUNK SECONDS OUT.wav SOURCE.wav[:WEIGHT]...\n"
                  "       corpus-tool mix RATE CHUNK OUT.wav OUT-B.wav SPEECH MUSIC BRIGHT NOISE\n"
                  "       corpus-tool coverage FILE.wav...\n");
  return 2;
}

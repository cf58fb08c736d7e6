/* preset-claims: checks the presets' claims on held-out audio.
 *
 *   preset-claims [--tolerance DB] --corpus DIR [--corpus DIR ...] PRESET...
 *
 * A corpus directory holds one class of held-out audio per file at one rate
 * (presets/corpus/make-corpus.sh): heldout-CLASS.wav, mono, for CLASS in
 * speech, music, bright, noise; and for a preset of N > 1 input channels
 * heldout-CLASS-Nch.wav (the array recording design-kernels --array makes of
 * it). For every variant of every preset (a path or a shipped name) the
 * corpus at the variant's rate must exist. Each tier runs over each class
 * through mdn_stream_process beside the exact path (the reference: the exact
 * path is within about 130 dB of a double-precision convolution, far beyond
 * any tier), and one line is printed per tier and class:
 *
 *   claim: PRESET RATE TIER CLASS expected=X class_claim=Y measured=Z [LOW]
 *
 * expected is the tier's claim (expected-snr: its worst class when the
 * preset was measured per class), class_claim the SNR the preset stores for
 * that class ("-" when it stores none), measured the SNR on this audio. LOW
 * marks measured < expected - tolerance (3 dB by default): the claim does
 * not hold. The last line is "checked: N, low: M"; the exit status is 1
 * when M > 0, 2 for bad arguments or files.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

static const char *const classes[] = { "speech", "music", "bright", "noise" };
#define N_CLASSES 4

static double opt_tolerance = 3.0;
static char **opt_corpus = NULL;

static const GOptionEntry entries[] = {
  { "tolerance", 't', 0, G_OPTION_ARG_DOUBLE, &opt_tolerance,
    "dB a measured SNR may fall below the claim (3)", "DB" },
  { "corpus", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_corpus,
    "A directory of held-out audio at one rate (repeat for each rate)", "DIR" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* A WAV file: its frames (interleaved floats), channels and rate. */
static float *
read_wav(const char *path, int *channels, int *rate, size_t *frames, GError **error)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  float *x;

  if (!f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
    return NULL;
  }
  *channels = info.channels;
  *rate = info.samplerate;
  x = g_new(float, (size_t)info.frames *info.channels + 1);
  *frames = (size_t)sf_readf_float(f, x, info.frames);
  sf_close(f);
  return x;
}

/* The corpus directory at `rate`, or NULL. */
static const char *
corpus_at(int rate, GError **error)
{
  int i;

  for (i = 0; opt_corpus && opt_corpus[i]; i++) {
    char *path = g_build_filename(opt_corpus[i], "heldout-speech.wav", NULL);
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);

    g_free(path);
    if (f)
      sf_close(f);
    if (f && info.samplerate == rate)
      return opt_corpus[i];
  }
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no --corpus at %d Hz", rate);
  return NULL;
}

/* The SNR of `tier` against the exact path over `audio`, from silence. */
static double
measure(const MdnModel *model, int tier, const float *audio, size_t frames)
{
  const MdnKernel *k = mdn_model_kernel(model);
  MdnStream *exact = mdn_stream_new(model, 1, NULL), *approx = mdn_stream_new(model, 1, NULL);
  float *y = g_new(float, (size_t)CHUNK * k->cout), *z = g_new(float, (size_t)CHUNK * k->cout);
  double signal = 0, noise = 0;
  size_t t, j;

  for (t = 0; t < frames; t += CHUNK) {
    size_t n = MIN(CHUNK, frames - t);

    mdn_stream_process(exact, MDN_TIER_EXACT, audio + t * k->cin, y, n);
    mdn_stream_process(approx, tier, audio + t * k->cin, z, n);
    for (j = 0; j < n * k->cout; j++) {
      signal += (double)y[j] * y[j];
      noise += ((double)y[j] - z[j]) * ((double)y[j] - z[j]);
    }
  }
  mdn_stream_free(exact);
  mdn_stream_free(approx);
  g_free(y);
  g_free(z);
  return noise > 0 ? 10 * log10(signal / noise) : INFINITY;
}

/* The class's SNR stored in the model, or NAN. */
static double
class_claim(const MdnModel *model, int tier, const char *name)
{
  int c;

  for (c = 0; c < mdn_model_n_classes(model); c++)
    if (strcmp(mdn_model_class_name(model, c), name) == 0)
      return mdn_model_tier_class_snr(model, tier, c);
  return NAN;
}

static gboolean
check_variant(const char *name, const MdnModel *model, int *checked, int *low, GError **error)
{
  const MdnKernel *k = mdn_model_kernel(model);
  const int rate = (int)lround(k->rate);
  const char *dir = corpus_at(rate, error);
  int c, t;

  if (!dir)
    return FALSE;
  for (c = 0; c < N_CLASSES; c++) {
    char *file = k->cin == 1 ? g_strdup_printf("heldout-%s.wav", classes[c])
                             : g_strdup_printf("heldout-%s-%dch.wav", classes[c], k->cin);
    char *path = g_build_filename(dir, file, NULL);
    int channels, file_rate;
    size_t frames;
    float *audio = read_wav(path, &channels, &file_rate, &frames, error);

    g_free(file);
    if (audio && (channels != k->cin || file_rate != rate)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "%s: %d channels at %d Hz, expected %d at %d Hz", path, channels, file_rate,
                  k->cin, rate);
      g_clear_pointer(&audio, g_free);
    }
    g_free(path);
    if (!audio)
      return FALSE;
    for (t = 0; t < mdn_model_n_tiers(model); t++) {
      MdnTierInfo info;
      double measured = measure(model, t, audio, frames);
      double claim_c = class_claim(model, t, classes[c]);
      gboolean is_low;
      char claim_text[32];

      mdn_model_tier_info(model, t, &info);
      is_low = !(measured >= info.snr_db - opt_tolerance);
      if (isnan(claim_c))
        g_strlcpy(claim_text, "-", sizeof claim_text);
      else
        g_snprintf(claim_text, sizeof claim_text, "%.2f", claim_c);
      printf("claim: %s %d %s %s expected=%.2f class_claim=%s measured=%.2f%s\n", name, rate,
             info.name, classes[c], info.snr_db, claim_text, measured, is_low ? " LOW" : "");
      (*checked)++;
      *low += is_low;
    }
    g_free(audio);
  }
  return TRUE;
}

int
main(int argc, char **argv)
{
  GOptionContext *context = g_option_context_new("PRESET... - check the presets' claims");
  GError *error = NULL;
  int a, v, checked = 0, low = 0;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error) || argc < 2 || !opt_corpus) {
    fprintf(stderr, "usage: preset-claims [--tolerance DB] --corpus DIR... PRESET...%s%s\n",
            error ? ": " : "", error ? error->message : "");
    return 2;
  }
  g_option_context_free(context);
  for (a = 1; a < argc; a++) {
    char *path = mdn_preset_find(argv[a], &error);
    MdnPreset *preset = path ? mdn_preset_load(path, &error) : NULL;
    char *name = g_path_get_basename(argv[a]);

    if (g_str_has_suffix(name, ".mdn"))
      name[strlen(name) - 4] = '\0';
    for (v = 0; preset && v < mdn_preset_n_variants(preset); v++)
      if (!check_variant(name, mdn_preset_variant(preset, v), &checked, &low, &error))
        break;
    g_free(name);
    g_free(path);
    mdn_preset_free(preset);
    if (error) {
      fprintf(stderr, "preset-claims: %s\n", error->message);
      return 2;
    }
    fflush(stdout);
  }
  printf("checked: %d, low: %d\n", checked, low);
  return low > 0 ? 1 : 0;
}

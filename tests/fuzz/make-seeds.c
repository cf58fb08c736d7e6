/* make-seeds.c: writes the fuzzer's seed corpus: small valid presets that
 * cover every part of the format (tiers of each spec kind, 8- and 16-bit
 * tables, exact dims, multichannel, dilation, a kernel long enough for the
 * FFT path; rate variants, held-out classes and their claims; hyperplane
 * encoders).
 *
 * Usage: make-seeds DIR. Each preset is loaded back and must serialise to the
 * same bytes. `make fuzz` writes a fresh corpus with it; tests/fuzz/corpus/
 * holds a checked-in copy (make-seeds tests/fuzz/corpus), beside the v1-*.mdn
 * and v2-*.mdn files: the same seeds in format versions 1 and 2 (their tier
 * tuples without the fields of version 3), kept to fuzz the older loader
 * paths (make-seeds writes version 3 only).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"

#include <glib/gstdio.h>
#include <stdio.h>

#define RATE 16000

static int failures;

static void
save(MdnModel *m, const char *dir, const char *name)
{
  GError *error = NULL;
  char *path = g_build_filename(dir, name, NULL);
  GBytes *bytes = mdn_model_serialize(m, &error), *again_bytes;
  MdnModel *again;
  gsize size;
  const void *data;

  if (!bytes || !mdn_model_save(m, path, &error)) {
    fprintf(stderr, "make-seeds: %s: %s\n", path, error->message);
    g_clear_error(&error);
    failures++;
    goto out;
  }
  again = mdn_model_load(path, &error);
  if (!again) {
    fprintf(stderr, "make-seeds: %s does not load: %s\n", path, error->message);
    g_clear_error(&error);
    failures++;
    goto out;
  }
  again_bytes = mdn_model_serialize(again, &error);
  data = g_bytes_get_data(bytes, &size);
  if (!again_bytes || !g_bytes_equal(bytes, again_bytes)) {
    fprintf(stderr, "make-seeds: %s: round trip differs\n", path);
    failures++;
  }
  printf("%s: %zu bytes, %d tiers\n", path, (size_t)size, mdn_model_n_tiers(again));
  g_bytes_unref(again_bytes);
  mdn_model_free(again);
out:
  if (bytes)
    g_bytes_unref(bytes);
  g_free(path);
  (void)data;
}

/* The kernel alone: the exact path only. */
static void
save_exact(MdnKernel *k, const char *dir, const char *name)
{
  GError *error = NULL;
  MdnModel *m = mdn_model_new(k, &error);

  if (!m) {
    fprintf(stderr, "make-seeds: %s: %s\n", name, error->message);
    g_clear_error(&error);
    failures++;
  } else {
    save(m, dir, name);
    mdn_model_free(m);
  }
  mdn_kernel_free(k);
}

/* The kernel with tiers fitted on one second of speech-like audio. */
static void
save_fitted(MdnKernel *k, const char *ladder, const char *dir, const char *name)
{
  GError *error = NULL;
  MdnFitOptions options;
  MdnTierSpec *specs = NULL;
  size_t n = RATE;
  float *audio = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, RATE, 21);
  int n_specs = mdn_tier_ladder_parse(ladder, &specs, &error);
  MdnModel *m = NULL;

  if (n_specs > 0) {
    mdn_fit_options_init(&options);
    options.specs = specs;
    options.n_specs = n_specs;
    options.seed = 1;
    options.keep_dominated = TRUE;
    m = mdn_fit(k, audio, n, &options, &error);
  }
  if (!m) {
    fprintf(stderr, "make-seeds: %s: %s\n", name, error ? error->message : "no tiers");
    g_clear_error(&error);
    failures++;
  } else {
    save(m, dir, name);
    mdn_model_free(m);
  }
  g_free(specs);
  g_free(audio);
  mdn_kernel_free(k);
}

/* The kernel `design` makes at each rate, fitted at that rate on a second
 * of speech-like audio and measured on two classes (speech, music) of
 * held-out audio: one preset of rate variants with claims. */
static void
save_variants(MdnKernel *(*design)(double rate), const int *rates, int n_rates, const char *ladder,
              const char *dir, const char *name)
{
  GError *error = NULL;
  MdnPreset *p = mdn_preset_new();
  MdnTierSpec *specs = NULL;
  int n_specs = mdn_tier_ladder_parse(ladder, &specs, &error), r;

  for (r = 0; r < n_rates && n_specs > 0; r++) {
    MdnKernel *k = design(rates[r]);
    size_t n = (size_t)rates[r], n_held = (size_t)rates[r] / 4;
    float *audio = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, rates[r], 21);
    float *speech = mdn_signal_multichannel(mdn_signal_speech, n_held, k->cin, rates[r], 22);
    float *music = mdn_signal_multichannel(mdn_signal_music, n_held, k->cin, rates[r], 23);
    MdnHeldOut sets[2] = { { "speech", speech, n_held }, { "music", music, n_held } };
    MdnFitOptions options;
    MdnModel *m;

    mdn_fit_options_init(&options);
    options.specs = specs;
    options.n_specs = n_specs;
    options.seed = 1;
    options.keep_dominated = TRUE;
    options.heldout = sets;
    options.n_heldout = 2;
    m = mdn_fit(k, audio, n, &options, &error);
    if (!m || !mdn_preset_add_variant(p, m, &error)) {
      fprintf(stderr, "make-seeds: %s at %d Hz: %s\n", name, rates[r], error->message);
      g_clear_error(&error);
      failures++;
    }
    g_free(audio);
    g_free(speech);
    g_free(music);
    mdn_kernel_free(k);
  }
  if (mdn_preset_n_variants(p) == n_rates) {
    char *path = g_build_filename(dir, name, NULL);
    GBytes *bytes = mdn_preset_serialize(p, &error), *again_bytes = NULL;
    MdnPreset *again = NULL;

    if (bytes && mdn_preset_save(p, path, &error) && (again = mdn_preset_load(path, &error)))
      again_bytes = mdn_preset_serialize(again, &error);
    if (!again_bytes || !g_bytes_equal(bytes, again_bytes)) {
      fprintf(stderr, "make-seeds: %s: %s\n", path, error ? error->message : "round trip differs");
      g_clear_error(&error);
      failures++;
    } else {
      printf("%s: %zu bytes, %d variants\n", path, g_bytes_get_size(bytes), n_rates);
    }
    if (bytes)
      g_bytes_unref(bytes);
    if (again_bytes)
      g_bytes_unref(again_bytes);
    mdn_preset_free(again);
    g_free(path);
  }
  mdn_preset_free(p);
  g_free(specs);
}

static MdnKernel *
lowpass_at(double rate)
{
  return mdn_design_lowpass((int)(12 * rate / RATE), 2000, rate);
}

static MdnKernel *
layer_at(double rate)
{
  return mdn_design_random_kernel(2, 3, (int)(4 * rate / RATE), 1, rate, 8);
}

int
main(int argc, char **argv)
{
  const char *dir;
  MdnKernel *gain;

  if (argc != 2) {
    fprintf(stderr, "usage: make-seeds DIR\n");
    return 2;
  }
  dir = argv[1];
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    perror(dir);
    return 1;
  }
  gain = mdn_kernel_new(1, 1, 1, 1, RATE, NULL);
  gain->weights[0] = 0.5f;
  gain->bias[0] = 0.125f;
  save_exact(gain, dir, "gain.mdn");
  save_exact(mdn_design_room_ir(512, 0.05, RATE, 3), dir, "room-fft.mdn");
  save_fitted(mdn_design_lowpass(24, 2000, RATE), "s8d4e2q6,s4d4,s2d6q16,s1d3e1", dir,
              "lowpass-tiers.mdn");
  save_fitted(mdn_design_random_kernel(2, 3, 6, 2, RATE, 5), "s2d4e3q5,s4d6q16", dir,
              "layer-2to3-dil2.mdn");
  save_fitted(mdn_design_bank(2, 16, RATE), "s4d2", dir, "bank-1to2.mdn");
  /* format version 2: hyperplane encoders */
  save_fitted(mdn_design_bank(2, 16, RATE), "s8d4e2h,s4d3q16h,s2d2", dir,
              "bank-1to2-hyperplanes.mdn");
  save_fitted(mdn_design_random_kernel(3, 1, 3, 7, RATE, 6), "s1d2e1", dir, "layer-3to1-dil7.mdn");
  {
    const int three[3] = { 8000, RATE, 22050 * 2 };
    const int two[2] = { RATE, 2 * RATE };
    save_variants(lowpass_at, three, 3, "s4d4e1,s2d3q16", dir, "variants-lowpass.mdn");
    save_variants(layer_at, two, 2, "s2d2e1", dir, "variants-layer-2to3.mdn");
  }
  return failures ? 1 : 0;
}

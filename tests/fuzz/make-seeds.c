/* make-seeds.c: writes the fuzzer's seed corpus: small valid presets that
 * cover every part of the format (tiers of each spec kind, 8- and 16-bit
 * tables, exact dims, multichannel, dilation, a kernel long enough for the
 * FFT path, hyperplane encoders: format version 2).
 *
 * Usage: make-seeds DIR. Each preset is loaded back and must serialise to the
 * same bytes. `make fuzz` writes a fresh corpus with it; tests/fuzz/corpus/
 * holds a checked-in copy (make-seeds tests/fuzz/corpus).
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
  return failures ? 1 : 0;
}

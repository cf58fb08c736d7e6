/* maddness-fit: fits a ladder of MADDNESS tiers for a kernel to example audio
 * and writes a .mdn preset.
 *
 *   maddness-fit --kernel FILE --audio A.wav [--audio B.wav ...] [--tiers SPEC]
 *                [--seed N] [--rate HZ] [--heldout NAME=H.wav ...]
 *                [--add-to PRESET] [--resample-kernel] -o OUT.mdn
 *
 * The kernel is a .mdn preset (its kernel at the audio's rate is taken), a
 * WAV impulse response or a taps file (--rate gives its rate, default
 * 48000), or the name of a shipped preset when no such file exists:
 * mdn_kernel_load() reads it, as maddnesstrainer's `kernel` property. A
 * kernel with its own rate (a WAV IR, a preset without a variant at the
 * audio's rate) at another rate than the audio is refused unless
 * --resample-kernel: then its impulse responses are resampled to the audio's
 * rate with libsoxr (mdn_kernel_resample).
 * --heldout NAME=FILE (repeatable) measures each tier on that class of
 * held-out audio (the tiers are then fitted on all of --audio), and the
 * preset claims each tier's worst class; without it the last 20 % of the
 * audio is held out and measured on.
 * --add-to PRESET writes PRESET's rate variants plus the new one (at the
 * audio's rate, replacing PRESET's variant at that rate): a preset gains a
 * rate. Without --kernel the kernel is then PRESET's, at the audio's rate if
 * it has it, else its default variant's resampled (libsoxr).
 * The seed defaults to the engine's (MDN_DEFAULT_SEED), as the trainer's, so
 * both fit the same preset.
 * Prints one line per kept tier, "tier: NAME snr_db=X" (held-out SNR; then
 * " class_snr_db=NAME:X,..." with --heldout), with --add-to "variants: R1
 * R2 ..." (the rates written), then "fit_seconds: X". Progress goes to
 * stderr when it is a terminal.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *opt_kernel = NULL;
static char **opt_audio = NULL;
static char *opt_tiers = NULL;
static gint64 opt_seed = (gint64)MDN_DEFAULT_SEED;
static double opt_rate = 0; /* 0: not given, 48000 for a taps file */
static char *opt_output = NULL;
static char **opt_heldout = NULL;
static char *opt_add_to = NULL;
static gboolean opt_resample = FALSE;

static const GOptionEntry entries[] = {
  { "kernel", 'k', 0, G_OPTION_ARG_FILENAME, &opt_kernel,
    "The kernel: a .mdn preset, a WAV impulse response, a taps file, or a shipped preset's name",
    "FILE|NAME" },
  { "audio", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_audio,
    "Example audio (repeat to concatenate); rate and channels must match the kernel", "A.wav" },
  { "tiers", 't', 0, G_OPTION_ARG_STRING, &opt_tiers,
    "The ladder to fit, e.g. \"s8d4,s4d6e8\" (default: the engine's default ladder)", "SPEC" },
  { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed,
    "Random seed (default: the engine's, as maddnesstrainer's)", "N" },
  { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &opt_rate,
    "Sample rate of a taps-file kernel (48000); of a preset, the variant to take (default: the "
    "audio's rate)",
    "HZ" },
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "The preset to write", "OUT.mdn" },
  { "heldout", 'H', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_heldout,
    "A class of held-out audio to measure the tiers on (repeat for each class; the claim is the "
    "worst class). Without it the last 20% of the audio is held out",
    "NAME=FILE" },
  { "add-to", 0, 0, G_OPTION_ARG_FILENAME, &opt_add_to,
    "Write this preset's rate variants plus the new one (at the audio's rate); without --kernel "
    "its kernel is the one fitted",
    "PRESET" },
  { "resample-kernel", 0, 0, G_OPTION_ARG_NONE, &opt_resample,
    "Resample a kernel at another rate than the audio's to the audio's rate (libsoxr)", NULL },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* The rate of the audio against the kernel's; a taps file's rate is --rate. */
static gboolean
check_rate(const char *path, int rate, const MdnKernel *kernel, gboolean kernel_has_rate,
           GError **error)
{
  if ((double)rate == kernel->rate)
    return TRUE;
  if (kernel_has_rate)
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s is at %d Hz; the kernel is at %g Hz (--resample-kernel resamples it to the "
                "audio's rate)",
                path, rate, kernel->rate);
  else
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s is at %d Hz; the kernel is a taps file, which carries no rate: give --rate %d "
                "(it was read at %g Hz)",
                path, rate, rate, kernel->rate);
  return FALSE;
}

/* Appends the frames of one file to *audio (interleaved, cin channels). */
static gboolean
append_audio(const char *path, const MdnKernel *kernel, gboolean kernel_has_rate, float **audio,
             size_t *n_frames, GError **error)
{
  SF_INFO info = { 0 };
  int fd = mdn_file_open_regular(path, error);
  SNDFILE *sf = fd < 0 ? NULL : sf_open_fd(fd, SFM_READ, &info, FALSE);
  gboolean ok = FALSE;
  sf_count_t got;
  size_t frames;

  if (fd >= 0 && !sf)
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
  if (!sf)
    goto out;
  if (info.channels != kernel->cin) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s has %d channel(s); the kernel reads %d input channel(s)", path, info.channels,
                kernel->cin);
    goto out;
  }
  if (!check_rate(path, info.samplerate, kernel, kernel_has_rate, error))
    goto out;
  /* 2^31 frames per file is 12 hours at 48 kHz: more is not example audio. */
  if (info.frames < 0 || info.frames > G_MAXINT32) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: unusable length", path);
    goto out;
  }
  frames = (size_t)info.frames;
  *audio = g_renew(float, *audio, (*n_frames + frames) * kernel->cin + 1);
  got = sf_readf_float(sf, *audio + *n_frames * kernel->cin, (sf_count_t)frames);
  if (got < 0 || (size_t)got != frames) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: short read", path);
    goto out;
  }
  *n_frames += frames;
  ok = TRUE;
out:
  if (sf)
    sf_close(sf);
  if (fd >= 0)
    close(fd);
  return ok;
}

static void
show_progress(const char *stage, double fraction, gpointer data)
{
  (void)data;
  fprintf(stderr, "\r%-8s %5.1f%%", stage, 100 * fraction);
  fflush(stderr);
}

/* The ladder of --tiers (or the engine's default) and the seed of --seed. */
static gboolean
fit_options(MdnFitOptions *options, MdnTierSpec **specs, GError **error)
{
  mdn_fit_options_init(options);
  options->seed = (guint64)opt_seed;
  if (opt_tiers) {
    int n = mdn_tier_ladder_parse(opt_tiers, specs, error);
    if (n <= 0)
      return FALSE;
    options->specs = *specs;
    options->n_specs = n;
  }
  if (isatty(STDERR_FILENO))
    options->progress = show_progress;
  return TRUE;
}

/* One line per kept tier, then the time the fit took. */
static void
print_report(const MdnModel *model, const MdnPreset *preset, gint64 start)
{
  int t;

  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    MdnTierInfo info;
    int c;

    mdn_model_tier_info(model, t, &info);
    printf("tier: %s snr_db=%.1f", info.name, info.snr_db);
    for (c = 0; c < mdn_model_n_classes(model); c++)
      printf("%s%s:%.1f", c == 0 ? " class_snr_db=" : ",", mdn_model_class_name(model, c),
             mdn_model_tier_class_snr(model, t, c));
    printf("\n");
  }
  if (preset) {
    printf("variants:");
    for (t = 0; t < mdn_preset_n_variants(preset); t++)
      printf(" %.10g", mdn_model_kernel(mdn_preset_variant(preset, t))->rate);
    printf("\n");
  }
  printf("fit_seconds: %.2f\n", (g_get_monotonic_time() - start) / 1e6);
  if (mdn_model_n_tiers(model) == 0)
    fprintf(stderr,
            "maddness-fit: note: no tier is cheaper than the exact path (%.0f ops per "
            "frame); the preset holds the exact path only\n",
            mdn_model_exact_cost(model));
}

/* The rate of an audio file, from its header. */
static gboolean
audio_rate(const char *path, int *rate, GError **error)
{
  SF_INFO info = { 0 };
  int fd = mdn_file_open_regular(path, error);
  SNDFILE *sf = fd < 0 ? NULL : sf_open_fd(fd, SFM_READ, &info, FALSE);

  if (fd >= 0 && !sf)
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
  if (sf) {
    *rate = info.samplerate;
    sf_close(sf);
  }
  if (fd >= 0)
    close(fd);
  return sf != NULL;
}

/* The kernel to fit at `rate` (the audio's): --kernel's (a preset's variant
 * at that rate), or --add-to's; a kernel with its own rate resampled to
 * `rate` when --resample-kernel (or --add-to without --kernel) asks for it.
 * A taps file's rate is --rate, 48000 by default. */
static MdnKernel *
load_kernel(int rate, const MdnPreset *base, gboolean *has_rate, GError **error)
{
  MdnKernel *k, *resampled;

  if (opt_kernel) {
    k = mdn_kernel_load(opt_kernel, opt_rate != 0 ? opt_rate : rate, has_rate, error);
  } else {
    const MdnModel *v = mdn_preset_variant_at_rate(base, rate);
    k = mdn_kernel_copy(mdn_model_kernel(v ? v : mdn_preset_default_variant(base)));
    *has_rate = TRUE;
  }
  if (!k)
    return NULL;
  if (!*has_rate) {
    k->rate = opt_rate != 0 ? opt_rate : 48000;
    return k;
  }
  if (fabs(k->rate - rate) < 0.5 || (opt_kernel && !opt_resample))
    return k; /* a mismatch is reported with the audio */
  resampled = mdn_kernel_resample(k, rate, error);
  if (resampled)
    fprintf(stderr,
            "maddness-fit: the kernel (%g Hz, %d taps) resampled to %d Hz (libsoxr): %d taps\n",
            k->rate, k->taps, rate, resampled->taps);
  mdn_kernel_free(k);
  return resampled;
}

/* --heldout NAME=FILE: each class's audio, checked against the kernel as
 * the training audio is. */
static gboolean
load_heldout(const MdnKernel *kernel, gboolean kernel_has_rate, MdnHeldOut **sets, int *n_sets,
             GError **error)
{
  int n = opt_heldout ? (int)g_strv_length(opt_heldout) : 0, c;

  *sets = g_new0(MdnHeldOut, n + 1);
  *n_sets = 0;
  for (c = 0; c < n; c++) {
    const char *eq = strchr(opt_heldout[c], '=');
    float *audio = NULL;
    size_t frames = 0;

    if (!eq || eq == opt_heldout[c] || !eq[1]) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "--heldout \"%s\": expected NAME=FILE", opt_heldout[c]);
      return FALSE;
    }
    if (!append_audio(eq + 1, kernel, kernel_has_rate, &audio, &frames, error)) {
      g_free(audio);
      return FALSE;
    }
    (*sets)[c].name = g_strndup(opt_heldout[c], eq - opt_heldout[c]);
    (*sets)[c].audio = audio;
    (*sets)[c].n_frames = frames;
    (*n_sets)++;
  }
  return TRUE;
}

static void
free_heldout(MdnHeldOut *sets, int n)
{
  int c;

  for (c = 0; c < n; c++) {
    g_free((char *)sets[c].name);
    g_free((float *)sets[c].audio);
  }
  g_free(sets);
}

/* --add-to's preset (a path or a preset's name). */
static MdnPreset *
load_base(GError **error)
{
  char *path = mdn_preset_find(opt_add_to, error);
  MdnPreset *base = path ? mdn_preset_load(path, error) : NULL;

  g_free(path);
  return base;
}

int
main(int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  MdnKernel *kernel = NULL;
  gboolean kernel_has_rate = FALSE;
  MdnModel *model = NULL;
  MdnPreset *base = NULL;
  MdnTierSpec *specs = NULL;
  MdnHeldOut *heldout = NULL;
  MdnFitOptions options;
  float *audio = NULL;
  size_t n_frames = 0;
  gint64 start;
  int status = 1, t, n_heldout = 0, rate = 0;

  context = g_option_context_new("- fit MADDNESS tiers for a kernel to example audio");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_summary(
      context, "Writes a .mdn preset with the kernel and the tiers of the ladder that are worth "
               "having, each with its SNR measured on the last 20% of the audio, or on each "
               "class of --heldout audio (the claim is then the worst class). --add-to adds the "
               "fit as a rate variant of an existing preset.");
  if (!g_option_context_parse(context, &argc, &argv, &error))
    goto out;
  if (argc > 1) {
    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "unexpected argument \"%s\"",
                argv[1]);
    goto out;
  }
  if ((!opt_kernel && !opt_add_to) || !opt_audio || !opt_audio[0] || !opt_output) {
    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "--kernel (or --add-to), --audio and -o are required (see --help)");
    goto out;
  }
  if (opt_add_to && !(base = load_base(&error)))
    goto out;
  if (!audio_rate(opt_audio[0], &rate, &error)
      || !(kernel = load_kernel(rate, base, &kernel_has_rate, &error)))
    goto out;
  for (t = 0; opt_audio[t]; t++)
    if (!append_audio(opt_audio[t], kernel, kernel_has_rate, &audio, &n_frames, &error))
      goto out;
  if (!load_heldout(kernel, kernel_has_rate, &heldout, &n_heldout, &error)
      || !fit_options(&options, &specs, &error))
    goto out;
  options.heldout = heldout;
  options.n_heldout = n_heldout;

  start = g_get_monotonic_time();
  model = mdn_fit(kernel, audio, n_frames, &options, &error);
  if (options.progress)
    fprintf(stderr, "\n");
  if (!model)
    goto out;
  if (base) {
    MdnModel *variant = model;

    model = NULL; /* the preset's from here */
    if (!mdn_preset_add_variant(base, variant, &error)
        || !mdn_preset_save(base, opt_output, &error))
      goto out;
    print_report(mdn_preset_variant_at_rate(base, mdn_model_kernel(variant)->rate), base, start);
  } else {
    if (!mdn_model_save(model, opt_output, &error))
      goto out;
    print_report(model, NULL, start);
  }
  status = 0;

out:
  if (error) {
    fprintf(stderr, "maddness-fit: %s\n", error->message);
    g_error_free(error);
  }
  mdn_model_free(model);
  mdn_preset_free(base);
  mdn_kernel_free(kernel);
  free_heldout(heldout, n_heldout);
  g_free(audio);
  g_free(specs);
  g_option_context_free(context);
  return status;
}

/* maddness-fit: fits a ladder of MADDNESS tiers for a kernel to example audio
 * and writes a .mdn preset.
 *
 *   maddness-fit --kernel FILE --audio A.wav [--audio B.wav ...] [--tiers SPEC]
 *                [--seed N] [--rate HZ] -o OUT.mdn
 *
 * The kernel is a .mdn preset (its kernel is taken), a WAV impulse response
 * or a taps file (--rate gives its rate, default 48000), or the name of a
 * shipped preset when no such file exists: mdn_kernel_load() reads it, as
 * maddnesstrainer's `kernel` property. The seed defaults to the engine's
 * (MDN_DEFAULT_SEED), as the trainer's, so both fit the same preset.
 * Prints one line per kept tier, "tier: NAME snr_db=X" (held-out SNR), then
 * "fit_seconds: X". Progress goes to stderr when it is a terminal.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *opt_kernel = NULL;
static char **opt_audio = NULL;
static char *opt_tiers = NULL;
static gint64 opt_seed = (gint64)MDN_DEFAULT_SEED;
static double opt_rate = 48000;
static char *opt_output = NULL;

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
  { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &opt_rate, "Sample rate of a taps-file kernel (48000)",
    "HZ" },
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "The preset to write", "OUT.mdn" },
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
                "%s is at %d Hz; the kernel is at %g Hz", path, rate, kernel->rate);
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
print_report(const MdnModel *model, gint64 start)
{
  int t;

  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    MdnTierInfo info;
    mdn_model_tier_info(model, t, &info);
    printf("tier: %s snr_db=%.1f\n", info.name, info.snr_db);
  }
  printf("fit_seconds: %.2f\n", (g_get_monotonic_time() - start) / 1e6);
  if (mdn_model_n_tiers(model) == 0)
    fprintf(stderr,
            "maddness-fit: note: no tier is cheaper than the exact path (%.0f ops per "
            "frame); the preset holds the exact path only\n",
            mdn_model_exact_cost(model));
}

int
main(int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  MdnKernel *kernel = NULL;
  gboolean kernel_has_rate = FALSE;
  MdnModel *model = NULL;
  MdnTierSpec *specs = NULL;
  MdnFitOptions options;
  float *audio = NULL;
  size_t n_frames = 0;
  gint64 start;
  int status = 1, t;

  context = g_option_context_new("- fit MADDNESS tiers for a kernel to example audio");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_summary(context, "Writes a .mdn preset with the kernel and the tiers of "
                                        "the ladder that are worth having, each with its SNR "
                                        "measured on the last 20% of the audio.");
  if (!g_option_context_parse(context, &argc, &argv, &error))
    goto out;
  if (argc > 1) {
    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "unexpected argument \"%s\"",
                argv[1]);
    goto out;
  }
  if (!opt_kernel || !opt_audio || !opt_audio[0] || !opt_output) {
    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "--kernel, --audio and -o are required (see --help)");
    goto out;
  }
  kernel = mdn_kernel_load(opt_kernel, opt_rate, &kernel_has_rate, &error);
  if (!kernel)
    goto out;
  for (t = 0; opt_audio[t]; t++)
    if (!append_audio(opt_audio[t], kernel, kernel_has_rate, &audio, &n_frames, &error))
      goto out;
  if (!fit_options(&options, &specs, &error))
    goto out;

  start = g_get_monotonic_time();
  model = mdn_fit(kernel, audio, n_frames, &options, &error);
  if (options.progress)
    fprintf(stderr, "\n");
  if (!model || !mdn_model_save(model, opt_output, &error))
    goto out;
  print_report(model, start);
  status = 0;

out:
  if (error) {
    fprintf(stderr, "maddness-fit: %s\n", error->message);
    g_error_free(error);
  }
  mdn_model_free(model);
  mdn_kernel_free(kernel);
  g_free(audio);
  g_free(specs);
  g_option_context_free(context);
  return status;
}

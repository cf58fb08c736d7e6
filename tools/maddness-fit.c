/* maddness-fit: fits a ladder of MADDNESS tiers for a kernel to example audio
 * and writes a .mdn preset.
 *
 *   maddness-fit --kernel FILE --audio A.wav [--audio B.wav ...] [--tiers SPEC]
 *                [--seed N] [--rate HZ] -o OUT.mdn
 *
 * The kernel is a .mdn preset (its kernel is taken), a WAV impulse response
 * or a taps file (--rate gives its rate, default 48000), or the name of a
 * shipped preset when no such file exists (mdn_preset_find: NAME or NAME.mdn
 * in MADDNESS_PRESET_PATH, then the installed presets): a preset is told by
 * its magic or a .mdn extension, a WAV by the RIFF/RIFX/RF64 header or a .wav
 * extension, anything else is read as a taps file.
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
static gint64 opt_seed = 0;
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
  { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed, "Random seed (default 0)", "N" },
  { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &opt_rate, "Sample rate of a taps-file kernel (48000)",
    "HZ" },
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "The preset to write", "OUT.mdn" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static gboolean
has_prefix(const char *path, const char *magic, size_t len)
{
  char head[16];
  FILE *f = fopen(path, "rb");
  size_t n;

  if (!f)
    return FALSE;
  n = fread(head, 1, len, f);
  fclose(f);
  return n == len && memcmp(head, magic, len) == 0;
}

static MdnKernel *
load_kernel(const char *path, GError **error)
{
  if (has_prefix(path, "MDNPRST", 8) || g_str_has_suffix(path, ".mdn")) {
    MdnModel *model = mdn_model_load(path, error);
    MdnKernel *kernel;
    if (!model)
      return NULL;
    kernel = mdn_kernel_copy(mdn_model_kernel(model));
    mdn_model_free(model);
    return kernel;
  }
  if (has_prefix(path, "RIFF", 4) || has_prefix(path, "RIFX", 4) || has_prefix(path, "RF64", 4)
      || g_str_has_suffix(path, ".wav") || g_str_has_suffix(path, ".WAV"))
    return mdn_kernel_load_wav(path, error);
  return mdn_kernel_load_taps(path, opt_rate, error);
}

/* Appends the frames of one file to *audio (interleaved, cin channels). */
static gboolean
append_audio(const char *path, const MdnKernel *kernel, float **audio, size_t *n_frames,
             GError **error)
{
  SF_INFO info = { 0 };
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  sf_count_t got;
  size_t frames;

  if (!sf) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
    return FALSE;
  }
  if (info.channels != kernel->cin) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s has %d channel(s); the kernel reads %d input channel(s)", path, info.channels,
                kernel->cin);
    sf_close(sf);
    return FALSE;
  }
  if ((double)info.samplerate != kernel->rate) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s is at %d Hz; the kernel is at %g Hz", path, info.samplerate, kernel->rate);
    sf_close(sf);
    return FALSE;
  }
  /* 2^31 frames per file is 12 hours at 48 kHz: more is not example audio. */
  if (info.frames < 0 || info.frames > G_MAXINT32) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: unusable length", path);
    sf_close(sf);
    return FALSE;
  }
  frames = (size_t)info.frames;
  *audio = g_renew(float, *audio, (*n_frames + frames) * kernel->cin + 1);
  got = sf_readf_float(sf, *audio + *n_frames * kernel->cin, (sf_count_t)frames);
  sf_close(sf);
  if (got < 0 || (size_t)got != frames) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: short read", path);
    return FALSE;
  }
  *n_frames += frames;
  return TRUE;
}

static void
show_progress(const char *stage, double fraction, gpointer data)
{
  (void)data;
  fprintf(stderr, "\r%-8s %5.1f%%", stage, 100 * fraction);
  fflush(stderr);
}

int
main(int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  MdnKernel *kernel = NULL;
  char *kernel_path = NULL;
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
  if (!(opt_rate > 0)) {
    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "--rate must be > 0");
    goto out;
  }
  /* A file as it is; a NAME without a directory part that is no file is a
   * shipped preset's name. */
  if (strchr(opt_kernel, G_DIR_SEPARATOR) || g_file_test(opt_kernel, G_FILE_TEST_EXISTS))
    kernel_path = g_strdup(opt_kernel);
  else
    kernel_path = mdn_preset_find(opt_kernel, &error);
  kernel = kernel_path ? load_kernel(kernel_path, &error) : NULL;
  if (!kernel)
    goto out;
  for (t = 0; opt_audio[t]; t++)
    if (!append_audio(opt_audio[t], kernel, &audio, &n_frames, &error))
      goto out;

  mdn_fit_options_init(&options);
  options.seed = (guint64)opt_seed;
  if (opt_tiers) {
    int n = mdn_tier_ladder_parse(opt_tiers, &specs, &error);
    if (n <= 0) {
      if (!error)
        g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "empty --tiers");
      goto out;
    }
    options.specs = specs;
    options.n_specs = n;
  }
  if (isatty(STDERR_FILENO))
    options.progress = show_progress;

  start = g_get_monotonic_time();
  model = mdn_fit(kernel, audio, n_frames, &options, &error);
  if (options.progress)
    fprintf(stderr, "\n");
  if (!model)
    goto out;
  if (!mdn_model_save(model, opt_output, &error))
    goto out;
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
  status = 0;

out:
  if (error) {
    fprintf(stderr, "maddness-fit: %s\n", error->message);
    g_error_free(error);
  }
  mdn_model_free(model);
  mdn_kernel_free(kernel);
  g_free(kernel_path);
  g_free(audio);
  g_free(specs);
  g_option_context_free(context);
  return status;
}

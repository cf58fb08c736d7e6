/* test-preset-names: `maddness-info --list` and preset names given to
 * maddness-info (path in $MADDNESS_INFO) and to `maddness-fit --kernel` (path
 * in $MADDNESS_FIT), through MADDNESS_PRESET_PATH; the shipped presets (in
 * $MADDNESS_SHIPPED_PRESETS) as listed.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"
#include "mdn-signals.h"
#include "mdn-test-spawn.h"

#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

static char *tmp_dir;
static const char *info_path;
static const char *fit_path;
static const char *shipped_dir;

typedef struct {
  int status; /* exit status, or -1 when it did not exit */
  char *out, *err;
} Run;

static void
run_free(Run *run)
{
  g_free(run->out);
  g_free(run->err);
}

/* Runs `argv` with MADDNESS_PRESET_PATH set to `preset_path` (NULL: unset). */
static Run
run_tool(const char *const *argv, const char *preset_path)
{
  char **envp = g_get_environ(), **wrapped = mdn_test_wrap_argv(argv);
  GError *error = NULL;
  Run run = { -1, NULL, NULL };
  int wait_status;

  envp = preset_path ? g_environ_setenv(envp, "MADDNESS_PRESET_PATH", preset_path, TRUE)
                     : g_environ_unsetenv(envp, "MADDNESS_PRESET_PATH");
  g_assert_true(g_spawn_sync(NULL, wrapped, envp, G_SPAWN_DEFAULT, NULL, NULL, &run.out, &run.err,
                             &wait_status, &error));
  g_assert_no_error(error);
  g_strfreev(wrapped);
  if (WIFEXITED(wait_status))
    run.status = WEXITSTATUS(wait_status);
  g_strfreev(envp);
  return run;
}

/* A preset of that shape; with a one-tier fit when `fit` (so tiers=1). */
static void
save_preset(const char *dir, const char *file, int cin, int cout, int taps, gboolean fit)
{
  MdnKernel *k = mdn_design_random_kernel(cin, cout, taps, 1, 48000, 5);
  char *path = g_build_filename(dir, file, NULL);
  GError *error = NULL;
  MdnModel *model;

  if (fit) {
    const size_t n = 48000;
    float *audio = mdn_signal_multichannel(mdn_signal_speech, n, cin, 48000, 3);
    MdnTierSpec *specs = NULL;
    MdnFitOptions options;

    mdn_fit_options_init(&options);
    options.n_specs = mdn_tier_ladder_parse("s4d4", &specs, &error);
    g_assert_no_error(error);
    options.specs = specs;
    model = mdn_fit(k, audio, n, &options, &error);
    g_assert_no_error(error);
    g_assert_cmpint(mdn_model_n_tiers(model), ==, 1);
    g_free(specs);
    g_free(audio);
  } else {
    model = mdn_model_new(k, &error);
    g_assert_no_error(error);
  }
  g_assert_true(mdn_model_save(model, path, &error));
  g_assert_no_error(error);
  mdn_model_free(model);
  mdn_kernel_free(k);
  g_free(path);
}

static char *
make_dir(const char *name)
{
  char *dir = g_build_filename(tmp_dir, name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  return dir;
}

/* Two directories: names sorted per directory, the first directory's
 * presets first, a name in both listed once with the first one's shape,
 * files without the .mdn suffix ignored. */
static void
test_list(void)
{
  char *a = make_dir("list-a"), *b = make_dir("list-b");
  char *path, *env;
  const char *argv[] = { info_path, "--list", NULL };
  Run run;

  save_preset(a, "zeta.mdn", 1, 1, 16, TRUE);
  save_preset(a, "alpha.mdn", 2, 3, 5, FALSE);
  save_preset(b, "alpha.mdn", 1, 4, 7, FALSE); /* hidden by a's */
  save_preset(b, "beta.mdn", 8, 2, 9, FALSE);
  path = g_build_filename(b, "notes.txt", NULL);
  g_assert_true(g_file_set_contents(path, "not a preset", -1, NULL));
  g_free(path);

  env = g_strjoin(G_SEARCHPATH_SEPARATOR_S, a, "", b, NULL); /* an empty entry too */
  run = run_tool(argv, env);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==,
                  "alpha 2->3 taps=5 tiers=0 rates=48000\n"
                  "zeta 1->1 taps=16 tiers=1 rates=48000\n"
                  "beta 8->2 taps=9 tiers=0 rates=48000\n");
  run_free(&run);

  /* Only b: its own alpha shows. */
  run = run_tool(argv, b);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "alpha 1->4 taps=7 tiers=0 rates=48000\n"));
  g_assert_null(strstr(run.out, "zeta"));
  run_free(&run);

  g_free(env);
  g_free(a);
  g_free(b);
}

/* A corrupt preset is reported on stderr with its path, the others are still
 * listed, and the exit status says something failed. */
static void
test_list_corrupt(void)
{
  char *dir = make_dir("list-corrupt");
  char *bad = g_build_filename(dir, "broken.mdn", NULL);
  const char *argv[] = { info_path, "--list", NULL };
  Run run;

  save_preset(dir, "good.mdn", 1, 1, 4, FALSE);
  g_assert_true(g_file_set_contents(bad, "MDNPRST\0garbage", 15, NULL));
  run = run_tool(argv, dir);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "good 1->1 taps=4 tiers=0 rates=48000\n"));
  g_assert_null(strstr(run.out, "broken"));
  g_assert_nonnull(strstr(run.err, bad));
  run_free(&run);
  g_free(bad);
  g_free(dir);
}

/* --list takes no FILE. */
static void
test_list_usage(void)
{
  const char *argv[] = { info_path, "--list", "extra", NULL };
  Run run = run_tool(argv, NULL);

  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, "--list"));
  run_free(&run);
}

/* A name (with or without .mdn) is found through MADDNESS_PRESET_PATH; an
 * unknown name fails with the places searched. */
static void
test_info_by_name(void)
{
  char *dir = make_dir("names");
  const char *by_name[] = { info_path, "gamma", NULL };
  const char *by_file_name[] = { info_path, "gamma.mdn", NULL };
  const char *unknown[] = { info_path, "no-such-preset", NULL };
  Run run;

  save_preset(dir, "gamma.mdn", 3, 2, 11, FALSE);
  run = run_tool(by_name, dir);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "cin: 3\ncout: 2\ntaps: 11\n"));
  run_free(&run);

  run = run_tool(by_file_name, dir);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "taps: 11\n"));
  run_free(&run);

  run = run_tool(by_name, NULL); /* not in the installed presets */
  g_assert_cmpint(run.status, ==, 1);
  run_free(&run);

  run = run_tool(unknown, dir);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "no-such-preset"));
  g_assert_nonnull(strstr(run.err, dir));
  run_free(&run);
  g_free(dir);
}

/* The presets checked in to presets/ load and have the shapes
 * presets/design-kernels.c gives them (at 48 kHz, the default variant),
 * each with at least one tier and variants at 44.1, 48 and 96 kHz. */
static void
test_shipped(void)
{
  static const char *const expected[] = {
    "bank16 1->16 taps=128 ",  "beam8 8->2 taps=48 ",   "crossover 1->2 taps=127 ",
    "highpass 1->1 taps=127 ", "lowpass 1->1 taps=64 ", "reverb 1->2 taps=1024 ",
  };
  const char *argv[] = { info_path, "--list", NULL };
  Run run = run_tool(argv, shipped_dir);
  char **lines;
  guint i;

  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpint(run.status, ==, 0);
  lines = g_strsplit(run.out, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(expected) + 1); /* and "" */
  for (i = 0; i < G_N_ELEMENTS(expected); i++) {
    const char *tiers;

    g_assert_true(g_str_has_prefix(lines[i], expected[i]));
    tiers = lines[i] + strlen(expected[i]);
    g_assert_true(g_str_has_prefix(tiers, "tiers="));
    g_assert_cmpint(atoi(tiers + 6), >=, 1);
    g_assert_true(g_str_has_suffix(lines[i], " rates=44100,48000,96000"));
  }
  g_strfreev(lines);
  run_free(&run);
}

static void
write_speech_wav(const char *path, size_t n)
{
  SF_INFO info = { .samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
  float *x = mdn_signal_speech(n, 48000, 9);
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);

  g_assert_nonnull(f);
  g_assert_cmpint(sf_writef_float(f, x, (sf_count_t)n), ==, (sf_count_t)n);
  sf_close(f);
  g_free(x);
}

/* `maddness-fit --kernel NAME` fits the kernel of the preset NAME finds; an
 * unknown name fails with the places searched. */
static void
test_fit_by_name(void)
{
  char *dir = make_dir("fit-names");
  char *audio = g_build_filename(dir, "audio.wav", NULL);
  char *out = g_build_filename(dir, "refit.mdn", NULL);
  char *named = g_build_filename(dir, "delta.mdn", NULL);
  const char *by_name[]
      = { fit_path, "--kernel", "delta", "--audio", audio, "--tiers", "s4d4", "-o", out, NULL };
  const char *unknown[]
      = { fit_path, "--kernel", "no-such-kernel", "--audio", audio, "-o", out, NULL };
  GError *error = NULL;
  MdnModel *original, *refit;
  const MdnKernel *a, *b;
  Run run;
  size_t j;

  save_preset(dir, "delta.mdn", 1, 1, 64, FALSE);
  write_speech_wav(audio, 48000 * 2);
  run = run_tool(by_name, dir);
  if (run.status != 0)
    g_printerr("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
  run_free(&run);

  /* The refitted preset carries the named preset's kernel. */
  original = mdn_model_load(named, &error);
  g_assert_no_error(error);
  refit = mdn_model_load(out, &error);
  g_assert_no_error(error);
  a = mdn_model_kernel(original);
  b = mdn_model_kernel(refit);
  g_assert_cmpint(b->cin, ==, a->cin);
  g_assert_cmpint(b->cout, ==, a->cout);
  g_assert_cmpint(b->taps, ==, a->taps);
  g_assert_cmpfloat(b->rate, ==, a->rate);
  for (j = 0; j < (size_t)a->taps; j++)
    g_assert_cmpfloat(b->weights[j], ==, a->weights[j]);
  mdn_model_free(original);
  mdn_model_free(refit);

  g_assert_cmpint(g_remove(out), ==, 0);
  run = run_tool(unknown, dir);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "no-such-kernel"));
  g_assert_nonnull(strstr(run.err, dir));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  run_free(&run);

  g_free(named);
  g_free(out);
  g_free(audio);
  g_free(dir);
}

static void
remove_tree(const char *path)
{
  GDir *d = g_dir_open(path, 0, NULL);
  const char *entry;

  if (d) {
    while ((entry = g_dir_read_name(d))) {
      char *child = g_build_filename(path, entry, NULL);
      remove_tree(child);
      g_free(child);
    }
    g_dir_close(d);
  }
  g_remove(path);
}

int
main(int argc, char **argv)
{
  int status;

  g_test_init(&argc, &argv, NULL);
  info_path = g_getenv("MADDNESS_INFO");
  fit_path = g_getenv("MADDNESS_FIT");
  shipped_dir = g_getenv("MADDNESS_SHIPPED_PRESETS");
  if (!info_path || !fit_path || !shipped_dir) {
    g_printerr("test-preset-names: set MADDNESS_INFO, MADDNESS_FIT and MADDNESS_SHIPPED_PRESETS\n");
    return 1;
  }
  tmp_dir = g_dir_make_tmp("test-preset-names-XXXXXX", NULL);
  g_assert_nonnull(tmp_dir);

  g_test_add_func("/preset-names/list", test_list);
  g_test_add_func("/preset-names/list-corrupt", test_list_corrupt);
  g_test_add_func("/preset-names/list-usage", test_list_usage);
  g_test_add_func("/preset-names/info-by-name", test_info_by_name);
  g_test_add_func("/preset-names/fit-by-name", test_fit_by_name);
  g_test_add_func("/preset-names/shipped", test_shipped);
  status = g_test_run();
  remove_tree(tmp_dir);
  g_free(tmp_dir);
  return status;
}

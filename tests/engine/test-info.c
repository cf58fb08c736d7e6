/* test-info.c: runs the built maddness-info (path in $MADDNESS_INFO) on a
 * saved preset, on its --taps output, and on corrupt files.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-test-spawn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

static char *tmp_dir;
static const char *info_path;

static MdnTier *
make_tier(GRand *r, const MdnKernel *k, int s, int depth, int n_exact, int bits)
{
  MdnTierSpec spec = { s, depth, n_exact, bits, 0 };
  GError *error = NULL;
  int groups = (k->taps + s - 1) / s;
  MdnTier *t = mdn_tier_alloc(&spec, k->cin, k->cout, k->taps, k->dilation, n_exact,
                              k->cin * groups, &error);
  size_t j;

  g_assert_no_error(error);
  t->snr_db = g_rand_double_range(r, 5, 40);
  t->cost = g_rand_double_range(r, 1, 100);
  for (j = 0; j < (size_t)k->cin * depth; j++)
    t->split[j] = g_rand_int_range(r, 0, s);
  for (j = 0; j < (size_t)n_exact; j++) {
    t->exact_chan[j] = g_rand_int_range(r, 0, k->cin);
    t->exact_tap[j] = g_rand_int_range(r, 0, k->taps);
  }
  for (j = 0; j < (size_t)t->n_codebooks; j++) {
    t->cb_chan[j] = j / groups;
    t->cb_group[j] = j % groups;
  }
  for (j = 0; j < (size_t)k->cout; j++)
    t->lut_scale[j] = 1e-3f;
  g_assert_true(mdn_tier_validate(t, &error));
  return t;
}

static MdnModel *
make_model(void)
{
  GRand *r = g_rand_new_with_seed(77);
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(2, 3, 10, 2, 44100, &error);
  MdnModel *m;
  size_t j;

  g_assert_no_error(error);
  for (j = 0; j < 2 * 3 * 10; j++)
    k->weights[j] = (float)g_rand_double_range(r, -1, 1);
  k->bias[2] = 0.125f;
  m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  m->provenance.seconds = 30.25;
  g_strlcpy(m->provenance.date, "2026-11-29T08:30:00Z", sizeof m->provenance.date);
  m->provenance.seed = 1234567890123ull;
  mdn_model_add_tier(m, make_tier(r, k, 8, 4, 0, 8));
  mdn_model_add_tier(m, make_tier(r, k, 4, 6, 3, 16));
  mdn_kernel_free(k);
  g_rand_free(r);
  return m;
}

/* Runs maddness-info with args; returns the exit status. */
static int
run_info(const char *arg1, const char *arg2, char **out, char **err)
{
  const char *args[4] = { info_path, arg1, arg2, NULL };
  char **argv = mdn_test_wrap_argv(args);
  GError *error = NULL;
  int wait_status;

  g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &wait_status, &error);
  g_assert_no_error(error);
  g_strfreev(argv);
  g_assert_true(WIFEXITED(wait_status));
  return WEXITSTATUS(wait_status);
}

static char *
save_model(const MdnModel *m, const char *name)
{
  char *path = g_build_filename(tmp_dir, name, NULL);
  GError *error = NULL;

  g_assert_true(mdn_model_save(m, path, &error));
  g_assert_no_error(error);
  return path;
}

static void
assert_line(const char *out, const char *line)
{
  char *needle = g_strdup_printf("\n%s\n", line);
  char *hay = g_strdup_printf("\n%s", out);

  if (!strstr(hay, needle))
    g_error("output lacks the line \"%s\":\n%s", line, out);
  g_free(needle);
  g_free(hay);
}

static void
test_info_lines(void)
{
  MdnModel *m = make_model();
  char *path = save_model(m, "info.mdn");
  char *out, *err, *line;
  GRegex *re;
  GMatchInfo *match;
  int t = 0, n_selectable = 0;

  g_assert_cmpint(run_info(path, NULL, &out, &err), ==, 0);
  g_assert_cmpstr(err, ==, "");
  assert_line(out, "cin: 2");
  assert_line(out, "cout: 3");
  assert_line(out, "taps: 10");
  assert_line(out, "dilation: 2");
  assert_line(out, "rate: 44100");
  assert_line(out, "seconds: 30.25");
  assert_line(out, "date: 2026-11-29T08:30:00Z");
  assert_line(out, "seed: 1234567890123");
  line = g_strdup_printf("exact_cost: %.10g", mdn_model_exact_cost(m));
  assert_line(out, line);
  g_free(line);

  re = g_regex_new("^tier: (\\S+) snr_db=(-?[0-9]+\\.[0-9]{2}) buckets=([0-9]+) "
                   "taps_per_codebook=([0-9]+) exact_taps=([0-9]+) table_bytes=([0-9]+) "
                   "cost=(\\S+) norm_block=([0-9]+) speedup=([0-9]+\\.[0-9]{2}) "
                   "selectable=(yes|no)$",
                   G_REGEX_MULTILINE, 0, NULL);
  g_regex_match(re, out, 0, &match);
  while (g_match_info_matches(match)) {
    MdnTierInfo info;
    char *f[11];
    double speedup;
    int j;
    g_assert_cmpint(t, <, mdn_model_n_tiers(m));
    mdn_model_tier_info(m, t, &info);
    for (j = 1; j < 11; j++)
      f[j] = g_match_info_fetch(match, j);
    g_assert_cmpstr(f[1], ==, info.name);
    g_assert_cmpfloat_with_epsilon(g_ascii_strtod(f[2], NULL), info.snr_db, 0.006);
    g_assert_cmpint(atoi(f[3]), ==, info.buckets);
    g_assert_cmpint(atoi(f[4]), ==, info.spec.taps_per_codebook);
    g_assert_cmpint(atoi(f[5]), ==, info.spec.exact_taps);
    g_assert_cmpuint(g_ascii_strtoull(f[6], NULL, 10), ==, info.table_bytes);
    g_assert_cmpfloat_with_epsilon(g_ascii_strtod(f[7], NULL), info.cost, 1e-6 * info.cost);
    g_assert_cmpint(atoi(f[8]), ==, info.norm_block);
    /* the same kernels here and in the tool (the same MADDNESS_ISA) */
    speedup = mdn_model_tier_speedup(m, t);
    g_assert_cmpfloat_with_epsilon(g_ascii_strtod(f[9], NULL), speedup, 0.006);
    g_assert_cmpstr(f[10], ==, speedup >= MDN_TIER_MIN_SPEEDUP ? "yes" : "no");
    n_selectable += speedup >= MDN_TIER_MIN_SPEEDUP;
    for (j = 1; j < 11; j++)
      g_free(f[j]);
    t++;
    g_match_info_next(match, NULL);
  }
  g_match_info_free(match);
  g_regex_unref(re);
  /* Every tier, in ladder order (fastest first), and no other tier lines. */
  g_assert_cmpint(t, ==, 2);
  /* The count of tiers quality selects, and what it means when none. */
  line = g_strdup_printf("paying_tiers: %d of 2 (%s kernels)%s", n_selectable, mdn_isa(),
                         n_selectable == 0 ? ": no tier is predicted faster than exact here, "
                                             "every quality runs exact"
                                           : "");
  assert_line(out, line);
  g_free(line);
  {
    char **parts = g_strsplit(out, "tier:", -1);
    char *name0 = g_strdup_printf("tier: %s ", m->tiers[0]->name);
    char *name1 = g_strdup_printf("tier: %s ", m->tiers[1]->name);
    const char *first = strstr(out, name0);
    const char *second = strstr(out, name1);
    g_assert_cmpint(g_strv_length(parts), ==, 3);
    g_assert_cmpstr(m->tiers[0]->name, ==, "s8d4");
    g_assert_cmpstr(m->tiers[1]->name, ==, "s4d6e3q16");
    g_strfreev(parts);
    g_free(name0);
    g_free(name1);
    g_assert_nonnull(first);
    g_assert_nonnull(second);
    g_assert_true(first < second);
  }
  g_free(out);
  g_free(err);
  g_unlink(path);
  g_free(path);
  mdn_model_free(m);
}

static void
test_info_taps(void)
{
  MdnModel *m = make_model();
  const MdnKernel *k = mdn_model_kernel(m);
  char *path = save_model(m, "taps.mdn");
  char *taps_path = g_build_filename(tmp_dir, "reloaded.taps", NULL);
  char *out, *err, *text;
  GError *error = NULL;
  MdnKernel *back;

  g_assert_cmpint(run_info("--taps", path, &out, &err), ==, 0);
  g_assert_cmpstr(err, ==, "");
  g_assert_null(strstr(out, "cin:"));
  text = g_strdup_printf("%d %d %d %d\n%s", k->cin, k->cout, k->taps, k->dilation, out);
  g_assert_true(g_file_set_contents(taps_path, text, -1, NULL));
  back = mdn_kernel_load_taps(taps_path, k->rate, &error);
  g_assert_no_error(error);
  g_assert_cmpint(back->cin, ==, k->cin);
  g_assert_cmpint(back->cout, ==, k->cout);
  g_assert_cmpint(back->taps, ==, k->taps);
  g_assert_cmpmem(back->weights, sizeof(float) * k->cin * k->cout * k->taps, k->weights,
                  sizeof(float) * k->cin * k->cout * k->taps);
  g_assert_cmpmem(back->bias, sizeof(float) * k->cout, k->bias, sizeof(float) * k->cout);
  mdn_kernel_free(back);
  g_free(text);
  g_free(out);
  g_free(err);
  g_unlink(taps_path);
  g_unlink(path);
  g_free(taps_path);
  g_free(path);
  mdn_model_free(m);
}

/* A preset given by name, found through $MADDNESS_PRESET_PATH. */
static void
test_info_name(void)
{
  MdnModel *m = make_model();
  char *path = save_model(m, "named.mdn");
  char *out, *err;

  g_setenv("MADDNESS_PRESET_PATH", tmp_dir, TRUE);
  g_assert_cmpint(run_info("named", NULL, &out, &err), ==, 0);
  assert_line(out, "taps: 10");
  g_free(out);
  g_free(err);
  g_assert_cmpint(run_info("no-such-preset", NULL, &out, &err), ==, 1);
  g_assert_true(g_str_has_prefix(err, "maddness-info: "));
  g_assert_nonnull(strstr(err, "no-such-preset"));
  g_assert_nonnull(strstr(err, tmp_dir)); /* the places searched */
  g_assert_cmpstr(out, ==, "");
  g_free(out);
  g_free(err);
  g_unsetenv("MADDNESS_PRESET_PATH");
  g_unlink(path);
  g_free(path);
  mdn_model_free(m);
}

static void
expect_failure(const char *path, const char *reason)
{
  char *out, *err, *prefix = g_strdup_printf("maddness-info: %s: ", path);

  g_assert_cmpint(run_info(path, NULL, &out, &err), ==, 1);
  g_test_message("stderr: %s", err);
  g_assert_cmpstr(out, ==, "");
  g_assert_true(g_str_has_prefix(err, prefix));
  g_assert_nonnull(strstr(err, reason));
  g_free(prefix);
  g_free(out);
  g_free(err);
}

static void
test_info_bad(void)
{
  MdnModel *m = make_model();
  char *path = save_model(m, "bad.mdn");
  char *missing = g_build_filename(tmp_dir, "missing.mdn", NULL);
  char *data, *out, *err;
  gsize size;

  /* Truncated: the header's length no longer matches. */
  g_assert_true(g_file_get_contents(path, &data, &size, NULL));
  g_assert_true(g_file_set_contents(path, data, size / 2, NULL));
  expect_failure(path, "truncated");
  /* Written by a future format version. */
  g_assert_true(g_file_set_contents(path, "MDNPRST\0\4\0\0\0\0\0\0\0", 16, NULL));
  expect_failure(path, "version 4");
  g_assert_true(g_file_set_contents(path, "just text", -1, NULL));
  expect_failure(path, "not a maddness preset");
  expect_failure(missing, "No such file");
  /* Usage errors are not file errors. */
  g_assert_cmpint(run_info(NULL, NULL, &out, &err), ==, 2);
  g_assert_true(g_str_has_prefix(err, "maddness-info: "));
  g_free(out);
  g_free(err);
  g_free(data);
  g_unlink(path);
  g_free(path);
  g_free(missing);
  mdn_model_free(m);
}

/* maddness-info on a file it must not read (a FIFO would block it, /dev/zero
 * never end): refused at once, the message naming the file once. Bounded:
 * the old loader hung on both. */
static void
test_info_special_files(void)
{
  char *fifo = g_build_filename(tmp_dir, "fifo.mdn", NULL);
  const char *paths[] = { fifo, "/dev/zero" }, *kinds[] = { "a FIFO", "a character device" };
  int p;

  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  for (p = 0; p < 2; p++) {
    const char *argv[] = { info_path, paths[p], NULL };
    char *out = NULL, *err = NULL;
    char *want
        = g_strdup_printf("maddness-info: %s: not a regular file (%s)\n", paths[p], kinds[p]);
    g_assert_cmpint(mdn_test_spawn_bounded(argv, NULL, 10, &out, &err), ==, 1);
    g_assert_cmpstr(err, ==, want);
    g_assert_cmpstr(out, ==, "");
    g_free(want);
    g_free(out);
    g_free(err);
  }
  g_unlink(fifo);
  g_free(fifo);
}

/* Each message names the file once: exactly "maddness-info: FILE: reason". */
static void
test_info_messages(void)
{
  char *empty = g_build_filename(tmp_dir, "empty.mdn", NULL);
  char *missing = g_build_filename(tmp_dir, "missing.mdn", NULL);
  char *out, *err, *want;

  g_assert_true(g_file_set_contents(empty, "", 0, NULL));
  g_assert_cmpint(run_info(empty, NULL, &out, &err), ==, 1);
  want = g_strdup_printf("maddness-info: %s: not a maddness preset (no \"MDNPRST\" header)\n",
                         empty);
  g_assert_cmpstr(err, ==, want);
  g_free(want);
  g_free(out);
  g_free(err);
  g_assert_cmpint(run_info(missing, NULL, &out, &err), ==, 1);
  want = g_strdup_printf("maddness-info: %s: %s\n", missing, g_strerror(ENOENT));
  g_assert_cmpstr(err, ==, want);
  g_free(want);
  g_free(out);
  g_free(err);
  g_unlink(empty);
  g_free(empty);
  g_free(missing);
}

int
main(int argc, char **argv)
{
  GError *error = NULL;
  int ret;

  g_test_init(&argc, &argv, NULL);
  info_path = g_getenv("MADDNESS_INFO");
  if (!info_path || !g_file_test(info_path, G_FILE_TEST_IS_EXECUTABLE))
    g_error("set MADDNESS_INFO to the built maddness-info (got %s)",
            info_path ? info_path : "nothing");
  tmp_dir = g_dir_make_tmp("mdn-info-XXXXXX", &error);
  g_assert_no_error(error);
  g_test_add_func("/info/lines", test_info_lines);
  g_test_add_func("/info/taps", test_info_taps);
  g_test_add_func("/info/bad", test_info_bad);
  g_test_add_func("/info/name", test_info_name);
  g_test_add_func("/info/special-files", test_info_special_files);
  g_test_add_func("/info/messages", test_info_messages);
  ret = g_test_run();
  g_rmdir(tmp_dir);
  g_free(tmp_dir);
  return ret;
}

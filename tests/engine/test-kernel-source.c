/* test-kernel-source.c: kernels from WAV impulse responses and taps files.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h" /* the WAV and taps loaders */
#include "mdn-test-spawn.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sndfile.h>
#include <glib/gstdio.h>

static char *tmp_dir;

static char *
tmp_path(const char *name)
{
  return g_build_filename(tmp_dir, name, NULL);
}

/* Plain stdio: g_file_set_contents() may fsync, which makes the fuzz loop slow. */
static void
write_file(const char *path, const char *data, gssize len)
{
  FILE *f = g_fopen(path, "wb");

  g_assert_nonnull(f);
  if (len < 0)
    len = strlen(data);
  g_assert_cmpuint(fwrite(data, 1, len, f), ==, (gsize)len);
  g_assert_cmpint(fclose(f), ==, 0);
}

/* Writes frames*channels interleaved samples as a WAV file. */
static char *
write_wav(const char *name, const float *data, sf_count_t frames, int channels, int rate,
          int format)
{
  char *path = tmp_path(name);
  SF_INFO info = { 0 };
  SNDFILE *sf;

  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | format;
  sf = sf_open(path, SFM_WRITE, &info);
  g_assert_nonnull(sf);
  g_assert_cmpint(sf_writef_float(sf, data, frames), ==, frames);
  sf_close(sf);
  return path;
}

static void
test_wav_mono(void)
{
  float ir[300];
  GError *error = NULL;
  MdnKernel *k;
  char *path;
  int j;

  for (j = 0; j < 300; j++)
    ir[j] = (float)(0.9 * exp(-j / 40.0) * cos(j * 0.3));
  path = write_wav("mono.wav", ir, 300, 1, 22050, SF_FORMAT_FLOAT);
  k = mdn_kernel_load_wav(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(k->cin, ==, 1);
  g_assert_cmpint(k->cout, ==, 1);
  g_assert_cmpint(k->taps, ==, 300);
  g_assert_cmpint(k->dilation, ==, 1);
  g_assert_cmpfloat(k->rate, ==, 22050);
  g_assert_cmpmem(k->weights, sizeof ir, ir, sizeof ir); /* float WAV: bit-exact */
  g_assert_cmpfloat(k->bias[0], ==, 0);
  mdn_kernel_free(k);
  g_free(path);
}

static void
test_wav_multichannel(void)
{
  enum { FRAMES = 5000, CH = 3 }; /* more than one read block */
  float *data = g_new(float, FRAMES *CH);
  GError *error = NULL;
  MdnKernel *k;
  char *path;
  int f, c;

  for (f = 0; f < FRAMES; f++)
    for (c = 0; c < CH; c++)
      data[f * CH + c] = (float)((c + 1) * 0.1 * sin(f * 0.01 * (c + 1)));
  /* 16-bit PCM: values come back within one quantisation step. */
  path = write_wav("three.wav", data, FRAMES, CH, 48000, SF_FORMAT_PCM_16);
  k = mdn_kernel_load_wav(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(k->cin, ==, 1);
  g_assert_cmpint(k->cout, ==, CH);
  g_assert_cmpint(k->taps, ==, FRAMES);
  g_assert_cmpfloat(k->rate, ==, 48000);
  for (c = 0; c < CH; c++)
    for (f = 0; f < FRAMES; f++)
      g_assert_cmpfloat_with_epsilon(mdn_kernel_weight(k, c, 0, f), data[f * CH + c], 1.0 / 32768);
  mdn_kernel_free(k);
  g_free(path);
  g_free(data);
}

static void
test_wav_bad(void)
{
  GError *error = NULL;
  float one[4] = { 0.5f, NAN, 0.1f, 0.2f };
  char *path;

  /* Empty file. */
  path = write_wav("empty.wav", one, 0, 1, 8000, SF_FORMAT_FLOAT);
  g_assert_null(mdn_kernel_load_wav(path, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "no samples"));
  g_clear_error(&error);
  g_free(path);
  /* A NaN sample. */
  path = write_wav("nan.wav", one, 4, 1, 8000, SF_FORMAT_FLOAT);
  g_assert_null(mdn_kernel_load_wav(path, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_assert_nonnull(strstr(error->message, "sample 1"));
  g_clear_error(&error);
  g_free(path);
  /* Too many channels (one frame of 300), too many taps (2^20 + 1 frames). */
  {
    float *big = g_new0(float, (1 << 20) + 1);
    path = write_wav("wide.wav", big, 1, 300, 8000, SF_FORMAT_PCM_16);
    g_assert_null(mdn_kernel_load_wav(path, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "300 channels"));
    g_assert_nonnull(strstr(error->message, path));
    g_clear_error(&error);
    g_free(path);
    path = write_wav("long.wav", big, (1 << 20) + 1, 1, 8000, SF_FORMAT_PCM_16);
    g_assert_null(mdn_kernel_load_wav(path, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "1048577 frames"));
    g_clear_error(&error);
    g_free(path);
    g_free(big);
  }
  /* Not audio at all, and no file. */
  path = tmp_path("text.wav");
  write_file(path, "hello, I am not a wav file", -1);
  g_assert_null(mdn_kernel_load_wav(path, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_assert_nonnull(strstr(error->message, path));
  g_clear_error(&error);
  g_free(path);
  path = tmp_path("missing.wav");
  g_assert_null(mdn_kernel_load_wav(path, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  g_clear_error(&error);
  g_free(path);
}

static MdnKernel *
load_taps_text(const char *name, const char *text, double rate, GError **error)
{
  char *path = tmp_path(name);
  MdnKernel *k;

  write_file(path, text, -1);
  k = mdn_kernel_load_taps(path, rate, error);
  g_free(path);
  return k;
}

static void
test_taps_good(void)
{
  GError *error = NULL;
  MdnKernel *k;
  const char *text = "# a 2->2 layer\n"
                     "\n"
                     "2 2 3 2   # cin cout taps dilation\n"
                     "1 2 3\n"
                     "  4\t5 6e-1  # comment\n"
                     "\n"
                     "-7 8.5 9\n"
                     "10 11 -1.25e2\r\n"
                     "bias 0.5 -0.25\n"
                     "# end\n";

  k = load_taps_text("good.taps", text, 16000, &error);
  g_assert_no_error(error);
  g_assert_cmpint(k->cin, ==, 2);
  g_assert_cmpint(k->cout, ==, 2);
  g_assert_cmpint(k->taps, ==, 3);
  g_assert_cmpint(k->dilation, ==, 2);
  g_assert_cmpfloat(k->rate, ==, 16000);
  /* output-major: line 2 is (o=0, i=1), line 3 is (o=1, i=0) */
  g_assert_cmpfloat(mdn_kernel_weight(k, 0, 0, 2), ==, 3);
  g_assert_cmpfloat(mdn_kernel_weight(k, 0, 1, 2), ==, 0.6f);
  g_assert_cmpfloat(mdn_kernel_weight(k, 1, 0, 0), ==, -7);
  g_assert_cmpfloat(mdn_kernel_weight(k, 1, 1, 2), ==, -125);
  g_assert_cmpfloat(k->bias[0], ==, 0.5);
  g_assert_cmpfloat(k->bias[1], ==, -0.25);
  mdn_kernel_free(k);

  /* No dilation, no bias, no trailing newline. */
  k = load_taps_text("plain.taps", "1 1 4\n0.25 0.5 0.25 0", 8000, &error);
  g_assert_no_error(error);
  g_assert_cmpint(k->dilation, ==, 1);
  g_assert_cmpfloat(k->weights[1], ==, 0.5);
  g_assert_cmpfloat(k->bias[0], ==, 0);
  mdn_kernel_free(k);
}

typedef struct {
  const char *text;
  const char *line;     /* ":N:" the message must name */
  const char *fragment; /* and what it must say */
} BadCase;

static void
test_taps_bad(void)
{
  static const BadCase cases[] = {
    { "", ":1:", "empty file" },
    { "# only a comment\n\n", ":3:", "empty file" },
    { "1 1\n1\n", ":1:", "bad header: 2 numbers" },
    { "1 1 2 1 7\n1 2\n", ":1:", "more than 4" },
    { "1 x 2\n1 2\n", ":1:", "\"x\" is not an integer" },
    { "1 1 2.5\n1 2\n", ":1:", "not an integer" },
    { "0 1 2\n1 2\n", ":1:", "bad header" },
    { "1 1 2 0\n1 2\n", ":1:", "bad header" },
    { "300 1 2\n", ":1:", "bad header" },
    { "1 1 2000000\n", ":1:", "bad header" },
    { "256 256 1048576\n", ":1:", "weights exceed the limit" },
    { "1 1 99999999999999999999\n", ":1:", "taps 99999999999999999999 is out of range" },
    { "1 1 3000000000\n", ":1:", "taps 3000000000 is out of range" },
    { "1 1 3\n1 2\n", ":2:", "found only 2" },
    { "1 1 3\n# c\n1 2 3 4\n", ":3:", "found 4" },
    { "1 1 3\n1 two 3\n", ":2:", "\"two\" is not a number" },
    { "1 1 3\n1 2 nan\n", ":2:", "not a finite" },
    { "1 1 3\n1 2 inf\n", ":2:", "not a finite" },
    { "1 1 3\n1 2 1e39\n", ":2:", "not a finite" },
    { "1 1 3\n1 2 3x\n", ":2:", "not a number" },
    { "2 1 3\n1 2 3\n", ":3:", "ends after 1 of 2" },
    { "2 1 3\n1 2 3\nbias 1\n", ":3:", "bias line after 1 of 2" },
    { "1 1 2\n1 2\nbias 1 2\n", ":3:", "bias: expected 1 numbers, found 2" },
    { "1 2 2\n1 2\n3 4\nbias\n", ":4:", "found none" },
    { "1 1 2\n1 2\n3 4\n", ":3:", "trailing garbage" },
    { "1 1 2\n1 2\nbias 1\n\nmore\n", ":5:", "trailing garbage" },
    { "1 1 2\n1 2\nbias 1\nbias 2\n", ":4:", "trailing garbage" },
    { "1 1 2\n1 "
      "2000000000000000000000000000000000000000000000000000000000000000000000000000000\n",
      ":2:", "longer than" },
  };
  guint j;

  for (j = 0; j < G_N_ELEMENTS(cases); j++) {
    GError *error = NULL;
    MdnKernel *k = load_taps_text("bad.taps", cases[j].text, 8000, &error);
    g_test_message("case %u: %s", j, error ? error->message : "(loaded)");
    g_assert_null(k);
    g_assert_nonnull(error);
    g_assert_true(error->domain == MDN_ERROR);
    if (!strstr(error->message, "bad.taps") || !strstr(error->message, cases[j].line)
        || !strstr(error->message, cases[j].fragment))
      g_error("case %u: message \"%s\" lacks \"%s\" or \"%s\"", j, error->message, cases[j].line,
              cases[j].fragment);
    g_error_free(error);
  }
  /* A NUL byte. */
  {
    char *path = tmp_path("nul.taps");
    GError *error = NULL;
    write_file(path, "1 1 2\n1\0002\n", 11);
    g_assert_null(mdn_kernel_load_taps(path, 8000, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, ":2:"));
    g_clear_error(&error);
    /* Bad rate, missing file. */
    g_assert_null(mdn_kernel_load_taps(path, 0, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_free(path);
    path = tmp_path("missing.taps");
    g_assert_null(mdn_kernel_load_taps(path, 8000, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
    g_clear_error(&error);
    g_free(path);
  }
}

static void
assert_same_weights(const MdnKernel *a, const MdnKernel *b)
{
  g_assert_cmpint(a->cin, ==, b->cin);
  g_assert_cmpint(a->cout, ==, b->cout);
  g_assert_cmpint(a->taps, ==, b->taps);
  g_assert_cmpint(a->dilation, ==, b->dilation);
  g_assert_cmpmem(a->weights, sizeof(float) * a->cin * a->cout * a->taps, b->weights,
                  sizeof(float) * b->cin * b->cout * b->taps);
  g_assert_cmpmem(a->bias, sizeof(float) * a->cout, b->bias, sizeof(float) * b->cout);
}

static void
save_kernel_taps(const MdnKernel *k, const char *path)
{
  GError *error = NULL;
  FILE *f = g_fopen(path, "w");

  g_assert_nonnull(f);
  fprintf(f, "%d %d %d %d\n", k->cin, k->cout, k->taps, k->dilation);
  g_assert_true(mdn_kernel_write_taps_body(k, f, &error));
  g_assert_cmpint(fclose(f), ==, 0);
}

/* Writes header + body and reads it back: every float keeps its bits. */
static void
roundtrip(const MdnKernel *k)
{
  char *path = tmp_path("rt.taps");
  GError *error = NULL;
  MdnKernel *back;

  save_kernel_taps(k, path);
  back = mdn_kernel_load_taps(path, k->rate, &error);
  g_assert_no_error(error);
  assert_same_weights(back, k);
  mdn_kernel_free(back);
  g_free(path);
}

static void
test_write_roundtrip(void)
{
  GRand *r = g_rand_new_with_seed(42);
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(3, 2, 17, 3, 44100, &error);
  char *path, *body;
  FILE *f;
  size_t j;

  g_assert_no_error(error);
  for (j = 0; j < 3 * 2 * 17; j++)
    k->weights[j] = (float)(g_rand_double_range(r, -1, 1) * pow(10, g_rand_int_range(r, -30, 30)));
  k->weights[0] = 1e-45f; /* denormal */
  k->weights[1] = -0.0f;
  k->weights[2] = 3.4028235e38f;
  roundtrip(k); /* no bias: no bias line */

  path = tmp_path("body.taps");
  f = g_fopen(path, "w");
  g_assert_true(mdn_kernel_write_taps_body(k, f, &error));
  fclose(f);
  g_assert_true(g_file_get_contents(path, &body, NULL, NULL));
  g_assert_null(strstr(body, "bias"));
  /* one line per (o, i) pair */
  {
    char **lines = g_strsplit(body, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3 * 2 + 1);
    g_assert_cmpstr(lines[6], ==, "");
    g_strfreev(lines);
  }
  g_free(body);
  g_free(path);

  k->bias[0] = 0.125f;
  k->bias[1] = -1.0f / 3;
  roundtrip(k);
  mdn_kernel_free(k);
  g_rand_free(r);
}

/* Mutated taps files load as a valid kernel or fail with a message naming the file. */
static void
test_taps_fuzz(void)
{
  const char *good = "# layer\n2 2 3 2\n1 2 3\n4 5 6e-1 # c\n\n-7 8.5 9\n10 11 -1.25e2\nbias 0.5 "
                     "-0.25\n";
  static const char alphabet[] = "0123456789 \n\t#.-+eEbiasxn";
  size_t len = strlen(good);
  char *path = tmp_path("fuzz.taps");
  GRand *r = g_rand_new_with_seed(5);
  int it, loaded = 0;

  for (it = 0; it < 1000; it++) {
    char *text = g_strdup(good);
    GError *error = NULL;
    MdnKernel *k;
    int f, flips = g_rand_int_range(r, 1, 4);
    for (f = 0; f < flips; f++)
      text[g_rand_int_range(r, 0, len)] = alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
    write_file(path, text, len);
    k = mdn_kernel_load_taps(path, 8000, &error);
    if (k) {
      g_assert_no_error(error);
      g_assert_true(mdn_kernel_validate(k, &error));
      mdn_kernel_free(k);
      loaded++;
    } else {
      g_assert_nonnull(error);
      g_assert_true(g_str_has_prefix(error->message, path));
      g_clear_error(&error);
    }
    g_free(text);
  }
  g_test_message("%d of 1000 mutated files loaded", loaded);
  g_assert_cmpint(loaded, >, 0);
  g_assert_cmpint(loaded, <, 1000);
  g_rand_free(r);
  g_free(path);
}

/* ---- mdn_kernel_load: any kernel argument ---------------------------------------- */

/* Loads `source` and checks the kernel against `want`, its rate and whether
 * it came from the file. */
static void
assert_loads(const char *source, const MdnKernel *want, double rate, gboolean has_rate)
{
  GError *error = NULL;
  gboolean got_has_rate = !has_rate;
  MdnKernel *k = mdn_kernel_load(source, 12345, &got_has_rate, &error);

  g_test_message("%s", source);
  g_assert_no_error(error);
  assert_same_weights(k, want);
  g_assert_cmpfloat(k->rate, ==, rate);
  g_assert_cmpint(got_has_rate, ==, has_rate);
  mdn_kernel_free(k);
}

static MdnKernel *
layer_kernel(void)
{
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(2, 3, 5, 2, 44100, &error);
  size_t j;

  g_assert_no_error(error);
  for (j = 0; j < 2 * 3 * 5; j++)
    k->weights[j] = (float)(0.1 * (double)j - 1);
  k->bias[1] = 0.25f;
  return k;
}

static void
save_kernel_preset(const MdnKernel *k, const char *path)
{
  GError *error = NULL;
  MdnModel *m = mdn_model_new(k, &error);

  g_assert_no_error(error);
  g_assert_true(mdn_model_save(m, path, &error));
  mdn_model_free(m);
}

/* A preset (by magic or suffix, by path or by name), a WAV IR (by header)
 * and a taps file (anything else) give the same kernel; only the taps file
 * takes the given rate. */
static void
test_any_kinds(void)
{
  MdnKernel *k = layer_kernel(), *ir;
  char *preset = tmp_path("layer.mdn"), *bare = tmp_path("layer-preset.bin");
  char *taps = tmp_path("layer.txt"), *wav, *named;
  float samples[64];
  GError *error = NULL;
  size_t j;

  save_kernel_preset(k, preset);
  save_kernel_preset(k, bare);
  save_kernel_taps(k, taps);
  assert_loads(preset, k, 44100, TRUE);
  assert_loads(bare, k, 44100, TRUE); /* told by its magic */
  assert_loads(taps, k, 12345, FALSE);
  g_setenv("MADDNESS_PRESET_PATH", tmp_dir, TRUE);
  named = g_strdup("layer"); /* no such file here: the preset of that name */
  g_assert_false(g_file_test(named, G_FILE_TEST_EXISTS));
  assert_loads(named, k, 44100, TRUE);
  g_unsetenv("MADDNESS_PRESET_PATH");

  /* A WAV IR with no .wav suffix: told by its RIFF header, at its own rate. */
  for (j = 0; j < 64; j++)
    samples[j] = (float)(0.5 * cos(0.1 * j));
  wav = write_wav("ir.data", samples, 32, 2, 22050, SF_FORMAT_FLOAT);
  ir = mdn_kernel_new(1, 2, 32, 1, 22050, &error);
  for (j = 0; j < 32; j++) {
    ir->weights[j] = samples[2 * j];
    ir->weights[32 + j] = samples[2 * j + 1];
  }
  assert_loads(wav, ir, 22050, TRUE);

  mdn_kernel_free(ir);
  mdn_kernel_free(k);
  g_free(named);
  g_free(wav);
  g_free(taps);
  g_free(bare);
  g_free(preset);
}

/* Refused with `code` and exactly `want` (a printf format for the path). */
static void
assert_load_error(const char *source, double rate, int code, const char *want)
{
  GError *error = NULL;
  gboolean has_rate = TRUE;
  char *message = g_strdup_printf(want, source);

  g_assert_null(mdn_kernel_load(source, rate, &has_rate, &error));
  g_assert_error(error, MDN_ERROR, code);
  g_assert_cmpstr(error->message, ==, message);
  g_assert_false(has_rate);
  g_error_free(error);
  g_free(message);
}

/* Each error names the file once, first, with the loader's reason. */
static void
test_any_errors(void)
{
  char *missing = tmp_path("none.taps"), *empty = tmp_path("empty.mdn");
  char *short_taps = tmp_path("short.taps"), *fake_wav = tmp_path("text.wav");
  char *no_such_file = g_strdup_printf("%%s: %s", g_strerror(ENOENT));
  GError *error = NULL;

  assert_load_error(missing, 48000, MDN_ERROR_IO, no_such_file);
  write_file(empty, "", 0);
  assert_load_error(empty, 48000, MDN_ERROR_CORRUPT,
                    "%s: not a maddness preset (no \"MDNPRST\" header)");
  write_file(short_taps, "1 1 3\n1 2\n", -1);
  assert_load_error(short_taps, 48000, MDN_ERROR_CORRUPT,
                    "%s:2: taps of output 0, input 0: expected 3 numbers, found only 2");
  /* The suffix decides when the header does not: a text file named .wav. */
  write_file(fake_wav, "1 1 1\n1\n", -1);
  g_assert_null(mdn_kernel_load(fake_wav, 48000, NULL, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_CORRUPT);
  g_assert_true(g_str_has_prefix(error->message, fake_wav));
  g_assert_nonnull(strstr(error->message, ": cannot read as audio"));
  g_clear_error(&error);
  /* The rate a taps file would get is checked whatever the kind. */
  assert_load_error(short_taps, 0, MDN_ERROR_INVALID_ARGUMENT,
                    "the rate for a taps file: sample rate must be in (0, 10000000] Hz (got 0)");
  assert_load_error(
      short_taps, 2e7, MDN_ERROR_INVALID_ARGUMENT,
      "the rate for a taps file: sample rate must be in (0, 10000000] Hz (got 2e+07)");
  /* A name that is no file here nor a preset anywhere. */
  g_setenv("MADDNESS_PRESET_PATH", tmp_dir, TRUE);
  g_assert_null(mdn_kernel_load("no-such-kernel", 48000, NULL, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  g_assert_true(g_str_has_prefix(error->message, "no file or preset \"no-such-kernel\""));
  g_assert_nonnull(strstr(error->message, tmp_dir));
  g_clear_error(&error);
  g_unsetenv("MADDNESS_PRESET_PATH");

  g_free(no_such_file);
  g_free(fake_wav);
  g_free(short_taps);
  g_free(empty);
  g_free(missing);
}

/* ---- files no loader may read: a FIFO blocks, /dev/zero never ends -------------- */

typedef enum { LOAD_ANY, LOAD_WAV, LOAD_TAPS } Loader;

typedef struct {
  Loader loader;
  const char *path;
  const char *kind; /* what the message calls it */
} SpecialCase;

/* In a bounded child (mdn_test_fork_bounded): refused at once. */
static gboolean
special_refused(gpointer data)
{
  const SpecialCase *c = data;
  char *want = g_strdup_printf("%s: not a regular file (%s)", c->path, c->kind);
  GError *error = NULL;
  MdnKernel *k;

  if (c->loader == LOAD_ANY)
    k = mdn_kernel_load(c->path, 48000, NULL, &error);
  else if (c->loader == LOAD_WAV)
    k = mdn_kernel_load_wav(c->path, &error);
  else
    k = mdn_kernel_load_taps(c->path, 48000, &error);
  g_assert_null(k);
  g_assert_error(error, MDN_ERROR, MDN_ERROR_IO);
  g_assert_cmpstr(error->message, ==, want);
  g_error_free(error);
  g_free(want);
  return TRUE;
}

static void
test_special_files(void)
{
  char *fifo = tmp_path("fifo.taps");
  const char *paths[] = { fifo, "/dev/zero" }, *kinds[] = { "a FIFO", "a character device" };
  Loader loader;
  int p;

  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  for (p = 0; p < 2; p++)
    for (loader = LOAD_ANY; loader <= LOAD_TAPS; loader++) {
      SpecialCase c = { loader, paths[p], kinds[p] };
      g_test_message("loader %d on %s", loader, paths[p]);
      g_assert_true(mdn_test_fork_bounded(special_refused, &c, 10));
    }
  g_free(fifo);
}

int
main(int argc, char **argv)
{
  GError *error = NULL;
  int ret;

  g_test_init(&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp("mdn-kernel-source-XXXXXX", &error);
  g_assert_no_error(error);
  g_test_add_func("/kernel-source/wav/mono", test_wav_mono);
  g_test_add_func("/kernel-source/wav/multichannel", test_wav_multichannel);
  g_test_add_func("/kernel-source/wav/bad", test_wav_bad);
  g_test_add_func("/kernel-source/taps/good", test_taps_good);
  g_test_add_func("/kernel-source/taps/bad", test_taps_bad);
  g_test_add_func("/kernel-source/taps/write-roundtrip", test_write_roundtrip);
  g_test_add_func("/kernel-source/taps/fuzz", test_taps_fuzz);
  g_test_add_func("/kernel-source/any/kinds", test_any_kinds);
  g_test_add_func("/kernel-source/any/errors", test_any_errors);
  g_test_add_func("/kernel-source/special-files", test_special_files);
  ret = g_test_run();
  {
    /* Remove what the tests wrote. */
    GDir *d = g_dir_open(tmp_dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      char *p = tmp_path(name);
      g_unlink(p);
      g_free(p);
    }
    if (d)
      g_dir_close(d);
    g_rmdir(tmp_dir);
  }
  g_free(tmp_dir);
  return ret;
}

/* test-nam.c: trained models (.nam files, engine/net and engine/nam).
 *
 * The models are written at the start by make-nam-models.py (this project's
 * own weights in NAM's format; nothing is downloaded). Per ISA this CPU
 * supports (a subprocess each, MADDNESS_ISA set):
 *  - accuracy: every single-WaveNet model against the double-precision
 *    reference (nam-reference.c, warmed on silence as NAM does): at least
 *    100 dB SNR over music-like input at -6 dBFS peak;
 *  - streaming: output bitwise identical for any split of the input into
 *    calls (1 to 3000 frames), and for a stereo stream per channel;
 *  - warm state: the first outputs on silence are the reference's steady
 *    state; a reset returns to it (a rerun is bitwise identical);
 *  - real time: mdn_net_stream_process() and mdn_net_stream_reset() make no
 *    allocation, free or file open (mdn-alloc-count.c), over every chunk
 *    size, submodel switches and hostile samples.
 * Once: quality -> submodel as NAM's slimmable sizes (the slimmable file's
 * sizes and the container's submodels give the same output as the plain
 * files the generator sliced), info and metadata, and hostile files (bad
 * JSON, versions, architectures, sizes, NaN weights, limits, mutations):
 * a GError with the right code, never a crash.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"
#include "mdn-signals.h"
#include "mdn-alloc-count.h"
#include "mdn-test-spawn.h"
#include "nam-reference.h"

#include <math.h>
#include <string.h>

#define RATE 48000
#define MIN_SNR_DB 100.0

static char *models_dir;
static const char *self_path;

static char *
model_path(const char *name)
{
  return g_build_filename(models_dir, name, NULL);
}

static MdnNet *
load(const char *name)
{
  char *path = model_path(name);
  GError *error = NULL;
  MdnNet *net = mdn_net_load(path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(net);
  g_free(path);
  return net;
}

static float *
input_signal(size_t n, int channels, guint32 seed)
{
  return mdn_signal_multichannel(mdn_signal_music, n, channels, RATE, seed);
}

static float *
run_stream(MdnNetStream *s, int sub, const float *in, size_t n, int in_ch, int out_ch,
           const size_t *chunks, int n_chunks)
{
  float *out = g_new0(float, n *out_ch);
  size_t pos = 0;
  int c = 0;
  (void)in_ch;
  while (pos < n) {
    const size_t want = chunks ? chunks[c++ % n_chunks] : n;
    const size_t m = MIN(want, n - pos);
    g_assert_true(mdn_net_stream_process(s, sub, in + pos * in_ch, out + pos * out_ch, m));
    pos += m;
  }
  return out;
}

/* ---- per ISA ---- */

static const char *const single_models[] = {
  "a1-standard.nam", "tiny.nam",     "a2-like.nam",     "post-head.nam",   "rate-44100.nam",
  "slim-2-1.nam",    "slim-8-4.nam", "container-0.nam", "container-1.nam",
};

static void
check_accuracy(const char *name)
{
  char *path = model_path(name);
  char *data = NULL;
  gsize size = 0;
  GError *error = NULL;
  MdnWaveNetDesc desc;
  MdnNet *net;
  MdnNetStream *s;
  const size_t n = RATE / 4;
  float *in = input_signal(n, 1, 7), *out;
  double *ref, snr;
  size_t warm;

  g_assert_true(g_file_get_contents(path, &data, &size, &error));
  g_assert_true(mdn_nam_parse_wavenet(data, size, &desc, &error));
  g_assert_no_error(error);
  warm = 2 * mdn_wavenet_receptive_field(&desc);
  ref = mdn_test_wavenet_reference(&desc, in, n, warm);

  net = load(name);
  s = mdn_net_stream_new(net, 1, &error);
  g_assert_no_error(error);
  out = run_stream(s, mdn_net_submodel_for_quality(net, 10), in, n, 1, 1, NULL, 0);
  snr = mdn_snr_db(ref, out, n);
  g_test_message("%s on %s: %.1f dB SNR against the double reference (first output %.9g, "
                 "reference %.9g)",
                 name, mdn_isa(), snr, out[0], ref[0]);
  g_assert_cmpfloat(snr, >=, MIN_SNR_DB);
  /* the warm start: the very first frame already matches */
  g_assert_cmpfloat(fabs(out[0] - ref[0]), <=, 1e-5 * (fabs(ref[0]) + 1e-3));

  mdn_net_stream_free(s);
  mdn_net_free(net);
  mdn_wavenet_desc_clear(&desc);
  g_free(ref);
  g_free(out);
  g_free(in);
  g_free(data);
  g_free(path);
}

static void
check_streaming(const char *name)
{
  static const size_t chunks[] = { 1, 7, 511, 512, 513, 3000, 64, 2, 1023, 100 };
  const size_t n = RATE / 3;
  GError *error = NULL;
  MdnNet *net = load(name);
  const int sub = mdn_net_submodel_for_quality(net, 10);
  MdnNetStream *s = mdn_net_stream_new(net, 1, &error), *st;
  float *in = input_signal(n, 1, 3), *in2 = input_signal(n, 2, 3);
  float *whole, *pieces, *again, *stereo;
  size_t t;

  g_assert_no_error(error);
  whole = run_stream(s, sub, in, n, 1, 1, NULL, 0);
  mdn_net_stream_reset(s);
  pieces = run_stream(s, sub, in, n, 1, 1, chunks, G_N_ELEMENTS(chunks));
  g_assert_cmpmem(whole, n * sizeof(float), pieces, n * sizeof(float));
  mdn_net_stream_reset(s);
  again = run_stream(s, sub, in, n, 1, 1, chunks + 3, 4);
  g_assert_cmpmem(whole, n * sizeof(float), again, n * sizeof(float));

  /* stereo: two independent copies; channel 0 of in2 is `in` (seed 3) */
  st = mdn_net_stream_new(net, 2, &error);
  g_assert_no_error(error);
  stereo = run_stream(st, sub, in2, n, 2, 2, chunks, G_N_ELEMENTS(chunks));
  for (t = 0; t < n; t++)
    g_assert_cmpfloat(stereo[2 * t], ==, whole[t]);

  mdn_net_stream_free(st);
  mdn_net_stream_free(s);
  mdn_net_free(net);
  g_free(whole);
  g_free(pieces);
  g_free(again);
  g_free(stereo);
  g_free(in);
  g_free(in2);
}

/* No allocation, free or open while streaming, switching and resetting. */
static void
check_rt(const char *name)
{
  static const size_t chunks[] = { 1, 17, 511, 512, 513, 4096, 3 };
  const size_t n = 3 * 4096;
  GError *error = NULL;
  MdnNet *net = load(name);
  MdnNetStream *s = mdn_net_stream_new(net, 2, &error);
  float *in = input_signal(n, 2, 5), *out = g_new0(float, 2 * 4096);
  MdnAllocCount count;
  size_t pos = 0, c;
  int q;

  g_assert_no_error(error);
  in[11] = NAN;
  in[101] = INFINITY;
  in[1001] = 1e-41f;
  mdn_alloc_count_begin();
  for (q = 10; q >= 0; q -= 3)
    for (c = 0; c < G_N_ELEMENTS(chunks); c++) {
      const size_t m = chunks[c];
      if (pos + m > n)
        pos = 0;
      g_assert_true(
          mdn_net_stream_process(s, mdn_net_submodel_for_quality(net, q), in + 2 * pos, out, m));
      pos += m;
    }
  mdn_net_stream_reset(s);
  g_assert_true(mdn_net_stream_process(s, 0, in, out, 100));
  g_assert_false(mdn_net_stream_process(s, mdn_net_n_submodels(net), in, out, 100));
  mdn_alloc_count_end(&count);
  g_test_message("%s on %s: %" G_GUINT64_FORMAT " allocations, %" G_GUINT64_FORMAT
                 " frees, %" G_GUINT64_FORMAT " opens while streaming",
                 name, mdn_isa(), count.allocs, count.frees, count.opens);
  g_assert_cmpuint(count.allocs, ==, 0);
  g_assert_cmpuint(count.frees, ==, 0);
  g_assert_cmpuint(count.opens, ==, 0);
  /* counted anew from the reset: the NaN and the Inf of the first 100 frames */
  g_assert_cmpuint(mdn_net_stream_nonfinite_count(s), ==, 2);
  for (c = 0; c < 200; c++)
    g_assert_true(isfinite(out[c]));
  mdn_net_stream_free(s);
  mdn_net_free(net);
  g_free(in);
  g_free(out);
}

static void
run_isa_checks(void)
{
  guint i;
  g_assert_true(mdn_alloc_count_works());
  for (i = 0; i < G_N_ELEMENTS(single_models); i++)
    check_accuracy(single_models[i]);
  check_streaming("a1-standard.nam");
  check_streaming("a2-like.nam");
  check_streaming("post-head.nam");
  check_rt("container.nam");
  check_rt("slimmable.nam");
}

static gboolean
in_child(void)
{
  return g_test_subprocess() || g_getenv("MDN_NAM_CHILD") != NULL;
}

static void
test_isa(gconstpointer data)
{
  const MdnIsa isa = GPOINTER_TO_INT(data);
  const char *wrapper = g_getenv("MESON_EXE_WRAPPER");

  if (in_child()) {
    g_assert_cmpstr(mdn_isa(), ==, mdn_isa_name(isa));
    run_isa_checks();
    return;
  }
  g_setenv("MADDNESS_ISA", mdn_isa_name(isa), TRUE);
  if (wrapper != NULL && *wrapper != '\0') {
    const char *args[] = { self_path, "-p", g_test_get_path(), NULL };
    char **argv = mdn_test_wrap_argv(args);
    char **envp = g_environ_setenv(g_get_environ(), "MDN_NAM_CHILD", "1", TRUE);
    int status = 0;
    GError *error = NULL;
    g_assert_true(g_spawn_sync(NULL, argv, envp, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, &error));
    g_strfreev(envp);
    g_strfreev(argv);
    return;
  }
  g_test_trap_subprocess(NULL, 0,
                         G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
}

/* ---- once ---- */

static void
test_info(void)
{
  MdnNet *net = load("a1-standard.nam");
  const MdnNetMetadata *m = mdn_net_metadata(net);
  MdnNetInfo info;

  g_assert_cmpstr(mdn_net_architecture(net), ==, "WaveNet");
  g_assert_cmpstr(mdn_net_version(net), ==, "0.5.4");
  g_assert_cmpfloat(mdn_net_rate(net), ==, 48000);
  g_assert_true(mdn_net_rate_from_file(net));
  g_assert_cmpint(mdn_net_n_submodels(net), ==, 1);
  mdn_net_submodel_info(net, 0, &info);
  g_assert_cmpuint(info.weights, ==, 13802);
  g_assert_cmpint(info.layers, ==, 20);
  g_assert_cmpuint(info.receptive_field, ==, 4093); /* 1 + 2 * 2 * (1 + 2 + ... + 512) */
  /* 13,321 multiply-adds per frame in NAM's count; the last layer's residual
   * mixer (8x8 and bias, never read) is not computed (-65) and the first
   * layer's conv folds onto the input (16 x 3 instead of 16 x (16 x 3 + 1):
   * -736): 12,520 */
  g_assert_cmpfloat(info.macs_per_frame, ==, 12520);
  g_assert_cmpint(info.in_channels, ==, 1);
  g_assert_cmpint(info.out_channels, ==, 1);
  g_assert_cmpfloat(m->loudness, ==, -18.5);
  g_assert_cmpfloat(m->input_level_dbu, ==, 12.0);
  g_assert_cmpfloat(m->output_level_dbu, ==, 6.5);
  g_assert_cmpstr(m->name, ==, "Project test capture");
  g_assert_cmpstr(m->gear, ==, "Test Amp (amp)");
  mdn_net_free(net);

  net = load("tiny.nam"); /* no sample_rate, no metadata */
  g_assert_cmpfloat(mdn_net_rate(net), ==, 48000);
  g_assert_false(mdn_net_rate_from_file(net));
  g_assert_true(isnan(mdn_net_metadata(net)->loudness));
  mdn_net_free(net);
  net = load("rate-44100.nam");
  g_assert_cmpfloat(mdn_net_rate(net), ==, 44100);
  mdn_net_free(net);
}

/* maddness-info on a model: its shape, submodels and levels; a clear error
 * for a file it cannot run. */
static void
test_info_tool(void)
{
  const char *tool = g_getenv("MADDNESS_INFO");
  char *path = model_path("a1-standard.nam"), *out = NULL, *err = NULL;
  const char *args[] = { tool, path, NULL };
  char **argv;
  int status = 0;
  GError *error = NULL;

  g_assert_nonnull(tool);
  argv = mdn_test_wrap_argv(args);
  g_assert_true(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_assert_nonnull(strstr(out, "architecture: WaveNet\n"));
  g_assert_nonnull(strstr(out, "rate: 48000\n"));
  g_assert_nonnull(strstr(out, "submodel: 0 quality=0-10 layers=20 receptive_field=4093 "
                               "weights=13802 macs_per_frame=12520 WaveNet: 16ch x10, 8ch x10\n"));
  g_assert_nonnull(strstr(out, "loudness: -18.5 dB\n"));
  g_assert_nonnull(strstr(out, "input_level_dbu: 12 dBu\n"));
  g_assert_nonnull(strstr(out, "output_level_dbu: 6.5 dBu\n"));
  g_assert_nonnull(strstr(out, "runs: exact"));
  g_strfreev(argv);
  g_free(out);
  g_free(err);
  g_free(path);

  /* an LSTM file: refused with the reason */
  path = g_build_filename(models_dir, "lstm.nam", NULL);
  g_assert_true(g_file_set_contents(path,
                                    "{\"version\": \"0.5.4\", \"architecture\": \"LSTM\", "
                                    "\"config\": {}, \"weights\": []}",
                                    -1, NULL));
  args[1] = path;
  argv = mdn_test_wrap_argv(args);
  g_assert_true(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_false(g_spawn_check_wait_status(status, NULL));
  g_assert_nonnull(strstr(err, "architecture \"LSTM\" is not supported"));
  g_strfreev(argv);
  g_free(out);
  g_free(err);
  g_free(path);
}

/* Output of quality q of `name` and of the plain file `plain`: identical. */
static void
check_same(MdnNet *net, int q, const char *plain)
{
  const size_t n = 6000;
  GError *error = NULL;
  MdnNet *p = load(plain);
  MdnNetStream *a = mdn_net_stream_new(net, 1, &error), *b = mdn_net_stream_new(p, 1, &error);
  float *in = input_signal(n, 1, 9);
  float *ya = run_stream(a, mdn_net_submodel_for_quality(net, q), in, n, 1, 1, NULL, 0);
  float *yb = run_stream(b, 0, in, n, 1, 1, NULL, 0);

  g_assert_no_error(error);
  g_assert_cmpmem(ya, n * sizeof(float), yb, n * sizeof(float));
  mdn_net_stream_free(a);
  mdn_net_stream_free(b);
  mdn_net_free(p);
  g_free(in);
  g_free(ya);
  g_free(yb);
}

static void
test_quality(void)
{
  /* slimmable: array 0 allowed [2, 4, 8], array 1 [1, 2, 3, 4]; quality q
   * is NAM's size q / 10: allowed[min(floor(q / 10 * n), n - 1)] */
  static const char *const slim[11] = {
    "slim-2-1.nam", "slim-2-1.nam", "slim-2-1.nam", "slim-2-2.nam", "slim-4-2.nam", "slim-4-3.nam",
    "slim-4-3.nam", "slim-8-3.nam", "slim-8-4.nam", "slim-8-4.nam", "slim-8-4.nam",
  };
  /* container: max_value 0.3, 0.7, 1: the first above q / 10 */
  static const int container[11] = { 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 };
  MdnNet *net = load("slimmable.nam");
  char name[32];
  int q;

  g_assert_cmpint(mdn_net_n_submodels(net), ==, 6);
  for (q = 0; q <= 10; q++)
    check_same(net, q, slim[q]);
  mdn_net_free(net);

  net = load("container.nam");
  g_assert_cmpint(mdn_net_n_submodels(net), ==, 3);
  g_assert_cmpstr(mdn_net_architecture(net), ==, "SlimmableContainer");
  g_assert_cmpfloat(mdn_net_metadata(net)->loudness, ==, -18.5);
  for (q = 0; q <= 10; q++) {
    g_assert_cmpint(mdn_net_submodel_for_quality(net, q), ==, container[q]);
    g_snprintf(name, sizeof(name), "container-%d.nam", container[q]);
    check_same(net, q, name);
  }
  mdn_net_free(net);
}

/* Switching submodels warms the new one: from the switch on, the output is
 * a fresh stream's of that submodel on the same input. */
static void
test_switch(void)
{
  const size_t n = 5000;
  GError *error = NULL;
  MdnNet *net = load("container.nam");
  MdnNetStream *s = mdn_net_stream_new(net, 1, &error), *fresh = mdn_net_stream_new(net, 1, &error);
  float *in = input_signal(2 * n, 1, 4), *a = g_new(float, 2 * n), *b = g_new(float, n);

  g_assert_no_error(error);
  g_assert_true(mdn_net_stream_process(s, 2, in, a, n));
  g_assert_true(mdn_net_stream_process(s, 0, in + n, a + n, n));
  g_assert_true(mdn_net_stream_process(fresh, 0, in + n, b, n));
  g_assert_cmpmem(a + n, n * sizeof(float), b, n * sizeof(float));
  mdn_net_stream_free(s);
  mdn_net_stream_free(fresh);
  mdn_net_free(net);
  g_free(in);
  g_free(a);
  g_free(b);
}

typedef struct {
  const char *what;
  const char *json; /* %s: the tiny model's config, %w: its weights */
  MdnErrorCode code;
} BadCase;

static char *tiny_config, *tiny_weights;

static void
expect_error(const char *what, const char *text, size_t size, MdnErrorCode code)
{
  GError *error = NULL;
  MdnNet *net = mdn_net_load_from_data(text, size, &error);
  g_assert_null(net);
  g_assert_nonnull(error);
  g_test_message("%s: %s", what, error->message);
  g_assert_error(error, MDN_ERROR, (gint)code);
  g_error_free(error);
}

static char *
expand(const char *tmpl)
{
  GString *s = g_string_new(NULL);
  const char *p;
  for (p = tmpl; *p; p++) {
    if (p[0] == '%' && p[1] == 's') {
      g_string_append(s, tiny_config);
      p++;
    } else if (p[0] == '%' && p[1] == 'w') {
      g_string_append(s, tiny_weights);
      p++;
    } else {
      g_string_append_c(s, *p);
    }
  }
  return g_string_free(s, FALSE);
}

static void
test_hostile(void)
{
  /* a valid base: the tiny model (3 then 2 channels) */
  static const BadCase cases[] = {
    { "not JSON", "{\"version\": ", MDN_ERROR_CORRUPT },
    { "not an object", "[1, 2, 3]", MDN_ERROR_CORRUPT },
    { "no version", "{\"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}",
      MDN_ERROR_CORRUPT },
    { "version 0.8.0",
      "{\"version\": \"0.8.0\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}",
      MDN_ERROR_VERSION },
    { "version 1.0.0",
      "{\"version\": \"1.0.0\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}",
      MDN_ERROR_VERSION },
    { "version 0.4.9",
      "{\"version\": \"0.4.9\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}",
      MDN_ERROR_VERSION },
    { "version text",
      "{\"version\": \"0.5\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}",
      MDN_ERROR_VERSION },
    { "LSTM",
      "{\"version\": \"0.5.4\", \"architecture\": \"LSTM\", \"config\": {\"input_size\": 1, "
      "\"hidden_size\": 3, \"num_layers\": 1}, \"weights\": [0]}",
      MDN_ERROR_INVALID_ARGUMENT },
    { "ConvNet",
      "{\"version\": \"0.5.4\", \"architecture\": \"ConvNet\", \"config\": {}, \"weights\": []}",
      MDN_ERROR_INVALID_ARGUMENT },
    { "one weight short",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": [0.1]}",
      MDN_ERROR_CORRUPT },
    { "weights not numbers",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": "
      "[\"a\"]}",
      MDN_ERROR_CORRUPT },
    { "infinite weight",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": "
      "[1e999]}",
      MDN_ERROR_CORRUPT },
    { "NaN weight (not JSON)",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": "
      "[NaN]}",
      MDN_ERROR_CORRUPT },
    { "float overflow weight",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": "
      "[1e39]}",
      MDN_ERROR_CORRUPT },
    { "no layers",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": [], "
      "\"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_CORRUPT },
    { "huge channels",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
      "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 100000, "
      "\"kernel_size\": 3, \"dilations\": [1], \"activation\": \"Tanh\", \"head_bias\": true}], "
      "\"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_CORRUPT },
    { "huge dilation",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
      "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 2, "
      "\"kernel_size\": 3, \"dilations\": [1000000000], \"activation\": \"Tanh\", \"head_bias\": "
      "true}], \"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_CORRUPT },
    { "history over the limit",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
      "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 256, "
      "\"kernel_size\": 256, \"dilations\": [65536], \"layer1x1\": {\"active\": false, "
      "\"groups\": 1}, \"groups_input\": 256, \"activation\": \"ReLU\", \"head_bias\": false}], "
      "\"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_CORRUPT }, /* weights wrong first; the size check is test_limits' */
    { "unknown activation",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
      "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 2, "
      "\"kernel_size\": 3, \"dilations\": [1], \"activation\": \"Mish\", \"head_bias\": true}], "
      "\"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_INVALID_ARGUMENT },
    { "FiLM",
      "{\"version\": \"0.7.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
      "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 2, "
      "\"kernel_size\": 3, \"dilations\": [1], \"activation\": \"Tanh\", \"head_bias\": true, "
      "\"conv_pre_film\": {\"active\": true, \"shift\": true}}], \"head_scale\": 0.02}, "
      "\"weights\": [0.02]}",
      MDN_ERROR_INVALID_ARGUMENT },
    { "condition DSP",
      "{\"version\": \"0.7.0\", \"architecture\": \"WaveNet\", \"config\": {\"condition_dsp\": "
      "{}, \"layers\": [], \"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_INVALID_ARGUMENT },
    { "groups not dividing",
      "{\"version\": \"0.7.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
      "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 3, "
      "\"groups_input\": 2, \"kernel_size\": 3, \"dilations\": [1], \"activation\": \"Tanh\", "
      "\"head_bias\": true}], \"head_scale\": 0.02}, \"weights\": [0.02]}",
      MDN_ERROR_CORRUPT },
    { "bad sample rate",
      "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w, "
      "\"sample_rate\": -5}",
      MDN_ERROR_CORRUPT },
    { "container of LSTM",
      "{\"version\": \"0.7.0\", \"architecture\": \"SlimmableContainer\", \"config\": "
      "{\"submodels\": [{\"max_value\": 1.0, \"model\": {\"version\": \"0.5.4\", "
      "\"architecture\": \"LSTM\", \"config\": {}, \"weights\": []}}]}}",
      MDN_ERROR_INVALID_ARGUMENT },
    { "container max_value below 1",
      "{\"version\": \"0.7.0\", \"architecture\": \"SlimmableContainer\", \"config\": "
      "{\"submodels\": [{\"max_value\": 0.5, \"model\": {\"version\": \"0.5.4\", "
      "\"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}}]}}",
      MDN_ERROR_CORRUPT },
    { "container unsorted",
      "{\"version\": \"0.7.0\", \"architecture\": \"SlimmableContainer\", \"config\": "
      "{\"submodels\": [{\"max_value\": 1.0, \"model\": {\"version\": \"0.5.4\", "
      "\"architecture\": \"WaveNet\", \"config\": %s, \"weights\": %w}}, {\"max_value\": 0.5, "
      "\"model\": {}}]}}",
      MDN_ERROR_CORRUPT },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *text = expand(cases[i].json);
    expect_error(cases[i].what, text, strlen(text), cases[i].code);
    g_free(text);
  }
  expect_error("empty", "", 0, MDN_ERROR_CORRUPT);
}

/* Bounds checked before json-glib parses or anything is sized. */
static void
test_limits(void)
{
  const size_t big = MDN_NAM_MAX_BYTES + 1, many = MDN_NAM_MAX_VALUES + 10;
  char *text = g_malloc(MAX(big, 2 * many + 2));
  size_t i;
  GError *error = NULL;
  MdnWaveNetDesc desc;
  MdnNetGraph *g;

  memset(text, ' ', big);
  text[0] = '{';
  expect_error("over the size limit", text, big, MDN_ERROR_INVALID_ARGUMENT);
  for (i = 0; i < 1000; i++)
    text[i] = '[';
  expect_error("nested 1000 deep", text, 1000, MDN_ERROR_CORRUPT);
  text[0] = '[';
  for (i = 0; i < many; i++) {
    text[1 + 2 * i] = '0';
    text[2 + 2 * i] = ',';
  }
  text[2 * many] = ']';
  expect_error("too many values", text, 2 * many + 1, MDN_ERROR_INVALID_ARGUMENT);
  g_free(text);

  /* a description whose history and scratch would exceed the state limit:
   * refused when a stream is made, before allocating it */
  memset(&desc, 0, sizeof(desc));
  desc.in_channels = 1;
  desc.n_arrays = 1;
  desc.arrays = g_new0(MdnWaveNetArray, 1);
  desc.arrays[0] = (MdnWaveNetArray){ .input_size = 1,
                                      .condition_size = 1,
                                      .channels = 256,
                                      .bottleneck = 256,
                                      .head_size = 1,
                                      .head_kernel = 1,
                                      .head_dilation = 1,
                                      .n_layers = 1,
                                      .layer1x1_active = FALSE,
                                      .groups_input = 256,
                                      .groups_input_mixin = 1,
                                      .head1x1_groups = 1,
                                      .layer1x1_groups = 1 };
  desc.arrays[0].kernel_sizes = g_new0(int, 1);
  desc.arrays[0].dilations = g_new0(int, 1);
  desc.arrays[0].acts = g_new0(MdnNetAct, 1);
  desc.arrays[0].secondary = g_new0(MdnNetAct, 1);
  desc.arrays[0].gating = g_new0(MdnGating, 1);
  desc.arrays[0].kernel_sizes[0] = 256;
  desc.arrays[0].dilations[0] = 65536;
  desc.arrays[0].acts[0].type = MDN_ACT_RELU;
  g_assert_true(mdn_wavenet_desc_check(&desc, &desc.n_weights, &error));
  g_assert_no_error(error);
  desc.weights = g_new0(float, desc.n_weights);
  g_assert_cmpuint(desc.n_weights, <, 1 << 20);
  g = mdn_wavenet_build(&desc, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(mdn_net_graph_state_bytes(g), >, MDN_NET_MAX_STATE_BYTES);
  g_assert_null(mdn_net_state_new(g, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_test_message("%s", error->message);
  g_clear_error(&error);
  mdn_net_graph_free(g);
  mdn_wavenet_desc_clear(&desc);
}

/* Mutated copies of valid files: each loads or fails with an error; a
 * mutant that loads streams a little. Deterministic (seeded). */
static void
test_mutations(void)
{
  static const char *const names[] = { "tiny.nam", "a2-like.nam", "post-head.nam" };
  const int iterations = g_test_slow() ? 3000 : 400;
  GRand *rng = g_rand_new_with_seed(16);
  float in[256], out[256];
  guint f;
  int it, loaded = 0, failed = 0;

  for (f = 0; f < G_N_ELEMENTS(names); f++) {
    char *path = model_path(names[f]), *data;
    gsize size;
    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    for (it = 0; it < iterations; it++) {
      char *m = g_memdup2(data, size);
      gsize msize = size;
      int k, edits = g_rand_int_range(rng, 1, 4);
      GError *error = NULL;
      MdnNet *net;
      for (k = 0; k < edits; k++) {
        const gsize pos = g_rand_int_range(rng, 0, (gint32)msize);
        switch (g_rand_int_range(rng, 0, 4)) {
        case 0: /* a digit changed */
          m[pos] = "0123456789-.e"[g_rand_int_range(rng, 0, 13)];
          break;
        case 1: /* a byte changed */
          m[pos] = (char)g_rand_int_range(rng, 0, 256);
          break;
        case 2: /* cut short */
          msize = pos;
          break;
        default: /* a structural character */
          m[pos] = "[]{},:\"0"[g_rand_int_range(rng, 0, 8)];
          break;
        }
      }
      net = mdn_net_load_from_data(m, msize, &error);
      if (net) {
        MdnNetStream *s;
        loaded++;
        s = mdn_net_stream_new(net, 1, &error);
        if (s) {
          memset(in, 0, sizeof(in));
          in[3] = 0.5f;
          g_assert_true(mdn_net_stream_process(
              s, 0, in, out, 256 / mdn_net_out_channels(net) / mdn_net_in_channels(net)));
          mdn_net_stream_free(s);
        } else {
          g_clear_error(&error);
        }
        mdn_net_free(net);
      } else {
        g_assert_nonnull(error);
        g_assert_true(error->domain == MDN_ERROR);
        failed++;
        g_error_free(error);
      }
      g_free(m);
    }
    g_free(data);
    g_free(path);
  }
  g_test_message("mutations: %d loaded, %d refused with an error", loaded, failed);
  g_assert_cmpint(failed, >, 0);
  g_rand_free(rng);
}

static void
make_models(void)
{
  const char *python = g_getenv("MDN_PYTHON"), *script = g_getenv("MDN_NAM_GENERATOR");
  const char *argv[] = { python, script, models_dir, NULL };
  GError *error = NULL;
  int status = 0;
  char *config_path, *text;
  const char *p, *q;

  g_assert_nonnull(python);
  g_assert_nonnull(script);
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                             &status, &error));
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, &error));
  g_assert_no_error(error);

  /* the tiny model's config and weights, for the hostile cases */
  config_path = model_path("tiny.nam");
  g_assert_true(g_file_get_contents(config_path, &text, NULL, NULL));
  p = strstr(text, "\"config\": ");
  q = strstr(text, ", \"weights\": ");
  g_assert_true(p && q && q > p);
  tiny_config = g_strndup(p + 10, q - p - 10);
  p = q + 13;
  q = strchr(p, ']');
  tiny_weights = g_strndup(p, q - p + 1);
  g_free(text);
  g_free(config_path);
}

int
main(int argc, char **argv)
{
  int isa, status;

  self_path = argv[0];
  g_test_init(&argc, &argv, NULL);
  models_dir = g_strdup(g_getenv("MDN_NAM_MODELS_DIR"));
  if (!models_dir || !*models_dir) {
    g_free(models_dir);
    models_dir = g_dir_make_tmp("mdn-nam-XXXXXX", NULL);
  }
  if (!in_child()) {
    make_models();
    /* children read the same files */
    g_setenv("MDN_NAM_MODELS_DIR", models_dir, TRUE);
  }
  for (isa = 0; isa < MDN_N_ISAS; isa++) {
    char *path = g_strdup_printf("/nam/isa/%s", mdn_isa_name((MdnIsa)isa));
    if (mdn_cpu_supports((MdnIsa)isa))
      g_test_add_data_func(path, GINT_TO_POINTER(isa), test_isa);
    else if (!in_child())
      g_printerr("# %s: not supported by this CPU, not run\n", mdn_isa_name((MdnIsa)isa));
    g_free(path);
  }
  g_test_add_func("/nam/info", test_info);
  g_test_add_func("/nam/info-tool", test_info_tool);
  g_test_add_func("/nam/quality", test_quality);
  g_test_add_func("/nam/switch", test_switch);
  g_test_add_func("/nam/hostile", test_hostile);
  g_test_add_func("/nam/limits", test_limits);
  g_test_add_func("/nam/mutations", test_mutations);
  status = g_test_run();
  g_free(tiny_config);
  g_free(tiny_weights);
  g_free(models_dir);
  return status;
}

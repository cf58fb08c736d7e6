/* test-stream: chunking, reset, tier switching, groups, bad arguments and
 * silence of mdn_stream_process(). Outputs that must be identical are compared with
 * memcmp: the result may not depend on how the stream is cut.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "mdn-private.h"
#include "mdn-signals.h"
#include "mdn-test-fit.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define RATE 16000.0

/* Exported by exact.c and exact-plan.c for the benchmark and tests. */
MdnExact *mdn_exact_new_forced(const MdnKernel *kernel, int partition);
size_t mdn_exact_history_forced(const MdnKernel *kernel, int partition);

static MdnModel *
model_for(const MdnKernel *k)
{
  GError *error = NULL;
  MdnModel *m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  return m;
}

static MdnStream *
stream_for(const MdnModel *m, int groups)
{
  GError *error = NULL;
  MdnStream *s = mdn_stream_new(m, groups, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  g_assert_cmpint(mdn_stream_groups(s), ==, groups);
  return s;
}

/* The kernels: direct form, FFT (1->1 and multichannel, dilated). */
static MdnKernel *
kernel_number(int which)
{
  switch (which) {
  case 0:
    return mdn_design_random_kernel(1, 1, 7, 2, RATE, 1); /* direct */
  case 1:
    return mdn_design_room_ir(3000, 0.2, RATE, 2); /* FFT */
  case 2:
    return mdn_design_random_kernel(2, 3, 700, 2, RATE, 3); /* FFT, multichannel */
  default:
    return mdn_design_random_kernel(3, 2, 40, 1, RATE, 4); /* direct, multichannel */
  }
}

#define N_KERNELS 4

/* Whole signal in one call. */
static float *
run_once(const MdnModel *m, int groups, const float *in, size_t n)
{
  const MdnKernel *k = mdn_model_kernel(m);
  MdnStream *s = stream_for(m, groups);
  float *out = g_new(float, n *groups * k->cout);
  g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in, out, n));
  mdn_stream_free(s);
  return out;
}

static void
test_chunking(void)
{
  const size_t n = 14000;
  const size_t fixed[] = { 0, 1, 7, 4096, 0, 1, 1, 1023, 1024, 1025, 7 };
  int which;

  for (which = 0; which < N_KERNELS; which++) {
    MdnKernel *k = kernel_number(which);
    MdnModel *m = model_for(k);
    const int groups = 2;
    float *in = mdn_signal_multichannel(mdn_signal_music, n, groups * k->cin, RATE, 10 + which);
    float *whole = run_once(m, groups, in, n);
    int pass;

    for (pass = 0; pass < 2; pass++) {
      MdnStream *s = stream_for(m, groups);
      GRand *rng = g_rand_new_with_seed(100 + pass);
      float *cut = g_new0(float, n *groups * k->cout);
      size_t done = 0, call = 0;
      while (done < n) {
        size_t len;
        if (pass == 0 && call < G_N_ELEMENTS(fixed))
          len = fixed[call];
        else
          len = g_rand_int_range(rng, 0, pass == 0 ? 5000 : 300);
        len = MIN(len, n - done);
        g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in + done * groups * k->cin,
                                         cut + done * groups * k->cout, len));
        done += len;
        call++;
      }
      g_assert_cmpint(memcmp(whole, cut, sizeof(float) * n * groups * k->cout), ==, 0);
      g_free(cut);
      g_rand_free(rng);
      mdn_stream_free(s);
    }
    g_free(in);
    g_free(whole);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

static void
test_reset(void)
{
  const size_t n = 9000;
  int which;
  for (which = 0; which < N_KERNELS; which++) {
    MdnKernel *k = kernel_number(which);
    MdnModel *m = model_for(k);
    float *a = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, RATE, 20);
    float *b = mdn_signal_multichannel(mdn_signal_music, n, k->cin, RATE, 30);
    float *fresh = run_once(m, 1, b, n);
    float *out = g_new(float, n * k->cout);
    MdnStream *s = stream_for(m, 1);

    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, a, out, 777));
    mdn_stream_reset(s);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, b, out, n));
    g_assert_cmpint(memcmp(fresh, out, sizeof(float) * n * k->cout), ==, 0);

    /* and after a long run that moved the history around */
    mdn_stream_reset(s);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, a, out, n));
    mdn_stream_reset(s);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, b, out, n));
    g_assert_cmpint(memcmp(fresh, out, sizeof(float) * n * k->cout), ==, 0);

    mdn_stream_free(s);
    g_free(a);
    g_free(b);
    g_free(fresh);
    g_free(out);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

/* A tier with no codebooks and no exact taps: only here to make the stream
 * switch away from the exact path and back. */
static MdnModel *
model_with_tier(const MdnKernel *k)
{
  GError *error = NULL;
  MdnTierSpec spec;
  MdnModel *m = model_for(k);
  MdnTier *tier;
  g_assert_true(mdn_tier_spec_parse("s4d4", &spec, &error));
  g_assert_no_error(error);
  tier = mdn_tier_alloc(&spec, k->cin, k->cout, k->taps, k->dilation, 0, 0, &error);
  g_assert_no_error(error);
  mdn_model_add_tier(m, tier);
  return m;
}

/* exact for [0, a), tier 0 for [a, b), exact for [b, n): the exact parts
 * must equal a stream that used the exact path all along. */
static void
test_tier_switch(void)
{
  const size_t n = 12000;
  const size_t cuts[][2] = { { 1000, 1200 }, { 2048, 4096 }, { 333, 5000 }, { 4000, 4001 } };
  int which;
  guint c;

  for (which = 0; which < N_KERNELS; which++) {
    MdnKernel *k = kernel_number(which);
    MdnModel *m = model_with_tier(k);
    float *in = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, RATE, 40);
    float *whole = run_once(m, 1, in, n);
    for (c = 0; c < G_N_ELEMENTS(cuts); c++) {
      const size_t a = cuts[c][0], b = cuts[c][1];
      MdnStream *s = stream_for(m, 1);
      float *out = g_new(float, n * k->cout);
      g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in, out, a));
      g_assert_true(mdn_stream_process(s, 0, in + a * k->cin, out + a * k->cout, b - a));
      g_assert_true(
          mdn_stream_process(s, MDN_TIER_EXACT, in + b * k->cin, out + b * k->cout, n - b));
      g_assert_cmpint(memcmp(whole, out, sizeof(float) * a * k->cout), ==, 0);
      g_assert_cmpint(
          memcmp(whole + b * k->cout, out + b * k->cout, sizeof(float) * (n - b) * k->cout), ==, 0);
      g_free(out);
      mdn_stream_free(s);
    }
    g_free(in);
    g_free(whole);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

/* The same through mdn_exact_* directly, for the FFT path with a forced
 * small partition: invalidate, then continue (the stream's layout: history
 * before x[i]). */
static void
test_exact_invalidate(void)
{
  MdnKernel *k = mdn_design_random_kernel(2, 2, 500, 3, RATE, 50);
  const size_t n = 8000;
  const int parts[] = { 0, 32, 128 };
  float *in = mdn_signal_multichannel(mdn_signal_music, n, k->cin, RATE, 51);
  guint j;

  for (j = 0; j < G_N_ELEMENTS(parts); j++) {
    size_t h = mdn_exact_history_forced(k, parts[j]);
    MdnExact *e1 = mdn_exact_new_forced(k, parts[j]);
    MdnExact *e2 = mdn_exact_new_forced(k, parts[j]);
    MdnExact *e3 = mdn_exact_new_forced(k, parts[j]);
    float *chan[2], *out1 = g_new(float, n * k->cout), *out2 = g_new(float, n * k->cout);
    float *out3 = g_new0(float, n * k->cout);
    size_t compared = 0;
    const float *x[2];
    size_t t, done = 0;
    int i, step = 0;
    for (i = 0; i < k->cin; i++) {
      chan[i] = g_new0(float, h + n);
      for (t = 0; t < n; t++)
        chan[i][h + t] = in[t * k->cin + i];
    }
    /* e3 first sees 20 frames of other audio from frame 0, then the real
     * audio from frame 0 again (a reset it is not told about), and later
     * skips every fourth call: it must notice each jump of frame0. */
    {
      float *junk = g_new0(float, h + 20);
      const float *xj[2] = { junk + h, junk + h };
      for (t = 0; t < h + 20; t++) /* history included */
        junk[t] = 0.25f * (t % 3);
      mdn_exact_process(e3, xj, 0, 20, out3);
      g_free(junk);
    }
    while (done < n) {
      const size_t step_len = (size_t)(100 + 37 * step++) % MDN_CHUNK;
      size_t len = MIN(n - done, step_len); /* MIN evaluates its arguments twice */
      for (i = 0; i < k->cin; i++)
        x[i] = chan[i] + h + done;
      mdn_exact_process(e1, x, done, len, out1 + done * k->cout);
      if (step % 3 == 0)
        mdn_exact_invalidate(e2);
      mdn_exact_process(e2, x, done, len, out2 + done * k->cout);
      if (step % 4 != 2) {
        mdn_exact_process(e3, x, done, len, out3 + done * k->cout);
        g_assert_cmpint(
            memcmp(out1 + done * k->cout, out3 + done * k->cout, sizeof(float) * len * k->cout), ==,
            0);
        compared += len;
      }
      done += len;
    }
    g_assert_cmpuint(compared, >, n / 2);
    g_assert_cmpint(memcmp(out1, out2, sizeof(float) * n * k->cout), ==, 0);
    for (i = 0; i < k->cin; i++)
      g_free(chan[i]);
    g_free(out1);
    g_free(out2);
    g_free(out3);
    mdn_exact_free(e1);
    mdn_exact_free(e2);
    mdn_exact_free(e3);
  }
  g_free(in);
  mdn_kernel_free(k);
}

static void
test_bad_tier(void)
{
  MdnKernel *k = kernel_number(0);
  MdnModel *m = model_with_tier(k);
  MdnStream *s = stream_for(m, 1);
  float in[16] = { 1 }, out[16], zeros_out[16];
  const int bad[] = { 1, 2, -2, -100, G_MAXINT, G_MININT };
  guint j;

  for (j = 0; j < G_N_ELEMENTS(bad); j++) {
    memset(out, 0x5a, sizeof out);
    g_assert_false(mdn_stream_process(s, bad[j], in, out, 16));
    memset(zeros_out, 0x5a, sizeof zeros_out);
    g_assert_cmpint(memcmp(out, zeros_out, sizeof out), ==, 0);
  }
  /* A refused call consumed nothing: the stream still starts at frame 0. */
  {
    float *fresh = run_once(m, 1, in, 16);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in, out, 16));
    g_assert_cmpint(memcmp(fresh, out, sizeof out), ==, 0);
    g_free(fresh);
  }
  /* Zero frames: fine, with NULL buffers too. */
  g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, NULL, NULL, 0));
  g_assert_true(mdn_stream_process(s, 0, NULL, NULL, 0));
  g_assert_false(mdn_stream_process(s, 1, NULL, NULL, 0));

  mdn_stream_free(s);
  mdn_stream_free(NULL);
  mdn_model_free(m);
  mdn_kernel_free(k);
}

static void
test_bad_groups(void)
{
  MdnKernel *k = mdn_design_random_kernel(3, 5, 4, 1, RATE, 60);
  MdnModel *m = model_for(k);
  const int bad[]
      = { 0, -1, MDN_MAX_CHANNELS / 3 + 1, MDN_MAX_CHANNELS / 5 + 1, MDN_MAX_CHANNELS + 1 };
  guint j;
  for (j = 0; j < G_N_ELEMENTS(bad); j++) {
    GError *error = NULL;
    g_assert_null(mdn_stream_new(m, bad[j], &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
  }
  mdn_stream_free(stream_for(m, MDN_MAX_CHANNELS / 5));
  mdn_model_free(m);
  mdn_kernel_free(k);

  /* A span of 2^32 frames is no kernel; the longest span (2^20 frames) on
   * every channel is more history than a stream may keep: errors, not
   * aborts (test-preset-limits.c checks the memory). */
  {
    GError *error = NULL;
    g_assert_null(mdn_kernel_new(1, 1, MDN_MAX_TAPS, MDN_MAX_DILATION, RATE, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    k = mdn_kernel_new(1, 1, MDN_MAX_SPAN / MDN_MAX_DILATION, MDN_MAX_DILATION, RATE, &error);
    g_assert_no_error(error);
    m = model_for(k);
    g_assert_null(mdn_stream_new(m, MDN_MAX_CHANNELS, &error));
    g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "MDN_MAX_STREAM_HISTORY_BYTES"));
    g_clear_error(&error);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

/* groups = 2 with a 1->1 kernel is two mono streams. */
static void
test_groups(void)
{
  const size_t n = 10000;
  int which;
  for (which = 0; which < 2; which++) {
    MdnKernel *k = kernel_number(which);
    MdnModel *m = model_for(k);
    float *stereo = mdn_signal_multichannel(mdn_signal_speech, n, 2, RATE, 70);
    float *left = g_new(float, n), *right = g_new(float, n);
    float *out_stereo, *out_left, *out_right;
    size_t t;
    for (t = 0; t < n; t++) {
      left[t] = stereo[2 * t];
      right[t] = stereo[2 * t + 1];
    }
    out_stereo = run_once(m, 2, stereo, n);
    out_left = run_once(m, 1, left, n);
    out_right = run_once(m, 1, right, n);
    for (t = 0; t < n; t++) {
      g_assert_cmpint(memcmp(&out_stereo[2 * t], &out_left[t], sizeof(float)), ==, 0);
      g_assert_cmpint(memcmp(&out_stereo[2 * t + 1], &out_right[t], sizeof(float)), ==, 0);
    }
    /* and the two channels really differ (so the test could fail) */
    g_assert_cmpint(memcmp(out_left, out_right, sizeof(float) * n), !=, 0);
    g_free(stereo);
    g_free(left);
    g_free(right);
    g_free(out_stereo);
    g_free(out_left);
    g_free(out_right);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

/* NaN and Inf in the input are replaced by 0 before they enter the history
 * and counted: the output is identical to a stream that saw zeros there. */
static void
test_non_finite(void)
{
  const size_t n = 16000, bad_at = 1000, bad_len = 10;
  int which;
  for (which = 0; which < N_KERNELS; which++) {
    MdnKernel *k = kernel_number(which);
    MdnModel *m = model_for(k);
    float *in = mdn_signal_multichannel(mdn_signal_music, n, k->cin, RATE, 80);
    float *clean, *dirty, *out_clean, *out_dirty;
    MdnStream *s;
    size_t t;
    for (t = bad_at * k->cin; t < (bad_at + bad_len) * k->cin; t++)
      in[t] = 0;
    clean = in;
    dirty = g_memdup2(in, sizeof(float) * n * k->cin);
    for (t = bad_at * k->cin; t < (bad_at + bad_len) * k->cin; t++)
      dirty[t] = (t % 2) ? NAN : INFINITY;
    out_clean = run_once(m, 1, clean, n);
    out_dirty = g_new(float, n * k->cout);
    s = stream_for(m, 1);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, dirty, out_dirty, n));
    g_assert_cmpuint(mdn_stream_nonfinite_count(s), ==, bad_len * k->cin);
    g_assert_cmpint(memcmp(out_clean, out_dirty, sizeof(float) * n * k->cout), ==, 0);
    mdn_stream_reset(s);
    g_assert_cmpuint(mdn_stream_nonfinite_count(s), ==, 0);
    mdn_stream_free(s);
    g_free(in);
    g_free(dirty);
    g_free(out_clean);
    g_free(out_dirty);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

/* Digital silence in gives the bias out, exactly, on every path: from the
 * start, and after sound once the path's history has gone silent. */
static void
test_silence(void)
{
  const size_t n = 20000, sound = 3000;
  int which;

  for (which = 0; which < N_KERNELS; which++) {
    MdnKernel *k = kernel_number(which);
    MdnModel *m;
    float *music, *in, *out;
    size_t history, t, loud;
    int tier, o, with_sound;

    k->bias[0] = 0.0f; /* a bias would hide a tiny output */
    /* tiers on the direct-form kernels (fitting the long ones takes long) */
    m = which == 0 || which == 3 ? mdn_test_fit(k, "s4d4e2,s2d6q16,s1d8", RATE, 12) : model_for(k);
    music = mdn_signal_multichannel(mdn_signal_music, n, k->cin, RATE, 90);
    in = g_new(float, n * k->cin);
    out = g_new(float, n * k->cout);
    history = mdn_exact_history(k);
    for (tier = 0; tier < mdn_model_n_tiers(m); tier++)
      history = MAX(history, mdn_tier_history(mdn_model_tier(m, tier)));
    for (tier = MDN_TIER_EXACT; tier < mdn_model_n_tiers(m); tier++)
      for (with_sound = 0; with_sound < 2; with_sound++) {
        MdnStream *s = stream_for(m, 1);
        for (t = 0; t < n * k->cin; t++)
          in[t] = with_sound && t < sound * k->cin ? music[t] : (t % 2 ? 0.0f : -0.0f);
        g_assert_true(mdn_stream_process(s, tier, in, out, n));
        loud = 0;
        for (t = 0; t < n; t++)
          for (o = 0; o < k->cout; o++) {
            if (!with_sound || t >= sound + history) {
              if (out[t * k->cout + o] != k->bias[o])
                g_error("kernel %d path %d: silence%s, frame %zu output %d: %g, bias %g", which,
                        tier, with_sound ? " after sound" : "", t, o, out[t * k->cout + o],
                        k->bias[o]);
            } else {
              loud += out[t * k->cout + o] != k->bias[o];
            }
          }
        g_assert_true(!with_sound || loud > 0);
        mdn_stream_free(s);
      }
    g_free(music);
    g_free(in);
    g_free(out);
    mdn_model_free(m);
    mdn_kernel_free(k);
  }
}

/* With a crossfade, a tier change blends the two paths linearly over the
 * fade; after it, the new path's output is exactly what it would be alone. */
static void
test_crossfade(void)
{
  const size_t n = 6000, a = 2000, fade = 256;
  MdnKernel *k = kernel_number(0);
  MdnModel *m = model_with_tier(k);
  float *in = mdn_signal_multichannel(mdn_signal_speech, n, k->cin, RATE, 90);
  float *exact = run_once(m, 1, in, n);
  float *tier0 = g_new(float, n * k->cout), *out = g_new(float, n * k->cout);
  MdnStream *s = stream_for(m, 1);
  size_t t;
  int o;

  g_assert_true(mdn_stream_process(s, 0, in, tier0, n));
  mdn_stream_free(s);
  s = stream_for(m, 1);
  mdn_stream_set_crossfade(s, fade);
  g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in, out, a));
  /* cut inside the fade too: the fade position carries across calls */
  g_assert_true(mdn_stream_process(s, 0, in + a * k->cin, out + a * k->cout, 100));
  g_assert_true(
      mdn_stream_process(s, 0, in + (a + 100) * k->cin, out + (a + 100) * k->cout, n - a - 100));
  g_assert_cmpint(memcmp(exact, out, sizeof(float) * a * k->cout), ==, 0);
  for (t = a; t < a + fade; t++)
    for (o = 0; o < k->cout; o++) {
      float w = (float)(t - a + 1) / (float)(fade + 1);
      float want = w * tier0[t * k->cout + o] + (1 - w) * exact[t * k->cout + o];
      g_assert_cmpfloat_with_epsilon(out[t * k->cout + o], want, 1e-6);
    }
  g_assert_cmpint(memcmp(tier0 + (a + fade) * k->cout, out + (a + fade) * k->cout,
                         sizeof(float) * (n - a - fade) * k->cout),
                  ==, 0);
  mdn_stream_free(s);
  g_free(in);
  g_free(exact);
  g_free(tier0);
  g_free(out);
  mdn_model_free(m);
  mdn_kernel_free(k);
}

/* The stream flushes denormals while it runs and gives the caller its
 * floating-point mode back. */
static void
test_fp_mode(void)
{
#if defined(__SSE__)
  MdnKernel *k = kernel_number(1);
  MdnModel *m = model_for(k);
  MdnStream *s = stream_for(m, 1);
  float in[300], out[300];
  unsigned int before = _mm_getcsr();
  volatile float tiny = 1e-30f, result;
  int t;
  for (t = 0; t < 300; t++)
    in[t] = 1e-39f; /* denormal */
  g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in, out, 300));
  g_assert_cmpuint(_mm_getcsr(), ==, before);
  /* denormal input read as zero (DAZ): the output is exactly zero, on a
   * CPU that honours DAZ (valgrind, for one, does not emulate it) */
  {
    volatile float denormal = 1e-39f, one = 1.0f, probe;
    _mm_setcsr(before | 0x8040);
    probe = denormal * one;
    _mm_setcsr(before);
    if (probe == 0)
      for (t = 0; t < 300; t++)
        g_assert_cmpfloat(out[t], ==, 0);
  }
  /* still the caller's mode: denormal results survive */
  result = tiny * 1e-10f;
  g_assert_cmpfloat(result, >, 0);
  mdn_stream_free(s);
  mdn_model_free(m);
  mdn_kernel_free(k);
#endif
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stream/chunking", test_chunking);
  g_test_add_func("/stream/reset", test_reset);
  g_test_add_func("/stream/tier-switch", test_tier_switch);
  g_test_add_func("/stream/exact-invalidate", test_exact_invalidate);
  g_test_add_func("/stream/bad-tier", test_bad_tier);
  g_test_add_func("/stream/bad-groups", test_bad_groups);
  g_test_add_func("/stream/groups", test_groups);
  g_test_add_func("/stream/non-finite", test_non_finite);
  g_test_add_func("/stream/crossfade", test_crossfade);
  g_test_add_func("/stream/silence", test_silence);
  g_test_add_func("/stream/fp-mode", test_fp_mode);
  return g_test_run();
}

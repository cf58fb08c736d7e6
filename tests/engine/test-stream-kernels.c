/* test-stream-kernels: the stream's kernels (stream-kernels.h), checkasm
 * style. The plain-C reference is checked against the definition; the
 * kernel of every table built for a subset of the CPU's flags
 * (mdn-test-flags.h) against the reference: identical bytes and counts, on random inputs with NaN,
 * Inf, denormals and signed zeros, for 1..20 channels and 0..200 frames plus large counts. Nothing
 * outside the n frames of each channel is written. SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include "dsp.h"
#include "mdn-test-flags.h"

#define GUARD 9
#define GUARD_VALUE 1234.5f

static float
random_sample(GRand *rng)
{
  switch (g_rand_int_range(rng, 0, 40)) {
  case 0:
    return NAN;
  case 1:
    return INFINITY;
  case 2:
    return -INFINITY;
  case 3:
    return -0.0f;
  case 4:
    return 1e-42f; /* denormal: kept as it is */
  default:
    return (float)g_rand_double_range(rng, -1, 1);
  }
}

/* The distinct kernels of the tables, the reference first. */
static MdnDeinterleaveFn *kernels[MDN_TEST_MAX_FLAG_SETS];
static const char *kernel_names[MDN_TEST_MAX_FLAG_SETS];
static int n_kernels;

/* Runs one kernel on a fresh destination; returns the count. */
static size_t
run(MdnDeinterleaveFn *deinterleave, const float *src, int channels, size_t n, size_t stride,
    float *dst)
{
  size_t j;
  for (j = 0; j < (size_t)channels * stride; j++)
    dst[j] = GUARD_VALUE;
  return deinterleave(dst, stride, src, channels, n);
}

static void
check_case(GRand *rng, int channels, size_t n)
{
  const size_t stride = n + GUARD;
  float *src = g_new(float, (size_t)channels *n + 1);
  float *ref = g_new(float, (size_t)channels *stride);
  float *got = g_new(float, (size_t)channels *stride);
  size_t j, want_bad = 0, ref_bad;
  int i, k;

  for (j = 0; j < (size_t)channels * n; j++) {
    src[j] = random_sample(rng);
    want_bad += !isfinite(src[j]);
  }
  ref_bad = run(kernels[0], src, channels, n, stride, ref);
  g_assert_cmpuint(ref_bad, ==, want_bad);
  for (i = 0; i < channels; i++)
    for (j = 0; j < stride; j++) {
      float v = ref[(size_t)i * stride + j];
      if (j >= n)
        g_assert_cmpfloat(v, ==, GUARD_VALUE);
      else if (isfinite(src[j * channels + i]))
        g_assert_true(memcmp(&v, &src[j * channels + i], sizeof v) == 0);
      else
        g_assert_true(v == 0.0f && !signbit(v));
    }

  for (k = 1; k < n_kernels; k++) {
    size_t bad = run(kernels[k], src, channels, n, stride, got);
    if (bad != ref_bad || memcmp(got, ref, sizeof(float) * (size_t)channels * stride) != 0)
      g_error("%s deinterleave: %d channels, %zu frames: differs from the reference (count %zu, "
              "reference %zu)",
              kernel_names[k], channels, n, bad, ref_bad);
  }
  g_free(src);
  g_free(ref);
  g_free(got);
}

static void
test_deinterleave(void)
{
  GRand *rng = g_rand_new_with_seed(606);
  const size_t large[] = { 1024, 4099 };
  int channels;
  size_t n, j;

  for (channels = 1; channels <= 20; channels++) {
    for (n = 0; n <= 200; n++)
      check_case(rng, channels, n);
    for (j = 0; j < G_N_ELEMENTS(large); j++)
      check_case(rng, channels, large[j]);
  }
  g_rand_free(rng);
}

/* The kernels tested: the reference and, on x86-64 with AVX2, AVX2's; the
 * engine's table is the one of the flags in use. */
static void
test_dispatch(void)
{
  MdnStreamDsp dsp;
  int k;
  for (k = 0; k < n_kernels; k++)
    g_test_message("deinterleave: %s", kernel_names[k]);
  g_assert_cmpint(n_kernels, >=, 1);
  g_assert_cmpstr(kernel_names[0], ==, "c");
#if defined(__x86_64__)
  /* GCC and clang build every x86 kernel */
  g_assert_cmpint(n_kernels, ==, mdn_cpu_flags_detect() & MDN_CPU_FLAG_AVX2 ? 2 : 1);
#endif
  mdn_stream_dsp_init(&dsp, mdn_cpu_flags());
  g_assert_true(dsp.deinterleave == mdn_dsp()->stream.deinterleave);
}

int
main(int argc, char **argv)
{
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  int n_sets, j, k;

  g_test_init(&argc, &argv, NULL);
  n_sets = mdn_test_flag_sets(sets);
  for (j = 0; j < n_sets; j++) {
    MdnStreamDsp dsp;
    mdn_stream_dsp_init(&dsp, sets[j]);
    for (k = 0; k < n_kernels && kernels[k] != dsp.deinterleave; k++)
      ;
    if (k == n_kernels) {
      kernels[n_kernels] = dsp.deinterleave;
      kernel_names[n_kernels++] = mdn_test_flag_name(sets[j]);
    }
  }
  g_test_add_func("/stream-kernels/dispatch", test_dispatch);
  g_test_add_func("/stream-kernels/deinterleave", test_deinterleave);
  return g_test_run();
}

/* test-stream-kernels: the stream's kernels (stream-kernels.h), checkasm
 * style. The scalar reference is checked against the definition; every
 * SIMD table this CPU supports (and the build has) against the scalar
 * reference: identical bytes and counts, on random inputs with NaN, Inf,
 * denormals and signed zeros, for 1..20 channels and 0..200 frames plus
 * large counts. Nothing outside the n frames of each channel is written.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include "stream-kernels.h"

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

/* Runs one table on a fresh destination; returns the count. */
static size_t
run(const MdnStreamKernels *k, const float *src, int channels, size_t n, size_t stride, float *dst)
{
  size_t j;
  for (j = 0; j < (size_t)channels * stride; j++)
    dst[j] = GUARD_VALUE;
  return k->deinterleave(dst, stride, src, channels, n);
}

static void
check_case(GRand *rng, int channels, size_t n)
{
  const size_t stride = n + GUARD;
  float *src = g_new(float, (size_t)channels *n + 1);
  float *ref = g_new(float, (size_t)channels *stride);
  float *got = g_new(float, (size_t)channels *stride);
  size_t j, want_bad = 0, ref_bad;
  int i, isa;

  for (j = 0; j < (size_t)channels * n; j++) {
    src[j] = random_sample(rng);
    want_bad += !isfinite(src[j]);
  }
  ref_bad = run(&mdn_stream_kernels_scalar, src, channels, n, stride, ref);
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

  for (isa = MDN_ISA_SCALAR + 1; isa < MDN_N_ISAS; isa++) {
    const MdnStreamKernels *k = mdn_stream_kernels_get((MdnIsa)isa);
    size_t bad;
    if (!mdn_cpu_supports((MdnIsa)isa) || k->isa != (MdnIsa)isa)
      continue;
    bad = run(k, src, channels, n, stride, got);
    if (bad != ref_bad || memcmp(got, ref, sizeof(float) * (size_t)channels * stride) != 0)
      g_error("%s deinterleave: %d channels, %zu frames: differs from the reference (count %zu, "
              "reference %zu)",
              mdn_isa_name((MdnIsa)isa), channels, n, bad, ref_bad);
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

static void
test_dispatch(void)
{
  int isa;
  g_assert_true(mdn_stream_kernels_get(MDN_ISA_SCALAR) == &mdn_stream_kernels_scalar);
  for (isa = 0; isa < MDN_N_ISAS; isa++) {
    const MdnStreamKernels *k = mdn_stream_kernels_get((MdnIsa)isa);
    g_assert_nonnull(k);
    g_assert_cmpint(k->isa, <=, isa);
    g_test_message("%s: stream kernels %s%s", mdn_isa_name((MdnIsa)isa), mdn_isa_name(k->isa),
                   mdn_cpu_supports((MdnIsa)isa) ? "" : " (CPU lacks it: not run)");
  }
#ifdef MDN_HAVE_STREAM_AVX2
  g_assert_true(mdn_stream_kernels_get(MDN_ISA_AVX2) == &mdn_stream_kernels_avx2);
#endif
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stream-kernels/dispatch", test_dispatch);
  g_test_add_func("/stream-kernels/deinterleave", test_deinterleave);
  return g_test_run();
}

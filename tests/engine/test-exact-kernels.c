/* test-exact-kernels: the exact path's kernels (exact-kernels.h), checkasm
 * style. The tables are built for every subset of the CPU's flags
 * (mdn-test-flags.h); each distinct kernel they hold, the plain-C reference
 * included, is checked against double precision and, if not the reference,
 * against the reference, on random inputs over all the shapes exact.c can
 * give them. Levels the CPU lacks give no kernels to test here.
 *
 * Bounds: a sum of m float products, each rounded once (or fused), is within
 * (m + 1) * FLT_EPSILON / 2 * S of the exact sum, S = sum of |terms|
 * (|acc| included). Two such results are within (m + 1) * FLT_EPSILON * S of
 * each other; that is the bound asserted, row by row.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <float.h>
#include <string.h>

#include "dsp.h"
#include "mdn-test-flags.h"

#define GUARD 4             /* floats checked past the end of every output */
#define GUARD_VALUE 1234.5f /* what they hold */

/* One kernel to test: its level's name and the function. */
typedef struct {
  const char *name;
  MdnExactFirFn *fir;
} KernelCase;

static MdnExactDsp ref; /* the plain-C reference (flags 0) */

static float
rand_float(GRand *rng)
{
  return (float)g_rand_double_range(rng, -1, 1);
}

/* One output of the direct form in double precision, with the sum of the
 * terms' magnitudes in *mag. */
static double
fir_row_double(float acc0, const float *w, size_t w_stride, int taps, int cin, int dil,
               const float *const *x, size_t pos, double *mag)
{
  double sum = acc0;
  int i, k;
  *mag = fabs(acc0);
  for (i = 0; i < cin; i++)
    for (k = 0; k < taps; k++) {
      double term = (double)w[i * w_stride + k] * x[i][pos - (size_t)k * dil];
      sum += term;
      *mag += fabs(term);
    }
  return sum;
}

/* cin inputs of hist + offset + n samples, cout outputs of weights
 * [cout][cin][w_stride] (rows w_out_stride apart): runs `c` on all
 * outputs at once, checks each row against double precision (bound as
 * above) and that nothing past n is written; then again on pieces of random
 * row counts, all outputs or one at a time: identical (the stream's output
 * may not depend on how it is cut). */
static void
check_fir(const KernelCase *c, GRand *rng, size_t n, int taps, int dil, int cin, int cout)
{
  const size_t w_stride = taps + g_rand_int_range(rng, 0, 3); /* exact.c: direct taps < taps */
  const size_t w_out_stride = cin * w_stride + g_rand_int_range(rng, 0, 3);
  const size_t acc_stride = n + GUARD;
  const size_t hist = (size_t)(taps - 1) * dil;
  const size_t offset = g_rand_int_range(rng, 0, 5);
  const int m = taps * cin;
  float *w = g_new(float, (size_t)cout *w_out_stride);
  float **chan = g_new(float *, cin);
  const float **x = g_new(const float *, cin);
  float *acc0 = g_new(float, cout *acc_stride), *acc = g_new(float, cout *acc_stride);
  float *whole = g_new(float, cout *acc_stride);
  size_t t, j;
  int i, o;

  for (j = 0; j < (size_t)cout * w_out_stride; j++)
    w[j] = rand_float(rng);
  for (i = 0; i < cin; i++) {
    /* exactly what the kernel may read: hist before x[i], offset + n from it */
    chan[i] = g_new(float, hist + offset + n + 1);
    for (t = 0; t < hist + offset + n; t++)
      chan[i][t] = rand_float(rng);
    x[i] = chan[i] + hist;
  }
  for (o = 0; o < cout; o++) {
    for (t = 0; t < n; t++)
      acc0[o * acc_stride + t] = rand_float(rng);
    for (t = n; t < n + GUARD; t++)
      acc0[o * acc_stride + t] = GUARD_VALUE;
  }
  memcpy(acc, acc0, sizeof(float) * cout * acc_stride);
  c->fir(acc, acc_stride, cout, n, w, w_out_stride, w_stride, taps, cin, dil, x, offset);
  for (o = 0; o < cout; o++) {
    const float *wo = w + o * w_out_stride, *ao = acc + o * acc_stride;
    for (t = 0; t < n; t++) {
      double mag, ref = fir_row_double(acc0[o * acc_stride + t], wo, w_stride, taps, cin, dil, x,
                                       offset + t, &mag);
      if (!(fabs(ao[t] - ref) <= (m + 1) * FLT_EPSILON * mag))
        g_error("%s fir: n %zu taps %d dil %d cin %d cout %d: output %d row %zu %.9g, double "
                "%.9g (bound %.3g)",
                c->name, n, taps, dil, cin, cout, o, t, ao[t], ref, (m + 1) * FLT_EPSILON * mag);
    }
    for (t = n; t < n + GUARD; t++)
      g_assert_cmpfloat(ao[t], ==, GUARD_VALUE);
  }

  memcpy(whole, acc, sizeof(float) * cout * acc_stride);
  memcpy(acc, acc0, sizeof(float) * cout * acc_stride);
  for (t = 0; t < n;) {
    size_t len = g_rand_int_range(rng, 1, 80); /* not inside MIN: evaluated twice */
    len = MIN(len, n - t);
    if (g_rand_boolean(rng))
      c->fir(acc + t, acc_stride, cout, len, w, w_out_stride, w_stride, taps, cin, dil, x,
             offset + t);
    else
      for (o = 0; o < cout; o++)
        c->fir(acc + o * acc_stride + t, 0, 1, len, w + o * w_out_stride, 0, w_stride, taps, cin,
               dil, x, offset + t);
    t += len;
  }
  g_assert_true(memcmp(acc, whole, sizeof(float) * cout * acc_stride) == 0);

  for (i = 0; i < cin; i++)
    g_free(chan[i]);
  g_free(chan);
  g_free(x);
  g_free(w);
  g_free(acc0);
  g_free(acc);
  g_free(whole);
}

/* A vector kernel against the reference on the same data: within the bound. */
static void
compare_fir(const KernelCase *c, GRand *rng, size_t n, int taps, int dil, int cin, int cout)
{
  const size_t hist = (size_t)(taps - 1) * dil, w_out_stride = (size_t)cin * taps;
  float *w = g_new(float, cout *w_out_stride);
  float **chan = g_new(float *, cin);
  const float **x = g_new(const float *, cin);
  float *a = g_new(float, cout *n + 1), *b = g_new(float, cout *n + 1);
  size_t t;
  int i, o;

  for (t = 0; t < cout * w_out_stride; t++)
    w[t] = rand_float(rng);
  for (i = 0; i < cin; i++) {
    chan[i] = g_new(float, hist + n + 1);
    for (t = 0; t < hist + n; t++)
      chan[i][t] = rand_float(rng);
    x[i] = chan[i] + hist;
  }
  for (t = 0; t < cout * n; t++)
    a[t] = b[t] = rand_float(rng);
  c->fir(a, n, cout, n, w, w_out_stride, taps, taps, cin, dil, x, 0);
  ref.fir(b, n, cout, n, w, w_out_stride, taps, taps, cin, dil, x, 0);
  for (o = 0; o < cout; o++)
    for (t = 0; t < n; t++) {
      double mag;
      (void)fir_row_double(0, w + o * w_out_stride, taps, taps, cin, dil, x, t, &mag);
      mag += 1; /* |acc0| <= 1 */
      if (!(fabs((double)a[o * n + t] - b[o * n + t]) <= (taps * cin + 1) * FLT_EPSILON * mag))
        g_error("%s fir vs c: n %zu taps %d dil %d cin %d: output %d row %zu %.9g vs %.9g", c->name,
                n, taps, dil, cin, o, t, a[o * n + t], b[o * n + t]);
    }
  for (i = 0; i < cin; i++)
    g_free(chan[i]);
  g_free(chan);
  g_free(x);
  g_free(w);
  g_free(a);
  g_free(b);
}

static void
test_fir(gconstpointer data)
{
  const KernelCase *c = data;
  GRand *rng = g_rand_new_with_seed(100);
  size_t n;
  int taps, dil, cin;

  /* every row count 0..200 and 4096, each dilation, varied taps and shapes */
  for (n = 0; n <= 200; n++)
    for (dil = 1; dil <= 3; dil++)
      check_fir(c, rng, n, 1 + (int)(n * 7 + dil * 13) % 70, dil, 1 + (int)(n + dil) % 5,
                1 + (int)(n / 3 + dil) % 5);
  for (dil = 1; dil <= 3; dil++)
    check_fir(c, rng, 4096, g_rand_int_range(rng, 1, 71), dil, g_rand_int_range(rng, 1, 6), 2);
  /* every tap count 1..70 with each cin 1..5 */
  for (taps = 1; taps <= 70; taps++)
    for (cin = 1; cin <= 5; cin++)
      check_fir(c, rng, g_rand_int_range(rng, 0, 201), taps, g_rand_int_range(rng, 1, 4), cin, 1);

  if (c->fir != ref.fir) {
    for (n = 0; n <= 200; n++)
      compare_fir(c, rng, n, g_rand_int_range(rng, 1, 71), g_rand_int_range(rng, 1, 4),
                  g_rand_int_range(rng, 1, 6), g_rand_int_range(rng, 1, 6));
    for (taps = 1; taps <= 70; taps++)
      compare_fir(c, rng, 4096, taps, 1 + taps % 3, 1 + taps % 5, 1 + taps % 4);
  }
  g_rand_free(rng);
}

/* Silence: zeros in, the accumulator out, exactly. */
static void
test_silence(gconstpointer data)
{
  const KernelCase *c = data;
  const int taps = 37, dil = 2, cin = 2, cout = 3;
  const size_t n = 300, hist = (size_t)(taps - 1) * dil;
  GRand *rng = g_rand_new_with_seed(300);
  float *w = g_new(float, cout *cin *taps), *zeros = g_new0(float, hist + n);
  float *acc0 = g_new(float, cout *n), *acc = g_new(float, cout *n);
  const float *x[2] = { zeros + hist, zeros + hist };
  size_t t;

  for (t = 0; t < (size_t)cout * cin * taps; t++)
    w[t] = rand_float(rng);
  for (t = 0; t < (size_t)cout * n; t++)
    acc0[t] = acc[t] = t % 5 ? rand_float(rng) : 0.0f;
  c->fir(acc, n, cout, n, w, (size_t)cin * taps, taps, taps, cin, dil, x, 0);
  for (t = 0; t < (size_t)cout * n; t++)
    g_assert_cmpfloat(acc[t], ==, acc0[t]);
  g_free(w);
  g_free(zeros);
  g_free(acc0);
  g_free(acc);
  g_rand_free(rng);
}

/* The tables: plain C for no flags; every entry's level among the table's
 * flags; the AVX2 fir at the AVX2 level on x86, the NEON kernels on
 * AArch64; the engine's table is the one of the flags in use. */
static void
test_dispatch(void)
{
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  const int n_sets = mdn_test_flag_sets(sets);
  const unsigned cpu = mdn_cpu_flags_detect();
  MdnExactDsp dsp;
  int j;

  g_assert_cmpuint(ref.fir_flag, ==, 0);
  for (j = 0; j < n_sets; j++) {
    mdn_exact_dsp_init(&dsp, sets[j]);
    g_assert_nonnull(dsp.fir);
    g_assert_cmpuint(dsp.fir_flag & ~sets[j], ==, 0);
    g_assert_true((dsp.fir == ref.fir) == (dsp.fir_flag == 0));
  }
#if defined(__x86_64__)
  /* SSE2 is in every x86-64 CPU; GCC and clang build every x86 kernel. */
  g_assert_true(cpu & MDN_CPU_FLAG_SSE2);
  mdn_exact_dsp_init(&dsp, MDN_CPU_FLAG_SSE2);
  g_assert_true(dsp.fir == ref.fir);
  if (cpu & MDN_CPU_FLAG_AVX2) {
    mdn_exact_dsp_init(&dsp, mdn_isa_flags(MDN_ISA_AVX2));
    g_assert_cmpuint(dsp.fir_flag, ==, MDN_CPU_FLAG_AVX2);
  }
#elif defined(__aarch64__)
  g_assert_true(cpu & MDN_CPU_FLAG_NEON);
  mdn_exact_dsp_init(&dsp, cpu);
  g_assert_true(dsp.fir == mdn_exact_fir_neon);
#endif
  mdn_exact_dsp_init(&dsp, mdn_cpu_flags());
  g_assert_true(memcmp(&dsp, &mdn_dsp()->exact, sizeof dsp) == 0);
  if (g_getenv("MADDNESS_ISA") == NULL)
    g_assert_cmpuint(mdn_cpu_flags(), ==, cpu);
  g_test_message("engine ISA: %s", mdn_isa());
}

/* MADDNESS_ISA: a level the CPU has keeps its flags alone (scalar: none);
 * an unknown or unsupported one warns and keeps all. */
static void
test_cpu_flags(void)
{
  const unsigned cpu = mdn_cpu_flags_detect();
  int isa;

  g_assert_cmpuint(mdn_cpu_flags_masked(NULL), ==, cpu);
  g_assert_cmpuint(mdn_cpu_flags_masked(""), ==, cpu);
  g_assert_cmpuint(mdn_cpu_flags_masked("scalar"), ==, 0);
  g_assert_true(mdn_cpu_supports(MDN_ISA_SCALAR));
  for (isa = 0; isa < MDN_N_ISAS; isa++) {
    const char *name = mdn_isa_name((MdnIsa)isa);
    if (mdn_cpu_supports((MdnIsa)isa)) {
      g_assert_cmpuint(mdn_cpu_flags_masked(name), ==, cpu & mdn_isa_flags((MdnIsa)isa));
      continue;
    }
    g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, "*does not support it*");
    g_assert_cmpuint(mdn_cpu_flags_masked(name), ==, cpu);
    g_test_assert_expected_messages();
  }
  g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, "*unknown*");
  g_assert_cmpuint(mdn_cpu_flags_masked("avx3"), ==, cpu);
  g_test_assert_expected_messages();
#if defined(__x86_64__)
  g_assert_false(mdn_cpu_supports(MDN_ISA_NEON));
  if (cpu & MDN_CPU_FLAG_AVX512)
    g_assert_cmpuint(mdn_cpu_flags_masked("avx2"), ==, MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2);
#elif defined(__aarch64__)
  g_assert_cmpuint(mdn_cpu_flags_masked("neon"), ==, MDN_CPU_FLAG_NEON);
#endif
}

/* Registers the tests of one kernel, unless an earlier table had it. */
static void
add_case(KernelCase *cases, int *n_cases, const char *name, MdnExactFirFn *fir)
{
  KernelCase *c;
  char *path;
  int j;
  for (j = 0; j < *n_cases; j++)
    if (cases[j].fir == fir)
      return;
  c = &cases[(*n_cases)++];
  c->name = name;
  c->fir = fir;
  path = g_strdup_printf("/exact-kernels/fir/%s", name);
  g_test_add_data_func(path, c, test_fir);
  g_free(path);
}

int
main(int argc, char **argv)
{
  static KernelCase cases[MDN_TEST_MAX_FLAG_SETS];
  static KernelCase silence[MDN_TEST_MAX_FLAG_SETS];
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  int n_sets, n_cases = 0, n_silence = 0, j, k;

  g_test_init(&argc, &argv, NULL);
  mdn_exact_dsp_init(&ref, 0);
  g_test_add_func("/exact-kernels/dispatch", test_dispatch);
  g_test_add_func("/exact-kernels/cpu-flags", test_cpu_flags);
  n_sets = mdn_test_flag_sets(sets);
  for (j = 0; j < n_sets; j++) {
    MdnExactDsp dsp;
    char *path;
    /* each level's own kernels (the per-family choice only picks among them) */
    mdn_exact_dsp_init_levels(&dsp, sets[j]);
    add_case(cases, &n_cases, mdn_test_flag_name(dsp.fir_flag), dsp.fir);
    for (k = 0; k < n_silence; k++)
      if (silence[k].fir == dsp.fir)
        break;
    if (k < n_silence)
      continue;
    silence[n_silence].name = mdn_test_flag_name(dsp.fir_flag);
    silence[n_silence].fir = dsp.fir;
    path = g_strdup_printf("/exact-kernels/silence/%s", silence[n_silence].name);
    g_test_add_data_func(path, &silence[n_silence++], test_silence);
    g_free(path);
  }
  g_printerr("# %d flag sets of this CPU's, %d distinct kernels\n", n_sets, n_cases);
  return g_test_run();
}

/* test-exact-kernels: the exact path's kernels (exact-kernels.h), checkasm
 * style. The scalar reference is checked against double precision; every
 * SIMD table this CPU supports (and the build has) against the scalar
 * reference, on random inputs over all the shapes exact.c can give them.
 * ISAs the CPU lacks are listed in the log and not registered.
 *
 * Bounds: a sum of m float products, each rounded once (or fused), is within
 * (m + 1) * FLT_EPSILON / 2 * S of the exact sum, S = sum of |terms|
 * (|acc| included). Two such results are within (m + 1) * FLT_EPSILON * S of
 * each other; that is the bound asserted, row by row.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <float.h>
#include <string.h>

#include "exact-kernels.h"

#define GUARD 4             /* floats checked past the end of every output */
#define GUARD_VALUE 1234.5f /* what they hold */

typedef struct {
  MdnIsa isa;
  const MdnExactKernels *kern;
} IsaCase;

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
 * [cout][cin][w_stride] (rows w_out_stride apart): runs `kern` on all
 * outputs at once, checks each row against double precision (bound as
 * above) and that nothing past n is written; then again on pieces of random
 * row counts, all outputs or one at a time: identical (the stream's output
 * may not depend on how it is cut). */
static void
check_fir(const MdnExactKernels *kern, GRand *rng, size_t n, int taps, int dil, int cin, int cout)
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
  kern->fir(acc, acc_stride, cout, n, w, w_out_stride, w_stride, taps, cin, dil, x, offset);
  for (o = 0; o < cout; o++) {
    const float *wo = w + o * w_out_stride, *ao = acc + o * acc_stride;
    for (t = 0; t < n; t++) {
      double mag, ref = fir_row_double(acc0[o * acc_stride + t], wo, w_stride, taps, cin, dil, x,
                                       offset + t, &mag);
      if (!(fabs(ao[t] - ref) <= (m + 1) * FLT_EPSILON * mag))
        g_error("%s fir: n %zu taps %d dil %d cin %d cout %d: output %d row %zu %.9g, double "
                "%.9g (bound %.3g)",
                mdn_isa_name(kern->isa), n, taps, dil, cin, cout, o, t, ao[t], ref,
                (m + 1) * FLT_EPSILON * mag);
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
      kern->fir(acc + t, acc_stride, cout, len, w, w_out_stride, w_stride, taps, cin, dil, x,
                offset + t);
    else
      for (o = 0; o < cout; o++)
        kern->fir(acc + o * acc_stride + t, 0, 1, len, w + o * w_out_stride, 0, w_stride, taps, cin,
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

/* SIMD against the scalar reference on the same data: within the bound. */
static void
compare_fir(const MdnExactKernels *kern, GRand *rng, size_t n, int taps, int dil, int cin, int cout)
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
  kern->fir(a, n, cout, n, w, w_out_stride, taps, taps, cin, dil, x, 0);
  mdn_exact_kernels_scalar.fir(b, n, cout, n, w, w_out_stride, taps, taps, cin, dil, x, 0);
  for (o = 0; o < cout; o++)
    for (t = 0; t < n; t++) {
      double mag;
      (void)fir_row_double(0, w + o * w_out_stride, taps, taps, cin, dil, x, t, &mag);
      mag += 1; /* |acc0| <= 1 */
      if (!(fabs((double)a[o * n + t] - b[o * n + t]) <= (taps * cin + 1) * FLT_EPSILON * mag))
        g_error("%s fir vs scalar: n %zu taps %d dil %d cin %d: output %d row %zu %.9g vs %.9g",
                mdn_isa_name(kern->isa), n, taps, dil, cin, o, t, a[o * n + t], b[o * n + t]);
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
  const IsaCase *c = data;
  GRand *rng = g_rand_new_with_seed(100 + c->isa);
  size_t n;
  int taps, dil, cin;

  /* every row count 0..200 and 4096, each dilation, varied taps and shapes */
  for (n = 0; n <= 200; n++)
    for (dil = 1; dil <= 3; dil++)
      check_fir(c->kern, rng, n, 1 + (int)(n * 7 + dil * 13) % 70, dil, 1 + (int)(n + dil) % 5,
                1 + (int)(n / 3 + dil) % 5);
  for (dil = 1; dil <= 3; dil++)
    check_fir(c->kern, rng, 4096, g_rand_int_range(rng, 1, 71), dil, g_rand_int_range(rng, 1, 6),
              2);
  /* every tap count 1..70 with each cin 1..5 */
  for (taps = 1; taps <= 70; taps++)
    for (cin = 1; cin <= 5; cin++)
      check_fir(c->kern, rng, g_rand_int_range(rng, 0, 201), taps, g_rand_int_range(rng, 1, 4), cin,
                1);

  if (c->isa != MDN_ISA_SCALAR) {
    for (n = 0; n <= 200; n++)
      compare_fir(c->kern, rng, n, g_rand_int_range(rng, 1, 71), g_rand_int_range(rng, 1, 4),
                  g_rand_int_range(rng, 1, 6), g_rand_int_range(rng, 1, 6));
    for (taps = 1; taps <= 70; taps++)
      compare_fir(c->kern, rng, 4096, taps, 1 + taps % 3, 1 + taps % 5, 1 + taps % 4);
  }
  g_rand_free(rng);
}

/* mdn_exact_kernels_get() gives the table of the ISA asked for, or a lower
 * one; the ISA the engine uses has its table when compiled in. */
static void
test_dispatch(void)
{
  int isa;
  g_assert_true(mdn_exact_kernels_get(MDN_ISA_SCALAR) == &mdn_exact_kernels_scalar);
  for (isa = 0; isa < MDN_N_ISAS; isa++) {
    const MdnExactKernels *k = mdn_exact_kernels_get((MdnIsa)isa);
    g_assert_nonnull(k->fir);
    g_assert_cmpint(k->isa, <=, isa);
  }
  g_assert_true(mdn_cpu_supports(mdn_exact_kernels_get(mdn_cpu_isa())->isa));
#if defined(__aarch64__)
  /* The AArch64 build has the NEON kernels, and the engine uses them
   * unless MADDNESS_ISA says otherwise. */
  g_assert_true(mdn_exact_kernels_get(MDN_ISA_NEON) == &mdn_exact_kernels_neon);
  if (g_getenv("MADDNESS_ISA") == NULL)
    g_assert_cmpint(mdn_exact_kernels_get(mdn_cpu_isa())->isa, ==, MDN_ISA_NEON);
#else
  g_assert_true(mdn_exact_kernels_get(MDN_ISA_NEON) == &mdn_exact_kernels_scalar);
#endif
  g_test_message("engine ISA: %s", mdn_isa());
}

int
main(int argc, char **argv)
{
  static IsaCase cases[MDN_N_ISAS];
  int isa;

  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/exact-kernels/dispatch", test_dispatch);
  for (isa = 0; isa < MDN_N_ISAS; isa++) {
    const MdnExactKernels *kern = mdn_exact_kernels_get((MdnIsa)isa);
    char *path;
    if (!mdn_cpu_supports((MdnIsa)isa) || kern->isa != (MdnIsa)isa) {
      g_printerr("# %s: %s, its kernels are not tested here\n", mdn_isa_name((MdnIsa)isa),
                 mdn_cpu_supports((MdnIsa)isa) ? "not in this build" : "not on this CPU");
      continue;
    }
    cases[isa].isa = (MdnIsa)isa;
    cases[isa].kern = kern;
    path = g_strdup_printf("/exact-kernels/%s/fir", mdn_isa_name((MdnIsa)isa));
    g_test_add_data_func(path, &cases[isa], test_fir);
    g_free(path);
  }
#if defined(__aarch64__)
  /* NEON (every AArch64 CPU) is registered above, not skipped. */
  g_assert_true(cases[MDN_ISA_NEON].kern == &mdn_exact_kernels_neon);
#endif
  return g_test_run();
}

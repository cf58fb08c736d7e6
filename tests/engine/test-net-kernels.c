/* test-net-kernels: the kernels of trained models (net-kernels.h), checkasm
 * style. The plain-C reference against double precision; the tables built
 * for every subset of this CPU's flags (mdn-test-flags.h), each distinct
 * kernel once, against the reference on random shapes.
 *
 * GEMM bound: a frame's sum of m products plus its start value, each rounded
 * once (or fused), is within (m + 1) * FLT_EPSILON / 2 * S of the exact sum,
 * S the sum of the terms' magnitudes; two such results within twice that.
 * Frames past n and outputs are never written (guards).
 *
 * tanh: 4096 values in every binade from 2^-30 to 16 (both signs) and the
 * special values: the reference within TANH_MAX_ULPS of tanh() in double, as
 * ulps of the result; each ISA within 2 ulps of the reference (FMA against
 * separate rounding).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"
#include "mdn-test-flags.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define GUARD 4
#define GUARD_VALUE 1234.5f
#define TANH_MAX_ULPS 5.0 /* measured: 4.6, near |x| = 5.4 (2.7e-7 absolute) */

typedef struct {
  char name[32];
  MdnNetDsp dsp; /* the table of one flag set */
} FlagCase;

static MdnNetDsp reference; /* flags 0: plain C */

static double
ulps(float got, double want)
{
  const double ulp = want == 0 ? FLT_TRUE_MIN : ldexp(1.0, ilogb((float)want) - 23);
  return fabs(got - want) / ulp;
}

/* cout outputs over rows reading history: every ISA's result against double
 * and against the scalar reference, and the same frames computed in pieces. */
static void
check_gemm(const MdnNetDsp *k, GRand *rng, size_t n, int cout, int rows, gboolean base,
           gboolean bias)
{
  const size_t hist = 40;
  float *w = g_new(float, (size_t)cout *rows), *b = g_new(float, cout);
  float **chan = g_new(float *, rows), **y = g_new(float *, cout), **yr = g_new(float *, cout);
  float **yp = g_new(float *, cout), **bs = g_new(float *, cout);
  const float **x = g_new(const float *, rows);
  size_t t, j;
  int o, r;

  for (j = 0; j < (size_t)cout * rows; j++)
    w[j] = (float)g_rand_double_range(rng, -1, 1);
  for (o = 0; o < cout; o++)
    b[o] = (float)g_rand_double_range(rng, -1, 1);
  for (r = 0; r < rows; r++) {
    chan[r] = g_new(float, hist + n + 1);
    for (t = 0; t < hist + n + 1; t++)
      chan[r][t] = (float)g_rand_double_range(rng, -1, 1);
    /* rows at lags into the same history, as dilated taps are */
    x[r] = chan[r] + hist - g_rand_int_range(rng, 0, (gint32)hist);
  }
  for (o = 0; o < cout; o++) {
    y[o] = g_new(float, n + GUARD);
    yr[o] = g_new(float, n + GUARD);
    yp[o] = g_new(float, n + GUARD);
    bs[o] = g_new(float, n);
    for (t = 0; t < n; t++)
      bs[o][t] = (float)g_rand_double_range(rng, -1, 1);
    for (t = 0; t < n + GUARD; t++)
      y[o][t] = yr[o][t] = yp[o][t] = GUARD_VALUE;
  }

  k->gemm(y, base ? (const float *const *)bs : NULL, bias ? b : NULL, w, cout, rows, x, n);
  reference.gemm(yr, base ? (const float *const *)bs : NULL, bias ? b : NULL, w, cout, rows, x, n);
  /* in pieces of random length: identical */
  for (t = 0; t < n;) {
    const size_t want = (size_t)g_rand_int_range(rng, 1, 70);
    const size_t m = MIN(want, n - t);
    float *ypo[256];
    const float *xo[600], *bo[256];
    for (o = 0; o < cout; o++) {
      ypo[o] = yp[o] + t;
      bo[o] = bs[o] + t;
    }
    for (r = 0; r < rows; r++)
      xo[r] = x[r] + t;
    k->gemm(ypo, base ? bo : NULL, bias ? b : NULL, w, cout, rows, xo, m);
    t += m;
  }

  for (o = 0; o < cout; o++) {
    for (t = 0; t < n; t++) {
      double sum = (base ? bs[o][t] : 0.0) + (bias ? b[o] : 0.0), mag = fabs(sum), bound;
      for (r = 0; r < rows; r++) {
        const double term = (double)w[(size_t)o * rows + r] * x[r][t];
        sum += term;
        mag += fabs(term);
      }
      bound = (rows + 2) * FLT_EPSILON * mag;
      g_assert_cmpfloat(fabs(yr[o][t] - sum), <=, bound / 2);
      g_assert_cmpfloat(fabs(y[o][t] - sum), <=, bound / 2);
      g_assert_cmpfloat(fabs(y[o][t] - yr[o][t]), <=, bound);
      g_assert_cmpfloat(yp[o][t], ==, y[o][t]);
    }
    for (t = n; t < n + GUARD; t++) {
      g_assert_cmpfloat(y[o][t], ==, GUARD_VALUE);
      g_assert_cmpfloat(yp[o][t], ==, GUARD_VALUE);
    }
  }

  for (r = 0; r < rows; r++)
    g_free(chan[r]);
  for (o = 0; o < cout; o++) {
    g_free(y[o]);
    g_free(yr[o]);
    g_free(yp[o]);
    g_free(bs[o]);
  }
  g_free(chan);
  g_free(x);
  g_free(y);
  g_free(yr);
  g_free(yp);
  g_free(bs);
  g_free(w);
  g_free(b);
}

static void
test_gemm(gconstpointer data)
{
  const FlagCase *c = data;
  static const int couts[] = { 1, 2, 3, 4, 5, 8, 9, 16, 17, 32 };
  static const int rows[] = { 1, 3, 16, 49, 25, 128 };
  static const size_t ns[] = { 1, 7, 8, 15, 16, 23, 24, 25, 63, 64, 65, 100, 512 };
  GRand *rng = g_rand_new_with_seed(16);
  guint i, j, l;

  for (i = 0; i < G_N_ELEMENTS(couts); i++)
    for (j = 0; j < G_N_ELEMENTS(rows); j++)
      for (l = 0; l < G_N_ELEMENTS(ns); l++)
        check_gemm(&c->dsp, rng, ns[l], couts[i], rows[j], (i + l) % 2 == 0, (j + l) % 3 != 0);
  g_rand_free(rng);
}

/* The float values the tanh sweep visits: 4096 evenly spaced values in
 * every binade from 2^-30 to 16, both signs, and the special values. */
static void
tanh_sweep(void (*visit)(float x, gpointer data), gpointer data)
{
  int e, i;
  for (e = -30; e <= 3; e++)
    for (i = 0; i < 4096; i++) {
      const float x = ldexpf(1.0f + i / 4096.0f, e);
      visit(x, data);
      visit(-x, data);
    }
  visit(-INFINITY, data);
  visit(INFINITY, data);
  visit(0.0f, data);
  visit(-0.0f, data);
  visit(1e-38f, data);
}

typedef struct {
  double max_ulps;
  float worst;
  guint64 count;
} TanhStats;

static void
visit_ref(float x, gpointer data)
{
  TanhStats *st = data;
  const double e = ulps(mdn_net_tanh_ref(x), tanh((double)x));
  if (e > st->max_ulps) {
    st->max_ulps = e;
    st->worst = x;
  }
  st->count++;
}

static void
test_tanh_reference(void)
{
  TanhStats st = { 0, 0, 0 };
  tanh_sweep(visit_ref, &st);
  g_test_message("reference tanh: %" G_GUINT64_FORMAT " values, at most %.2f ulps from tanh() "
                 "(at %.9g)",
                 st.count, st.max_ulps, st.worst);
  g_assert_cmpfloat(st.max_ulps, <=, TANH_MAX_ULPS);
  g_assert_true(isnan(mdn_net_tanh_ref(NAN)));
  /* clamped far out: within the bound of +-1, never past it */
  g_assert_cmpfloat(ulps(mdn_net_tanh_ref(100.0f), 1.0), <=, TANH_MAX_ULPS);
  g_assert_cmpfloat(mdn_net_tanh_ref(100.0f), <=, 1.0f);
  g_assert_cmpfloat(mdn_net_tanh_ref(-100.0f), ==, -mdn_net_tanh_ref(100.0f));
}

typedef struct {
  const MdnNetDsp *k;
  float buf[1000];
  float in[1000];
  int fill;
  double max_ulps, max_true_ulps;
  float worst;
} TanhIsa;

static void
flush_isa(TanhIsa *st)
{
  int i;
  memcpy(st->buf, st->in, sizeof(float) * st->fill);
  st->k->tanh(st->buf, st->fill);
  for (i = 0; i < st->fill; i++) {
    const float ref = mdn_net_tanh_ref(st->in[i]);
    const double e = ulps(st->buf[i], tanh((double)st->in[i]));
    st->max_ulps = MAX(st->max_ulps, ulps(st->buf[i], ref));
    if (e > st->max_true_ulps) {
      st->max_true_ulps = e;
      st->worst = st->in[i];
    }
  }
  st->fill = 0;
}

static void
visit_isa(float x, gpointer data)
{
  TanhIsa *st = data;
  st->in[st->fill++] = x;
  if (st->fill == 997) /* odd counts exercise the masked tails */
    flush_isa(st);
}

static void
test_tanh_isa(gconstpointer data)
{
  const FlagCase *c = data;
  TanhIsa *st = g_new0(TanhIsa, 1);
  float v[3] = { NAN, 0.5f, -0.25f };

  st->k = &c->dsp;
  tanh_sweep(visit_isa, st);
  flush_isa(st);
  g_test_message("%s tanh: at most %.2f ulps from tanh() (at %.9g), %.2f from the reference",
                 c->name, st->max_true_ulps, st->worst, st->max_ulps);
  g_assert_cmpfloat(st->max_true_ulps, <=, TANH_MAX_ULPS);
  g_assert_cmpfloat(st->max_ulps, <=, 2 * TANH_MAX_ULPS);
  c->dsp.tanh(v, 3);
  g_assert_true(isnan(v[0]));
  g_free(st);
}

/* The engine's table is the one of the flags in use; with AVX2 the vector
 * kernels are in it. */
static void
test_tables(void)
{
  MdnNetDsp dsp;
  mdn_net_dsp_init(&dsp, mdn_cpu_flags());
  g_assert_true(dsp.gemm == mdn_dsp()->net.gemm);
  g_assert_true(dsp.tanh == mdn_dsp()->net.tanh);
#if defined(MDN_HAVE_NET_AVX2)
  if (mdn_cpu_flags() & MDN_CPU_FLAG_AVX2)
    g_assert_true(dsp.gemm != reference.gemm && dsp.tanh != reference.tanh);
#endif
}

int
main(int argc, char **argv)
{
  static FlagCase cases[MDN_TEST_MAX_FLAG_SETS];
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  MdnNetGemmFn *seen_gemm[MDN_TEST_MAX_FLAG_SETS];
  MdnNetMapFn *seen_tanh[MDN_TEST_MAX_FLAG_SETS];
  int n_sets, j, k, n_gemm = 0, n_tanh = 0;

  g_test_init(&argc, &argv, NULL);
  mdn_net_dsp_init(&reference, 0);
  g_test_add_func("/net-kernels/tanh/reference", test_tanh_reference);
  g_test_add_func("/net-kernels/tables", test_tables);
  n_sets = mdn_test_flag_sets(sets);
  for (j = 0; j < n_sets; j++) {
    FlagCase *c = &cases[j];
    char *path;
    mdn_net_dsp_init(&c->dsp, sets[j]);
    g_strlcpy(c->name, mdn_test_flag_name(sets[j]), sizeof c->name);
    for (k = 0; k < n_gemm && seen_gemm[k] != c->dsp.gemm; k++)
      ;
    if (k == n_gemm) {
      seen_gemm[n_gemm++] = c->dsp.gemm;
      path = g_strdup_printf("/net-kernels/gemm/%s", c->name);
      g_test_add_data_func(path, c, test_gemm);
      g_free(path);
    }
    for (k = 0; k < n_tanh && seen_tanh[k] != c->dsp.tanh; k++)
      ;
    if (k == n_tanh) {
      seen_tanh[n_tanh++] = c->dsp.tanh;
      path = g_strdup_printf("/net-kernels/tanh/%s", c->name);
      g_test_add_data_func(path, c, test_tanh_isa);
      g_free(path);
    }
  }
  return g_test_run();
}

/* test-fft: the engine's real FFT (engine/kernels/fft.h), checkasm style:
 * the tables of every subset of the CPU's flags (mdn-test-flags.h), each
 * distinct one (plain-C reference, AVX2, AVX-512, NEON) against a
 * double-precision FFT written here, against the reference, and against
 * kissfft when the build found it.
 *
 * Bounds (x uniform in [-1, 1), N real points, eps = FLT_EPSILON):
 * - forward: the RMS over bins 0..N/2 of |X - X_ref| is at most
 *   log2(N) eps times the RMS of |X_ref|, and no bin is off by more than
 *   4 log2(N) eps times that RMS (float FFTs err by about
 *   sqrt(log2 N) eps / 2 in RMS; the bounds leave room for FMA and the
 *   order of the vector code).
 * - inverse of the float-rounded X_ref: the same bounds on N x.
 * - a circular convolution through forward . mac . inverse, scaled by
 *   mdn_fft_conv_scale: RMS error at most 2 log2(N) eps times the RMS of
 *   the double-precision convolution.
 * - every vector table against the scalar reference: each output within
 *   4 log2(N) eps times the RMS of the reference's output, and bitwise
 *   the same output however the steps are split over calls.
 * - kissfft (kiss_fftr, natural order, same scale): the forward bounds.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <float.h>
#include <string.h>

#include "dsp.h"
#include "mdn-test-flags.h"

#ifdef MDN_TEST_HAVE_KISSFFT
#include <kiss_fftr.h>
#endif

#define GUARD 64
#define GUARD_VALUE 1234.5f

/* The distinct tables, the reference first. */
static MdnFftDsp tables[MDN_TEST_MAX_FLAG_SETS];
static int n_tables;

static const char *
table_name(const MdnFftDsp *dsp)
{
  return mdn_test_flag_name(dsp->flag);
}

/* ---- double-precision reference --------------------------------------- */

/* In-place radix-2 complex DFT of n points (interleaved), sign -1 forward. */
static void
dft_double(double *z, size_t n, int sign)
{
  size_t i, j, len;
  for (i = 1, j = 0; i < n; i++) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      double t0 = z[2 * i], t1 = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = t0;
      z[2 * j + 1] = t1;
    }
  }
  for (len = 2; len <= n; len <<= 1)
    for (i = 0; i < n; i += len)
      for (j = 0; j < len / 2; j++) {
        double a = sign * 2.0 * G_PI * (double)j / (double)len;
        double wr = cos(a), wi = sin(a);
        double *u = z + 2 * (i + j), *v = z + 2 * (i + j + len / 2);
        double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
      }
}

/* X[k], k = 0..n/2, of real x (interleaved, n + 2 doubles). */
static double *
real_dft_double(const float *x, size_t n)
{
  double *z = g_new0(double, 2 * n);
  size_t t;
  for (t = 0; t < n; t++)
    z[2 * t] = x[t];
  dft_double(z, n, -1);
  return g_realloc(z, sizeof(double) * (n + 2));
}

static float *
random_floats(GRand *rng, size_t n)
{
  float *x = g_new(float, n);
  size_t t;
  for (t = 0; t < n; t++)
    x[t] = (float)g_rand_double_range(rng, -1, 1);
  return x;
}

static double
rms_double(const double *x, size_t n)
{
  double s = 0;
  size_t j;
  for (j = 0; j < n; j++)
    s += x[j] * x[j];
  return sqrt(s / n);
}

/* RMS and max of |got - want| (interleaved complex: both parts). */
static void
errors(const float *got, const double *want, size_t n, double *rms, double *max)
{
  double s = 0;
  size_t j;
  *max = 0;
  for (j = 0; j < n; j++) {
    double e = fabs((double)got[j] - want[j]);
    s += e * e;
    *max = MAX(*max, e);
  }
  *rms = sqrt(s / n);
}

static void
check_bounds(const char *what, size_t n, const float *got, const double *want, size_t len,
             double rms_factor)
{
  const double ref = rms_double(want, len), lg = log2((double)n);
  double rms, max;
  errors(got, want, len, &rms, &max);
  if (g_test_verbose())
    g_printerr("  %-28s N=%-7zu rms err %.3g (bound %.3g), max %.3g (bound %.3g)\n", what, n,
               rms / ref, rms_factor * lg * FLT_EPSILON, max / ref, 4 * lg * FLT_EPSILON);
  g_assert_cmpfloat(rms, <=, rms_factor * lg * FLT_EPSILON * ref);
  g_assert_cmpfloat(max, <=, 4 * lg * FLT_EPSILON * ref);
}

static const size_t sizes[] = { 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };

/* ---- forward and inverse against double precision --------------------- */

static void
test_forward(void)
{
  GRand *rng = g_rand_new_with_seed(1);
  guint s;
  int t;

  for (s = 0; s < G_N_ELEMENTS(sizes); s++) {
    const size_t n = sizes[s];
    MdnFftPlan *plan = mdn_fft_plan_new(n);
    float *x = random_floats(rng, n);
    double *ref = real_dft_double(x, n);
    float *spec = mdn_fft_alloc(n + GUARD), *nat = g_new(float, n + 2);
    float *first = g_new(float, n);
    size_t j;

    g_assert_nonnull(plan);
    for (t = 0; t < n_tables; t++) {
      for (j = n; j < n + GUARD; j++)
        spec[j] = GUARD_VALUE;
      mdn_fft_forward(plan, &tables[t], x, spec);
      for (j = n; j < n + GUARD; j++)
        g_assert_cmpfloat(spec[j], ==, GUARD_VALUE);
      mdn_fft_to_natural(plan, spec, nat);
      check_bounds(table_name(&tables[t]), n, nat, ref, n + 2, 1.0);
      /* Against the reference table, in the plan's own layout. */
      if (t == 0) {
        memcpy(first, spec, sizeof(float) * n);
      } else {
        double *want = g_new(double, n);
        for (j = 0; j < n; j++)
          want[j] = first[j];
        check_bounds("  against scalar", n, spec, want, n, 1.0);
        g_free(want);
      }
    }
    g_free(first);
    g_free(x);
    g_free(ref);
    mdn_fft_free(spec);
    g_free(nat);
    mdn_fft_plan_free(plan);
  }
  g_rand_free(rng);
}

static void
test_inverse(void)
{
  GRand *rng = g_rand_new_with_seed(2);
  guint s;
  int t;

  for (s = 0; s < G_N_ELEMENTS(sizes); s++) {
    const size_t n = sizes[s];
    MdnFftPlan *plan = mdn_fft_plan_new(n);
    float *x = random_floats(rng, n);
    double *ref = real_dft_double(x, n), *want = g_new(double, n);
    float *nat = g_new(float, n + 2), *spec = mdn_fft_alloc(n), *out = g_new(float, n + GUARD);
    size_t j;

    for (j = 0; j < n + 2; j++)
      nat[j] = (float)ref[j];
    for (j = 0; j < n; j++)
      want[j] = (double)n * x[j];
    for (t = 0; t < n_tables; t++) {
      /* All N outputs. */
      mdn_fft_from_natural(plan, nat, spec);
      for (j = 0; j < n + GUARD; j++)
        out[j] = GUARD_VALUE;
      mdn_fft_inverse_full(plan, &tables[t], spec, out);
      for (j = n; j < n + GUARD; j++)
        g_assert_cmpfloat(out[j], ==, GUARD_VALUE);
      check_bounds(table_name(&tables[t]), n, out, want, n, 1.0);
      /* The last N/2 only, and nothing past them. */
      mdn_fft_from_natural(plan, nat, spec);
      for (j = 0; j < n + GUARD; j++)
        out[j] = GUARD_VALUE;
      mdn_fft_inverse_half(plan, &tables[t], spec, out);
      for (j = n / 2; j < n + GUARD; j++)
        g_assert_cmpfloat(out[j], ==, GUARD_VALUE);
      check_bounds("  last half", n, out, want + n / 2, n / 2, 1.0);
    }
    g_free(x);
    g_free(ref);
    g_free(want);
    g_free(nat);
    mdn_fft_free(spec);
    g_free(out);
    mdn_fft_plan_free(plan);
  }
  g_rand_free(rng);
}

/* ---- convolution: forward, mac, inverse --------------------------------- */

/* sum_j x_j (*) h_j, circular over n points, through double-precision DFTs. */
static double *
circular_double(float *const *x, float *const *h, int n_spec, size_t n)
{
  double *acc = g_new0(double, 2 * n), *a = g_new(double, 2 * n), *b = g_new(double, 2 * n);
  size_t t;
  int j;
  for (j = 0; j < n_spec; j++) {
    for (t = 0; t < n; t++) {
      a[2 * t] = x[j][t];
      b[2 * t] = h[j][t];
      a[2 * t + 1] = b[2 * t + 1] = 0;
    }
    dft_double(a, n, -1);
    dft_double(b, n, -1);
    for (t = 0; t < n; t++) {
      acc[2 * t] += a[2 * t] * b[2 * t] - a[2 * t + 1] * b[2 * t + 1];
      acc[2 * t + 1] += a[2 * t] * b[2 * t + 1] + a[2 * t + 1] * b[2 * t];
    }
  }
  dft_double(acc, n, 1);
  for (t = 0; t < n; t++)
    a[t] = acc[2 * t] / n;
  g_free(acc);
  g_free(b);
  return a;
}

static void
test_convolution(void)
{
  GRand *rng = g_rand_new_with_seed(3);
  const int n_spec = 3;
  guint s;
  int t, j;

  for (s = 0; s < G_N_ELEMENTS(sizes); s++) {
    const size_t n = sizes[s];
    MdnFftPlan *plan = mdn_fft_plan_new(n);
    const float scale = (float)mdn_fft_conv_scale(plan);
    float *x[3], *h[3], *xs[3], *hs = mdn_fft_alloc(n * n_spec), *y = mdn_fft_alloc(n);
    float *out = g_new(float, n / 2);
    double *want;
    size_t a;

    for (j = 0; j < n_spec; j++) {
      x[j] = random_floats(rng, n);
      h[j] = random_floats(rng, n);
      xs[j] = mdn_fft_alloc(n);
    }
    want = circular_double(x, h, n_spec, n);
    for (t = 0; t < n_tables; t++) {
      for (j = 0; j < n_spec; j++) {
        mdn_fft_forward(plan, &tables[t], x[j], xs[j]);
        mdn_fft_forward(plan, &tables[t], h[j], hs + j * n);
        for (a = 0; a < n; a++)
          hs[j * n + a] *= scale;
      }
      tables[t].mac(y, (const float *const *)xs, hs, n, n_spec, 0, plan->rows);
      mdn_fft_inverse_half(plan, &tables[t], y, out);
      {
        const double ref = rms_double(want + n / 2, n / 2);
        double rms, max;
        errors(out, want + n / 2, n / 2, &rms, &max);
        if (g_test_verbose())
          g_printerr("  %-28s N=%-7zu conv rms err %.3g (bound %.3g)\n", table_name(&tables[t]), n,
                     rms / ref, 2 * log2((double)n) * FLT_EPSILON);
        g_assert_cmpfloat(rms, <=, 2 * log2((double)n) * FLT_EPSILON * ref);
      }
    }
    for (j = 0; j < n_spec; j++) {
      g_free(x[j]);
      g_free(h[j]);
      mdn_fft_free(xs[j]);
    }
    mdn_fft_free(hs);
    mdn_fft_free(y);
    g_free(out);
    g_free(want);
    mdn_fft_plan_free(plan);
  }
  g_rand_free(rng);
}

/* ---- mac against double precision, all row ranges ----------------------- */

static void
test_mac(void)
{
  GRand *rng = g_rand_new_with_seed(4);
  const size_t n = 512, rows = n / MDN_FFT_ROW_FLOATS;
  const int counts[] = { 0, 1, 2, 5, 9 };
  guint c;
  int t;

  for (c = 0; c < G_N_ELEMENTS(counts); c++) {
    const int n_spec = counts[c];
    const size_t stride = n + 32;
    float *s[9], *h = mdn_fft_alloc(stride * 9), *y = mdn_fft_alloc(n + GUARD);
    int j;
    for (j = 0; j < 9; j++) {
      s[j] = mdn_fft_alloc(n);
      for (size_t b = 0; b < n; b++)
        s[j][b] = (float)g_rand_double_range(rng, -1, 1);
    }
    for (size_t b = 0; b < stride * 9; b++)
      h[b] = (float)g_rand_double_range(rng, -1, 1);
    for (t = 0; t < n_tables; t++) {
      const size_t row0 = (size_t)g_rand_int_range(rng, 0, 3);
      const size_t row1 = rows - (size_t)g_rand_int_range(rng, 0, 3);
      size_t b;
      for (b = 0; b < n + GUARD; b++)
        y[b] = GUARD_VALUE;
      tables[t].mac(y, (const float *const *)s, h, stride, n_spec, row0, row1);
      for (b = 0; b < n + GUARD; b++) {
        const size_t r = b / MDN_FFT_ROW_FLOATS, l = b % MDN_FFT_LANES;
        const gboolean is_im = (b % MDN_FFT_ROW_FLOATS) >= MDN_FFT_LANES;
        double want = 0, mag = 0;
        if (r < row0 || r >= row1) {
          g_assert_cmpfloat(y[b], ==, GUARD_VALUE);
          continue;
        }
        for (j = 0; j < n_spec; j++) {
          const float *sj = s[j] + r * MDN_FFT_ROW_FLOATS;
          const float *hj = h + j * stride + r * MDN_FFT_ROW_FLOATS;
          double t1, t2;
          if (r == 0 && l == 0) {
            t1 = is_im ? (double)sj[MDN_FFT_LANES] * hj[MDN_FFT_LANES] : (double)sj[0] * hj[0];
            t2 = 0;
          } else if (!is_im) {
            t1 = (double)sj[l] * hj[l];
            t2 = -(double)sj[MDN_FFT_LANES + l] * hj[MDN_FFT_LANES + l];
          } else {
            t1 = (double)sj[l] * hj[MDN_FFT_LANES + l];
            t2 = (double)sj[MDN_FFT_LANES + l] * hj[l];
          }
          want += t1 + t2;
          mag += fabs(t1) + fabs(t2);
        }
        /* A sum of 2 n_spec rounded products: within (2 n_spec + 1) eps mag. */
        g_assert_cmpfloat(fabs(y[b] - want), <=, (2 * n_spec + 1) * FLT_EPSILON * mag);
      }
    }
    for (j = 0; j < 9; j++)
      mdn_fft_free(s[j]);
    mdn_fft_free(h);
    mdn_fft_free(y);
  }
  g_rand_free(rng);
}

/* ---- steps run in slices: the same bits ---------------------------------- */

static void
test_slices(void)
{
  GRand *rng = g_rand_new_with_seed(5);
  const size_t n = 16384;
  MdnFftPlan *plan = mdn_fft_plan_new(n);
  float *x = random_floats(rng, n);
  float *a = mdn_fft_alloc(n), *b = mdn_fft_alloc(n), *oa = g_new(float, n / 2),
        *ob = g_new(float, n / 2);
  int t;

  g_assert_cmpuint(plan->n_fwd, >, 8);
  g_assert_cmpuint(plan->n_inv, >, 8);
  for (t = 0; t < n_tables; t++) {
    size_t pos = 0;
    mdn_fft_forward(plan, &tables[t], x, a);
    while (pos < plan->n_fwd) {
      size_t len = (size_t)g_rand_int_range(rng, 0, 5);
      len = MIN(len, plan->n_fwd - pos);
      mdn_fft_run(plan, &tables[t], plan->fwd, pos, pos + len, x, b, NULL);
      pos += len;
    }
    g_assert_cmpint(memcmp(a, b, sizeof(float) * n), ==, 0);
    mdn_fft_inverse_half(plan, &tables[t], a, oa);
    for (pos = 0; pos < plan->n_inv;) {
      size_t len = (size_t)g_rand_int_range(rng, 0, 5);
      len = MIN(len, plan->n_inv - pos);
      mdn_fft_run(plan, &tables[t], plan->inv, pos, pos + len, NULL, b, ob);
      pos += len;
    }
    g_assert_cmpint(memcmp(oa, ob, sizeof(float) * n / 2), ==, 0);
  }
  g_free(x);
  mdn_fft_free(a);
  mdn_fft_free(b);
  g_free(oa);
  g_free(ob);
  mdn_fft_plan_free(plan);
  g_rand_free(rng);
}

/* ---- a sample near FLT_MAX ----------------------------------------------- */

/* A lone sample of 3e38: its spectrum is flat (3e38 times a phase), and no
 * stage on the way overflows (the hostile input of the stream tests). */
static void
test_large(void)
{
  const size_t n = 1024;
  MdnFftPlan *plan = mdn_fft_plan_new(n);
  float *x = g_new0(float, n), *spec = mdn_fft_alloc(n), *nat = g_new(float, n + 2);
  size_t j;
  int t;
  x[37] = 3e38f;
  for (t = 0; t < n_tables; t++) {
    mdn_fft_forward(plan, &tables[t], x, spec);
    mdn_fft_to_natural(plan, spec, nat);
    for (j = 0; j <= n / 2; j++) {
      const double mag = hypot(nat[2 * j], nat[2 * j + 1]);
      g_assert_cmpfloat(fabs(mag - 3e38) / 3e38, <=, 1e-5);
    }
  }
  g_free(x);
  mdn_fft_free(spec);
  g_free(nat);
  mdn_fft_plan_free(plan);
}

/* ---- plans ---------------------------------------------------------------- */

static void
test_plans(void)
{
  size_t n;
  g_assert_null(mdn_fft_plan_new(32));
  g_assert_null(mdn_fft_plan_new(96));
  g_assert_null(mdn_fft_plan_new((size_t)MDN_FFT_MAX_SIZE * 2));
  for (n = MDN_FFT_MIN_SIZE; n <= (1 << 20); n *= 2) {
    MdnFftPlan *plan = mdn_fft_plan_new(n);
    gboolean *seen = g_new0(gboolean, plan->rows);
    size_t j, steps_cost = 0;
    g_assert_nonnull(plan);
    g_assert_cmpuint(mdn_fft_plan_bytes(n), >=, plan->n_fwd * sizeof(MdnFftStep));
    /* Every row in exactly one pair, partners hold k1 and M - k1. */
    for (j = 0; j < plan->n_pairs; j++) {
      guint32 r = plan->pairs[2 * j], rp = plan->pairs[2 * j + 1];
      g_assert_false(seen[r]);
      seen[r] = TRUE;
      if (rp != r) {
        g_assert_false(seen[rp]);
        seen[rp] = TRUE;
      }
      g_assert_cmpuint((plan->row_k1[r] + plan->row_k1[rp]) % plan->rows, ==, 0);
    }
    for (j = 0; j < plan->rows; j++)
      g_assert_true(seen[j]);
    for (j = 0; j < plan->n_fwd; j++)
      steps_cost += plan->fwd[j].cost > 0;
    g_assert_cmpuint(steps_cost, ==, plan->n_fwd);
    g_free(seen);
    mdn_fft_plan_free(plan);
  }
}

#ifdef MDN_TEST_HAVE_KISSFFT
static void
test_kissfft(void)
{
  GRand *rng = g_rand_new_with_seed(6);
  guint s;
  int t;
  for (s = 0; s < G_N_ELEMENTS(sizes); s++) {
    const size_t n = sizes[s];
    MdnFftPlan *plan = mdn_fft_plan_new(n);
    kiss_fftr_cfg cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
    float *x = random_floats(rng, n), *spec = mdn_fft_alloc(n), *nat = g_new(float, n + 2);
    kiss_fft_cpx *kf = g_new(kiss_fft_cpx, n / 2 + 1);
    double *want = g_new(double, n + 2);
    size_t j;
    kiss_fftr(cfg, x, kf);
    for (j = 0; j <= n / 2; j++) {
      want[2 * j] = kf[j].r;
      want[2 * j + 1] = kf[j].i;
    }
    for (t = 0; t < n_tables; t++) {
      mdn_fft_forward(plan, &tables[t], x, spec);
      mdn_fft_to_natural(plan, spec, nat);
      check_bounds("against kissfft", n, nat, want, n + 2, 1.0);
    }
    kiss_fftr_free(cfg);
    g_free(x);
    mdn_fft_free(spec);
    g_free(nat);
    g_free(kf);
    g_free(want);
    mdn_fft_plan_free(plan);
  }
  g_rand_free(rng);
}
#endif

/* The tables: every entry of one level, no level above the set's; the
 * AVX2 and AVX-512 kernels at their levels on x86, NEON on AArch64; the
 * engine's table is the one of the flags in use. */
static void
test_dispatch(void)
{
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  const int n_sets = mdn_test_flag_sets(sets);
  const unsigned cpu = mdn_cpu_flags_detect();
  MdnFftDsp dsp, ref;
  int j, k;

  mdn_fft_dsp_init(&ref, 0);
  g_assert_cmpuint(ref.flag, ==, 0);
  for (j = 0; j < n_sets; j++) {
    mdn_fft_dsp_init(&dsp, sets[j]);
    g_assert_cmpuint(dsp.flag & ~sets[j], ==, 0);
    for (k = 0; k < MDN_FFT_N_KINDS; k++)
      g_assert_true((dsp.step[k] == ref.step[k]) == (dsp.flag == 0));
    g_assert_true((dsp.mac == ref.mac) == (dsp.flag == 0));
  }
#if defined(__x86_64__)
  if (cpu & MDN_CPU_FLAG_AVX2) {
    mdn_fft_dsp_init(&dsp, mdn_isa_flags(MDN_ISA_AVX2));
    g_assert_true(dsp.flag == MDN_CPU_FLAG_AVX2 && dsp.mac == mdn_fft_mac_avx2);
  }
  if (cpu & MDN_CPU_FLAG_AVX512) {
    mdn_fft_dsp_init(&dsp, mdn_isa_flags(MDN_ISA_AVX512));
    g_assert_true(dsp.flag == MDN_CPU_FLAG_AVX512 && dsp.mac == mdn_fft_mac_avx512);
  }
#elif defined(__aarch64__)
  g_assert_true(cpu & MDN_CPU_FLAG_NEON);
  mdn_fft_dsp_init(&dsp, cpu);
  g_assert_true(dsp.flag == MDN_CPU_FLAG_NEON && dsp.mac == mdn_fft_mac_neon);
#endif
  mdn_fft_dsp_init(&dsp, mdn_cpu_flags());
  g_assert_true(memcmp(&dsp, &mdn_dsp()->fft, sizeof dsp) == 0);
}

int
main(int argc, char **argv)
{
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  int n_sets, j, k;

  g_test_init(&argc, &argv, NULL);
  n_sets = mdn_test_flag_sets(sets);
  for (j = 0; j < n_sets; j++) {
    MdnFftDsp dsp;
    mdn_fft_dsp_init(&dsp, sets[j]);
    for (k = 0; k < n_tables; k++)
      if (tables[k].flag == dsp.flag)
        break;
    if (k == n_tables)
      tables[n_tables++] = dsp;
  }
  g_printerr("# %d flag sets of this CPU's, %d distinct FFT tables\n", n_sets, n_tables);
  g_test_add_func("/fft/dispatch", test_dispatch);
  g_test_add_func("/fft/plans", test_plans);
  g_test_add_func("/fft/forward", test_forward);
  g_test_add_func("/fft/inverse", test_inverse);
  g_test_add_func("/fft/mac", test_mac);
  g_test_add_func("/fft/convolution", test_convolution);
  g_test_add_func("/fft/slices", test_slices);
  g_test_add_func("/fft/large", test_large);
#ifdef MDN_TEST_HAVE_KISSFFT
  g_test_add_func("/fft/kissfft", test_kissfft);
#endif
  return g_test_run();
}

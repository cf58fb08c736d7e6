/* tier-cost: the measurements behind the tier cost model
 * (engine/runtime/tier-cost.c) and the per-family ISA choice
 * (engine/kernels/x86/init.c).
 *
 *   tier-cost --kernels [--rounds N]
 *       each kernel family (encode, scan by table size and entry width,
 *       output, sigma, the exact path's direct form) under every instruction
 *       set this CPU has, on the same data, in interleaved rounds (thread
 *       CPU time, best round): ns per unit and the ratio to AVX2.
 *   tier-cost --fit [--rounds N] [--shapes N]
 *       whole tiers (random tables: the time does not depend on what they
 *       hold) and their kernels' exact paths through mdn_stream_process on a
 *       grid of shapes, with this process's kernels (MADDNESS_ISA picks the
 *       level); fits the model's weights and prints them as the rows of
 *       tier-cost.c, with the fit's errors.
 *   tier-cost --check [--rounds N] [PRESET...]
 *       predicted against measured speed-up over the exact path: the
 *       benchmark's workloads with the default ladder's tier shapes, and the
 *       tiers of each preset named; median and largest error.
 *
 * Speed is a ratio measured in one run (HACKING.md); ns figures are this
 * machine's.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"
#include "mdn-signals.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RS MDN_TIER_ROW_STRIDE

static int opt_rounds = 7;
static int opt_shapes = 160;
static int opt_scale = 8;
static gboolean opt_kernels, opt_fit, opt_check;

static const GOptionEntry entries[] = {
  { "kernels", 0, 0, G_OPTION_ARG_NONE, &opt_kernels, "Time each kernel family per ISA", NULL },
  { "fit", 0, 0, G_OPTION_ARG_NONE, &opt_fit, "Fit the model's weights for this ISA", NULL },
  { "check", 0, 0, G_OPTION_ARG_NONE, &opt_check, "Predicted against measured speed-ups", NULL },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Interleaved rounds, best taken (7)", "N" },
  { "shapes", 0, 0, G_OPTION_ARG_INT, &opt_shapes, "Tier shapes of --fit (160)", "N" },
  { "scale", 0, 0, G_OPTION_ARG_INT, &opt_scale, "Calls per timing, times (8)", "N" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static double
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- the kernels of each level ------------------------------------------- */

typedef struct {
  const char *name;
  unsigned flags; /* mdn_tier_dsp_init () flags: the level's own kernels where it has them */
} Level;

/* The levels this CPU has, each with every kernel it has (the per-family
 * choice of x86/init.c is bypassed: the tables are built for one level, then
 * each family's entry is taken from the level that owns it). */
static int
levels(Level *out)
{
  const unsigned cpu = mdn_cpu_flags_detect();
  int n = 0;
  out[n++] = (Level){ "c", 0 };
#if defined(__x86_64__) || defined(__i386__)
  if (cpu & MDN_CPU_FLAG_AVX2)
    out[n++] = (Level){ "avx2", MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 };
  if (cpu & MDN_CPU_FLAG_AVX512)
    out[n++] = (Level){ "avx512", MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 | MDN_CPU_FLAG_AVX512 };
  if (cpu & MDN_CPU_FLAG_AVX512VBMI)
    out[n++] = (Level){ "avx512vbmi", cpu };
#elif defined(__aarch64__)
  if (cpu & MDN_CPU_FLAG_NEON)
    out[n++] = (Level){ "neon", MDN_CPU_FLAG_NEON };
#endif
  return n;
}

/* A table with, for each family, the kernel of the highest level <= flags
 * that has one of its own: the tables of mdn_tier_dsp_init_levels() (the
 * raw per-level kernels, whatever the per-family choice). */
static void
raw_tier_dsp(MdnTierDsp *dsp, unsigned flags)
{
  mdn_tier_dsp_init_levels(dsp, flags);
}

/* ---- data ---------------------------------------------------------------- */

/* A tier with random trees, exact taps and tables (the time of its kernels
 * depends on its shape only), normalised as this version fits. */
static MdnTier *
random_tier(int cin, int cout, int taps, int dilation, const MdnTierSpec *spec, GRand *rng)
{
  const int groups = (taps + spec->taps_per_codebook - 1) / spec->taps_per_codebook;
  const int n_exact = MIN(spec->exact_taps, cin * taps);
  MdnTier *t = mdn_tier_alloc(spec, cin, cout, taps, dilation, n_exact, cin * groups, NULL);
  size_t n_entries, j;
  int k, o;

  g_assert_nonnull(t);
  for (k = 0; k < cin * spec->depth; k++)
    t->split[k] = (guint8)g_rand_int_range(rng, 0, spec->taps_per_codebook);
  for (k = 0; k < cin * (t->buckets - 1); k++)
    t->thresholds[k] = (float)g_rand_double_range(rng, -0.5, 0.5);
  for (k = 0; k < n_exact; k++) { /* distinct (channel, tap) pairs */
    int pair = (int)(((gint64)k * 7919) % (cin * taps));
    t->exact_chan[k] = (guint16)(pair / taps);
    t->exact_tap[k] = (guint32)(pair % taps);
  }
  for (k = 0; k < n_exact * cout; k++)
    t->exact_w[k] = (float)g_rand_double_range(rng, -1.0, 1.0);
  for (k = 0; k < t->n_codebooks; k++) {
    t->cb_chan[k] = (guint16)(k % cin);
    t->cb_group[k] = (guint32)(k / cin);
  }
  n_entries = (size_t)t->n_codebooks * t->buckets * cout;
  for (j = 0; j < n_entries; j++) {
    guint32 v = g_rand_int_range(rng, 0, 1 << spec->table_bits);
    if (spec->table_bits == 16)
      ((guint16 *)t->lut)[j] = (guint16)v;
    else
      ((guint8 *)t->lut)[j] = (guint8)v;
  }
  for (o = 0; o < cout; o++) {
    t->lut_scale[o] = 1e-4f;
    t->lut_offset[o] = -0.1f;
  }
  mdn_tier_spec_name(spec, t->name);
  t->cost = mdn_tier_cost(t);
  return t;
}

/* ---- --kernels ------------------------------------------------------------ */

typedef struct Case Case;
struct Case {
  char name[64];
  const char *unit;
  double units;                                                          /* per call */
  void (*run)(const Case *c, const MdnTierDsp *d, const MdnExactDsp *e); /* one call */
  gboolean (*has)(const Case *c, const MdnTierDsp *d, const MdnTierDsp *ref, const MdnExactDsp *e,
                  const MdnExactDsp *eref); /* the level has its own kernel */
  /* data */
  MdnTier *tier;
  MdnTierTables tables;
  guint8 *planes, *codes;
  ptrdiff_t *offsets;
  guint32 *sums;
  float *x, *out, *sigma, *scratch;
  const float **xs;
  MdnKernel *kernel;
  size_t n;
  int reps;
};

static void
run_encode(const Case *c, const MdnTierDsp *d, const MdnExactDsp *e)
{
  (void)e;
  d->encode(c->tier->split, c->tier->thresholds, 0.5f, c->tier->spec.depth, 1, c->x + 64, c->n,
            c->codes);
}

static gboolean
has_encode(const Case *c, const MdnTierDsp *d, const MdnTierDsp *ref, const MdnExactDsp *e,
           const MdnExactDsp *eref)
{
  (void)c, (void)e, (void)eref;
  return d->encode != ref->encode;
}

static void
run_scan(const Case *c, const MdnTierDsp *d, const MdnExactDsp *e)
{
  (void)e;
  d->scan[mdn_tier_scan_index(c->tier->spec.depth)](&c->tables, c->codes, c->offsets, c->n,
                                                    c->sums);
}

static gboolean
has_scan(const Case *c, const MdnTierDsp *d, const MdnTierDsp *ref, const MdnExactDsp *e,
         const MdnExactDsp *eref)
{
  const int s = mdn_tier_scan_index(c->tier->spec.depth);
  (void)e, (void)eref;
  return d->scan[s] != ref->scan[s];
}

static void
run_output(const Case *c, const MdnTierDsp *d, const MdnExactDsp *e)
{
  MdnTierOutputArgs a;
  (void)e;
  a.sums = c->sums;
  a.exact = c->xs;
  a.w = c->tier->exact_w;
  a.n_exact = c->tier->n_exact;
  a.cout = c->tier->cout;
  a.offset = c->tier->lut_offset;
  a.scale = c->tier->lut_scale;
  a.bias = c->tier->lut_offset;
  a.sigma = c->sigma;
  a.small = TRUE;
  a.scratch = c->scratch;
  d->output(&a, c->n, c->out);
}

static gboolean
has_output(const Case *c, const MdnTierDsp *d, const MdnTierDsp *ref, const MdnExactDsp *e,
           const MdnExactDsp *eref)
{
  (void)c, (void)e, (void)eref;
  return d->output != ref->output;
}

static void
run_sigma(const Case *c, const MdnTierDsp *d, const MdnExactDsp *e)
{
  const float *x[MDN_MAX_CHANNELS];
  float next = 0.0f, sigma = 1.0f;
  size_t end = 0;
  int i;
  (void)e;
  for (i = 0; i < c->tier->cin; i++)
    x[i] = c->x + 1024 + (size_t)i * 64;
  while (end < c->n) {
    end = d->run_end(x, c->tier->cin, 0, end + 1, c->n, 63, MDN_NORM_BLOCK, sigma, &next);
    sigma = next;
  }
}

static gboolean
has_sigma(const Case *c, const MdnTierDsp *d, const MdnTierDsp *ref, const MdnExactDsp *e,
          const MdnExactDsp *eref)
{
  (void)c, (void)e, (void)eref;
  return d->run_end != ref->run_end;
}

static void
run_fir(const Case *c, const MdnTierDsp *d, const MdnExactDsp *e)
{
  const MdnKernel *k = c->kernel;
  (void)d;
  memset(c->out, 0, sizeof(float) * k->cout * c->n);
  e->fir(c->out, c->n, k->cout, c->n, k->weights, (size_t)k->cin * k->taps, k->taps, k->taps,
         k->cin, k->dilation, c->xs, 0);
}

static gboolean
has_fir(const Case *c, const MdnTierDsp *d, const MdnTierDsp *ref, const MdnExactDsp *e,
        const MdnExactDsp *eref)
{
  (void)c, (void)d, (void)ref;
  return e->fir != eref->fir;
}

static Case *
case_new(const char *name, const char *unit, int cin, int cout, int taps, int dilation,
         const char *spec_text, size_t n, GRand *rng)
{
  Case *c = g_new0(Case, 1);
  MdnTierSpec spec;
  size_t j;
  int i;

  g_strlcpy(c->name, name, sizeof c->name);
  c->unit = unit;
  c->n = n;
  g_assert_true(mdn_tier_spec_parse(spec_text, &spec, NULL));
  c->tier = random_tier(cin, cout, taps, dilation, &spec, rng);
  c->planes = g_new0(guint8, mdn_tier_planes_size(c->tier) + 1);
  mdn_tier_tables_init(&c->tables, c->tier, c->planes);
  c->codes = g_new(guint8, 4096 + n + MDN_TIER_ROW_PAD);
  for (j = 0; j < 4096 + n + MDN_TIER_ROW_PAD; j++)
    c->codes[j] = (guint8)g_rand_int_range(rng, 0, c->tier->buckets);
  c->offsets = g_new(ptrdiff_t, MAX(c->tier->n_codebooks, 1));
  for (i = 0; i < c->tier->n_codebooks; i++)
    c->offsets[i] = g_rand_int_range(rng, 0, 4096);
  c->sums = g_new0(guint32, mdn_tier_sum_rows(cout) * RS);
  for (j = 0; j < (size_t)cout * RS; j++)
    c->sums[j] = g_rand_int_range(rng, 0, 1 << 12);
  c->x = mdn_signal_speech(4096 + 2 * n + 64 * MDN_MAX_CHANNELS, 48000, 5);
  c->out = g_new0(float, (size_t)MAX(cout, 1) * (n + 64));
  c->sigma = g_new(float, RS);
  for (j = 0; j < RS; j++)
    c->sigma[j] = 0.5f;
  c->scratch = g_new0(float, (size_t)2 * cout * RS);
  c->xs = g_new(const float *, MAX(c->tier->n_exact, cin) + 1);
  for (i = 0; i < MAX(c->tier->n_exact, cin); i++)
    c->xs[i] = c->x + 2048 + (size_t)i * 7;
  c->kernel = mdn_kernel_new(cin, cout, taps, dilation, 48000, NULL);
  for (j = 0; j < (size_t)cin * cout * taps; j++)
    c->kernel->weights[j] = (float)g_rand_double_range(rng, -0.1, 0.1);
  return c;
}

static void
case_free(Case *c)
{
  mdn_tier_free(c->tier);
  g_free(c->planes);
  g_free(c->codes);
  g_free(c->offsets);
  g_free(c->sums);
  g_free(c->x);
  g_free(c->out);
  g_free(c->sigma);
  g_free(c->scratch);
  g_free(c->xs);
  mdn_kernel_free(c->kernel);
  g_free(c);
}

static void
kernels(void)
{
  Level lv[8];
  const int n_lv = levels(lv);
  MdnTierDsp tdsp[8];
  MdnExactDsp edsp[8];
  GPtrArray *cases = g_ptr_array_new_with_free_func((GDestroyNotify)case_free);
  GRand *rng = g_rand_new_with_seed(13);
  double *best;
  int l, r;
  guint ci;

  for (l = 0; l < n_lv; l++) {
    raw_tier_dsp(&tdsp[l], lv[l].flags);
    mdn_exact_dsp_init_levels(&edsp[l], lv[l].flags);
  }
#define ADD(name, unit, units_expr, runf, hasf, reps_, ...)                                        \
  do {                                                                                             \
    Case *c_ = case_new(name, unit, __VA_ARGS__, rng);                                             \
    c_->run = runf;                                                                                \
    c_->has = hasf;                                                                                \
    c_->reps = reps_;                                                                              \
    c_->units = (units_expr);                                                                      \
    g_ptr_array_add(cases, c_);                                                                    \
  } while (0)
  /* encode: ns per position (one channel) */
  ADD("encode d4", "position", (double)c_->n, run_encode, has_encode, 40, 1, 1, 64, 1, "s8d4",
      1024);
  ADD("encode d6", "position", (double)c_->n, run_encode, has_encode, 40, 1, 1, 64, 1, "s4d6",
      1024);
  ADD("encode d8", "position", (double)c_->n, run_encode, has_encode, 20, 1, 1, 64, 1, "s4d8",
      1024);
  /* scan: ns per lookup (row x codebook x output) */
#define SCAN(name, cout_, taps_, spec)                                                             \
  ADD(name, "lookup", (double)c_->n * c_->tier->n_codebooks * c_->tier->cout, run_scan, has_scan,  \
      8, 1, cout_, taps_, 1, spec, 256)
  SCAN("scan16 q6 cout1 8cb", 1, 64, "s8d4q6");
  SCAN("scan16 q6 cout2 32cb", 2, 256, "s8d4q6");
  SCAN("scan16 q6 cout16 16cb", 16, 128, "s8d4q6");
  SCAN("scan16 q8 cout16 16cb", 16, 128, "s8d4");
  SCAN("scan16 q16 cout16 16cb", 16, 128, "s8d4q16");
  SCAN("scan32 q8 cout16 16cb", 16, 128, "s8d5");
  SCAN("scan64 q8 cout1 16cb", 1, 64, "s4d6");
  SCAN("scan64 q8 cout2 64cb", 2, 256, "s4d6");
  SCAN("scan64 q8 cout16 32cb", 16, 128, "s4d6");
  SCAN("scan256 q8 cout16 32cb", 16, 128, "s4d8");
#undef SCAN
  /* output: ns per row and output */
#define OUTPUT(name, cout_, spec)                                                                  \
  ADD(name, "value", (double)c_->n * c_->tier->cout, run_output, has_output, 40, 1, cout_, 128, 1, \
      spec, 256)
  OUTPUT("output cout1 e2", 1, "s8d4e2");
  OUTPUT("output cout1 e12", 1, "s8d4e12");
  OUTPUT("output cout2 e2", 2, "s8d4e2");
  OUTPUT("output cout16 e0", 16, "s8d4");
  OUTPUT("output cout16 e2", 16, "s8d4e2");
  OUTPUT("output cout16 e12", 16, "s8d4e12");
#undef OUTPUT
  /* sigma: ns per frame */
  ADD("sigma cin1", "frame", (double)c_->n, run_sigma, has_sigma, 40, 1, 1, 64, 1, "s8d4", 1024);
  ADD("sigma cin8", "frame", (double)c_->n, run_sigma, has_sigma, 20, 8, 2, 64, 1, "s8d4", 1024);
  /* the exact path's direct form: ns per multiply-add */
#define FIR(name, cin_, cout_, taps_, dil_)                                                        \
  ADD(name, "MAC", (double)c_->n *(cin_) * (cout_) * (taps_), run_fir, has_fir, 4, cin_, cout_,    \
      taps_, dil_, "s8d4", 1024)
  FIR("fir 1x1 K64", 1, 1, 64, 1);
  FIR("fir 1x16 K128", 1, 16, 128, 1);
  FIR("fir 8x2 K48", 8, 2, 48, 1);
  FIR("fir 16x16 K9 d2", 16, 16, 9, 2);
#undef FIR
#undef ADD

  best = g_new(double, cases->len *n_lv);
  for (ci = 0; ci < cases->len * n_lv; ci++)
    best[ci] = G_MAXDOUBLE;
  for (r = 0; r < opt_rounds; r++)
    for (ci = 0; ci < cases->len; ci++) {
      Case *c = g_ptr_array_index(cases, ci);
      for (l = 0; l < n_lv; l++) {
        double t0;
        int k;
        if (l > 0 && !c->has(c, &tdsp[l], &tdsp[l - 1], &edsp[l], &edsp[l - 1]))
          continue;
        t0 = now_ns();
        for (k = 0; k < c->reps * opt_scale; k++)
          c->run(c, &tdsp[l], &edsp[l]);
        best[ci * n_lv + l]
            = MIN(best[ci * n_lv + l], (now_ns() - t0) / (c->reps * opt_scale * c->units));
      }
    }

  printf("# tier-cost --kernels: ns per unit, best of %d interleaved rounds (thread CPU time); "
         "'-': the level has no kernel of its own\n",
         opt_rounds);
  printf("%-24s %-9s", "case", "unit");
  for (l = 0; l < n_lv; l++)
    printf(" %11s", lv[l].name);
  for (l = 2; l < n_lv; l++)
    printf(" %9s/%s", lv[l].name, "avx2");
  printf("\n");
  for (ci = 0; ci < cases->len; ci++) {
    Case *c = g_ptr_array_index(cases, ci);
    printf("%-24s %-9s", c->name, c->unit);
    for (l = 0; l < n_lv; l++) {
      double v = best[ci * n_lv + l];
      if (v < G_MAXDOUBLE)
        printf(" %11.4f", v);
      else
        printf(" %11s", "-");
    }
    for (l = 2; l < n_lv; l++) {
      double v = best[ci * n_lv + l], a = n_lv > 1 ? best[ci * n_lv + 1] : G_MAXDOUBLE;
      if (v < G_MAXDOUBLE && a < G_MAXDOUBLE)
        printf(" %14.2f", v / a);
      else
        printf(" %14s", "-");
    }
    printf("\n");
  }
  g_free(best);
  g_ptr_array_free(cases, TRUE);
  g_rand_free(rng);
}

int
main(int argc, char **argv)
{
  GOptionContext *context = g_option_context_new("- measurements of the tier cost model");
  GError *error = NULL;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "tier-cost: %s\n", error->message);
    return 2;
  }
  g_option_context_free(context);
  if (opt_rounds < 1 || (!opt_kernels && !opt_fit && !opt_check)) {
    fprintf(stderr, "tier-cost: give --kernels, --fit or --check\n");
    return 2;
  }
  if (opt_kernels)
    kernels();
  return 0;
}

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
#include "bench-clock.h"
#include "dsp.h"
#include "exact-plan.h"
#include "mdn-signals.h"
#include "tier-cost.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RS MDN_TIER_ROW_STRIDE

static int opt_rounds = 7;
static int opt_shapes = 160;
static int opt_scale = 8;
static int opt_frames = 16384;
static gboolean opt_kernels, opt_fit, opt_check;

static const GOptionEntry entries[] = {
  { "kernels", 0, 0, G_OPTION_ARG_NONE, &opt_kernels, "Time each kernel family per ISA", NULL },
  { "fit", 0, 0, G_OPTION_ARG_NONE, &opt_fit, "Fit the model's weights for this ISA", NULL },
  { "check", 0, 0, G_OPTION_ARG_NONE, &opt_check, "Predicted against measured speed-ups", NULL },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Interleaved rounds, best taken (7)", "N" },
  { "shapes", 0, 0, G_OPTION_ARG_INT, &opt_shapes, "Tier shapes of --fit (160)", "N" },
  { "scale", 0, 0, G_OPTION_ARG_INT, &opt_scale, "Calls per timing, times (8)", "N" },
  { "frames", 0, 0, G_OPTION_ARG_INT, &opt_frames,
    "Frames of speech per pass of --fit and --check (16384)", "N" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

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
        t0 = bench_thread_cpu_ns();
        for (k = 0; k < c->reps * opt_scale; k++)
          c->run(c, &tdsp[l], &edsp[l]);
        best[ci * n_lv + l] = MIN(best[ci * n_lv + l],
                                  (bench_thread_cpu_ns() - t0) / (c->reps * opt_scale * c->units));
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

/* ---- --fit and --check: whole tiers through the stream -------------------- */

#define FIT_BLOCK 1024

/* A model of kernel k (random weights) with `tier`, and its stream. */
typedef struct {
  MdnModel *model;
  MdnStream *stream;
  float *in;
  int cin, cout;
  double macs;                /* cin * cout * taps: the direct form's */
  double exact_ns, tier_ns;   /* best ns per frame */
  double x[MDN_TIER_N_TERMS]; /* the model's terms */
  int slot;
  gboolean direct; /* the exact path runs the direct form */
} Shape;

/* Speech of `cin` channels, opt_frames long, one copy per channel count;
 * and one output buffer for every shape. */
static float *
speech_for(int cin)
{
  static float *cache[MDN_MAX_CHANNELS + 1];
  if (cache[cin] == NULL)
    cache[cin] = mdn_signal_multichannel(mdn_signal_speech, (size_t)opt_frames, cin, 48000, 3);
  return cache[cin];
}

static float *
output_for(int cout)
{
  static float *out;
  static int have;
  if (cout > have) {
    g_free(out);
    out = g_new(float, (size_t)opt_frames *cout);
    have = cout;
  }
  return out;
}

static gboolean
shape_init(Shape *sh, MdnKernel *k, MdnTier *tier, guint32 seed)
{
  GError *error = NULL;
  int blocks[MDN_EXACT_MAX_LEVELS];

  memset(sh, 0, sizeof *sh);
  sh->model = mdn_model_new(k, &error);
  g_assert_no_error(error);
  if (tier != NULL) {
    mdn_tier_cost_terms(tier, sh->x);
    sh->slot = mdn_tier_scan_index(tier->spec.depth);
    mdn_model_add_tier(sh->model, tier);
  }
  sh->stream = mdn_stream_new(sh->model, 1, &error);
  if (sh->stream == NULL) {
    g_clear_error(&error);
    mdn_model_free(sh->model);
    return FALSE;
  }
  sh->cin = k->cin;
  sh->cout = k->cout;
  sh->macs = (double)k->cin * k->cout * k->taps;
  sh->direct = mdn_exact_plan_blocks(k, blocks) == 0;
  sh->in = speech_for(k->cin);
  (void)seed;
  sh->exact_ns = sh->tier_ns = G_MAXDOUBLE;
  return TRUE;
}

static void
shape_clear(Shape *sh)
{
  mdn_stream_free(sh->stream);
  mdn_model_free(sh->model);
}

/* ns per frame of one pass over the input in FIT_BLOCK calls. */
static double
shape_time(Shape *sh, int tier)
{
  double t0 = bench_thread_cpu_ns();
  size_t done;
  for (done = 0; done < (size_t)opt_frames; done += FIT_BLOCK)
    mdn_stream_process(sh->stream, tier, sh->in + done * sh->cin,
                       output_for(sh->cout) + done * sh->cout, FIT_BLOCK);
  return (bench_thread_cpu_ns() - t0) / (size_t)opt_frames;
}

/* Interleaved rounds over all shapes, exact and tier 0 alternating; best. */
static void
time_shapes(Shape *sh, int n, gboolean with_tier)
{
  int r, i;
  for (i = 0; i < n; i++) /* warm: history, caches */
    shape_time(&sh[i], MDN_TIER_EXACT);
  for (r = 0; r < opt_rounds; r++)
    for (i = 0; i < n; i++) {
      sh[i].exact_ns = MIN(sh[i].exact_ns, shape_time(&sh[i], MDN_TIER_EXACT));
      if (with_tier)
        sh[i].tier_ns = MIN(sh[i].tier_ns, shape_time(&sh[i], 0));
    }
}

/* The fit's unknowns: the five per-frame weights, then codebook and lookup
 * weights per scan slot. */
#define N_UNKNOWNS (6 + 2 * MDN_TIER_N_SCANS)

static void
unknown_row(const Shape *sh, double *row)
{
  int j;
  for (j = 0; j < N_UNKNOWNS; j++)
    row[j] = 0;
  row[0] = sh->x[MDN_TIER_TERM_FRAME];
  row[1] = sh->x[MDN_TIER_TERM_SIGMA];
  row[2] = sh->x[MDN_TIER_TERM_ENCODE];
  row[3] = sh->x[MDN_TIER_TERM_OUTPUT];
  row[4] = sh->x[MDN_TIER_TERM_EXACT];
  row[5] = sh->x[MDN_TIER_TERM_REENCODE];
  row[6 + sh->slot] = sh->x[MDN_TIER_TERM_CODEBOOK];
  row[6 + MDN_TIER_N_SCANS + sh->slot] = sh->x[MDN_TIER_TERM_LOOKUP];
}

/* Least squares of relative error: sum_i ((row_i . w - y_i) / y_i)^2, with
 * the weights held >= 0 (a negative one is fixed at 0 and the rest refitted). */
static void
fit_weights(const Shape *sh, int n, const double *y, double *w)
{
  gboolean fixed[N_UNKNOWNS] = { FALSE };
  int iter, i, j, k;

  for (iter = 0; iter < N_UNKNOWNS; iter++) {
    double a[N_UNKNOWNS * N_UNKNOWNS] = { 0 }, b[N_UNKNOWNS] = { 0 };
    gboolean changed = FALSE;
    for (i = 0; i < n; i++) {
      double row[N_UNKNOWNS];
      unknown_row(&sh[i], row);
      for (j = 0; j < N_UNKNOWNS; j++) {
        row[j] = fixed[j] ? 0 : row[j] / y[i];
      }
      for (j = 0; j < N_UNKNOWNS; j++) {
        for (k = 0; k < N_UNKNOWNS; k++)
          a[j * N_UNKNOWNS + k] += row[j] * row[k];
        b[j] += row[j];
      }
    }
    for (j = 0; j < N_UNKNOWNS; j++)
      a[j * N_UNKNOWNS + j] += fixed[j] || a[j * N_UNKNOWNS + j] == 0 ? 1.0 : 1e-9;
    mdn_dense_solve(a, b, N_UNKNOWNS);
    memcpy(w, b, sizeof w[0] * N_UNKNOWNS);
    for (j = 0; j < N_UNKNOWNS; j++)
      if (!fixed[j] && w[j] < 0) {
        fixed[j] = changed = TRUE;
      }
    for (j = 0; j < N_UNKNOWNS; j++)
      if (fixed[j])
        w[j] = 0;
    if (!changed)
      break;
  }
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* A random tier shape the spec rules and the stream allow. */
static MdnTier *
random_shape(GRand *rng, MdnKernel **kernel)
{
  static const int cins[] = { 1, 1, 1, 2, 4, 8 }, couts[] = { 1, 1, 2, 4, 8, 16 },
                   taps[] = { 16, 32, 64, 128, 256 }, ss[] = { 2, 4, 8 },
                   exacts[] = { 0, 0, 2, 8, 24 }, bits[] = { 6, 8, 8, 16 };
  for (;;) {
    MdnTierSpec spec = { 0 }; /* axis encoders: the fit's shapes have no hyperplanes */
    int cin = cins[g_rand_int_range(rng, 0, G_N_ELEMENTS(cins))];
    int cout = couts[g_rand_int_range(rng, 0, G_N_ELEMENTS(couts))];
    int k = taps[g_rand_int_range(rng, 0, G_N_ELEMENTS(taps))];
    MdnKernel *kern;
    size_t j;

    spec.taps_per_codebook = ss[g_rand_int_range(rng, 0, G_N_ELEMENTS(ss))];
    spec.depth = g_rand_int_range(rng, 3, 9);
    spec.exact_taps = exacts[g_rand_int_range(rng, 0, G_N_ELEMENTS(exacts))];
    spec.table_bits = bits[g_rand_int_range(rng, 0, G_N_ELEMENTS(bits))];
    if (spec.table_bits < 8 && spec.depth > 6)
      spec.table_bits = 8;
    if (!mdn_tier_spec_validate(&spec, MDN_ERROR_INVALID_ARGUMENT, NULL)
        || (double)cin * cout * k > 16384 || spec.taps_per_codebook > k)
      continue;
    kern = mdn_kernel_new(cin, cout, k, 1, 48000, NULL);
    for (j = 0; j < (size_t)cin * cout * k; j++)
      kern->weights[j] = (float)g_rand_double_range(rng, -0.1, 0.1);
    *kernel = kern;
    {
      static const int blocks[] = { 64, 256, 1024, 1024 };
      MdnTier *t = random_tier(cin, cout, k, 1, &spec, rng);
      t->norm_block = blocks[g_rand_int_range(rng, 0, G_N_ELEMENTS(blocks))];
      return t;
    }
  }
}

static const char *
flag_name(unsigned flag)
{
  switch (flag) {
  case 0:
    return "0";
  case MDN_CPU_FLAG_SSE2:
    return "MDN_CPU_FLAG_SSE2";
  case MDN_CPU_FLAG_AVX2:
    return "MDN_CPU_FLAG_AVX2";
  case MDN_CPU_FLAG_AVX512:
    return "MDN_CPU_FLAG_AVX512";
  case MDN_CPU_FLAG_AVX512VBMI:
    return "MDN_CPU_FLAG_AVX512VBMI";
  case MDN_CPU_FLAG_NEON:
    return "MDN_CPU_FLAG_NEON";
  default:
    return "?";
  }
}

static void
fit(void)
{
  const MdnDsp *dsp = mdn_dsp();
  GRand *rng = g_rand_new_with_seed(1313);
  Shape *sh = g_new0(Shape, opt_shapes);
  double *y = g_new(double, opt_shapes), *err = g_new(double, opt_shapes);
  double w[N_UNKNOWNS], unit, num = 0, den = 0;
  int n = 0, i, j;

  while (n < opt_shapes) {
    MdnKernel *k;
    MdnTier *t = random_shape(rng, &k);
    if (shape_init(&sh[n], k, t, 31 + n) && sh[n].direct)
      n++;
    else if (sh[n].model != NULL && !sh[n].direct)
      shape_clear(&sh[n]);
    mdn_kernel_free(k);
  }
  time_shapes(sh, n, TRUE);
  /* The unit: ns per multiply-add of the direct form, fitted (relative
   * error) as exact = a + unit * macs on the same shapes. */
  {
    double s1 = 0, sx = 0, sxx = 0, sy = 0, sxy = 0, a;
    for (i = 0; i < n; i++) {
      double q = 1.0 / (sh[i].exact_ns * sh[i].exact_ns);
      s1 += q;
      sx += q * sh[i].macs;
      sxx += q * sh[i].macs * sh[i].macs;
      sy += q * sh[i].exact_ns;
      sxy += q * sh[i].macs * sh[i].exact_ns;
    }
    unit = (s1 * sxy - sx * sy) / (s1 * sxx - sx * sx);
    a = (sy - unit * sx) / s1;
    printf("# exact (direct form) = %.2f ns + %.5f ns per multiply-add, ISA %s\n", a, unit,
           mdn_isa());
    (void)num, (void)den;
  }
  for (i = 0; i < n; i++)
    y[i] = sh[i].tier_ns / unit;
  fit_weights(sh, n, y, w);
  for (i = 0; i < n; i++) {
    double row[N_UNKNOWNS], p = 0;
    unknown_row(&sh[i], row);
    for (j = 0; j < N_UNKNOWNS; j++)
      p += row[j] * w[j];
    /* as speed-ups: the predicted over the measured */
    err[i] = fabs(p / y[i] - 1.0);
  }
  qsort(err, n, sizeof *err, cmp_double);
  printf("# %d tiers, best of %d rounds: the tier's time, predicted against measured: median "
         "error %.1f%%, 90th percentile %.1f%%, largest %.1f%%\n",
         n, opt_rounds, 100 * err[n / 2], 100 * err[n * 9 / 10], 100 * err[n - 1]);
  printf("# rows for engine/runtime/tier-cost.c (multiply-adds of the direct form):\n");
  printf("  { %s, %.3f, %.4f, %.4f, %.4f }, /* output_w */\n", flag_name(dsp->tier.output_flag),
         w[0], w[1], w[3], w[4]);
  printf("  { %s, %.4f, %.4f }, /* encode_w */\n", flag_name(dsp->tier.encode_flag), w[2], w[5]);
  printf("  /* scan_w, slot by slot (flags %s %s %s %s %s) */\n", flag_name(dsp->tier.scan_flag[0]),
         flag_name(dsp->tier.scan_flag[1]), flag_name(dsp->tier.scan_flag[2]),
         flag_name(dsp->tier.scan_flag[3]), flag_name(dsp->tier.scan_flag[4]));
  printf("  { %s, { ", flag_name(dsp->tier.scan_flag[MDN_TIER_SCAN64]));
  for (j = 0; j < MDN_TIER_N_SCANS; j++)
    printf("%.4f%s", w[6 + j], j + 1 < MDN_TIER_N_SCANS ? ", " : " }, { ");
  for (j = 0; j < MDN_TIER_N_SCANS; j++)
    printf("%.4f%s", w[6 + MDN_TIER_N_SCANS + j], j + 1 < MDN_TIER_N_SCANS ? ", " : " } },\n");
  for (i = 0; i < n; i++)
    shape_clear(&sh[i]);
  g_free(sh);
  g_free(y);
  g_free(err);
  g_rand_free(rng);
}

/* Predicted against measured speed-ups of random tiers (a new draw) and of
 * the tiers of each preset named. */
static void
check_shape(Shape *sh, const char *name, int tier, double predicted)
{
  const double measured = sh->exact_ns / sh->tier_ns;
  printf("%-34s %3d %9.2f %9.2f %9.2f %8.1f%%  %s\n", name, tier, sh->exact_ns, sh->tier_ns,
         measured, 100 * (predicted / measured - 1),
         predicted >= MDN_TIER_MIN_SPEEDUP ? (measured > 1 ? "selectable" : "SELECTABLE, SLOWER")
                                           : (measured > 1 ? "pruned (pays)" : "pruned"));
}

/* The tiers of a preset: exact and each tier of one stream, interleaved. */
static void
check_preset(const char *path)
{
  GError *error = NULL;
  MdnModel *m = mdn_model_load(path, &error);
  MdnStream *stream;
  Shape sh;
  double *best;
  int t, r, n;

  if (m == NULL) {
    fprintf(stderr, "tier-cost: %s\n", error->message);
    g_clear_error(&error);
    return;
  }
  n = mdn_model_n_tiers(m);
  stream = mdn_stream_new(m, 1, &error);
  g_assert_no_error(error);
  memset(&sh, 0, sizeof sh);
  sh.stream = stream;
  sh.cin = mdn_model_kernel(m)->cin;
  sh.cout = mdn_model_kernel(m)->cout;
  sh.in = speech_for(sh.cin);
  best = g_new(double, n + 1);
  for (t = 0; t <= n; t++)
    best[t] = G_MAXDOUBLE;
  shape_time(&sh, MDN_TIER_EXACT);
  for (r = 0; r < opt_rounds; r++)
    for (t = 0; t <= n; t++)
      best[t] = MIN(best[t], shape_time(&sh, t == n ? MDN_TIER_EXACT : t));
  for (t = 0; t < n; t++) {
    char name[96], *base = g_path_get_basename(path);
    sh.exact_ns = best[n];
    sh.tier_ns = best[t];
    g_snprintf(name, sizeof name, "%s %s", base, mdn_model_tier(m, t)->name);
    g_free(base);
    check_shape(&sh, name, t, mdn_model_tier_speedup(m, t));
  }
  g_free(best);
  mdn_stream_free(stream);
  mdn_model_free(m);
}

static void
check(int argc, char **argv)
{
  GRand *rng = g_rand_new_with_seed(4242);
  Shape sh[48];
  int n = 0, i, a;

  printf("# tier-cost --check, ISA %s, best of %d rounds: ns per frame, measured speed-up, "
         "predicted over measured - 1\n",
         mdn_isa(), opt_rounds);
  printf("%-34s %3s %9s %9s %9s %9s  %s\n", "model", "tier", "exact", "tier", "speed-up", "error",
         "quality");
  for (a = 1; a < argc; a++)
    check_preset(argv[a]);
  if (argc > 1)
    return;
  while (n < 48) {
    MdnKernel *k;
    MdnTier *t = random_shape(rng, &k);
    if (shape_init(&sh[n], k, t, 5 + n))
      n++;
    mdn_kernel_free(k);
  }
  time_shapes(sh, n, TRUE);
  for (i = 0; i < n; i++) {
    char name[64];
    const MdnKernel *k = mdn_model_kernel(sh[i].model);
    g_snprintf(name, sizeof name, "random %dx%d K%d %s", k->cin, k->cout, k->taps,
               mdn_model_tier(sh[i].model, 0)->name);
    check_shape(&sh[i], name, 0, mdn_model_tier_speedup(sh[i].model, 0));
    shape_clear(&sh[i]);
  }
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
  if (opt_fit)
    fit();
  if (opt_check)
    check(argc, argv);
  return 0;
}

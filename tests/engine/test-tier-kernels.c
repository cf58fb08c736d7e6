/* test-tier-kernels.c: the tier kernels (tier-kernels.h) against the plain-C
 * reference, checkasm style: the tables are built for every subset of the
 * CPU's flags (mdn-test-flags.h), and each kernel they hold that an earlier
 * table did not is tested, entry by entry; then whole tiers
 * (mdn_tier_process) under each distinct table against the reference with
 * random chunking.
 *
 * Identical: encode codes, scan sums, max_abs, count_below, the output
 * kernel without exact taps, and whole-tier outputs without exact taps.
 * Exact taps: vector kernels use FMA, the reference mul + add; both are
 * sequential sums over the n_exact taps, so
 *   |a - b| <= 2 * n_exact * FLT_EPSILON * sum_e |w_e x_e|.
 * Whole tiers with exact taps: the same bound, times sigma's factor 1 (the
 * table part is identical), plus one rounding of the final add:
 *   |a - b| <= (2 * n_exact + 2) * FLT_EPSILON * (sum_e |w_e x_e| + |y|).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"
#include "mdn-signals.h"
#include "mdn-test-flags.h"

#include <float.h>
#include <math.h>
#include <string.h>

#ifdef MDN_TIER_TEST_EMULATED_AVX512
/* The AVX-512 kernels compiled over SIMDe's portable AVX-512, so their
 * logic is checked on CPUs without AVX-512. SIMDe 0.7 lacks a few
 * intrinsics: written here lane by lane, with the same semantics (masked
 * lanes are neither read nor written). */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

typedef simde__mmask16 __mmask16;
typedef simde__mmask64 __mmask64;

static inline __m512
emu_maskz_loadu_ps(__mmask16 k, const void *p)
{
  float v[16];
  int i;
  for (i = 0; i < 16; i++)
    v[i] = (k >> i) & 1 ? ((const float *)p)[i] : 0.0f;
  return _mm512_loadu_ps(v);
}
static inline __m512
emu_i32gather_ps(__m512i index, const void *base, int scale)
{
  gint32 idx[16];
  float v[16];
  int i;
  _mm512_storeu_si512(idx, index);
  for (i = 0; i < 16; i++)
    memcpy(&v[i], (const char *)base + (ptrdiff_t)idx[i] * scale, sizeof(float));
  return _mm512_loadu_ps(v);
}
static inline __m128i
emu_cvtepi32_epi8(__m512i a)
{
  gint32 v[16];
  gint8 r[16];
  int i;
  _mm512_storeu_si512(v, a);
  for (i = 0; i < 16; i++)
    r[i] = (gint8)v[i];
  return _mm_loadu_si128((const __m128i *)r);
}
static inline void
emu_mask_storeu_epi8(void *p, __mmask16 k, __m128i a)
{
  guint8 v[16];
  int i;
  _mm_storeu_si128((__m128i *)v, a);
  for (i = 0; i < 16; i++)
    if ((k >> i) & 1)
      ((guint8 *)p)[i] = v[i];
}
static inline __m512i
emu_cvtepu16_epi32(__m256i a)
{
  guint16 v[16];
  guint32 r[16];
  int i;
  _mm256_storeu_si256((__m256i *)v, a);
  for (i = 0; i < 16; i++)
    r[i] = v[i];
  return _mm512_loadu_si512(r);
}
static inline __m512
emu_cvtepi32_ps(__m512i a)
{
  gint32 v[16];
  float r[16];
  int i;
  _mm512_storeu_si512(v, a);
  for (i = 0; i < 16; i++)
    r[i] = (float)v[i];
  return _mm512_loadu_ps(r);
}
static inline __m512
emu_cvtepu32_ps(__m512i a)
{
  guint32 v[16];
  float r[16];
  int i;
  _mm512_storeu_si512(v, a);
  for (i = 0; i < 16; i++)
    r[i] = (float)v[i];
  return _mm512_loadu_ps(r);
}
static inline void
emu_mask_storeu_ps(void *p, __mmask16 k, __m512 a)
{
  float v[16];
  int i;
  _mm512_storeu_ps(v, a);
  for (i = 0; i < 16; i++)
    if ((k >> i) & 1)
      ((float *)p)[i] = v[i];
}
static inline __mmask16
emu_mask_cmp_ps_mask(__mmask16 k, __m512 a, __m512 b, int op)
{
  return k & _mm512_cmp_ps_mask(a, b, op);
}
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps emu_cvtepi32_ps
#undef _mm512_cvtepu32_ps
#define _mm512_cvtepu32_ps emu_cvtepu32_ps
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps emu_mask_storeu_ps
#undef _mm512_mask_cmp_ps_mask
#define _mm512_mask_cmp_ps_mask emu_mask_cmp_ps_mask
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps emu_maskz_loadu_ps
#undef _mm512_i32gather_ps
#define _mm512_i32gather_ps emu_i32gather_ps
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8 emu_cvtepi32_epi8
#undef _mm_mask_storeu_epi8
#define _mm_mask_storeu_epi8 emu_mask_storeu_epi8
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32 emu_cvtepu16_epi32

/* the file's kernels under other names */
#define MDN_TIER_AVX512_EMULATED
#define mdn_tier_encode_avx512 emulated_encode
#define mdn_tier_scan_avx512 emulated_scan
#define mdn_tier_scan_avx512vbmi emulated_scan_vbmi
#define mdn_tier_output_avx512 emulated_output
MdnTierEncodeFn emulated_encode;
MdnTierScanFn emulated_scan, emulated_scan_vbmi;
MdnTierOutputFn emulated_output;
#include "x86/tier-avx512.c"
#undef mdn_tier_encode_avx512
#undef mdn_tier_scan_avx512
#undef mdn_tier_scan_avx512vbmi
#undef mdn_tier_output_avx512
#endif

#define RS MDN_TIER_ROW_STRIDE

/* The tables tested: cands[0] is the reference (flags 0), then every
 * distinct table of a subset of the CPU's flags; in the emulated build also
 * the reference with the AVX-512 kernels compiled over SIMDe (without and
 * with the VBMI scan), so their logic is tested on CPUs without AVX-512.
 * Each entry is tested in the first table that has it (new_entry()). */
typedef struct {
  const char *name;
  MdnTierDsp dsp;
} Candidate;

static Candidate cands[MDN_TEST_MAX_FLAG_SETS + 2];
static int n_cands;
static const MdnTierDsp *ref = &cands[0].dsp;

static void
add_candidate(const char *name, const MdnTierDsp *dsp)
{
  int j;
  for (j = 0; j < n_cands; j++)
    if (memcmp(&cands[j].dsp, dsp, sizeof *dsp) == 0)
      return;
  cands[n_cands].name = name;
  cands[n_cands++].dsp = *dsp;
}

static void
init_candidates(void)
{
  unsigned sets[MDN_TEST_MAX_FLAG_SETS];
  const int n_sets = mdn_test_flag_sets(sets);
  MdnTierDsp dsp;
  int j;
  /* each level's own kernels, then the engine's choice among them (the
   * same table unless a family takes a lower level's kernel) */
  for (j = 0; j < n_sets; j++) {
    mdn_tier_dsp_init_levels(&dsp, sets[j]);
    add_candidate(mdn_test_flag_name(sets[j]), &dsp);
  }
  for (j = 0; j < n_sets; j++) {
    mdn_tier_dsp_init(&dsp, sets[j]);
    add_candidate(mdn_test_flag_name(sets[j]), &dsp);
  }
#ifdef MDN_TIER_TEST_EMULATED_AVX512
  mdn_tier_dsp_init(&dsp, 0);
  dsp.encode = emulated_encode;
  for (j = 0; j < MDN_TIER_N_SCANS; j++)
    dsp.scan[j] = emulated_scan;
  dsp.uses_planes = TRUE;
  dsp.output = emulated_output;
  add_candidate("avx512-emulated", &dsp);
  for (j = 0; j < MDN_TIER_N_SCANS; j++)
    dsp.scan[j] = emulated_scan_vbmi;
  add_candidate("avx512vbmi-emulated", &dsp);
#endif
}

/* The entry at `offset` (a function pointer in MdnTierDsp) of candidate ii
 * is in no earlier candidate (the reference included). */
static gboolean
new_entry(int ii, size_t offset)
{
  int jj;
  for (jj = 0; jj < ii; jj++)
    if (memcmp((const char *)&cands[jj].dsp + offset, (const char *)&cands[ii].dsp + offset,
               sizeof(void (*)(void)))
        == 0)
      return FALSE;
  return TRUE;
}

#define NEW_ENTRY(ii, field) new_entry(ii, offsetof(MdnTierDsp, field))

static float
random_sample(GRand *rng)
{
  switch (g_rand_int_range(rng, 0, 20)) {
  case 0:
    return 0.0f;
  case 1:
    return -0.0f;
  case 2:
    return NAN;
  default:
    return (float)g_rand_double_range(rng, -1.0, 1.0) * ldexpf(1.0f, g_rand_int_range(rng, -12, 3));
  }
}

/* ---- encode ---- */

static void
check_encode(MdnTierEncodeFn *encode, const char *isa, GRand *rng, int s, int depth, int dilation,
             size_t n)
{
  const int buckets = 1 << depth;
  const size_t history = (size_t)(s - 1) * dilation;
  float sigma = ldexpf(1.0f, g_rand_int_range(rng, -20, 6));
  guint8 split[8];
  float *thr = g_new0(float, buckets - 1 + MDN_TIER_THR_PAD);
  float *x = g_new(float, history + n + 1);
  guint8 *a = g_new(guint8, n + 64), *b = g_new(guint8, n + 64);
  size_t j;
  int l;

  for (l = 0; l < depth; l++)
    split[l] = (guint8)g_rand_int_range(rng, 0, s);
  for (j = 0; j < (size_t)buckets - 1; j++)
    thr[j] = (float)g_rand_double_range(rng, -0.6, 0.6);
  for (j = 0; j < history + n + 1; j++) {
    x[j] = random_sample(rng) * sigma;
    if (g_rand_int_range(rng, 0, 10) == 0) /* ties: > must stay strict */
      x[j] = thr[g_rand_int_range(rng, 0, buckets - 1)] * sigma;
  }
  memset(a, 0xa5, n + 64);
  memset(b, 0xa5, n + 64);
  ref->encode(split, thr, sigma, depth, dilation, x + history, n, a);
  encode(split, thr, sigma, depth, dilation, x + history, n, b);
  for (j = 0; j < n + 64; j++)
    if (a[j] != b[j])
      g_error("%s encode s%d d%d dil %d n %zu sigma %g: position %zu: code %u, reference %u", isa,
              s, depth, dilation, n, sigma, j, b[j], a[j]);
  g_free(thr);
  g_free(x);
  g_free(a);
  g_free(b);
}

static void
test_encode(void)
{
  static const int s_values[] = { 1, 2, 4, 8 };
  static const size_t big[] = { 255, 256, 257, 1000, 4096, 4099 };
  GRand *rng = g_rand_new_with_seed(101);
  int n_tested = 0, ii, depth, dil;
  size_t si, n;
  guint64 checks = 0;

  for (ii = 1; ii < n_cands; ii++) {
    MdnTierEncodeFn *k = cands[ii].dsp.encode;
    if (!NEW_ENTRY(ii, encode))
      continue;
    n_tested++;
    for (si = 0; si < G_N_ELEMENTS(s_values); si++)
      for (depth = 1; depth <= 8; depth++)
        for (dil = 1; dil <= 3; dil += 2) {
          for (n = 0; n <= 200; n += 1 + (n > 70) * 6, checks++)
            check_encode(k, cands[ii].name, rng, s_values[si], depth, dil, n);
          for (n = 0; n < G_N_ELEMENTS(big); n++, checks++)
            check_encode(k, cands[ii].name, rng, s_values[si], depth, dil, big[n]);
        }
  }
  g_test_message("encode: %" G_GUINT64_FORMAT " checks of %d kernel(s)", checks, n_tested);
  g_rand_free(rng);
}

/* ---- scan ---- */

/* A tier with only what the scan reads. */
static MdnTier *
table_tier(int n_codebooks, int depth, int cout, int table_bits, gboolean saturated, GRand *rng)
{
  MdnTier *tier = g_new0(MdnTier, 1);
  size_t n_entries, j;
  tier->spec.depth = depth;
  tier->spec.table_bits = table_bits;
  tier->buckets = 1 << depth;
  tier->cout = cout;
  tier->n_codebooks = n_codebooks;
  n_entries = (size_t)n_codebooks * tier->buckets * cout;
  if (table_bits == 16) {
    guint16 *lut = g_new(guint16, n_entries + 1);
    for (j = 0; j < n_entries; j++)
      lut[j] = saturated ? 65535 : (guint16)g_rand_int_range(rng, 0, 65536);
    tier->lut = lut;
  } else {
    const int max = (1 << table_bits) - 1; /* 5..8 bits: what the loader allows */
    guint8 *lut = g_new(guint8, n_entries + 1);
    for (j = 0; j < n_entries; j++)
      lut[j] = saturated ? (guint8)max : (guint8)g_rand_int_range(rng, 0, max + 1);
    tier->lut = lut;
  }
  return tier;
}

static void
check_scan(const MdnTierDsp *k, const char *isa, GRand *rng, int n_codebooks, int depth, int cout,
           int table_bits, size_t n, gboolean saturated)
{
  MdnTier *tier = table_tier(n_codebooks, depth, cout, table_bits, saturated, rng);
  guint8 *planes = g_new(guint8, mdn_tier_planes_size(tier) + 1);
  MdnTierTables plain, vector;
  const size_t span = 600; /* codebooks read one code stream at random delays */
  guint8 *stream = g_new(guint8, span + n + MDN_TIER_ROW_PAD);
  ptrdiff_t *offsets = g_new(ptrdiff_t, n_codebooks);
  guint32 *a = g_new0(guint32, (size_t)cout * RS), *b = g_new0(guint32, (size_t)cout * RS);
  size_t j, r;
  int c, o;

  mdn_tier_tables_init(&plain, tier, NULL);
  mdn_tier_tables_init(&vector, tier, planes);
  for (j = 0; j < span + n + MDN_TIER_ROW_PAD; j++)
    stream[j] = (guint8)g_rand_int_range(rng, 0, tier->buckets);
  for (c = 0; c < n_codebooks; c++)
    offsets[c] = g_rand_int_range(rng, 0, (gint32)span + 1);
  ref->scan[mdn_tier_scan_index(depth)](&plain, stream, offsets, n, a);
  k->scan[mdn_tier_scan_index(depth)](&vector, stream, offsets, n, b);
  for (o = 0; o < cout; o++)
    for (r = 0; r < n; r++)
      if (a[(size_t)o * RS + r] != b[(size_t)o * RS + r])
        g_error("%s scan %d codebooks depth %d cout %d %d-bit rows %zu: row %zu output %d: %u, "
                "reference %u",
                isa, n_codebooks, depth, cout, table_bits, n, r, o, b[(size_t)o * RS + r],
                a[(size_t)o * RS + r]);
  if (saturated && n > 0) /* the reference itself: the flush boundaries are exact */
    g_assert_cmpuint(a[0], ==, (guint32)n_codebooks * ((1u << table_bits) - 1));
  g_free(tier->lut);
  g_free(tier);
  g_free(planes);
  g_free(stream);
  g_free(offsets);
  g_free(a);
  g_free(b);
}

static void
test_scan(void)
{
  /* around the 16-bit flush: every 257 widened adds, of 1 or 4 codebooks */
  static const int ncb_edges[]
      = { 1, 2, 3, 4, 5, 16, 255, 256, 257, 258, 300, 514, 515, 1027, 1028, 1029, 1030 };
  static const int widths[] = { 5, 6, 7, 8, 16 };
  static const size_t row_values[] = { 0, 1, 7, 31, 32, 33, 63, 64, 65, 127, 200, 255, 256 };
  GRand *rng = g_rand_new_with_seed(202);
  int n_tested = 0, ii, depth, bits, trial, slot;
  size_t e;
  guint64 checks = 0;

  for (ii = 1; ii < n_cands; ii++) {
    const MdnTierDsp *k = &cands[ii].dsp;
    const char *name = cands[ii].name;
    gboolean fresh[MDN_TIER_N_SCANS], any = FALSE; /* the scans of each size to test */
    for (slot = 0; slot < MDN_TIER_N_SCANS; slot++) {
      fresh[slot] = NEW_ENTRY(ii, scan[slot]);
      any |= fresh[slot];
    }
    n_tested += any;
#define SCAN_CASE(ncb, depth_, ...)                                                                \
  do {                                                                                             \
    const int d_ = (depth_);                                                                       \
    if (fresh[mdn_tier_scan_index(d_)]) {                                                          \
      check_scan(k, name, rng, ncb, d_, __VA_ARGS__);                                              \
      checks++;                                                                                    \
    }                                                                                              \
  } while (0)
    /* Every depth, every width, every row count listed, random sizes. */
    for (depth = 1; depth <= 8; depth++)
      for (bits = 0; bits < (int)G_N_ELEMENTS(widths); bits++)
        for (e = 0; e < G_N_ELEMENTS(row_values); e++)
          SCAN_CASE(g_rand_int_range(rng, 1, 40), depth, g_rand_int_range(rng, 1, 18), widths[bits],
                    row_values[e], FALSE);
    /* Codebook counts around the 16-bit flush, with saturated tables. */
    for (e = 0; e < G_N_ELEMENTS(ncb_edges); e++)
      for (bits = 0; bits < (int)G_N_ELEMENTS(widths); bits++)
        for (trial = 0; trial < 2; trial++)
          SCAN_CASE(ncb_edges[e], 1 + 3 * (trial + 1) % 8, 1 + (int)e % 5, widths[bits],
                    1 + (size_t)g_rand_int_range(rng, 0, 256), trial == 0);
    /* Random shapes: codebooks 1..300, cout 1..17, rows 0..256. */
    for (trial = 0; trial < 400; trial++)
      SCAN_CASE(g_rand_int_range(rng, 1, 301), g_rand_int_range(rng, 1, 9),
                g_rand_int_range(rng, 1, 18), widths[g_rand_int_range(rng, 0, 5)],
                (size_t)g_rand_int_range(rng, 0, MDN_TIER_ROWS + 1), FALSE);
#undef SCAN_CASE
  }
  g_test_message("scan: %" G_GUINT64_FORMAT " checks of %d table(s)' scans", checks, n_tested);
  g_rand_free(rng);
}

/* ---- output: exact taps, tables, bias ---- */

/* The output kernel against the reference: identical without exact taps;
 * with them within the exact sum's rounding, carried by sigma's factor 1 into
 * the result, plus one rounding of each of the two final adds. */
static void
test_output(void)
{
  GRand *rng = g_rand_new_with_seed(404);
  int n_tested = 0, ii, trial;
  double worst = 0.0;

  for (ii = 1; ii < n_cands; ii++) {
    const MdnTierDsp *k = &cands[ii].dsp;
    if (!NEW_ENTRY(ii, output))
      continue;
    n_tested++;
    for (trial = 0; trial < 1500; trial++) {
      /* 1, 2 (the narrow paths), whole and partial blocks of 8 */
      const int cout = trial % 4 == 0 ? 1 + trial / 4 % 2 : g_rand_int_range(rng, 1, 34);
      const size_t n = (size_t)g_rand_int_range(rng, 0, MDN_TIER_ROWS + 1), history = 100;
      const int n_exact = g_rand_boolean(rng) ? 0 : g_rand_int_range(rng, 1, 40);
      const size_t sum_rows = mdn_tier_sum_rows(cout);
      guint32 *sums = g_new0(guint32, sum_rows * RS);
      float *scratch = g_new(float, (size_t)2 * cout * RS), *sigma = g_new(float, RS);
      float *offset = g_new(float, cout), *scale = g_new(float, cout), *bias = g_new(float, cout);
      float *w = g_new(float, (size_t)n_exact *cout + 1), *a = g_new(float, n *cout + 1);
      float *b = g_new(float, n *cout + 1), **buf = g_new(float *, n_exact + 1);
      const float **exact = g_new(const float *, n_exact + 1);
      const gboolean with_bias = g_rand_boolean(rng);
      gboolean small = TRUE;
      MdnTierOutputArgs args;
      size_t j, r;
      int o, e;

      for (j = 0; j < (size_t)cout * RS; j++) {
        /* all magnitudes, including >= 2^31 (unsigned conversion) */
        sums[j] = g_rand_int(rng) >> g_rand_int_range(rng, 0, 32);
        small = small && sums[j] < 0x80000000u;
      }
      if (trial % 3 == 0 && !small) /* the small path too */
        for (j = 0, small = TRUE; j < (size_t)cout * RS; j++)
          sums[j] &= 0x7fffffffu;
      /* one sigma per row, in runs; 0: a silent run */
      for (j = 0; j < RS; j++)
        sigma[j] = j > 0 && g_rand_int_range(rng, 0, 4) != 0 ? sigma[j - 1]
                   : g_rand_int_range(rng, 0, 8) == 0
                       ? 0.0f
                       : ldexpf(1.0f, g_rand_int_range(rng, -100, 101));
      for (o = 0; o < cout; o++) {
        offset[o] = (float)g_rand_double_range(rng, -0.5, 0.5);
        scale[o] = (float)g_rand_double_range(rng, 1e-10, 1e-3);
        bias[o] = (float)g_rand_double_range(rng, -2.0, 2.0);
        if (o == 0)
          offset[o] = 0.0f, scale[o] = -0.0f; /* signed zeros: 0 + (-0) */
        else if (o == 1) /* a table of -0: without exact taps, 0 + (-0) again */
          offset[o] = -0.0f, scale[o] = -0.0f;
      }
      for (e = 0; e < n_exact; e++) {
        /* exactly the rows' inputs: any read past them is out of bounds */
        buf[e] = g_new(float, history + n + 1);
        for (j = 0; j < history + n; j++) { /* finite: the stream scrubs its input */
          buf[e][j] = random_sample(rng);
          if (isnan(buf[e][j]))
            buf[e][j] = 0.0f;
        }
        exact[e] = buf[e] + history;
      }
      for (j = 0; j < (size_t)n_exact * cout; j++)
        w[j] = (float)g_rand_double_range(rng, -1.0, 1.0);
      args.sums = sums;
      args.exact = exact;
      args.w = w;
      args.n_exact = n_exact;
      args.cout = cout;
      args.offset = offset;
      args.scale = scale;
      args.bias = with_bias ? bias : NULL;
      args.sigma = sigma;
      args.small = small;
      args.scratch = scratch;
      a[n * cout] = b[n * cout] = 7.0f; /* nothing past the rows is written */
      ref->output(&args, n, a);
      k->output(&args, n, b);
      g_assert_cmpfloat(b[n * cout], ==, 7.0f);
      for (r = 0; r < n; r++)
        for (o = 0; o < cout; o++) {
          const size_t at = r * cout + o;
          double mag = 0.0, tol, err;
          if (n_exact == 0) {
            if (memcmp(&a[at], &b[at], sizeof(float)) != 0)
              g_error("%s output cout %d n %zu: row %zu output %d: %.9g, reference %.9g",
                      cands[ii].name, cout, n, r, o, b[at], a[at]);
            continue;
          }
          for (e = 0; e < n_exact; e++)
            mag += fabs((double)w[e * cout + o] * exact[e][r]);
          /* the exact sum's error, then the final adds' roundings (of
           * terms that may cancel) */
          tol = 2.0 * n_exact * FLT_EPSILON * mag
                + 2.0 * FLT_EPSILON
                      * (mag + fabs(a[at])
                         + fabs((double)sigma[r]
                                * (offset[o] + (double)scale[o] * sums[(size_t)o * RS + r]))
                         + (with_bias ? fabs(bias[o]) : 0.0));
          err = fabs((double)a[at] - b[at]);
          if (!(err <= tol))
            g_error("%s output cout %d n %zu exact %d: row %zu output %d: %.9g, reference %.9g "
                    "(tolerance %.3g)",
                    cands[ii].name, cout, n, n_exact, r, o, b[at], a[at], tol);
          worst = MAX(worst, tol > 0 ? err / tol : 0.0);
        }
      for (e = 0; e < n_exact; e++)
        g_free(buf[e]);
      g_free(buf);
      g_free(exact);
      g_free(sums);
      g_free(scratch);
      g_free(sigma);
      g_free(offset);
      g_free(scale);
      g_free(bias);
      g_free(w);
      g_free(a);
      g_free(b);
    }
  }
  g_test_message("output: worst difference %.3f of the tolerance over %d kernel(s)", worst,
                 n_tested);
  g_rand_free(rng);
}

/* ---- max_abs, count_below ---- */

static void
test_sigma_kernels(void)
{
  GRand *rng = g_rand_new_with_seed(505);
  int ii, trial;

  for (ii = 1; ii < n_cands; ii++) {
    const MdnTierDsp *k = &cands[ii].dsp;
    if (!NEW_ENTRY(ii, max_abs) && !NEW_ENTRY(ii, count_below))
      continue;
    for (trial = 0; trial < 2000; trial++) {
      const int cin = g_rand_int_range(rng, 1, 5);
      const size_t len = (size_t)g_rand_int_range(rng, 0, 300);
      float *buf[4];
      const float *x[4];
      ptrdiff_t first = g_rand_int_range(rng, 0, (gint32)len + 1) - 10, last;
      size_t n = (size_t)g_rand_int_range(rng, 0, (gint32)len + 1);
      float level, a, b;
      size_t j, ca, cb;
      int i;

      for (i = 0; i < cin; i++) {
        buf[i] = g_new(float, len + 10);
        for (j = 0; j < len + 10; j++)
          buf[i][j] = random_sample(rng) * (g_rand_int_range(rng, 0, 30) == 0 ? 64.0f : 1.0f);
        x[i] = buf[i] + 10;
      }
      last = first + (ptrdiff_t)n - 1;
      if (last >= (ptrdiff_t)len)
        last = (ptrdiff_t)len - 1, n = (size_t)(last - first + 1);
      a = ref->max_abs(x, cin, first, last);
      b = k->max_abs(x, cin, first, last);
      if (memcmp(&a, &b, sizeof a) != 0)
        g_error("%s max_abs cin %d [%td, %td]: %g, reference %g", cands[ii].name, cin, first, last,
                b, a);
      switch (g_rand_int_range(rng, 0, 6)) { /* 0: a silent run's level */
      case 0:
        level = 0.0f;
        break;
      case 1:
        level = 0x1p-100f;
        break;
      case 2:
        level = INFINITY;
        break;
      default:
        level = ldexpf(1.0f, g_rand_int_range(rng, -3, 6));
      }
      ca = ref->count_below(x, cin, first, n, level);
      cb = k->count_below(x, cin, first, n, level);
      if (ca != cb)
        g_error("%s count_below cin %d first %td n %zu level %g: %zu, reference %zu",
                cands[ii].name, cin, first, n, level, cb, ca);
      for (i = 0; i < cin; i++)
        g_free(buf[i]);
    }
  }
  g_rand_free(rng);
}

/* ---- whole tiers ---- */

static void
tier_free(MdnTier *tier)
{
  g_free(tier->split);
  g_free(tier->thresholds);
  g_free(tier->exact_chan);
  g_free(tier->exact_tap);
  g_free(tier->exact_w);
  g_free(tier->cb_chan);
  g_free(tier->cb_group);
  g_free(tier->lut);
  g_free(tier->lut_scale);
  g_free(tier->lut_offset);
  g_free(tier);
}

/* A random tier: every (channel, group) codebook, random exact taps; the
 * normalisation block this version fits with, format version 1's, or a short
 * one (more block starts). */
static MdnTier *
random_tier(int cin, int cout, int taps, int dilation, int s, int depth, int n_exact,
            int table_bits, GRand *rng)
{
  MdnTier *tier = g_new0(MdnTier, 1);
  size_t n_entries, j;
  int groups, k, o;

  tier->spec.taps_per_codebook = s;
  tier->spec.depth = depth;
  tier->spec.exact_taps = n_exact;
  tier->spec.table_bits = table_bits;
  mdn_tier_spec_name(&tier->spec, tier->name);
  tier->cin = cin;
  tier->cout = cout;
  tier->taps = taps;
  tier->dilation = dilation;
  tier->buckets = 1 << depth;
  switch (g_rand_int_range(rng, 0, 3)) {
  case 0:
    tier->norm_block = MDN_NORM_BLOCK;
    break;
  case 1:
    tier->norm_block = MDN_NORM_BLOCK_V1;
    break;
  default:
    tier->norm_block = MDN_NORM_BLOCK_MIN;
  }
  tier->split = g_new(guint8, cin * depth);
  for (k = 0; k < cin * depth; k++)
    tier->split[k] = (guint8)g_rand_int_range(rng, 0, s);
  tier->thresholds = g_new(float, cin *(tier->buckets - 1));
  for (k = 0; k < cin * (tier->buckets - 1); k++)
    tier->thresholds[k] = (float)g_rand_double_range(rng, -0.6, 0.6);
  n_exact = MIN(n_exact, cin * taps);
  tier->n_exact = n_exact;
  tier->exact_chan = g_new0(guint16, n_exact + 1);
  tier->exact_tap = g_new0(guint32, n_exact + 1);
  tier->exact_w = g_new0(float, (n_exact + 1) * cout);
  for (k = 0; k < n_exact; k++) { /* a stride through the (chan, tap) pairs */
    int pair = (k * 7) % (cin * taps);
    tier->exact_chan[k] = (guint16)(pair / taps);
    tier->exact_tap[k] = (guint32)(pair % taps);
  }
  for (k = 0; k < n_exact * cout; k++)
    tier->exact_w[k] = (float)g_rand_double_range(rng, -1.0, 1.0);
  groups = mdn_tier_groups(tier);
  tier->n_codebooks = cin * groups;
  tier->cb_chan = g_new(guint16, tier->n_codebooks);
  tier->cb_group = g_new(guint32, tier->n_codebooks);
  for (k = 0; k < tier->n_codebooks; k++) {
    tier->cb_chan[k] = (guint16)(k % cin);
    tier->cb_group[k] = (guint32)(k / cin);
  }
  n_entries = (size_t)tier->n_codebooks * tier->buckets * cout;
  if (table_bits == 16) {
    guint16 *lut = g_new(guint16, n_entries);
    for (j = 0; j < n_entries; j++)
      lut[j] = (guint16)g_rand_int_range(rng, 0, 65536);
    tier->lut = lut;
  } else {
    guint8 *lut = g_new(guint8, n_entries);
    for (j = 0; j < n_entries; j++)
      lut[j] = (guint8)g_rand_int_range(rng, 0, 1 << table_bits);
    tier->lut = lut;
  }
  tier->lut_scale = g_new(float, cout);
  tier->lut_offset = g_new(float, cout);
  for (o = 0; o < cout; o++) {
    tier->lut_scale[o] = (float)(1.0 / ((double)(1 << table_bits) * tier->n_codebooks));
    tier->lut_offset[o] = (float)g_rand_double_range(rng, -0.5, 0.5);
  }
  return tier;
}

/* The signal, zero before frame 0, with level jumps and silences. */
static float **
random_signal(int cin, size_t n, GRand *rng)
{
  float **ch = g_new(float *, cin);
  int i;
  for (i = 0; i < cin; i++) {
    size_t t = 0;
    ch[i] = g_new(float, n);
    while (t < n) {
      size_t len = (size_t)g_rand_int_range(rng, 1, 300),
             end = MIN(n, t + len); /* MIN evaluates twice */
      double level
          = g_rand_int_range(rng, 0, 10) == 0 ? 0.0 : pow(10.0, g_rand_double_range(rng, -5, 0));
      for (; t < end; t++)
        ch[i][t] = (float)(level * g_rand_double_range(rng, -1.0, 1.0));
    }
  }
  return ch;
}

/* Frames [0, n) through mdn_tier_process with the given kernels, random
 * chunk sizes; the signal is read in place after `pad` frames of zeros. */
static float *
run_kernels(const MdnTier *tier, const MdnTierDsp *dsp, float *const *padded, size_t pad, size_t n,
            const float *bias, GRand *rng)
{
  MdnTierState *state = mdn_tier_state_new_dsp(tier, dsp);
  float *out = g_new(float, n * tier->cout);
  const float *x[MDN_MAX_CHANNELS];
  size_t t0 = 0;
  int i;
  g_assert_nonnull(state);
  while (t0 < n) {
    size_t want = g_rand_boolean(rng) ? (size_t)g_rand_int_range(rng, 1, 80)
                                      : (size_t)g_rand_int_range(rng, 1, 2 * MDN_CHUNK);
    size_t count = MIN(want, n - t0);
    for (i = 0; i < tier->cin; i++)
      x[i] = padded[i] + pad + t0;
    mdn_tier_process(tier, state, x, t0, count, bias, out + t0 * tier->cout);
    t0 += count;
  }
  mdn_tier_state_free(state);
  return out;
}

static void
test_whole_tier(void)
{
  static const int shapes[][4] = {
    /* cin, cout, taps, dilation */
    { 1, 1, 64, 1 }, { 1, 16, 128, 1 }, { 4, 3, 9, 2 }, { 2, 17, 33, 3 }, { 1, 2, 7, 1 },
  };
  static const int specs[][3] = { /* s, depth, table_bits */
                                  { 4, 4, 8 },  { 8, 4, 8 }, { 2, 6, 16 }, { 1, 3, 8 }, { 4, 8, 8 },
                                  { 8, 5, 16 }, { 8, 4, 6 }, { 4, 6, 5 },  { 2, 4, 7 }
  };
  GRand *rng = g_rand_new_with_seed(606);
  int ii, with_exact;
  size_t sh, sp;
  double worst = 0.0;

  for (ii = 1; ii < n_cands; ii++)
    for (sh = 0; sh < G_N_ELEMENTS(shapes); sh++)
      for (sp = 0; sp < G_N_ELEMENTS(specs); sp++)
        for (with_exact = 0; with_exact < 2; with_exact++) {
          const int cin = shapes[sh][0], taps = shapes[sh][2], dilation = shapes[sh][3];
          MdnTier *tier = random_tier(cin, shapes[sh][1], taps, dilation, specs[sp][0],
                                      specs[sp][1], with_exact ? 8 : 0, specs[sp][2], rng);
          const size_t n = 3 * MDN_CHUNK + 500, pad = mdn_tier_history(tier) + 64;
          float **sig = random_signal(cin, n, rng), **padded = g_new(float *, cin);
          float *a, *b;
          size_t t;
          int i, o, e;

          for (i = 0; i < cin; i++) {
            padded[i] = g_new0(float, pad + n);
            memcpy(padded[i] + pad, sig[i], sizeof(float) * n);
          }
          a = run_kernels(tier, ref, padded, pad, n, NULL, rng);
          b = run_kernels(tier, &cands[ii].dsp, padded, pad, n, NULL, rng);
          for (t = 0; t < n; t++)
            for (o = 0; o < tier->cout; o++) {
              double mag = fabs(a[t * tier->cout + o]), tol, err;
              for (e = 0; e < tier->n_exact; e++) {
                gint64 u = (gint64)t - (gint64)tier->exact_tap[e] * dilation;
                mag += fabs(tier->exact_w[e * tier->cout + o]
                            * (u < 0 ? 0.0f : sig[tier->exact_chan[e]][u]));
              }
              tol = tier->n_exact > 0 ? (2.0 * tier->n_exact + 2) * FLT_EPSILON * mag : 0.0;
              err = fabs((double)a[t * tier->cout + o] - b[t * tier->cout + o]);
              if (tier->n_exact == 0
                      ? memcmp(&a[t * tier->cout + o], &b[t * tier->cout + o], sizeof(float)) != 0
                      : !(err <= tol))
                g_error("%s tier %s cin %d cout %d taps %d dil %d exact %d: frame %zu output %d: "
                        "%.9g, scalar %.9g (tolerance %.3g)",
                        cands[ii].name, tier->name, cin, tier->cout, taps, dilation, tier->n_exact,
                        t, o, b[t * tier->cout + o], a[t * tier->cout + o], tol);
              worst = MAX(worst, tol > 0 ? err / tol : 0.0);
            }
          for (i = 0; i < cin; i++) {
            g_free(sig[i]);
            g_free(padded[i]);
          }
          g_free(sig);
          g_free(padded);
          g_free(a);
          g_free(b);
          tier_free(tier);
        }
  g_test_message("whole tiers: worst difference %.3f of the tolerance over %d table(s)", worst,
                 n_cands - 1);
  g_rand_free(rng);
}

/* Digital silence in gives the bias out, exactly, under every table: a
 * silent look-back has sigma 0, which zeroes the table term (whatever the
 * tables' offsets), and the exact taps sum zeros. From the stream's start,
 * and after sound once a row's look-back (its block's start minus the span)
 * is silent. */
static void
test_silence(void)
{
  static const int specs[][4] = { /* s, depth, table_bits, exact taps */
                                  { 4, 4, 8, 0 },
                                  { 2, 6, 16, 5 },
                                  { 8, 5, 6, 2 },
                                  { 1, 8, 8, 0 }
  };
  GRand *rng = g_rand_new_with_seed(707);
  int ii;
  size_t sp;

  for (ii = 0; ii < n_cands; ii++)
    for (sp = 0; sp < G_N_ELEMENTS(specs); sp++) {
      const int cin = 1 + (int)sp % 3, cout = 1 + 5 * (int)sp % 9, taps = 24, dilation = 2;
      MdnTier *tier = random_tier(cin, cout, taps, dilation, specs[sp][0], specs[sp][1],
                                  specs[sp][3], specs[sp][2], rng);
      const size_t n = 2 * MDN_CHUNK + 300, sound = 500, pad = mdn_tier_history(tier) + 64;
      const size_t span = mdn_tier_span(tier);
      float **padded = g_new(float *, cin), *bias = g_new(float, cout), *out;
      size_t t, loud = 0;
      int i, o, with_sound;

      /* a bias would hide a tiny output: none, or zero on output 0 */
      for (o = 0; o < cout; o++)
        bias[o] = o == 0 ? 0.0f : (float)g_rand_double_range(rng, -1.0, 1.0);
      for (i = 0; i < cin; i++)
        padded[i] = g_new0(float, pad + n);
      for (with_sound = 0; with_sound < 4; with_sound++) {
        const float *b = with_sound < 2 ? NULL : bias;
        for (i = 0; i < cin; i++)
          for (t = 0; t < n; t++)
            padded[i][pad + t] = with_sound % 2 && t < sound
                                     ? (float)g_rand_double_range(rng, -1.0, 1.0)
                                     : (t % 3 ? 0.0f : -0.0f);
        out = run_kernels(tier, &cands[ii].dsp, padded, pad, n, b, rng);
        for (t = 0; t < n; t++) {
          const gboolean silent = with_sound % 2 == 0 || t - t % tier->norm_block >= sound + span;
          for (o = 0; o < cout; o++) {
            const float want = b != NULL ? b[o] : 0.0f;
            if (silent && out[t * cout + o] != want)
              g_error("%s tier %s cin %d cout %d: silence%s, frame %zu output %d: %g, bias %g",
                      cands[ii].name, tier->name, cin, cout, with_sound % 2 ? " after sound" : "",
                      t, o, out[t * cout + o], want);
            loud += !silent && out[t * cout + o] != want;
          }
        }
        g_free(out);
      }
      g_assert_cmpuint(loud, >, 0); /* the sound did reach the output */
      for (i = 0; i < cin; i++)
        g_free(padded[i]);
      g_free(padded);
      g_free(bias);
      tier_free(tier);
    }
  g_rand_free(rng);
}

/* ---- bench mode (MDN_TIER_BENCH=1, or a case's name; never asserted) ---- */

/* ns per frame of mdn_tier_process alone (no stream: input deinterleaved
 * once, 1024-frame calls) on music-like input, for each ISA. */
static void
bench_tiers(void)
{
  static const struct {
    const char *what;
    int cin, cout, taps, dilation, s, depth, n_exact;
  } cases[] = {
    { "lowpass64 s4d4", 1, 1, 64, 1, 4, 4, 0 },     { "lowpass64 s8d4", 1, 1, 64, 1, 8, 4, 0 },
    { "lowpass64 s8d4e12", 1, 1, 64, 1, 8, 4, 12 }, { "bank16 s4d4", 1, 16, 128, 1, 4, 4, 0 },
    { "bank16 s8d4", 1, 16, 128, 1, 8, 4, 0 },      { "layer16 s2d4", 16, 16, 9, 2, 2, 4, 0 },
    { "layer16 s4d4", 16, 16, 9, 2, 4, 4, 0 },
  };
  const size_t n = 48000 * 4;
  GRand *rng = g_rand_new_with_seed(7);
  size_t ci;
  for (ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
    MdnTier *tier = random_tier(cases[ci].cin, cases[ci].cout, cases[ci].taps, cases[ci].dilation,
                                cases[ci].s, cases[ci].depth, cases[ci].n_exact, 8, rng);
    const size_t pad = (tier->norm_block = MDN_NORM_BLOCK, mdn_tier_history(tier) + 64);
    float **padded = g_new(float *, tier->cin), *out = g_new(float, 1024 * tier->cout);
    int i, isa;
    if (strcmp(cases[ci].what, g_getenv("MDN_TIER_BENCH")) != 0
        && strcmp(g_getenv("MDN_TIER_BENCH"), "1") != 0) {
      tier_free(tier);
      g_free(padded);
      g_free(out);
      continue;
    }
    for (i = 0; i < tier->cin; i++) {
      float *music = mdn_signal_music(n, 48000.0, 100 + i);
      padded[i] = g_new0(float, pad + n);
      memcpy(padded[i] + pad, music, sizeof(float) * n);
      g_free(music);
    }
    for (isa = 0; isa < MDN_N_ISAS; isa++) {
      const char *forced = g_getenv("MADDNESS_ISA");
      MdnTierDsp dsp;
      double best = 1e30;
      int run;
      if (!mdn_cpu_supports((MdnIsa)isa)
          || (forced != NULL && strcmp(forced, mdn_isa_name((MdnIsa)isa)) != 0))
        continue; /* MADDNESS_ISA set: that one only (for callgrind) */
      mdn_tier_dsp_init(&dsp, mdn_isa_flags((MdnIsa)isa) & mdn_cpu_flags_detect());
      for (run = 0; run < (forced != NULL ? 1 : 5); run++) {
        MdnTierState *state = mdn_tier_state_new_dsp(tier, &dsp);
        gint64 t0 = g_get_monotonic_time();
        size_t done;
        for (done = 0; done < n; done += 1024) {
          const float *x[MDN_MAX_CHANNELS];
          for (i = 0; i < tier->cin; i++)
            x[i] = padded[i] + pad + done;
          mdn_tier_process(tier, state, x, done, MIN(1024, n - done), NULL, out);
        }
        best = MIN(best, (g_get_monotonic_time() - t0) * 1e3 / n);
        mdn_tier_state_free(state);
      }
      g_printerr("bench %-18s cin %2d cout %2d K %3d: %-6s %7.2f ns/frame\n", cases[ci].what,
                 tier->cin, tier->cout, tier->taps, mdn_isa_name((MdnIsa)isa), best);
    }
    for (i = 0; i < tier->cin; i++)
      g_free(padded[i]);
    g_free(padded);
    g_free(out);
    tier_free(tier);
  }
  g_rand_free(rng);
}

/* The tables: the reference for no flags; on x86-64 each level's kernels
 * where the CPU has it, AVX-512 keeping AVX2's for what it has no kernel
 * of, the VBMI scan with VBMI; NEON's on AArch64; planes built whenever a
 * scan reads them; the engine's table is the one of the flags in use. */
static void
test_dispatch(void)
{
  const unsigned cpu = mdn_cpu_flags_detect();
  MdnTierDsp dsp;
  int ii, slot;

  for (ii = 0; ii < n_cands; ii++) {
    gboolean vector_scan = FALSE;
    g_test_message("table %s", cands[ii].name);
    for (slot = 0; slot < MDN_TIER_N_SCANS; slot++)
      vector_scan |= cands[ii].dsp.scan[slot] != ref->scan[0];
    g_assert_true(cands[ii].dsp.uses_planes == vector_scan);
  }
  g_assert_cmpstr(cands[0].name, ==, "c");
  g_assert_cmpuint(ref->encode_step, ==, 0);
  /* The engine's tables take every entry from some level's own table, with
   * that level's flag (the emulated tables are made by hand). */
  for (ii = 0; ii < n_cands; ii++) {
    const MdnTierDsp *d = &cands[ii].dsp;
    MdnTierDsp lv;
    unsigned f;
    if (strstr(cands[ii].name, "emulated") != NULL)
      continue;
    for (slot = 0; slot < MDN_TIER_N_SCANS; slot++) {
      f = d->scan_flag[slot];
      mdn_tier_dsp_init_levels(&lv, f == 0 ? 0 : (f | (f - 1)) & ~MDN_CPU_FLAG_INTEL);
      g_assert_true(lv.scan[slot] == d->scan[slot] && lv.scan_flag[slot] == f);
    }
    f = d->encode_flag;
    mdn_tier_dsp_init_levels(&lv, f == 0 ? 0 : (f | (f - 1)) & ~MDN_CPU_FLAG_INTEL);
    g_assert_true(lv.encode == d->encode && lv.encode_step == d->encode_step);
    f = d->output_flag;
    mdn_tier_dsp_init_levels(&lv, f == 0 ? 0 : (f | (f - 1)) & ~MDN_CPU_FLAG_INTEL);
    g_assert_true(lv.output == d->output);
    f = d->sigma_flag;
    mdn_tier_dsp_init_levels(&lv, f == 0 ? 0 : (f | (f - 1)) & ~MDN_CPU_FLAG_INTEL);
    g_assert_true(lv.run_end == d->run_end && lv.max_abs == d->max_abs);
  }
#if defined(__x86_64__)
  /* GCC and clang build every x86 kernel. */
  if (cpu & MDN_CPU_FLAG_AVX2) {
    mdn_tier_dsp_init_levels(&dsp, mdn_isa_flags(MDN_ISA_AVX2));
    g_assert_true(dsp.encode == mdn_tier_encode_avx2 && dsp.encode_step == 32);
    g_assert_true(dsp.scan[MDN_TIER_SCAN16] == mdn_tier_scan_avx2);
    g_assert_true(dsp.scan[MDN_TIER_SCAN256] == mdn_tier_scan_avx2);
    g_assert_true(dsp.output == mdn_tier_output_avx2);
    g_assert_true(dsp.max_abs == mdn_tier_max_abs_avx2);
    g_assert_true(dsp.count_below == mdn_tier_count_below_avx2);
    g_assert_true(dsp.run_end == mdn_tier_run_end_avx2);
  }
  if (cpu & MDN_CPU_FLAG_AVX512) {
    const unsigned all = mdn_isa_flags(MDN_ISA_AVX512) & cpu & ~MDN_CPU_FLAG_INTEL;
    MdnTierDsp avx2;
    mdn_tier_dsp_init_levels(&avx2, mdn_isa_flags(MDN_ISA_AVX2));
    /* Intel: the 16-entry scan, encode and output stay AVX2's (x86/init.c) */
    mdn_tier_dsp_init(&dsp, all | MDN_CPU_FLAG_INTEL);
    g_assert_true(dsp.scan[MDN_TIER_SCAN16] == avx2.scan[MDN_TIER_SCAN16]);
    g_assert_cmpuint(dsp.scan_flag[MDN_TIER_SCAN16], ==, MDN_CPU_FLAG_AVX2);
    g_assert_true(dsp.encode == avx2.encode && dsp.encode_step == avx2.encode_step);
    g_assert_true(dsp.output == avx2.output);
    mdn_tier_dsp_init_levels(&dsp, mdn_isa_flags(MDN_ISA_AVX512) & ~MDN_CPU_FLAG_AVX512VBMI);
    g_assert_true(dsp.encode == mdn_tier_encode_avx512 && dsp.encode_step == 0);
    g_assert_true(dsp.scan[MDN_TIER_SCAN64] == mdn_tier_scan_avx512);
    g_assert_true(dsp.output == mdn_tier_output_avx512);
    g_assert_true(dsp.run_end == mdn_tier_run_end_avx2);
  }
  if (cpu & MDN_CPU_FLAG_AVX512VBMI) {
    mdn_tier_dsp_init_levels(&dsp, mdn_isa_flags(MDN_ISA_AVX512) & ~MDN_CPU_FLAG_INTEL);
    for (slot = 0; slot < MDN_TIER_N_SCANS; slot++)
      g_assert_true(dsp.scan[slot] == mdn_tier_scan_avx512vbmi);
  }
#elif defined(__aarch64__)
  /* Every AArch64 CPU runs the NEON kernels, and the engine picks them
   * unless MADDNESS_ISA says otherwise. */
  g_assert_true(cpu & MDN_CPU_FLAG_NEON);
  mdn_tier_dsp_init(&dsp, cpu);
  g_assert_true(dsp.encode == mdn_tier_encode_neon && dsp.scan[0] == mdn_tier_scan_neon);
  g_assert_true(dsp.uses_planes);
#endif
  mdn_tier_dsp_init(&dsp, mdn_cpu_flags());
  g_assert_true(memcmp(&dsp, &mdn_dsp()->tier, sizeof dsp) == 0);
  if (g_getenv("MADDNESS_ISA") == NULL)
    g_assert_cmpuint(mdn_cpu_flags(), ==, cpu);
  g_test_message("engine ISA: %s", mdn_isa());
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  init_candidates();
  g_test_add_func("/tier-kernels/dispatch", test_dispatch);
  g_test_add_func("/tier-kernels/encode", test_encode);
  g_test_add_func("/tier-kernels/scan", test_scan);
  g_test_add_func("/tier-kernels/output", test_output);
  g_test_add_func("/tier-kernels/sigma", test_sigma_kernels);
  g_test_add_func("/tier-kernels/whole-tier", test_whole_tier);
  g_test_add_func("/tier-kernels/silence", test_silence);
  if (g_getenv("MDN_TIER_BENCH") != NULL)
    g_test_add_func("/tier-kernels/bench", bench_tiers);
  return g_test_run();
}

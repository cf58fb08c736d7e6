/* tier-kernels.h: the tier runtime's inner loops (runtime/tier.c) and their
 * table. mdn_tier_dsp_init() (scalar/tier.c) fills it with the plain-C
 * reference, then each architecture's init (x86/init.c, arm/init.c) puts in
 * the kernels the CPU flags allow, entry by entry.
 *
 * Encode and scan work on a run of rows that share one sigma; tier.c cuts
 * the stream into such runs. The table sums are output-major: element
 * (o, r) is at o * MDN_TIER_ROW_STRIDE + r, so the scans run along rows.
 * Encode, scan, max_abs and count_below results are identical across ISAs;
 * the output kernel's exact taps may differ by float rounding (FMA), the rest
 * of its expression is identical given identical exact sums.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_TIER_KERNELS_H
#define MDN_TIER_KERNELS_H

#include "mdn-private.h"

#include <string.h>

G_BEGIN_DECLS

/* Rows per kernel call at most, and the padding after them: vector kernels
 * may compute (and write) up to MDN_TIER_ROW_PAD rows past n. */
#define MDN_TIER_ROWS 256
#define MDN_TIER_ROW_PAD 64
#define MDN_TIER_ROW_STRIDE (MDN_TIER_ROWS + MDN_TIER_ROW_PAD)

/* Rows of table sums the output kernel may read: cout rounded up to whole
 * vectors of 16 outputs (the rows past cout are zeros, never written). */
static inline size_t
mdn_tier_sum_rows(int cout)
{
  return ((size_t)cout + 15) & ~(size_t)15;
}

/* Readable floats after the buckets - 1 thresholds of a channel, so vector
 * encoders can load whole 16-float level tables. */
#define MDN_TIER_THR_PAD 16

/* The tables of a tier in the layouts the scan kernels read. */
typedef struct {
  int n_codebooks, depth, buckets, cout, table_bits;
  const void *lut; /* the tier's guint8/guint16 [c][b][o] (scalar kernel) */
  /* [table_bits / 8][c][o][bucket_stride]: byte p (low first) of each entry,
   * bucket_stride = MAX (buckets, 16), zero padded (vector kernels). */
  const guint8 *planes;
  int bucket_stride;
} MdnTierTables;

/* codes[k] = the tree code of the window ending at x[k], k < n:
 * node = 2 * node + (x[k - split[l] * dilation] > thr[(1 << l) - 1 + node] * sigma),
 * as mdn_tier_encode_one(). thr has MDN_TIER_THR_PAD readable floats after
 * its buckets - 1 thresholds. */
typedef void MdnTierEncodeFn(const guint8 *split, const float *thr, float sigma, int depth,
                             int dilation, const float *x, size_t n, guint8 *codes);
/* The hyperplane encoder's codes[k], k < n: node = 2 * node + (p_l > thr[(1 << l)
 * - 1 + node] * sigma), p_l = mdn_tier_project (hyperplanes + l * s, s, &x[k],
 * dilation) (products added in column order, no fused multiply-add, so
 * every ISA gives the same codes). thr as for encode. */
typedef void MdnTierEncodeHyperplanesFn(const float *hyperplanes, int s, const float *thr,
                                        float sigma, int depth, int dilation, const float *x,
                                        size_t n, guint8 *codes);
/* sums[o][r] = sum over codebooks c of entry (c, codes[offsets[c] + r], o),
 * r < n <= MDN_TIER_ROWS; codes[offsets[c] + r] must be readable (and
 * < buckets) for r < n + MDN_TIER_ROW_PAD. Exact integer sums. */
typedef void MdnTierScanFn(const MdnTierTables *tables, const guint8 *codes,
                           const ptrdiff_t *offsets, size_t n, guint32 *sums);
/* What the output kernel reads for a batch of rows. */
typedef struct {
  const guint32 *sums;       /* [mdn_tier_sum_rows (cout)][MDN_TIER_ROW_STRIDE] table sums */
  const float *const *exact; /* [n_exact]: exact tap e's input at row r is exact[e][r] */
  const float *w;            /* [n_exact][cout]: the exact taps' weights */
  int n_exact, cout;
  const float *offset, *scale; /* [cout]: the tables' dequantisation */
  const float *bias;           /* [cout], or NULL: none */
  const float *sigma;          /* [n]: each row's sigma, readable up to the next 16 rows */
  gboolean small;              /* every sum is below 2^31 (one int conversion rounds the same) */
  float *scratch;              /* 2 * cout * MDN_TIER_ROW_STRIDE floats */
} MdnTierOutputArgs;
/* The rows' outputs, r < n <= MDN_TIER_ROWS, o < cout:
 *   a = sigma[r] * scale[o],  c = sigma[r] * offset[o] + bias[o]   (bias NULL: + 0)
 *   t = a * (float) sums[o][r] + c
 *   e = sum_e w[e * cout + o] * exact[e][r]   (from 0, in order e = 0, 1, ...;
 *                                             vector kernels may fuse: rounding)
 *   out[r * cout + o] = n_exact > 0 ? e + t : t
 * each operation rounded on its own but for the exact sum's; nothing past
 * out[n * cout - 1] written. sigma is a power of two (or 0): a and c are
 * sigma times the tables' scale and offset, exactly unless they leave the
 * normal range; a kernel may compute them once for rows of the same sigma. */
typedef void MdnTierOutputFn(const MdnTierOutputArgs *args, size_t n, float *out);

/* One output of one row by that rule, given its exact sum (ignored when
 * n_exact is 0) and its table sum: the plain-C output kernel's expression,
 * and the audit's (runtime/audit.c), so the two agree to the bit. bias 0
 * when there is none (as NULL: + 0). */
static inline float
mdn_tier_output_one(float sigma, float scale, float offset, float bias, guint32 sum, int n_exact,
                    float exact)
{
  const float a = sigma * scale;
  const float c = sigma * offset + bias;
  const float t = a * (float)sum + c;
  return n_exact > 0 ? exact + t : t;
}
/* max |x[i][u]| over i < cin, u in [first, last]; NaN ignored; 0 if empty. */
typedef float MdnTierMaxAbsFn(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last);
/* How many leading frames u = first, first + 1, ... (at most n) have
 * |x[i][u]| <= level in every channel (NaN counts as below). */
typedef size_t MdnTierCountBelowFn(const float *const *x, int cin, ptrdiff_t first, size_t n,
                                   float level);
/* The end of the run of rows with one sigma that goes on at row end of the
 * chunk (frame0: the absolute frame of row 0, n rows, span as
 * mdn_tier_span(), block the normalisation block L, a power of two); the
 * run's sigma is sigma, the next run's goes to *next_sigma (sigma when the
 * run reaches n). mdn_tier_run_end() with an ISA's max_abs and count_below. */
typedef size_t MdnTierRunEndFn(const float *const *x, int cin, gint64 frame0, size_t end, size_t n,
                               ptrdiff_t span, size_t block, float sigma, float *next_sigma);

/* The scans by table size: scan[mdn_tier_scan_index (depth)], so each size
 * can take the ISA that is fastest for it. */
enum {
  MDN_TIER_SCAN16, /* depths 1-4: 16-entry tables (2..16 buckets) */
  MDN_TIER_SCAN32,
  MDN_TIER_SCAN64,
  MDN_TIER_SCAN128,
  MDN_TIER_SCAN256,
  MDN_TIER_N_SCANS
};

static inline int
mdn_tier_scan_index(int depth)
{
  return depth <= 4 ? MDN_TIER_SCAN16 : MDN_TIER_SCAN16 + depth - 4;
}

typedef struct {
  MdnTierEncodeFn *encode;
  size_t encode_step; /* encode runs fastest on multiples of this many positions (0: any) */
  MdnTierEncodeHyperplanesFn *encode_hyperplanes;
  MdnTierScanFn *scan[MDN_TIER_N_SCANS];
  gboolean uses_planes;    /* some scan reads tables->planes: the state builds them */
  MdnTierOutputFn *output; /* exact taps, tables and bias into the output rows */
  MdnTierMaxAbsFn *max_abs;
  MdnTierCountBelowFn *count_below;
  MdnTierRunEndFn *run_end;
  /* The level (MDN_CPU_FLAG_*, 0: the plain-C reference) each entry comes
   * from, max_abs, count_below and run_end together as sigma: the cost model
   * (runtime/tier-cost.c) weighs each kind of operation by it. */
  unsigned encode_flag, scan_flag[MDN_TIER_N_SCANS], output_flag, sigma_flag;
} MdnTierDsp;

/* mdn_pow2_ceil() without frexpf: for m in (2^-100, 2^100) (normal floats)
 * the next power of two above m is the exponent field plus one. */
static inline float
mdn_tier_pow2_ceil(float m)
{
  guint32 bits;
  if (!(m > 0x1p-100f))
    return m == 0.0f ? 0.0f : 0x1p-100f;
  if (!(m < 0x1p100f))
    return 0x1p100f;
  memcpy(&bits, &m, sizeof bits);
  bits = (bits & 0x7f800000u) + 0x00800000u;
  memcpy(&m, &bits, sizeof bits);
  return m;
}

/* The largest |x| that keeps a row's sigma at `sigma`: pow2_ceil (a) <= sigma
 * exactly when a <= below_level (sigma) (sigma 0, silence: only zeros). */
static inline float
mdn_tier_below_level(float sigma)
{
  if (sigma >= 0x1p100f)
    return INFINITY;
  guint32 bits;
  if (sigma <= 0x1p-100f)
    return sigma == 0.0f ? 0.0f : 0x1p-100f;
  memcpy(&bits, &sigma, sizeof bits); /* a normal power of two: the float just below */
  bits--;
  memcpy(&sigma, &bits, sizeof bits);
  return sigma;
}

/* max |x[i][r]| over the channels (NaN ignored), as the max_abs kernel. */
static inline float
mdn_tier_frame_max(int cin, const float *const *x, ptrdiff_t r)
{
  float m = 0.0f;
  int i;
  for (i = 0; i < cin; i++) {
    float a = fabsf(x[i][r]);
    if (a > m)
      m = a;
  }
  return m;
}

/* The run_end kernels' body: extends a run while sigma stays, across block
 * starts whose look-back gives the same sigma and inside blocks up to a
 * louder frame. Inlined into each ISA's file with its own max_abs and
 * count_below. */
static inline __attribute__((always_inline)) size_t
mdn_tier_run_end(const float *const *x, int cin, gint64 frame0, size_t end, size_t n,
                 ptrdiff_t span, size_t block, float sigma, float *next_sigma,
                 MdnTierMaxAbsFn *max_abs, MdnTierCountBelowFn *count_below)
{
  *next_sigma = sigma;
  while (end < n) {
    const size_t into_block = (size_t)((guint64)(frame0 + (gint64)end) & (block - 1));
    size_t limit, below;
    if (into_block == 0) {
      float block_sigma
          = mdn_tier_pow2_ceil(max_abs(x, cin, (ptrdiff_t)end - span, (ptrdiff_t)end));
      if (block_sigma != sigma) {
        *next_sigma = block_sigma;
        break;
      }
      end++;
      continue;
    }
    limit = MIN(n, end + (block - into_block));
    below = count_below(x, cin, (ptrdiff_t)end, limit - end, mdn_tier_below_level(sigma));
    end += below;
    if (end < limit) {
      *next_sigma = MAX(sigma, mdn_tier_pow2_ceil(mdn_tier_frame_max(cin, x, (ptrdiff_t)end)));
      break;
    }
  }
  return end;
}

/* The body of every vector encode kernel: encode_depth (split, thr, sigma,
 * depth, dilation, x, n, codes) with the depth (1..8) a constant. */
#define MDN_TIER_ENCODE_BY_DEPTH(encode_depth, split, thr, sigma, depth, dilation, x, n, codes)    \
  do {                                                                                             \
    switch (depth) {                                                                               \
    case 1:                                                                                        \
      encode_depth(split, thr, sigma, 1, dilation, x, n, codes);                                   \
      break;                                                                                       \
    case 2:                                                                                        \
      encode_depth(split, thr, sigma, 2, dilation, x, n, codes);                                   \
      break;                                                                                       \
    case 3:                                                                                        \
      encode_depth(split, thr, sigma, 3, dilation, x, n, codes);                                   \
      break;                                                                                       \
    case 4:                                                                                        \
      encode_depth(split, thr, sigma, 4, dilation, x, n, codes);                                   \
      break;                                                                                       \
    case 5:                                                                                        \
      encode_depth(split, thr, sigma, 5, dilation, x, n, codes);                                   \
      break;                                                                                       \
    case 6:                                                                                        \
      encode_depth(split, thr, sigma, 6, dilation, x, n, codes);                                   \
      break;                                                                                       \
    case 7:                                                                                        \
      encode_depth(split, thr, sigma, 7, dilation, x, n, codes);                                   \
      break;                                                                                       \
    default:                                                                                       \
      encode_depth(split, thr, sigma, 8, dilation, x, n, codes);                                   \
      break;                                                                                       \
    }                                                                                              \
  } while (0)

/* The body of every vector scan kernel: zero sums without codebooks, else
 * scan_depth (t, codes, offsets, n, sums, depth) with the depth a constant
 * (depths 1-4 share the 16-bucket path), so each ISA's scan_depth is
 * compiled once per table size. */
#define MDN_TIER_SCAN_BY_DEPTH(scan_depth, t, codes, offsets, n, sums)                             \
  do {                                                                                             \
    if ((t)->n_codebooks == 0) {                                                                   \
      int o_;                                                                                      \
      for (o_ = 0; o_ < (t)->cout; o_++)                                                           \
        memset((sums) + (size_t)o_ * MDN_TIER_ROW_STRIDE, 0, sizeof(guint32) * (n));               \
      break;                                                                                       \
    }                                                                                              \
    switch ((t)->depth) {                                                                          \
    case 1:                                                                                        \
    case 2:                                                                                        \
    case 3:                                                                                        \
    case 4:                                                                                        \
      scan_depth(t, codes, offsets, n, sums, 4);                                                   \
      break;                                                                                       \
    case 5:                                                                                        \
      scan_depth(t, codes, offsets, n, sums, 5);                                                   \
      break;                                                                                       \
    case 6:                                                                                        \
      scan_depth(t, codes, offsets, n, sums, 6);                                                   \
      break;                                                                                       \
    case 7:                                                                                        \
      scan_depth(t, codes, offsets, n, sums, 7);                                                   \
      break;                                                                                       \
    default:                                                                                       \
      scan_depth(t, codes, offsets, n, sums, 8);                                                   \
      break;                                                                                       \
    }                                                                                              \
  } while (0)

/* The table the engine uses for `flags`: mdn_tier_dsp_init_levels(), then
 * the per-family choice of the architecture (x86/init.c): a family whose
 * kernel of a lower level measured faster on such CPUs takes that one. */
void mdn_tier_dsp_init(MdnTierDsp *dsp, unsigned flags);
/* The plain-C reference, then each entry from the highest level `flags`
 * allow that has a kernel for it (the kernel tests and tier-cost --kernels
 * see every kernel through these). */
void mdn_tier_dsp_init_levels(MdnTierDsp *dsp, unsigned flags);
void mdn_tier_dsp_init_x86(MdnTierDsp *dsp, unsigned flags);
void mdn_tier_dsp_choose_x86(MdnTierDsp *dsp, unsigned flags);
void mdn_tier_dsp_init_arm(MdnTierDsp *dsp, unsigned flags);

/* The vector kernels (x86/tier-avx2.c, x86/tier-avx512.c, arm/tier-neon.c),
 * for those inits. The AVX-512 file has its own encode, scans and output. */
MdnTierEncodeFn mdn_tier_encode_avx2, mdn_tier_encode_avx512, mdn_tier_encode_neon;
MdnTierScanFn mdn_tier_scan_avx2, mdn_tier_scan_avx512, mdn_tier_scan_avx512vbmi,
    mdn_tier_scan_neon;
MdnTierOutputFn mdn_tier_output_avx2, mdn_tier_output_avx512, mdn_tier_output_neon;
MdnTierMaxAbsFn mdn_tier_max_abs_avx2, mdn_tier_max_abs_neon;
MdnTierCountBelowFn mdn_tier_count_below_avx2, mdn_tier_count_below_neon;
MdnTierRunEndFn mdn_tier_run_end_avx2, mdn_tier_run_end_neon;
/* The hyperplane encoders (x86/hyper-avx2.c, x86/hyper-avx512.c,
 * arm/hyper-neon.c). */
MdnTierEncodeHyperplanesFn mdn_tier_encode_hyperplanes_avx2, mdn_tier_encode_hyperplanes_avx512,
    mdn_tier_encode_hyperplanes_neon;

/* mdn_tier_state_new() with the kernels of `dsp`, which must outlive the
 * state (tests compare tables). */
MdnTierState *mdn_tier_state_new_dsp(const MdnTier *tier, const MdnTierDsp *dsp);

/* Bytes of planes for a tier; fills tables, writing planes (may be NULL when
 * the kernels do not use them). Used by tier.c and the kernel tests. */
size_t mdn_tier_planes_size(const MdnTier *tier);
void mdn_tier_tables_init(MdnTierTables *tables, const MdnTier *tier, guint8 *planes);

G_END_DECLS

#endif /* MDN_TIER_KERNELS_H */

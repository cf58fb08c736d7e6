/* fft.h: the engine's real FFT (power-of-two sizes), for convolution.
 *
 * A real FFT of N points is a complex FFT of Nc = N/2 points of
 * z[n] = x[2n] + i x[2n+1] plus a pass that separates the two halves. The
 * complex FFT runs on rows of 16 complex values (MDN_FFT_LANES), stored
 * split, a row being 16 real parts then 16 imaginary parts (32 floats,
 * 128 bytes): the width of one AVX-512 register, two AVX2 ones, four NEON
 * ones. With Nc = 16 M, row m of the input holds z[16m .. 16m+15], so
 *   Z[k1 + M k2] = sum_j W16^(j k2) W_Nc^(j k1) C_j[k1]
 * where C_j is the M-point DFT of lane j over the rows: the column DFTs are
 * vertical (every operation works on whole rows: radix-4 decimation in
 * frequency, one radix-2 stage when log2 M is odd), then each row is
 * multiplied by its lane twiddles W_Nc^(j k1) and transformed across its
 * 16 lanes in registers (radix-2, decimation in frequency).
 *
 * Nothing is reordered: the spectrum stays in the order those stages leave
 * it (rows in digit-reversed order of k1, lanes in bit-reversed order of
 * k2), which the pointwise products of a convolution do not mind. The
 * inverse runs the same stages backwards (decimation in time) from that
 * order and ends in natural order. The real pass pairs bin k with Nc - k:
 * lane p of row r with lane 15 - p of the row holding M - k1 (row 0 pairs
 * with itself under another lane permutation).
 *
 * The spectrum of N real points is N floats in that layout: bins 0..Nc-1,
 * with the real Nyquist bin in the imaginary part of bin 0 (row 0, lane 0;
 * its real part is the DC bin). mdn_fft_forward gives X[k], the DFT of x
 * (it halves the input, exactly, and the real pass doubles it back: no
 * value on the way exceeds the sum of |x|, so a sample near FLT_MAX does not
 * overflow), and the inverse of X gives N x (unscaled), so
 * inverse(forward(x) . forward(h)) is N times the circular convolution
 * (mdn_fft_conv_scale).
 *
 * A transform is a list of steps, each a range of butterflies of one stage
 * (or of bin pairs of the real pass), run in order; the exact path runs the
 * steps of a large transform a few at a time over the calls before its
 * deadline. The kernels of the table (MdnFftDsp, in the process's tables of
 * dsp.h) run one step each: mdn_fft_dsp_init() (scalar/fft.c) fills it with
 * the plain-C reference, then the architecture's init (x86/init.c,
 * arm/init.c) with the kernels of the levels the CPU flags allow.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_FFT_H
#define MDN_FFT_H

#include "mdn-private.h"

G_BEGIN_DECLS

#define MDN_FFT_LANES 16
#define MDN_FFT_ROW_FLOATS (2 * MDN_FFT_LANES)
#define MDN_FFT_MIN_SIZE 64
#define MDN_FFT_MAX_SIZE (1 << 22)
/* Spectra and plans' tables are aligned to this many bytes. */
#define MDN_FFT_ALIGN 64

/* Step kinds, in the order of MdnFftDsp's step entries. */
enum {
  MDN_FFT_R4_FWD,   /* radix-4 butterflies over rows */
  MDN_FFT_R2_FWD,   /* radix-2 butterflies over pairs of adjacent rows (span 1) */
  MDN_FFT_REAL_FWD, /* the real pass, over pairs of rows */
  MDN_FFT_R4_INV,
  MDN_FFT_R2_INV,
  MDN_FFT_REAL_INV,
  MDN_FFT_N_KINDS
};

/* Step flags. */
enum {
  MDN_FFT_IN_REAL = 1 << 0,  /* reads real input (row r: floats 32r..32r+31 interleaved) */
  MDN_FFT_OUT_REAL = 1 << 1, /* writes real output (row r: floats 32r..32r+31 interleaved) */
  MDN_FFT_OUT_HALF = 1 << 2, /* with OUT_REAL: rows >= M/2 only, row r at 32(r - M/2) */
  MDN_FFT_LANE = 1 << 3,     /* span 1: the lane transform of each row, fused */
};

typedef struct {
  guint8 kind, flags;
  guint32 q;      /* span in rows (butterfly legs q rows apart) */
  guint32 base;   /* first row of the first group */
  guint32 groups; /* groups of radix * q rows, one after the other */
  guint32 k0, k1; /* butterflies k0..k1-1 of each group; MDN_FFT_REAL: pairs k0..k1-1 */
  guint32 tw;     /* the stage's twiddles: plan->tw + tw, 6 floats per k (w, w^2, w^3) */
  float cost;     /* relative cost, for spreading work over time */
} MdnFftStep;

typedef struct _MdnFftPlan MdnFftPlan;
struct _MdnFftPlan {
  size_t n;       /* N real points */
  size_t rows;    /* M = N / 32 */
  float *tw;      /* column twiddles (MdnFftStep.tw) */
  float *lane_tw; /* [M][32]: row r: W_Nc^(j k1(r)), 16 re then 16 im */
  float *real_tw; /* [M][32]: row r lane p: W_N^k, k the bin it holds */
  /* The lane transform's stages of span 8, 4, 2: per lane 1 for the lanes
   * that receive sums, W_(2h)^(lane mod h) for the ones that receive
   * differences (16 re then 16 im each); and the signs (+1 / -1) of the
   * butterflies of span 8, 4, 2, 1. */
  float lane_stage[3][MDN_FFT_ROW_FLOATS];
  float lane_sign[4][MDN_FFT_LANES];
  guint32 *pairs; /* [n_pairs][2]: rows (r, r') holding bins k and Nc-k, r <= r', row 0 first */
  size_t n_pairs;
  guint32 *row_k1;       /* [M]: k1 of each row */
  MdnFftStep *fwd, *inv; /* inv writes the last N/2 outputs only (overlap-save) */
  MdnFftStep *inv_full;  /* all N outputs */
  size_t n_fwd, n_inv, n_inv_full;
  double fwd_cost, inv_cost; /* sums of the steps' costs */
};

/* One step: reads src (real input for MDN_FFT_IN_REAL, else a spectrum),
 * writes dst (real output for MDN_FFT_OUT_REAL, else a spectrum); src and
 * dst may be the same buffer. */
typedef void MdnFftStepFn(const MdnFftPlan *plan, const MdnFftStep *step, float *dst,
                          const float *src);

/* The frequency-domain multiply-accumulate, rows row0..row1-1 of spectra in
 * the layout above:
 *   y[b] = sum_{j < n_spec} s[j][b] * h[j * h_stride + b]
 * (complex products, but bin 0's parts multiplied as two reals: DC and
 * Nyquist); y is overwritten (zero when n_spec is 0). */
typedef void MdnFftMacFn(float *y, const float *const *s, const float *h, size_t h_stride,
                         int n_spec, size_t row0, size_t row1);

typedef struct {
  /* [MDN_FFT_N_KINDS]: forward (decimation in frequency): r4, r2, real
   * pass; inverse (decimation in time): r4, r2, real pass. */
  MdnFftStepFn *step[MDN_FFT_N_KINDS];
  MdnFftMacFn *mac;
  /* The flag (MDN_CPU_FLAG_*, 0: the plain-C reference) of the level the
   * entries come from (all from one level: the steps of a transform and its
   * multiply-accumulate agree on rounding); the exact path's planner weighs
   * its operations by it. */
  unsigned flag;
} MdnFftDsp;

/* The plain-C reference, then what `flags` allow. AVX-512 measured
 * 1.6-1.9x faster than AVX2 at every size (bench/fft-bench, AMD EPYC with
 * AVX-512) and the exact path 1.2-1.6x faster with it: the highest level
 * the flags allow is the table's. */
void mdn_fft_dsp_init(MdnFftDsp *dsp, unsigned flags);
void mdn_fft_dsp_init_x86(MdnFftDsp *dsp, unsigned flags);
void mdn_fft_dsp_init_arm(MdnFftDsp *dsp, unsigned flags);

/* The vector kernels (x86/fft-avx2.c, x86/fft-avx512.c, arm/fft-neon.c),
 * for those inits. */
MdnFftStepFn mdn_fft_r4_fwd_avx2, mdn_fft_r2_fwd_avx2, mdn_fft_real_fwd_avx2, mdn_fft_r4_inv_avx2,
    mdn_fft_r2_inv_avx2, mdn_fft_real_inv_avx2;
MdnFftStepFn mdn_fft_r4_fwd_avx512, mdn_fft_r2_fwd_avx512, mdn_fft_real_fwd_avx512,
    mdn_fft_r4_inv_avx512, mdn_fft_r2_inv_avx512, mdn_fft_real_inv_avx512;
MdnFftStepFn mdn_fft_r4_fwd_neon, mdn_fft_r2_fwd_neon, mdn_fft_real_fwd_neon, mdn_fft_r4_inv_neon,
    mdn_fft_r2_inv_neon, mdn_fft_real_inv_neon;
MdnFftMacFn mdn_fft_mac_avx2, mdn_fft_mac_avx512, mdn_fft_mac_neon;

/* NULL when n is not a power of two in MDN_FFT_MIN_SIZE..MDN_FFT_MAX_SIZE,
 * or memory runs out. Plans are read-only once made. */
MdnFftPlan *mdn_fft_plan_new(size_t n);
void mdn_fft_plan_free(MdnFftPlan *plan);
/* Bytes a plan of n points allocates (for the history bounds). */
size_t mdn_fft_plan_bytes(size_t n);

/* Floats, aligned to MDN_FFT_ALIGN, zeroed; NULL when memory runs out.
 * Free with mdn_fft_free(). */
float *mdn_fft_alloc(size_t n_floats);
void mdn_fft_free(float *p);

/* Runs steps first..last-1 of a step list of the plan: reads `in` (real
 * input, forward) or `spec`, writes `spec` or `out` (real output, inverse). */
void mdn_fft_run(const MdnFftPlan *plan, const MdnFftDsp *dsp, const MdnFftStep *steps,
                 size_t first, size_t last, const float *in, float *spec, float *out);
/* The whole forward transform: in (N floats, any alignment) to spec
 * (N floats, aligned). */
void mdn_fft_forward(const MdnFftPlan *plan, const MdnFftDsp *dsp, const float *in, float *spec);
/* The whole inverse transform, destroying spec: out receives the last N/2
 * of the N outputs (overlap-save keeps only those). */
void mdn_fft_inverse_half(const MdnFftPlan *plan, const MdnFftDsp *dsp, float *spec, float *out);
/* 1 / N: inverse_half(forward(x) . forward(h) * scale) is the circular
 * convolution of x and h. */
double mdn_fft_conv_scale(const MdnFftPlan *plan);

/* For tests and the bench: the spectrum as the DFT X[k], k = 0..N/2, in
 * natural order, interleaved (re, im) in 2 (N/2 + 1) floats; and back. */
void mdn_fft_to_natural(const MdnFftPlan *plan, const float *spec, float *natural);
void mdn_fft_from_natural(const MdnFftPlan *plan, const float *natural, float *spec);
/* The full inverse (all N outputs), destroying spec. */
void mdn_fft_inverse_full(const MdnFftPlan *plan, const MdnFftDsp *dsp, float *spec, float *out);

G_END_DECLS

#endif /* MDN_FFT_H */

/* net-kernels.h: the inner loops of trained models (engine/net/) and their
 * table, filled as the other families' (dsp.h): mdn_net_dsp_init()
 * (scalar/net.c) puts in the plain-C reference, then x86/init.c what the
 * CPU flags allow (x86/net-avx2.c, x86/net-avx512.c, each compiled with its
 * own flags).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_NET_KERNELS_H
#define MDN_NET_KERNELS_H

#include "mdn-private.h"

G_BEGIN_DECLS

/* A small matrix product over rows of planar history:
 *   y[o][t] = ((base ? base[o][t] : 0) + (bias ? bias[o] : 0))
 *             + w[o*rows + 0] * x[0][t] + ... + w[o*rows + rows-1] * x[rows-1][t]
 * for o < cout, t < n, summed left to right (each product rounded, or fused
 * with the add, as the ISA does), so a frame's result depends neither on n
 * nor on its place in the block. base[o] may be y[o]; x rows may overlap
 * each other but not y. */
typedef void MdnNetGemmFn(float *const *y, const float *const *base, const float *bias,
                          const float *w, int cout, int rows, const float *const *x, size_t n);

/* tanh in place over n values: every ISA evaluates mdn_net_tanh_ref()'s
 * formula (FMA where the ISA has it). */
typedef void MdnNetMapFn(float *v, size_t n);

typedef struct {
  MdnNetGemmFn *gemm;
  MdnNetMapFn *tanh;
} MdnNetDsp;

/* The plain-C reference, then what `flags` allow. */
void mdn_net_dsp_init(MdnNetDsp *dsp, unsigned flags);
void mdn_net_dsp_init_x86(MdnNetDsp *dsp, unsigned flags);

/* The vector kernels, for x86/init.c. */
MdnNetGemmFn mdn_net_gemm_avx2, mdn_net_gemm_avx512;
MdnNetMapFn mdn_net_tanh_avx2, mdn_net_tanh_avx512;

/* tanh as a rational function on [-MDN_TANH_CLAMP, MDN_TANH_CLAMP] (clamped
 * outside, where tanh rounds to +-1 in float): x * P(x^2) / Q(x^2), P of
 * degree 5, Q of degree 4, fitted for least relative error (a weighted
 * least-squares fit iterated to near-minimax: 4.3e-9 before rounding;
 * test-net-kernels states the float error). The reference of every ISA's tanh;
 * a NaN stays NaN. */
#define MDN_TANH_CLAMP 9.0f
#define MDN_TANH_P0 0.99999999968012476523f
#define MDN_TANH_P1 0.13692307916883551871f
#define MDN_TANH_P2 0.003883825229407176622f
#define MDN_TANH_P3 0.000028318064592363574871f
#define MDN_TANH_P4 3.1322710961944500438e-8f
#define MDN_TANH_P5 (-1.2741380862584665262e-11f)
#define MDN_TANH_Q0 1.0f
#define MDN_TANH_Q1 0.47025640633981487943f
#define MDN_TANH_Q2 0.027302639134467529675f
#define MDN_TANH_Q3 0.000396588261936061355f
#define MDN_TANH_Q4 1.308948430774846385e-6f
static inline float
mdn_net_tanh_ref(float x)
{
  const float c = x < -MDN_TANH_CLAMP ? -MDN_TANH_CLAMP : (x > MDN_TANH_CLAMP ? MDN_TANH_CLAMP : x);
  const float u = c * c;
  float p = MDN_TANH_P5, q = MDN_TANH_Q4;
  p = p * u + MDN_TANH_P4;
  p = p * u + MDN_TANH_P3;
  q = q * u + MDN_TANH_Q3;
  p = p * u + MDN_TANH_P2;
  q = q * u + MDN_TANH_Q2;
  p = p * u + MDN_TANH_P1;
  q = q * u + MDN_TANH_Q1;
  p = p * u + MDN_TANH_P0;
  q = q * u + MDN_TANH_Q0;
  return c * p / q;
}

G_END_DECLS

#endif /* MDN_NET_KERNELS_H */

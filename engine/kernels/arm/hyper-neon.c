/* arm/hyper-neon.c: the hyperplane encoder for NEON (AArch64; built with
 * -ffp-contract=off; arm/init.c puts it in the table). 4 positions per
 * vector: the window's s columns loaded once, each level's projection s
 * products added in column order (vmulq then vaddq, never fused), exactly
 * as mdn_tier_project(); the node's threshold by lane loads. The last
 * positions (fewer than 4) in scalar code: nothing past x[n - 1] is read.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-kernels.h"

#include <arm_neon.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* The threshold of each lane's node at level table lvl. */
static ALWAYS_INLINE float32x4_t
node_thr(const float *lvl, uint32x4_t node)
{
  float32x4_t t = vdupq_n_f32(0.0f);
  t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 0), t, 0);
  t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 1), t, 1);
  t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 2), t, 2);
  t = vld1q_lane_f32(lvl + vgetq_lane_u32(node, 3), t, 3);
  return t;
}

static ALWAYS_INLINE void
hyper_encode(const float *hp, const float *thr_in, float sigma, const int s, const int depth,
             int dilation, const float *x, size_t n, guint8 *codes)
{
  float thr[256]; /* thresholds * sigma, as the scalar product */
  size_t k = 0;
  int j, l;

  for (j = 0; j < (1 << depth) - 1; j++)
    thr[j] = thr_in[j] * sigma;
  for (; k + 4 <= n; k += 4) {
    float32x4_t col[8];
    uint32x4_t node = vdupq_n_u32(0);
    guint8 bytes[8];
#pragma GCC unroll 8
    for (j = 0; j < s; j++)
      col[j] = vld1q_f32(x + k - (ptrdiff_t)j * dilation);
#pragma GCC unroll 8
    for (l = 0; l < depth; l++) {
      float32x4_t p = vdupq_n_f32(0.0f);
#pragma GCC unroll 8
      for (j = 0; j < s; j++)
        p = vaddq_f32(p, vmulq_f32(vdupq_n_f32(hp[l * s + j]), col[j]));
      node = vsubq_u32(vshlq_n_u32(node, 1),
                       vcgtq_f32(p, node_thr(thr + (1 << l) - 1, node))); /* true: -1 */
    }
    vst1_u8(bytes, vmovn_u16(vcombine_u16(vmovn_u32(node), vmovn_u32(node))));
    memcpy(codes + k, bytes, 4);
  }
  for (; k < n; k++) {
    unsigned node = 0;
    for (l = 0; l < depth; l++) {
      float p = mdn_tier_project(hp + l * s, s, x + k, dilation);
      node = 2 * node + (p > thr[(1u << l) - 1 + node]);
    }
    codes[k] = (guint8)node;
  }
}

/* hyper_encode with s a constant. */
#define HYPER_BY_S(depth)                                                                          \
  do {                                                                                             \
    switch (s) {                                                                                   \
    case 1:                                                                                        \
      hyper_encode(hp, thr, sigma, 1, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    case 2:                                                                                        \
      hyper_encode(hp, thr, sigma, 2, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    case 4:                                                                                        \
      hyper_encode(hp, thr, sigma, 4, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    default:                                                                                       \
      hyper_encode(hp, thr, sigma, 8, depth, dilation, x, n, codes);                               \
      break;                                                                                       \
    }                                                                                              \
  } while (0)

void
mdn_tier_encode_hyperplanes_neon(const float *hp, int s, const float *thr, float sigma, int depth,
                                 int dilation, const float *x, size_t n, guint8 *codes)
{
  switch (depth) {
  case 1:
    HYPER_BY_S(1);
    break;
  case 2:
    HYPER_BY_S(2);
    break;
  case 3:
    HYPER_BY_S(3);
    break;
  case 4:
    HYPER_BY_S(4);
    break;
  case 5:
    HYPER_BY_S(5);
    break;
  case 6:
    HYPER_BY_S(6);
    break;
  case 7:
    HYPER_BY_S(7);
    break;
  default:
    HYPER_BY_S(8);
    break;
  }
}

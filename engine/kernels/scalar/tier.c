/* scalar/tier.c: the reference tier kernels, plain C, written for clarity,
 * and the table's init. The vector kernels must match them (see
 * tier-kernels.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tier-kernels.h"

#include <string.h>

#define RS MDN_TIER_ROW_STRIDE

static void
encode_c(const guint8 *split, const float *thr, float sigma, int depth, int dilation,
         const float *x, size_t n, guint8 *codes)
{
  size_t k;
  int l;
  for (k = 0; k < n; k++) {
    unsigned node = 0;
    for (l = 0; l < depth; l++) {
      float v = x[(ptrdiff_t)k - (ptrdiff_t)split[l] * dilation];
      node = 2 * node + (v > thr[(1u << l) - 1 + node] * sigma);
    }
    codes[k] = (guint8)node;
  }
}

static void
encode_hyperplanes_c(const float *hyperplanes, int s, const float *thr, float sigma, int depth,
                     int dilation, const float *x, size_t n, guint8 *codes)
{
  size_t k;
  int l;
  for (k = 0; k < n; k++) {
    unsigned node = 0;
    for (l = 0; l < depth; l++) {
      float p = mdn_tier_project(hyperplanes + (size_t)l * s, s, x + k, dilation);
      node = 2 * node + (p > thr[(1u << l) - 1 + node] * sigma);
    }
    codes[k] = (guint8)node;
  }
}

/* Row by row: codes loaded once per codebook, entries contiguous in o. */
static void
scan_c(const MdnTierTables *t, const guint8 *codes, const ptrdiff_t *offsets, size_t n,
       guint32 *sums)
{
  const int cout = t->cout;
  const size_t row_stride = (size_t)t->buckets * cout;
  guint32 sum[MDN_MAX_CHANNELS];
  size_t r;
  int c, o;

  for (r = 0; r < n; r++) {
    memset(sum, 0, sizeof(guint32) * cout);
    if (t->table_bits == 16) {
      const guint16 *lut = t->lut;
      for (c = 0; c < t->n_codebooks; c++) {
        const guint16 *entry
            = lut + c * row_stride + (size_t)codes[offsets[c] + (ptrdiff_t)r] * cout;
        for (o = 0; o < cout; o++)
          sum[o] += entry[o];
      }
    } else {
      const guint8 *lut = t->lut;
      for (c = 0; c < t->n_codebooks; c++) {
        const guint8 *entry
            = lut + c * row_stride + (size_t)codes[offsets[c] + (ptrdiff_t)r] * cout;
        for (o = 0; o < cout; o++)
          sum[o] += entry[o];
      }
    }
    for (o = 0; o < cout; o++)
      sums[(size_t)o * RS + r] = sum[o];
  }
}

static void
output_c(const MdnTierOutputArgs *a, size_t n, float *out)
{
  const int cout = a->cout;
  size_t r;
  int o, e;
  for (r = 0; r < n; r++)
    for (o = 0; o < cout; o++) {
      float sum = 0.0f;
      for (e = 0; e < a->n_exact; e++)
        sum += a->w[(size_t)e * cout + o] * a->exact[e][r];
      out[r * cout + o] = mdn_tier_output_one(a->sigma[r], a->scale[o], a->offset[o],
                                              a->bias != NULL ? a->bias[o] : 0.0f,
                                              a->sums[(size_t)o * RS + r], a->n_exact, sum);
    }
}

static float
max_abs_c(const float *const *x, int cin, ptrdiff_t first, ptrdiff_t last)
{
  float m = 0.0f;
  ptrdiff_t u;
  int i;
  for (i = 0; i < cin; i++)
    for (u = first; u <= last; u++) {
      float a = fabsf(x[i][u]);
      if (a > m)
        m = a;
    }
  return m;
}

static size_t
count_below_c(const float *const *x, int cin, ptrdiff_t first, size_t n, float level)
{
  size_t k;
  int i;
  for (k = 0; k < n; k++)
    for (i = 0; i < cin; i++)
      if (fabsf(x[i][first + (ptrdiff_t)k]) > level)
        return k;
  return n;
}

static size_t
run_end_c(const float *const *x, int cin, gint64 frame0, size_t end, size_t n, ptrdiff_t span,
          size_t block, float sigma, float *next_sigma)
{
  return mdn_tier_run_end(x, cin, frame0, end, n, span, block, sigma, next_sigma, max_abs_c,
                          count_below_c);
}

void
mdn_tier_dsp_init_levels(MdnTierDsp *dsp, unsigned flags)
{
  int s;
  memset(dsp, 0, sizeof *dsp);
  dsp->encode = encode_c;
  dsp->encode_step = 0;
  dsp->encode_hyperplanes = encode_hyperplanes_c;
  for (s = 0; s < MDN_TIER_N_SCANS; s++)
    dsp->scan[s] = scan_c;
  dsp->uses_planes = FALSE;
  dsp->output = output_c;
  dsp->max_abs = max_abs_c;
  dsp->count_below = count_below_c;
  dsp->run_end = run_end_c;
#if defined(MDN_KERNELS_X86)
  mdn_tier_dsp_init_x86(dsp, flags);
#elif defined(MDN_KERNELS_ARM)
  mdn_tier_dsp_init_arm(dsp, flags);
#else
  (void)flags;
#endif
}

void
mdn_tier_dsp_init(MdnTierDsp *dsp, unsigned flags)
{
  mdn_tier_dsp_init_levels(dsp, flags);
#if defined(MDN_KERNELS_X86)
  mdn_tier_dsp_choose_x86(dsp, flags);
#endif
}

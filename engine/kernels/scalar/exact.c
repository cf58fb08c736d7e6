/* exact-kernels-scalar.c: the reference kernels of the exact path, plain C
 * (compiled for the baseline ISA; gcc vectorises the blocks of 8 with SSE2),
 * but for the complex multiply-accumulate on x86-64, written with SSE2.
 * See exact-kernels.h for what each computes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "exact-kernels.h"

#include <limits.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* acc[t] += sum_{k < taps} w[k] * x[t - k*dil], t < n. Four taps per pass
 * keep the accumulator traffic down; the sum stays in tap order:
 * ((acc + w0 x0) + w1 x1) + ... The t loops run in blocks of 8 with a
 * constant inner count: gcc -O2 (very-cheap cost model) vectorises those,
 * not a plain loop of unknown count. */
static void
fir_one_input(float *restrict acc, size_t n, const float *restrict w, int taps, int dil,
              const float *restrict x)
{
  int k = 0;
  size_t t, u;
  for (; k + 4 <= taps; k += 4) {
    const float w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3];
    const float *restrict x0 = x - (ptrdiff_t)k * dil;
    const float *restrict x1 = x0 - dil;
    const float *restrict x2 = x1 - dil;
    const float *restrict x3 = x2 - dil;
    for (t = 0; t + 8 <= n; t += 8)
      for (u = 0; u < 8; u++)
        acc[t + u] = acc[t + u] + w0 * x0[t + u] + w1 * x1[t + u] + w2 * x2[t + u] + w3 * x3[t + u];
    for (; t < n; t++)
      acc[t] = acc[t] + w0 * x0[t] + w1 * x1[t] + w2 * x2[t] + w3 * x3[t];
  }
  for (; k < taps; k++) {
    const float w0 = w[k];
    const float *restrict x0 = x - (ptrdiff_t)k * dil;
    for (t = 0; t + 8 <= n; t += 8)
      for (u = 0; u < 8; u++)
        acc[t + u] += w0 * x0[t + u];
    for (; t < n; t++)
      acc[t] += w0 * x0[t];
  }
}

static void
fir_scalar(float *acc, size_t acc_stride, int n_out, size_t n, const float *w, size_t w_out_stride,
           size_t w_stride, int taps, int cin, int dil, const float *const *x, size_t offset)
{
  int o, i;
  for (o = 0; o < n_out; o++)
    for (i = 0; i < cin; i++)
      fir_one_input(acc + (size_t)o * acc_stride, n, w + (size_t)o * w_out_stride + i * w_stride,
                    taps, dil, x[i] + offset);
}

#if defined(__SSE2__)
/* x86-64's baseline has SSE2: 2 complex per vector, the scheme of
 * exact-kernels-avx2.c without FMA (plain C on the interleaved spectra was
 * 1.6x slower than on split ones). re = sum (s.r, s.r) * h and
 * im = sum (s.i, s.i) * h over j, then y = re + (-im.i, im.r). */
static inline __m128
cmac_finish(__m128 re, __m128 im, __m128 neg_even)
{
  return _mm_add_ps(re, _mm_xor_ps(_mm_shuffle_ps(im, im, 0xB1), neg_even));
}

static void
cmac_scalar(kiss_fft_cpx *y, const kiss_fft_cpx *const *s, const kiss_fft_cpx *h, size_t h_stride,
            int n_spec, int bins)
{
  const __m128 neg_even = _mm_castsi128_ps(_mm_setr_epi32(INT_MIN, 0, INT_MIN, 0));
  int b = 0, j;
  for (; b + 8 <= bins; b += 8) {
    __m128 r0 = _mm_setzero_ps(), r1 = r0, r2 = r0, r3 = r0;
    __m128 i0 = r0, i1 = r0, i2 = r0, i3 = r0;
    for (j = 0; j < n_spec; j++) {
      const float *sj = (const float *)(s[j] + b);
      const float *hj = (const float *)(h + (size_t)j * h_stride + b);
      __m128 sv = _mm_loadu_ps(sj), hv = _mm_loadu_ps(hj);
      r0 = _mm_add_ps(r0, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xA0), hv));
      i0 = _mm_add_ps(i0, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xF5), hv));
      sv = _mm_loadu_ps(sj + 4);
      hv = _mm_loadu_ps(hj + 4);
      r1 = _mm_add_ps(r1, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xA0), hv));
      i1 = _mm_add_ps(i1, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xF5), hv));
      sv = _mm_loadu_ps(sj + 8);
      hv = _mm_loadu_ps(hj + 8);
      r2 = _mm_add_ps(r2, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xA0), hv));
      i2 = _mm_add_ps(i2, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xF5), hv));
      sv = _mm_loadu_ps(sj + 12);
      hv = _mm_loadu_ps(hj + 12);
      r3 = _mm_add_ps(r3, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xA0), hv));
      i3 = _mm_add_ps(i3, _mm_mul_ps(_mm_shuffle_ps(sv, sv, 0xF5), hv));
    }
    _mm_storeu_ps((float *)(y + b), cmac_finish(r0, i0, neg_even));
    _mm_storeu_ps((float *)(y + b) + 4, cmac_finish(r1, i1, neg_even));
    _mm_storeu_ps((float *)(y + b) + 8, cmac_finish(r2, i2, neg_even));
    _mm_storeu_ps((float *)(y + b) + 12, cmac_finish(r3, i3, neg_even));
  }
  for (; b < bins; b++) {
    float yr = 0, yi = 0;
    for (j = 0; j < n_spec; j++) {
      const kiss_fft_cpx sv = s[j][b], hv = h[(size_t)j * h_stride + b];
      yr += sv.r * hv.r - sv.i * hv.i;
      yi += sv.r * hv.i + sv.i * hv.r;
    }
    y[b].r = yr;
    y[b].i = yi;
  }
}
#else
/* One spectrum at a time over all bins, in blocks of 8 bins with a constant
 * inner count (which gcc -O2 vectorises, as in fir_one_input()); each bin's
 * sum runs over j in order. */
static void
cmac_scalar(kiss_fft_cpx *restrict y, const kiss_fft_cpx *const *s, const kiss_fft_cpx *h,
            size_t h_stride, int n_spec, int bins)
{
  int b, j, u;
  for (b = 0; b < bins; b++)
    y[b].r = y[b].i = 0;
  for (j = 0; j < n_spec; j++) {
    const kiss_fft_cpx *restrict sj = s[j], *restrict hj = h + (size_t)j * h_stride;
    for (b = 0; b + 8 <= bins; b += 8)
      for (u = 0; u < 8; u++) {
        const float sr = sj[b + u].r, si = sj[b + u].i, hr = hj[b + u].r, hi = hj[b + u].i;
        y[b + u].r += sr * hr - si * hi;
        y[b + u].i += sr * hi + si * hr;
      }
    for (; b < bins; b++) {
      const float sr = sj[b].r, si = sj[b].i, hr = hj[b].r, hi = hj[b].i;
      y[b].r += sr * hr - si * hi;
      y[b].i += sr * hi + si * hr;
    }
  }
}
#endif

const MdnExactKernels mdn_exact_kernels_scalar = { MDN_ISA_SCALAR, fir_scalar, cmac_scalar };

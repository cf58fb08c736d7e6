/* x86/stream-avx2.c: the stream's deinterleave for AVX2 (built with -mavx2;
 * x86/init.c puts it in the table when the CPU has the AVX2 level).
 *
 * deinterleave: 8 frames at a time. One channel: a plain scrubbed copy. Two
 *   channels: two loads split by shuffles. Eight or more: 8x8 transposes of
 *   8 frames by 8 channels; leftover channels (and every channel count from
 *   3 to 7) go through the reference loop (mdn_deinterleave_strided), as do the
 *   last n % 8 frames.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "simd-avx2.h"
#include "stream-kernels.h"

#include <immintrin.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* v with NaN/Inf lanes zeroed; each such lane adds 1 to its lane of *bad
 * (summed by count() at the end: lanes cannot overflow, n <= MDN_CHUNK
 * frames per call in the stream, and far more would be needed). */
static ALWAYS_INLINE __m256
scrub(__m256 v, __m256i *bad)
{
  const __m256i exp_mask = _mm256_set1_epi32(0x7f800000);
  __m256i e = _mm256_and_si256(_mm256_castps_si256(v), exp_mask);
  __m256i nonfinite = _mm256_cmpeq_epi32(e, exp_mask);
  *bad = _mm256_sub_epi32(*bad, nonfinite); /* -1 per bad lane */
  return _mm256_andnot_ps(_mm256_castsi256_ps(nonfinite), v);
}

static ALWAYS_INLINE size_t
count(__m256i bad)
{
  guint32 lanes[8];
  size_t sum = 0;
  int j;
  _mm256_storeu_si256((__m256i *)lanes, bad);
  for (j = 0; j < 8; j++)
    sum += lanes[j];
  return sum;
}

size_t
mdn_deinterleave_avx2(float *dst, size_t dst_stride, const float *src, int channels, size_t n)
{
  const size_t n8 = n - n % 8;
  __m256i vbad = _mm256_setzero_si256();
  size_t bad = 0, t;
  int i0 = 0, covered; /* channels [0, covered) go through the vector loops */

  if (channels == 1) {
    for (t = 0; t < n8; t += 8)
      _mm256_storeu_ps(dst + t, scrub(_mm256_loadu_ps(src + t), &vbad));
  } else if (channels == 2) {
    for (t = 0; t < n8; t += 8) {
      /* a = L0 R0 L1 R1 | L2 R2 L3 R3, b = L4 R4 ... L7 R7 */
      __m256 a = _mm256_loadu_ps(src + 2 * t), b = _mm256_loadu_ps(src + 2 * t + 8);
      /* L0 L1 L4 L5 | L2 L3 L6 L7, then the 64-bit pairs in order */
      __m256 l = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
      __m256 r = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
      l = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(l), _MM_SHUFFLE(3, 1, 2, 0)));
      r = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(r), _MM_SHUFFLE(3, 1, 2, 0)));
      _mm256_storeu_ps(dst + t, scrub(l, &vbad));
      _mm256_storeu_ps(dst + dst_stride + t, scrub(r, &vbad));
    }
  } else if (channels >= 8) {
    for (i0 = 0; i0 + 8 <= channels; i0 += 8)
      for (t = 0; t < n8; t += 8) {
        __m256 r[8];
        int j;
#pragma GCC unroll 8
        for (j = 0; j < 8; j++)
          r[j] = _mm256_loadu_ps(src + (t + (size_t)j) * (size_t)channels + i0);
        mdn_avx2_transpose8(r);
#pragma GCC unroll 8
        for (j = 0; j < 8; j++)
          _mm256_storeu_ps(dst + (size_t)(i0 + j) * dst_stride + t, scrub(r[j], &vbad));
      }
  }
  bad = count(vbad);
  covered = channels <= 2 ? channels : i0;
  /* the channels the vector loops left, then the last frames of the others */
  bad += mdn_deinterleave_strided(dst + (size_t)covered * dst_stride, dst_stride, src + covered,
                                  (size_t)channels, channels - covered, n);
  bad += mdn_deinterleave_strided(dst + n8, dst_stride, src + n8 * (size_t)channels,
                                  (size_t)channels, covered, n - n8);
  return bad;
}

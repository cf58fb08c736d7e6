/* simd-avx2.h: small AVX2 helpers shared by the AVX2 kernel files (include
 * only from files compiled with -mavx2).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_SIMD_AVX2_H
#define MDN_SIMD_AVX2_H

#include <immintrin.h>

/* Transposes 8 rows of 8 floats in place: r[j][k] becomes r[k][j]. */
static inline __attribute__((always_inline)) void
mdn_avx2_transpose8(__m256 r[8])
{
  __m256 a[8], b[8];
  int j;
#pragma GCC unroll 8
  for (j = 0; j < 8; j += 2) {
    a[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
    a[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
#pragma GCC unroll 8
  for (j = 0; j < 8; j += 4) {
    b[j] = _mm256_shuffle_ps(a[j], a[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
    b[j + 1] = _mm256_shuffle_ps(a[j], a[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    b[j + 2] = _mm256_shuffle_ps(a[j + 1], a[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
    b[j + 3] = _mm256_shuffle_ps(a[j + 1], a[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 8
  for (j = 0; j < 4; j++) {
    r[j] = _mm256_permute2f128_ps(b[j], b[j + 4], 0x20);
    r[j + 4] = _mm256_permute2f128_ps(b[j], b[j + 4], 0x31);
  }
}

#endif /* MDN_SIMD_AVX2_H */

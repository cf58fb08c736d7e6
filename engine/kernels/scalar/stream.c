/* stream-kernels-scalar.c: the reference stream kernels, and the table
 * lookup (stream-kernels.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stream-kernels.h"

#include <string.h>

/* Branch-free, so the compiler vectorises the contiguous case. */
size_t
mdn_deinterleave_strided(float *dst, size_t dst_stride, const float *src, size_t src_stride,
                         int channels, size_t n)
{
  size_t bad = 0, t;
  int i;

  for (i = 0; i < channels; i++) {
    float *restrict d = dst + (size_t)i * dst_stride;
    const float *restrict s = src + i;
    for (t = 0; t < n; t++) {
      guint32 bits;
      memcpy(&bits, &s[t * src_stride], sizeof bits);
      bits = (bits & 0x7f800000u) == 0x7f800000u;
      bad += bits;
      d[t] = bits ? 0.0f : s[t * src_stride];
    }
  }
  return bad;
}

static size_t
deinterleave_scalar(float *dst, size_t dst_stride, const float *src, int channels, size_t n)
{
  return mdn_deinterleave_strided(dst, dst_stride, src, (size_t)channels, channels, n);
}

const MdnStreamKernels mdn_stream_kernels_scalar = { MDN_ISA_SCALAR, deinterleave_scalar };

const MdnStreamKernels *
mdn_stream_kernels_get(MdnIsa isa)
{
#ifdef MDN_HAVE_STREAM_AVX2
  if (isa == MDN_ISA_AVX2 || isa == MDN_ISA_AVX512)
    return &mdn_stream_kernels_avx2;
#endif
  (void)isa;
  return &mdn_stream_kernels_scalar;
}

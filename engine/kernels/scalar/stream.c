/* scalar/stream.c: the reference stream kernels, plain C, and the table's
 * init (stream-kernels.h).
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
deinterleave_c(float *dst, size_t dst_stride, const float *src, int channels, size_t n)
{
  return mdn_deinterleave_strided(dst, dst_stride, src, (size_t)channels, channels, n);
}

void
mdn_stream_dsp_init(MdnStreamDsp *dsp, unsigned flags)
{
  memset(dsp, 0, sizeof *dsp);
  dsp->deinterleave = deinterleave_c;
#if defined(MDN_KERNELS_X86)
  mdn_stream_dsp_init_x86(dsp, flags);
#else
  (void)flags;
#endif
}

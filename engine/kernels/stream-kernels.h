/* stream-kernels.h: the stream's own inner loop (stream.c), one table per
 * instruction set, like exact-kernels.h and tier-kernels.h:
 * stream-kernels-scalar.c is the reference; stream-kernels-avx2.c is
 * compiled with its own flags and reached only through
 * mdn_stream_kernels_get().
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_STREAM_KERNELS_H
#define MDN_STREAM_KERNELS_H

#include "mdn-private.h"

G_BEGIN_DECLS

/* Deinterleaves n frames of `channels` floats,
 *   dst[i * dst_stride + t] = src[t * channels + i],  i < channels, t < n,
 * writing 0 for NaN and +-Inf (one bad sample would otherwise poison the
 * output for the whole history); returns how many were replaced. Every ISA
 * writes identical values. */
typedef size_t (*MdnDeinterleaveFunc)(float *dst, size_t dst_stride, const float *src, int channels,
                                      size_t n);

typedef struct {
  MdnIsa isa;
  MdnDeinterleaveFunc deinterleave;
} MdnStreamKernels;

/* The reference loop for `channels` channels of frames src_stride floats
 * apart (a part of the channels or frames of a deinterleave): what the
 * vector kernels use for the parts their vectors do not cover. */
size_t mdn_deinterleave_strided(float *dst, size_t dst_stride, const float *src, size_t src_stride,
                                int channels, size_t n);

extern const MdnStreamKernels mdn_stream_kernels_scalar;
extern const MdnStreamKernels mdn_stream_kernels_avx2; /* when MDN_HAVE_STREAM_AVX2 */

/* The table for `isa`, which the CPU must support, or the best one compiled
 * in below it. Its isa field says which one it is. */
const MdnStreamKernels *mdn_stream_kernels_get(MdnIsa isa);

G_END_DECLS

#endif /* MDN_STREAM_KERNELS_H */

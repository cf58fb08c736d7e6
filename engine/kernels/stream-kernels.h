/* stream-kernels.h: the stream's own inner loop (runtime/stream.c) and its
 * table, filled as exact-kernels.h's: mdn_stream_dsp_init()
 * (scalar/stream.c) puts in the plain-C reference, then x86/init.c what
 * the CPU flags allow.
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
typedef size_t MdnDeinterleaveFn(float *dst, size_t dst_stride, const float *src, int channels,
                                 size_t n);

typedef struct {
  MdnDeinterleaveFn *deinterleave;
} MdnStreamDsp;

/* The plain-C reference, then what `flags` allow. */
void mdn_stream_dsp_init(MdnStreamDsp *dsp, unsigned flags);
void mdn_stream_dsp_init_x86(MdnStreamDsp *dsp, unsigned flags);

/* The reference loop for `channels` channels of frames src_stride floats
 * apart (a part of the channels or frames of a deinterleave): what the
 * vector kernels use for the parts their vectors do not cover. */
size_t mdn_deinterleave_strided(float *dst, size_t dst_stride, const float *src, size_t src_stride,
                                int channels, size_t n);

/* The vector kernels (x86/stream-avx2.c), for x86/init.c. */
MdnDeinterleaveFn mdn_deinterleave_avx2;

G_END_DECLS

#endif /* MDN_STREAM_KERNELS_H */

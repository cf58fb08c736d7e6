/* dsp.h: the kernel tables of the engine, one per family (exact-kernels.h,
 * tier-kernels.h, stream-kernels.h, net-kernels.h, fft.h), built for one set of CPU flags.
 *
 * The pattern (dav1d's *_dsp_init): each family's init fills its table
 * with the plain-C reference (scalar/), then calls its architecture's init
 * (x86/init.c, arm/init.c: compiled without ISA flags), which puts in,
 * entry by entry, the kernels the flags allow, level by level from the
 * lowest; an entry a level has no kernel for keeps the one below. The
 * kernel files themselves are compiled with their ISA's flags and only
 * export their functions.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_DSP_H
#define MDN_DSP_H

#include "exact-kernels.h"
#include "fft.h"
#include "net-kernels.h"
#include "stream-kernels.h"
#include "tier-kernels.h"

G_BEGIN_DECLS

typedef struct {
  MdnExactDsp exact;
  MdnTierDsp tier;
  MdnStreamDsp stream;
  MdnFftDsp fft;
  MdnNetDsp net;
} MdnDsp;

/* The tables for mdn_cpu_flags(), built at the first call. */
const MdnDsp *mdn_dsp(void);

G_END_DECLS

#endif /* MDN_DSP_H */

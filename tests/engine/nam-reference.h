/* nam-reference.h: the double-precision reference forward pass of NAM
 * WaveNets the engine's models are measured against (nam-reference.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_NAM_REFERENCE_H
#define MDN_NAM_REFERENCE_H

#include "net-private.h"

G_BEGIN_DECLS

/* The model's output for n_frames frames of `in` (interleaved, in_channels),
 * after `warm` frames of silence (NAM's warm-up: at least the receptive
 * field): out[t * out_channels + o]. g_free the result. */
double *mdn_test_wavenet_reference(const MdnWaveNetDesc *desc, const float *in, size_t n_frames,
                                   size_t warm);

G_END_DECLS

#endif

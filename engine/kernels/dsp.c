/* dsp.c: the process's kernel tables (dsp.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"

const MdnDsp *
mdn_dsp(void)
{
  static MdnDsp dsp;
  static gsize ready = 0;
  if (g_once_init_enter(&ready)) {
    const unsigned flags = mdn_cpu_flags();
    mdn_exact_dsp_init(&dsp.exact, flags);
    mdn_tier_dsp_init(&dsp.tier, flags);
    mdn_stream_dsp_init(&dsp.stream, flags);
    mdn_fft_dsp_init(&dsp.fft, flags);
    mdn_net_dsp_init(&dsp.net, flags);
    g_once_init_leave(&ready, 1);
  }
  return &dsp;
}

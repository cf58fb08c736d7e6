/* cpu.c: which instruction sets this CPU has, and which one the engine uses.
 *
 * Chosen once, at the first call: the best the CPU supports, or the one the
 * MADDNESS_ISA environment variable names (scalar, avx2, avx512, neon) when
 * the CPU supports it: x86 CPUs may have avx2 and avx512, never neon; AArch64
 * ones always have neon (part of the base architecture). Kernels for each ISA
 * live in their own files, compiled with their own flags, and are reached
 * through per-concern dispatch tables.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <string.h>

static const char *const isa_names[MDN_N_ISAS] = { "scalar", "avx2", "avx512", "neon" };

gboolean
mdn_cpu_supports(MdnIsa isa)
{
  switch (isa) {
  case MDN_ISA_SCALAR:
    return TRUE;
#if defined(__x86_64__) || defined(__i386__)
  case MDN_ISA_AVX2:
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case MDN_ISA_AVX512:
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
           && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#endif
#if defined(__aarch64__)
  case MDN_ISA_NEON:
    return TRUE;
#endif
  default:
    return FALSE;
  }
}

gboolean
mdn_cpu_supports_avx512vbmi(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return mdn_cpu_supports(MDN_ISA_AVX512) && __builtin_cpu_supports("avx512vbmi");
#else
  return FALSE;
#endif
}

const char *
mdn_isa_name(MdnIsa isa)
{
  return isa >= 0 && isa < MDN_N_ISAS ? isa_names[isa] : "unknown";
}

static MdnIsa
choose_isa(void)
{
  const char *forced = g_getenv("MADDNESS_ISA");
  int isa;

  if (forced && *forced) {
    for (isa = 0; isa < MDN_N_ISAS; isa++)
      if (strcmp(forced, isa_names[isa]) == 0) {
        if (mdn_cpu_supports((MdnIsa)isa))
          return (MdnIsa)isa;
        g_warning("MADDNESS_ISA=%s: this CPU does not support it; using the best it has", forced);
        break;
      }
    if (isa == MDN_N_ISAS)
      g_warning("MADDNESS_ISA=%s: unknown (scalar, avx2, avx512, neon); using the best the CPU has",
                forced);
  }
  for (isa = MDN_N_ISAS - 1; isa > MDN_ISA_SCALAR; isa--)
    if (mdn_cpu_supports((MdnIsa)isa))
      return (MdnIsa)isa;
  return MDN_ISA_SCALAR;
}

MdnIsa
mdn_cpu_isa(void)
{
  static gsize chosen = 0;
  if (g_once_init_enter(&chosen))
    g_once_init_leave(&chosen, (gsize)choose_isa() + 1);
  return (MdnIsa)(chosen - 1);
}

const char *
mdn_isa(void)
{
  return mdn_isa_name(mdn_cpu_isa());
}

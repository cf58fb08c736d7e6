/* cpu.c: every check of what the CPU has, and the flags the engine uses.
 *
 * mdn_cpu_flags_detect() asks the CPU once per call; mdn_cpu_flags() fixes
 * the flags in use at its first call: all the CPU has, or, when the
 * MADDNESS_ISA environment variable names a level (scalar, avx2, avx512,
 * neon) the CPU supports, those of that level only (scalar: none, the
 * plain-C reference). Unknown or unsupported values warn and keep all.
 * The kernel tables are built from these flags (dsp.c); tests build them
 * for other sets.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <string.h>

#define X86_FLAGS                                                                                  \
  (MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 | MDN_CPU_FLAG_AVX512 | MDN_CPU_FLAG_AVX512VBMI           \
   | MDN_CPU_FLAG_INTEL)

static const struct {
  const char *name;
  unsigned needs;  /* the flag that makes a CPU support the level */
  unsigned allows; /* the flags it keeps */
} levels[MDN_N_ISAS] = {
  [MDN_ISA_SCALAR] = { .name = "scalar", .needs = 0, .allows = 0 },
  [MDN_ISA_AVX2]
  = { .name = "avx2", .needs = MDN_CPU_FLAG_AVX2, .allows = MDN_CPU_FLAG_SSE2 | MDN_CPU_FLAG_AVX2 },
  [MDN_ISA_AVX512] = { .name = "avx512", .needs = MDN_CPU_FLAG_AVX512, .allows = X86_FLAGS },
  [MDN_ISA_NEON] = { .name = "neon", .needs = MDN_CPU_FLAG_NEON, .allows = MDN_CPU_FLAG_NEON },
};

/* Each level includes the one below (the AVX-512 tier kernels are built with
 * -mavx2 -mfma -mbmi2 too), so a flag is only set on top of those. */
unsigned
mdn_cpu_flags_detect(void)
{
  unsigned flags = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_is("intel"))
    flags |= MDN_CPU_FLAG_INTEL;
  if (!__builtin_cpu_supports("sse2"))
    return flags;
  flags |= MDN_CPU_FLAG_SSE2;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")
      || !__builtin_cpu_supports("bmi2"))
    return flags;
  flags |= MDN_CPU_FLAG_AVX2;
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")
      || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq"))
    return flags;
  flags |= MDN_CPU_FLAG_AVX512;
  if (__builtin_cpu_supports("avx512vbmi"))
    flags |= MDN_CPU_FLAG_AVX512VBMI;
#elif defined(__aarch64__)
  flags |= MDN_CPU_FLAG_NEON; /* part of the base architecture */
#endif
  return flags;
}

unsigned
mdn_isa_flags(MdnIsa isa)
{
  return isa >= 0 && isa < MDN_N_ISAS ? levels[isa].allows : 0;
}

gboolean
mdn_cpu_supports(MdnIsa isa)
{
  return isa >= 0 && isa < MDN_N_ISAS
         && (mdn_cpu_flags_detect() & levels[isa].needs) == levels[isa].needs;
}

const char *
mdn_isa_name(MdnIsa isa)
{
  return isa >= 0 && isa < MDN_N_ISAS ? levels[isa].name : "unknown";
}

unsigned
mdn_cpu_flags_masked(const char *forced)
{
  const unsigned cpu = mdn_cpu_flags_detect();
  int isa;

  if (forced == NULL || *forced == '\0')
    return cpu;
  for (isa = 0; isa < MDN_N_ISAS; isa++)
    if (strcmp(forced, levels[isa].name) == 0) {
      if (mdn_cpu_supports((MdnIsa)isa))
        return cpu & levels[isa].allows;
      g_warning("MADDNESS_ISA=%s: this CPU does not support it; using the best it has", forced);
      return cpu;
    }
  g_warning("MADDNESS_ISA=%s: unknown (scalar, avx2, avx512, neon); using the best the CPU has",
            forced);
  return cpu;
}

unsigned
mdn_cpu_flags(void)
{
  static gsize chosen = 0;
  if (g_once_init_enter(&chosen))
    g_once_init_leave(&chosen, (gsize)mdn_cpu_flags_masked(g_getenv("MADDNESS_ISA")) + 1);
  return (unsigned)(chosen - 1);
}

/* The highest level whose flag is in use. */
const char *
mdn_isa(void)
{
  const unsigned flags = mdn_cpu_flags();
  int isa;
  for (isa = MDN_N_ISAS - 1; isa > MDN_ISA_SCALAR; isa--)
    if (levels[isa].needs & flags)
      return levels[isa].name;
  return levels[MDN_ISA_SCALAR].name;
}

/* mdn-test-flags.h: the sets of CPU flags the kernel tests build tables for,
 * checkasm style: every subset of the flags this CPU has, 0 (the plain-C
 * reference) first; each kernel a table gets for any of them is tested
 * (once) against the reference.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_TEST_FLAGS_H
#define MDN_TEST_FLAGS_H

#include "mdn-private.h"

/* More than 2^(number of MDN_CPU_FLAG_*). */
#define MDN_TEST_MAX_FLAG_SETS 64

/* Fills sets (MDN_TEST_MAX_FLAG_SETS) with every subset of
 * mdn_cpu_flags_detect(), increasing; returns how many. */
static inline int
mdn_test_flag_sets(unsigned *sets)
{
  const unsigned cpu = mdn_cpu_flags_detect();
  unsigned sub = 0;
  int n = 0;
  do {
    g_assert_cmpint(n, <, MDN_TEST_MAX_FLAG_SETS);
    sets[n++] = sub;
    sub = (sub - cpu) & cpu; /* the next subset */
  } while (sub != 0);
  return n;
}

/* The name of a flag's level ("c" for 0); of a set, its highest flag's. */
static inline const char *
mdn_test_flag_name(unsigned flags)
{
  static const struct {
    unsigned flag;
    const char *name;
  } names[] = {
    { MDN_CPU_FLAG_NEON, "neon" },     { MDN_CPU_FLAG_AVX512VBMI, "avx512vbmi" },
    { MDN_CPU_FLAG_AVX512, "avx512" }, { MDN_CPU_FLAG_AVX2, "avx2" },
    { MDN_CPU_FLAG_SSE2, "sse2" },
  };
  size_t j;
  for (j = 0; j < G_N_ELEMENTS(names); j++)
    if (flags & names[j].flag)
      return names[j].name;
  return "c";
}

#endif /* MDN_TEST_FLAGS_H */

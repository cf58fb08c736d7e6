/* vbmi-asm-probe.c: compiled (not run) by check-vbmi-asm.py with
 * -mavx512vbmi: the engine's inline-assembly permutes next to the
 * compiler's intrinsics, whose disassembly must match.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <immintrin.h>

#include "simd-avx512-vbmi.h"

__m512i
probe_asm_permb(__m512i table, __m512i idx)
{
  return mdn_permb(table, idx);
}

__m512i
probe_intrinsic_permb(__m512i table, __m512i idx)
{
  return _mm512_permutexvar_epi8(idx, table);
}

__m512i
probe_asm_permt2b(__m512i lo, __m512i idx, __m512i hi)
{
  return mdn_permt2b(lo, idx, hi);
}

__m512i
probe_intrinsic_permt2b(__m512i lo, __m512i idx, __m512i hi)
{
  return _mm512_permutex2var_epi8(lo, idx, hi);
}

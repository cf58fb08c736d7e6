/* simd-avx512-vbmi.h: AVX-512 VBMI byte permutes as inline assembly, for
 * files built without -mavx512vbmi (most AVX-512 CPUs before Ice Lake lack
 * VBMI, so the tier kernels must not be compiled for it); only the VBMI
 * scan uses them, which x86/init.c puts in the table for MDN_CPU_FLAG_AVX512VBMI. The operand order
 * is checked against the compiler's own intrinsics by tests/engine/check-vbmi-asm.py.
 * MDN_TIER_AVX512_EMULATED: SIMDe's intrinsics instead (test builds).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_SIMD_AVX512_VBMI_H
#define MDN_SIMD_AVX512_VBMI_H

/* table[idx & 63], per byte */
static inline __attribute__((always_inline)) __m512i
mdn_permb(__m512i table, __m512i idx)
{
#ifdef MDN_TIER_AVX512_EMULATED
  return _mm512_permutexvar_epi8(idx, table);
#else
  __m512i r;
  __asm__("vpermb %1, %2, %0" : "=v"(r) : "v"(table), "v"(idx));
  return r;
#endif
}

/* (idx & 64 ? hi : lo)[idx & 63], per byte */
static inline __attribute__((always_inline)) __m512i
mdn_permt2b(__m512i lo, __m512i idx, __m512i hi)
{
#ifdef MDN_TIER_AVX512_EMULATED
  return _mm512_permutex2var_epi8(lo, idx, hi);
#else
  __asm__("vpermt2b %2, %1, %0" : "+v"(lo) : "v"(idx), "v"(hi));
  return lo;
#endif
}

#endif /* MDN_SIMD_AVX512_VBMI_H */

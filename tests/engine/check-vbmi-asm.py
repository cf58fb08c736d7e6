#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-vbmi-asm: the AVX-512 VBMI permutes the tier kernels write as inline
assembly (engine/simd-avx512-vbmi.h) must be the instructions the compiler
emits for the matching intrinsics, operands in the same order. The kernels
cannot run on a CPU without VBMI, so this checks them where they can't run:
compile tests/engine/vbmi-asm-probe.c with -mavx512vbmi, disassemble, and
compare each asm probe with its intrinsic probe.

usage: check-vbmi-asm.py CC ENGINE_DIR PROBE_C"""
import re
import subprocess
import sys
import tempfile


def functions(objdump_text):
    """{function name: [instruction text]} from objdump -d output."""
    out, name = {}, None
    for line in objdump_text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(\w+)>:", line)
        if m:
            name = m.group(1)
            out[name] = []
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(.*)$", line)
        if name and m:
            ins = m.group(1).split("#")[0].strip()
            if ins and not ins.startswith(("nop", "cs nop", "xchg %ax,%ax", "data16")):
                out[name].append(ins)
    return out


def main():
    cc, engine_dir, probe = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory() as tmp:
        obj = tmp + "/probe.o"
        subprocess.run([cc, "-O2", "-mavx512f", "-mavx512bw", "-mavx512vbmi", "-I", engine_dir,
                        "-c", probe, "-o", obj], check=True)
        text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", obj], check=True,
                              capture_output=True, text=True).stdout
    funcs = functions(text)
    failures = 0
    for op in ("permb", "permt2b"):
        mine, ref = funcs.get("probe_asm_" + op), funcs.get("probe_intrinsic_" + op)
        if not mine or not ref:
            print("FAIL %s: probe functions missing from the disassembly" % op)
            failures += 1
            continue
        vperm = [i for i in ref if i.startswith("vperm")]
        if not vperm:
            print("FAIL %s: the intrinsic emitted no vperm instruction: %s" % (op, ref))
            failures += 1
        elif mine != ref:
            print("FAIL %s: inline asm %s, intrinsic %s" % (op, mine, ref))
            failures += 1
        else:
            print("ok %s: %s" % (op, "; ".join(mine)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

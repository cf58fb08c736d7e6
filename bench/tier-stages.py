#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tier-stages.py: callgrind instruction counts per frame and per stage of
each tier of the bench workloads (bench/README.md, "Instruction counts").

    bench/tier-stages.py [--build DIR] [--models DIR] [--seconds S] WORKLOAD...

For each workload and each tier of its model (DIR/WORKLOAD.mdn, saved by
`maddness-bench --save-models DIR`; without --models the bench fits one per
run), runs

    valgrind --tool=callgrind --instr-atstart=no \\
      BUILD/bench/maddness-bench -w WORKLOAD -s S --runs 1 --models DIR -m mdn-TIER

(only the measured passes are instrumented: the warm-up and one timed pass,
2 x the frames) and sums the exclusive counts of the engine's functions by
stage. Counts are deterministic: the same binary and model give the same
numbers on any x86-64 CPU with the kernels' level (valgrind runs the AVX2
kernels; it does not know AVX-512).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# (stage, pattern on "file:function") in order: the first match wins.
STAGES = [
    ("encode", r":(mdn_tier_encode_\w+|encode_range|encode_\w+)$"),
    ("scan", r":mdn_tier_scan\w*$"),
    ("output", r":(mdn_tier_exact_\w+|mdn_tier_combine\w*|mdn_tier_output\w*)$"),
    ("sigma", r":(mdn_tier_run_end\w*|mdn_tier_max_abs\w*|mdn_tier_count_below\w*|run_end\w*)$"),
    ("tier_control", r"runtime/tier[^/]*\.c:"),
    ("stream", r"(runtime/stream\.c:|mdn_deinterleave)"),
]
# The rest of each path's inclusive count (libc copies, the exact path's own
# functions) is "other".


def tier_names(build, model):
    out = subprocess.run([os.path.join(build, "tools", "maddness-info"), model],
                         check=True, capture_output=True, text=True).stdout
    return [line.split()[1] for line in out.splitlines() if line.startswith("tier: ")]


def function_counts(cg_file):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", cg_file],
                         check=True, capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S+)", line)
        if not m or m.group(2) == "PROGRAM":
            continue
        name = m.group(2)
        counts[name] = counts.get(name, 0) + int(m.group(1).replace(",", ""))
    return counts


def inclusive(cg_file, function):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=yes", cg_file],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S+)", line)
        if m and m.group(2).endswith(":" + function):
            return int(m.group(1).replace(",", ""))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--models", default=None)
    ap.add_argument("--seconds", default="1")
    ap.add_argument("--tiers", default=None, help="comma-separated tier names (default: all)")
    ap.add_argument("workloads", nargs="+")
    a = ap.parse_args()
    bench = os.path.join(a.build, "bench", "maddness-bench")
    frames = 2 * int(float(a.seconds) * 48000 / 1024) * 1024
    names = [s for s, _ in STAGES]
    print("# instructions per frame (callgrind, %d frames: warm-up + 1 pass); build %s" %
          (frames, a.build))
    print("%-10s %-12s %8s " % ("workload", "method", "total") +
          " ".join("%12s" % n for n in names) + " %8s" % "other")
    for w in a.workloads:
        model = os.path.join(a.models, w + ".mdn") if a.models else None
        tiers = tier_names(a.build, model) if model else ["fastest"]
        if a.tiers:
            tiers = [t for t in tiers if t in a.tiers.split(",")]
        for tier in ["exact"] + tiers:
            method = "engine-exact" if tier == "exact" else (
                "mdn-fastest" if tier == "fastest" else "mdn-" + tier)
            with tempfile.NamedTemporaryFile(suffix=".cg") as cg:
                cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                       "--callgrind-out-file=" + cg.name, bench, "-w", w, "-s", a.seconds,
                       "--runs", "1", "-m", method]
                if a.models:
                    cmd += ["--models", a.models]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                counts = function_counts(cg.name)
                total = inclusive(cg.name, "run_engine_exact" if tier == "exact"
                                  else "run_engine_tier")
            by_stage = dict.fromkeys(names, 0)
            for fn, c in counts.items():
                if "maddness-bench.c" in fn:
                    continue
                for stage, pattern in STAGES:
                    if re.search(pattern, fn):
                        by_stage[stage] += c
                        break
            other = total - sum(by_stage.values())
            print("%-10s %-12s %8.2f " % (w, tier, total / frames) +
                  " ".join("%12.2f" % (by_stage[n] / frames) for n in names) +
                  " %8.2f" % (other / frames))
            sys.stdout.flush()


if __name__ == "__main__":
    main()

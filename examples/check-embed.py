#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-embed.py EMBED [ARGS...]: runs the embed example and checks what it
prints: exit status 0, quality ramping from 0 to 10, expected-snr taking more
than one value, never falling as quality rises, and infinite (exact) at 10."""
import math
import re
import subprocess
import sys

LINE = re.compile(r"^t=([0-9.]+) quality=(\d+) tier=(\S+) expected-snr=(\S+)$")


def fail(why, out):
    sys.stderr.write(f"check-embed: {why}\n--- output ---\n{out}")
    sys.exit(1)


def main():
    run = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    if run.returncode != 0:
        fail(f"exit status {run.returncode}", out)
    points = []
    for line in run.stdout.splitlines():
        m = LINE.match(line)
        if m:
            points.append((float(m[1]), int(m[2]), m[3], float(m[4])))
    if len(points) < 3:
        fail(f"{len(points)} change line(s); expected the tier to change at least twice", out)
    qualities = [p[1] for p in points]
    snrs = [p[3] for p in points]
    if qualities[0] != 0 or qualities[-1] != 10:
        fail(f"quality went from {qualities[0]} to {qualities[-1]}, not 0 to 10", out)
    if any(b < a for a, b in zip(qualities, qualities[1:])):
        fail("quality went down during a rising ramp", out)
    if len(set(snrs)) < 3:
        fail(f"expected-snr took {len(set(snrs))} value(s): {sorted(set(snrs))}", out)
    if any(b < a for a, b in zip(snrs, snrs[1:])):
        fail("expected-snr fell while quality rose", out)
    if not (math.isinf(snrs[-1]) and points[-1][2] == "exact"):
        fail("quality 10 is not the exact path with an infinite expected-snr", out)
    if any(math.isnan(s) for s in snrs):
        fail("expected-snr was NaN after the preset was loaded", out)
    print(run.stdout, end="")
    print(f"check-embed: OK, {len(points)} changes, expected-snr {snrs[0]:.1f} -> {snrs[-1]}")


main()

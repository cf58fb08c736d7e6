#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-embed.py EMBED [ARGS...]: runs the embed example and checks what it
prints: exit status 0; during the quality ramp (min-snr 0), quality rising
from 0 to 10, expected-snr taking more than one value, never falling as
quality rises, and infinite (exact, measured-snr infinite too) at 10; then,
with min-snr 20, a tier picked by the element whose measured-snr holds 20 dB
(within 1 dB: it is a smoothed value) or the exact path at the end, and
measured-snr finite on a tier at some point (the live audit measured)."""
import math
import re
import subprocess
import sys

LINE = re.compile(r"^t=([0-9.]+) quality=(\d+) min-snr=(\d+) tier=(\S+) "
                  r"expected-snr=(\S+) measured-snr=(\S+)$")
ACCURACY = re.compile(r"^maddness-accuracy: tier=(\S+) expected-snr=(\S+) measured-snr=(\S+)$")
MIN_SNR = 20


def fail(why, out):
    sys.stderr.write(f"check-embed: {why}\n--- output ---\n{out}")
    sys.exit(1)


def main():
    run = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    if run.returncode != 0:
        fail(f"exit status {run.returncode}", out)
    points, accuracy = [], []
    for line in run.stdout.splitlines():
        m = LINE.match(line)
        if m:
            points.append((float(m[1]), int(m[2]), int(m[3]), m[4], float(m[5]), float(m[6])))
        m = ACCURACY.match(line)
        if m:
            accuracy.append((m[1], float(m[2]), float(m[3])))
    ramp = [p for p in points if p[2] == 0]
    floor = [p for p in points if p[2] == MIN_SNR]
    if len(ramp) < 3:
        fail(f"{len(ramp)} line(s) in the ramp; expected the tier to change at least twice", out)
    if not floor:
        fail(f"no line with min-snr={MIN_SNR}", out)
    qualities = [p[1] for p in ramp]
    snrs = [p[4] for p in ramp]
    if qualities[0] != 0 or qualities[-1] != 10:
        fail(f"quality went from {qualities[0]} to {qualities[-1]}, not 0 to 10", out)
    if any(b < a for a, b in zip(qualities, qualities[1:])):
        fail("quality went down during a rising ramp", out)
    if len(set(snrs)) < 3:
        fail(f"expected-snr took {len(set(snrs))} value(s): {sorted(set(snrs))}", out)
    if any(b < a for a, b in zip(snrs, snrs[1:])):
        fail("expected-snr fell while quality rose", out)
    if not (math.isinf(snrs[-1]) and ramp[-1][3] == "exact"):
        fail("quality 10 is not the exact path with an infinite expected-snr", out)
    if any(math.isnan(s) for s in snrs):
        fail("expected-snr was NaN after the preset was loaded", out)
    if any(p[3] == "exact" and not (math.isinf(p[5]) and p[5] > 0) for p in points):
        fail("measured-snr is not infinite on the exact path", out)
    if not any(p[3] != "exact" and math.isfinite(p[5]) for p in points):
        fail("measured-snr never took a finite value on a tier: the audit measured nothing", out)
    last = floor[-1]
    if last[3] != "exact" and not last[5] >= MIN_SNR - 1:
        fail(f"min-snr {MIN_SNR}: the element ends on {last[3]} measuring {last[5]} dB", out)
    print(run.stdout, end="")
    print(f"check-embed: OK, {len(ramp)} lines in the ramp, expected-snr {snrs[0]:.1f} -> "
          f"{snrs[-1]}; min-snr {MIN_SNR}: {last[3]} measuring {last[5]} dB; "
          f"{len(accuracy)} accuracy message(s)")


main()

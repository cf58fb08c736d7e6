#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-playbin.py PLAYER PLAYBIN_FILTER_PY: runs the media-application
examples on WAV files at 44.1, 48 and 96 kHz: the C player (quality moved
while it plays, in real time through "fakesink sync=true") on the 44.1 kHz file,
and the Python playbin example on each. Checks that the filter negotiated the
file's own rate (nothing resampled before it), that quality moved over 0..10
and back with a finite expected-snr on every tier and an infinite one on the
exact path, that measured-snr is printed when the element has it, and EOS."""
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import wave

STEP = re.compile(r"^t=\S+ quality=(\d+) tier=(\S+) expected-snr=(\S+)( measured-snr=(\S+))?$")


def fail(why, out):
    sys.stderr.write(f"check-playbin: {why}\n--- output ---\n{out}")
    sys.exit(1)


def write_wav(path, rate, seconds):
    frames = int(rate * seconds)
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        data = bytearray()
        for t in range(frames):
            v = 0.3 * math.sin(2 * math.pi * 440 * t / rate) + 0.2 * math.sin(2 * math.pi * 7000 * t / rate)
            s = int(v * 32767)
            data += struct.pack("<hh", s, -s)
        w.writeframes(bytes(data))


def run(args, env):
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    return r.returncode, r.stdout, r.stdout + r.stderr


def main():
    player, script = sys.argv[1], sys.argv[2]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for rate in (44100, 48000, 96000):
            files[rate] = os.path.join(tmp, f"song-{rate}.wav")
            write_wav(files[rate], rate, 2.5 if rate == 44100 else 0.5)

        status, out, both = run([player, "--preset", "lowpass", "--sink", "fakesink sync=true",
                                 "--step-ms", "100", files[44100]], env)
        if status != 0:
            fail(f"player: exit status {status}", both)
        if "rate=44100 channels=2 preset=lowpass" not in out.splitlines():
            fail("player: the filter did not run at the file's 44.1 kHz", both)
        steps = [STEP.match(line) for line in out.splitlines() if line.startswith("t=")]
        if not steps or not all(steps):
            fail("player: unexpected step lines", both)
        qualities = [int(m[1]) for m in steps]
        if len(set(qualities)) < 8 or max(qualities) != 10:
            fail(f"player: quality took {sorted(set(qualities))}, not 0..10", both)
        for m in steps:
            snr = float(m[3])
            if (m[2] == "exact") != math.isinf(snr) or math.isnan(snr):
                fail(f"player: tier {m[2]} with expected-snr {snr}", both)
        if out.splitlines()[-1] != "eos":
            fail("player: no EOS", both)
        measured = [m[5] for m in steps if m[5] is not None]
        print(f"check-playbin: player OK, {len(steps)} steps over qualities "
              f"{min(qualities)}..{max(qualities)}, measured-snr "
              f"{'printed' if measured else 'not in this element'}")

        # The Python with GObject introspection (Debian's python3-gi is for
        # /usr/bin/python3, which another python3 on PATH may hide).
        python = next((p for p in (sys.executable, "/usr/bin/python3")
                       if subprocess.run([p, "-c", "import gi"], capture_output=True).returncode == 0),
                      None)
        if python is None:
            fail("no python3 with the gi module (install python3-gi)", "")
        env["MDN_AUDIO_SINK"] = "fakesink sync=false"
        # A sanitized build (make check-sanitize): the unsanitized Python loads
        # the sanitized plugin, so the ASan runtime goes first; leaks are not
        # checked in this process (the interpreter keeps its objects at exit;
        # the plugin's are checked by the player above and the gst tests).
        if env.get("MDN_SANITIZER_PRELOAD"):
            env["LD_PRELOAD"] = env["MDN_SANITIZER_PRELOAD"]
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        for rate, path in files.items():
            status, out, both = run([python, script, path, "lowpass", "3"], env)
            if status != 0:
                fail(f"playbin-filter.py at {rate} Hz: exit status {status}", both)
            lines = out.splitlines()
            if not lines or not lines[0].startswith(f"rate={rate} tier="):
                fail(f"playbin-filter.py: the filter did not run at {rate} Hz", both)
            if lines[-1] != "eos":
                fail(f"playbin-filter.py at {rate} Hz: no EOS", both)
            print(f"check-playbin: playbin-filter.py OK at {rate} Hz: {lines[0]}")


main()

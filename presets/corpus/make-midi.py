#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make-midi.py: writes a deterministic General MIDI file for the training corpus.

    make-midi.py KIND SEED SECONDS OUT.mid

KIND is `music` (piano, strings, brass, winds, guitar, organ, plucked, synth
pads, band with a drum kit) or `bright` (bells and mallets in the top octaves,
chimes, cymbals, hi-hats and small percussion, high synth leads over hats, high
strings and winds). The file is a sequence of short pieces (music 3.5 to 6 s, bright 2.5 to 4 s), each with its own
instruments, key, tempo, register and dynamics, until SECONDS are filled; every
choice comes from random.Random(SEED), so the same arguments give the same
bytes. Rendered by fluidsynth with the General MIDI soundfont FluidR3_GM.sf2
(make-corpus.sh). Python 3 standard library only.
"""
import random
import struct
import sys

TICKS_PER_SECOND = 960  # 480 ticks per quarter note at the fixed 120 bpm below
DRUMS = 9  # channel 10

SCALES = {
    "major": [0, 2, 4, 5, 7, 9, 11],
    "minor": [0, 2, 3, 5, 7, 8, 10],
    "dorian": [0, 2, 3, 5, 7, 9, 10],
    "mixolydian": [0, 2, 4, 5, 7, 9, 10],
    "harmonic": [0, 2, 3, 5, 7, 8, 11],
}
PENTATONIC = [0, 2, 4, 7, 9]
PROGRESSIONS = [[0, 4, 5, 3], [0, 5, 3, 4], [5, 3, 0, 4], [0, 3, 4, 0], [1, 4, 0, 0],
                [0, 6, 5, 4], [3, 4, 2, 5]]

# General MIDI programs (0-based) by family.
PIANOS = [0, 1, 2, 3, 4, 5, 6, 7]
ORGANS = [16, 17, 18, 19, 20, 21]
GUITARS = [24, 25, 26, 27, 28, 29, 30]
BASSES = [32, 33, 34, 35, 36, 38, 39]
STRINGS_SOLO = [40, 41, 42]
ENSEMBLES = [48, 49, 50, 44, 52]
BRASS = [56, 57, 58, 59, 60, 61, 62, 63]
WINDS = [64, 65, 66, 68, 69, 70, 71, 73, 74, 75]
PLUCKED = [45, 46, 104, 105, 106, 107, 108, 12, 13]
PADS = [88, 89, 90, 91, 92, 93, 94, 95]
LEADS = [80, 81, 82, 84, 85, 86, 87]  # not 83 (chiff): it has a DC offset
BELLS = [8, 9, 10, 11, 14, 13, 112]  # celesta, glockenspiel, music box, vibraphone,
# tubular bells, xylophone, tinkle bell (not FX crystal, 98: a DC offset)
HIGH_LEADS = [80, 81, 82, 84, 87, 78, 79]  # not 83, 98, 100: DC offsets
HIGH_ACOUSTIC = [40, 72, 73, 110, 48, 49, 44, 68, 22]  # violin, piccolo, flute, fiddle,
# string ensembles, tremolo, oboe, harmonica
DRUM_KITS = [0, 8, 16, 24, 25, 32, 40, 48]

# Channel-10 notes.
KICK, SNARE, SNARE2, CLAP = 36, 38, 40, 39
TOMS = [41, 43, 45, 47, 48, 50]
HAT_CLOSED, HAT_PEDAL, HAT_OPEN = 42, 44, 46
CRASH, CRASH2, RIDE, RIDE2, RIDE_BELL, CHINA, SPLASH = 49, 57, 51, 59, 53, 52, 55
SMALL_PERC = [54, 56, 69, 70, 75, 76, 80, 81, 82]  # tambourine, cowbell, cabasa, maracas,
# claves, wood block, triangles, shaker


# The highest key each program renders cleanly with FluidR3_GM: above it most
# samples are pitched past their limit and come out as a DC step (measured by
# rendering keys 84-124 of each program used here and comparing |mean| with
# RMS): C8 for most programs, E8 for these small bells, flutes and leads.
# Higher notes are moved down by octaves.
TOP_KEY = 108
CLEAN_TO_124 = {8, 9, 13, 72, 73, 78, 80, 84, 87}


class Song:
    def __init__(self):
        self.events = []  # (tick, order, bytes): offs before controls before ons
        self.top = {}  # channel -> highest key, from its program

    def _add(self, seconds, order, data):
        self.events.append((round(seconds * TICKS_PER_SECOND), order, bytes(data)))

    def program(self, t, ch, prog):
        self._add(t, 1, [0xC0 | ch, prog])
        if ch != DRUMS:
            self.top[ch] = 124 if prog in CLEAN_TO_124 else TOP_KEY

    def control(self, t, ch, cc, value):
        self._add(t, 1, [0xB0 | ch, cc, max(0, min(127, int(value)))])

    def note(self, t, dur, ch, key, vel):
        while key > self.top.get(ch, 127):  # an octave down, the line's shape kept
            key -= 12
        if not 0 <= key <= 127:
            return
        vel = max(1, min(127, int(vel)))
        self._add(t, 2, [0x90 | ch, key, vel])
        self._add(t + max(dur, 0.02), 0, [0x80 | ch, key, 0])

    def write(self, path, end_seconds):
        track = bytearray()
        track += b"\x00\xff\x51\x03" + (500000).to_bytes(3, "big")  # 120 bpm
        last = 0
        for tick, _, data in sorted(self.events):
            track += vlq(tick - last) + data
            last = tick
        end = max(round(end_seconds * TICKS_PER_SECOND), last)
        track += vlq(end - last) + b"\xff\x2f\x00"
        with open(path, "wb") as f:
            f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_SECOND // 2))
            f.write(b"MTrk" + struct.pack(">I", len(track)) + track)


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


class Key:
    """A key: root pitch class and scale; degree d in octave o is a MIDI note."""

    def __init__(self, rng):
        self.root = rng.randrange(12)
        self.scale = SCALES[rng.choice(sorted(SCALES))]

    def note(self, degree, octave):
        o, d = divmod(degree, len(self.scale))
        return 12 * (octave + o + 1) + self.root + self.scale[d]

    def chord(self, degree, octave, size=3):
        return [self.note(degree + 2 * i, octave) for i in range(size)]


def dynamics(rng, t, t0, dur, base):
    """Velocity at time t: a base level with a crescendo or diminuendo over the piece."""
    shape = rng.random()
    frac = (t - t0) / dur
    swell = 40 * (frac if shape < 0.4 else (1 - frac) if shape < 0.8 else 0.5)
    return base - 20 + swell + rng.uniform(-8, 8)


def start_piece(song, t0, channels, rng):
    for ch in channels:
        song.control(t0, ch, 121, 0)  # reset controllers
        song.control(t0, ch, 7, rng.randint(90, 127))
        song.control(t0, ch, 91, rng.randint(10, 80))  # reverb send
        song.control(t0, ch, 93, rng.randint(0, 50))  # chorus send


def melody(song, rng, key, ch, t0, dur, beat, octave, base_vel, span=10, steps=(0.5, 1, 2),
           pentatonic=False):
    t, degree = t0, rng.randrange(7)
    while t < t0 + dur - beat / 4:
        length = beat * rng.choice(steps)
        degree = max(-7, min(span, degree + rng.choice([-2, -1, -1, 1, 1, 2, 3, -3, 0])))
        if pentatonic:
            o, d = divmod(degree, 5)
            key_note = 12 * (octave + o + 1) + key.root + PENTATONIC[d]
        else:
            key_note = key.note(degree, octave)
        if rng.random() < 0.9:
            song.note(t, length * rng.uniform(0.6, 1.0), ch, key_note,
                      dynamics(rng, t, t0, dur, base_vel))
        t += length


def chords(song, rng, key, ch, t0, dur, beat, octave, base_vel, style):
    prog = rng.choice(PROGRESSIONS)
    bar = 4 * beat
    t, i = t0, 0
    while t < t0 + dur - beat / 2:
        notes = key.chord(prog[i % len(prog)], octave, rng.choice([3, 3, 4]))
        vel = dynamics(rng, t, t0, dur, base_vel)
        if style == "block":
            for n in notes:
                song.note(t, bar * 0.95, ch, n, vel)
        elif style == "stab":
            for k in range(4):
                for n in notes:
                    song.note(t + k * beat, beat * 0.4, ch, n, vel - 10 * (k % 2))
        else:  # arpeggio, up or up-down, in eighths or sixteenths
            sub = rng.choice([2, 4])
            seq = notes + [notes[0] + 12] + (notes[1:][::-1] if rng.random() < 0.5 else [])
            for k in range(4 * sub):
                song.note(t + k * beat / sub, beat / sub * 1.5, ch, seq[k % len(seq)],
                          vel + rng.uniform(-10, 5))
        t += bar
        i += 1
    return prog


def bass(song, rng, key, ch, t0, dur, beat, prog, base_vel):
    t, i = t0, 0
    while t < t0 + dur - beat / 2:
        root = key.note(prog[i % len(prog)], 1)
        for k in range(4):
            n = root + (7 if k == 2 and rng.random() < 0.5 else 0)
            song.note(t + k * beat, beat * 0.8, ch, n, dynamics(rng, t, t0, dur, base_vel))
        t += 4 * beat
        i += 1


def drum_groove(song, rng, t0, dur, beat, base_vel, busy):
    sixteenth = beat / 4
    hat = rng.choice([HAT_CLOSED, HAT_CLOSED, HAT_PEDAL, RIDE])
    hat_every = 1 if busy else 2
    steps = int(dur / sixteenth)
    for s in range(steps):
        t = t0 + s * sixteenth
        bar_pos = s % 16
        vel = dynamics(rng, t, t0, dur, base_vel)
        if bar_pos in (0, 8) or (bar_pos in (3, 10, 14) and rng.random() < 0.3):
            song.note(t, sixteenth, DRUMS, KICK, vel + 10)
        if bar_pos in (4, 12):
            song.note(t, sixteenth, DRUMS, rng.choice([SNARE, SNARE2, CLAP]), vel + 5)
        if bar_pos % hat_every == 0:
            song.note(t, sixteenth, DRUMS, hat, vel - (0 if bar_pos % 4 == 0 else 20))
        if bar_pos == 14 and rng.random() < 0.3:
            song.note(t, 2 * sixteenth, DRUMS, HAT_OPEN, vel)
        if bar_pos == 0 and (s == 0 or rng.random() < 0.25):
            song.note(t, beat, DRUMS, rng.choice([CRASH, CRASH2, SPLASH]), vel + 10)
        if steps - s <= 8 and rng.random() < 0.6:  # a tom fill into the next piece
            song.note(t, sixteenth, DRUMS, rng.choice(TOMS), vel)


# ---- music ----------------------------------------------------------------

def piece_piano(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(70, 150)
    song.program(t0, 0, rng.choice(PIANOS))
    start_piece(song, t0, [0], rng)
    base = rng.uniform(45, 115)
    song.control(t0, 0, 64, 127 if rng.random() < 0.6 else 0)  # sustain pedal
    chords(song, rng, key, 0, t0, dur, beat, rng.choice([2, 3]), base - 10,
           rng.choice(["block", "arpeggio", "stab"]))
    melody(song, rng, key, 0, t0, dur, beat, rng.choice([4, 5, 5, 6]), base,
           steps=(0.25, 0.5, 0.5, 1))
    song.control(t0 + dur, 0, 64, 0)


def piece_ensemble(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(60, 120)
    pad = rng.choice(ENSEMBLES + ORGANS + PADS + BRASS[4:])
    lead = rng.choice(STRINGS_SOLO + WINDS + BRASS)
    low = rng.choice([42, 43, 58, 57, 70, 32])
    for ch, p in ((0, pad), (1, lead), (2, low)):
        song.program(t0, ch, p)
    start_piece(song, t0, [0, 1, 2], rng)
    base = rng.uniform(40, 115)
    prog = chords(song, rng, key, 0, t0, dur, beat, rng.choice([3, 4]), base - 15, "block")
    melody(song, rng, key, 1, t0, dur, beat, rng.choice([4, 5, 5, 6]), base)
    bass(song, rng, key, 2, t0, dur, beat * 2, prog, base - 10)


def piece_band(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(85, 150)
    progs = {0: rng.choice(GUITARS + PIANOS[4:6] + ORGANS[:3]), 1: rng.choice(BASSES),
             2: rng.choice(LEADS[:2] + [65, 66, 29, 30, 56, 61, 73])}
    for ch, p in progs.items():
        song.program(t0, ch, p)
    song.program(t0, DRUMS, rng.choice(DRUM_KITS))
    start_piece(song, t0, [0, 1, 2, DRUMS], rng)
    base = rng.uniform(60, 120)
    prog = chords(song, rng, key, 0, t0, dur, beat, 3, base - 15,
                  rng.choice(["stab", "arpeggio", "block"]))
    bass(song, rng, key, 1, t0, dur, beat, prog, base)
    melody(song, rng, key, 2, t0, dur, beat, rng.choice([4, 5]), base, pentatonic=True)
    drum_groove(song, rng, t0, dur, beat, base - 5, rng.random() < 0.5)


def piece_guitar(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(70, 130)
    song.program(t0, 0, rng.choice(GUITARS))
    song.program(t0, 1, rng.choice(BASSES + [42]))
    start_piece(song, t0, [0, 1], rng)
    base = rng.uniform(50, 115)
    prog = chords(song, rng, key, 0, t0, dur, beat, rng.choice([3, 4]), base, "arpeggio")
    bass(song, rng, key, 1, t0, dur, beat * 2, prog, base - 10)


def piece_plucked(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(80, 160)
    song.program(t0, 0, rng.choice(PLUCKED))
    song.program(t0, 1, rng.choice(PLUCKED + PIANOS))
    start_piece(song, t0, [0, 1], rng)
    base = rng.uniform(45, 115)
    melody(song, rng, key, 0, t0, dur, beat, rng.choice([4, 5, 6]), base,
           steps=(0.25, 0.5), pentatonic=rng.random() < 0.5)
    chords(song, rng, key, 1, t0, dur, beat, 3, base - 15, "arpeggio")


def piece_synth(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(95, 140)
    song.program(t0, 0, rng.choice(PADS))
    song.program(t0, 1, rng.choice(LEADS))
    song.program(t0, 2, rng.choice([38, 39, 87]))
    song.program(t0, DRUMS, rng.choice([24, 25]))  # electronic, TR-808
    start_piece(song, t0, [0, 1, 2, DRUMS], rng)
    base = rng.uniform(60, 115)
    prog = chords(song, rng, key, 0, t0, dur, beat, 4, base - 20, "block")
    chords(song, rng, key, 1, t0, dur, beat / 2, rng.choice([4, 5, 6]), base - 10, "arpeggio")
    bass(song, rng, key, 2, t0, dur, beat, prog, base)
    drum_groove(song, rng, t0, dur, beat, base - 10, True)


# ---- bright ---------------------------------------------------------------

def piece_bells(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(70, 150)
    chans = [0, 1, 2]
    for ch in chans:
        song.program(t0, ch, rng.choice(BELLS))
    start_piece(song, t0, chans + [DRUMS], rng)
    base = rng.uniform(50, 120)
    melody(song, rng, key, 0, t0, dur, beat, rng.choice([7, 7, 8]), base,
           steps=(0.25, 0.5, 1), span=14)
    chords(song, rng, key, 1, t0, dur, beat, rng.choice([7, 7, 8]), base - 10, "arpeggio")
    chords(song, rng, key, 2, t0, dur, beat, rng.choice([6, 7]), base - 15,
           rng.choice(["block", "stab"]))
    for k in range(int(dur / beat)):  # a triangle on the beat
        if rng.random() < 0.5:
            song.note(t0 + k * beat, beat, DRUMS, rng.choice([80, 81]), base - 10)


def piece_chimes(song, rng, t0, dur):
    """The top two octaves: small bells near the top of the keyboard, a bell tree,
    jingle bells and triangles."""
    key, beat = Key(rng), 60 / rng.uniform(90, 170)
    for ch in (0, 1):
        song.program(t0, ch, rng.choice([9, 8, 10, 112, 13]))
    song.program(t0, DRUMS, rng.choice(DRUM_KITS))
    start_piece(song, t0, [0, 1, DRUMS], rng)
    base = rng.uniform(60, 120)
    melody(song, rng, key, 0, t0, dur, beat, 8, base, steps=(0.25, 0.5), span=10)
    chords(song, rng, key, 1, t0, dur, beat / 2, rng.choice([7, 8]), base - 10, "arpeggio")
    t = t0
    while t < t0 + dur:
        song.note(t, beat, DRUMS, rng.choice([80, 81, 83, 84, 84, 53]),
                  dynamics(rng, t, t0, dur, base))
        t += beat * rng.choice([0.25, 0.5, 0.5, 1])


def piece_cymbals(song, rng, t0, dur):
    beat = 60 / rng.uniform(80, 170)
    song.program(t0, DRUMS, rng.choice(DRUM_KITS))
    start_piece(song, t0, [DRUMS], rng)
    base = rng.uniform(55, 120)
    sixteenth = beat / 4
    hats = rng.sample([HAT_CLOSED, HAT_PEDAL, HAT_OPEN, RIDE, RIDE2, RIDE_BELL], 2)
    perc = rng.sample(SMALL_PERC, 3)
    steps = int(dur / sixteenth)
    for s in range(steps):
        t = t0 + s * sixteenth
        vel = dynamics(rng, t, t0, dur, base)
        song.note(t, sixteenth, DRUMS, hats[0], vel - (0 if s % 4 == 0 else 25))
        if s % 2 == 1 and rng.random() < 0.6:
            song.note(t, sixteenth, DRUMS, hats[1], vel - 10)
        if s % 8 == 0 and rng.random() < 0.5:
            song.note(t, beat, DRUMS, rng.choice([CRASH, CRASH2, SPLASH, CHINA]), vel + 10)
        if rng.random() < 0.35:
            song.note(t, sixteenth, DRUMS, rng.choice(perc), vel - 5)
        if s % 8 == 4 and rng.random() < 0.5:
            song.note(t, sixteenth, DRUMS, rng.choice([SNARE, SNARE2, CLAP]), vel - 10)
        if s % 16 == 0 and rng.random() < 0.3:
            song.note(t, sixteenth, DRUMS, KICK, vel - 20)


def piece_high_synth(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(100, 150)
    song.program(t0, 0, rng.choice(HIGH_LEADS))
    song.program(t0, 1, rng.choice(HIGH_LEADS))
    start_piece(song, t0, [0, 1], rng)
    song.control(t0, 0, 1, rng.randint(0, 80))  # modulation wheel: vibrato
    base = rng.uniform(55, 120)
    chords(song, rng, key, 0, t0, dur, beat / 2, rng.choice([6, 7, 8]), base, "arpeggio")
    melody(song, rng, key, 1, t0, dur, beat, rng.choice([7, 8, 8, 9]), base - 5,
           steps=(0.25, 0.5), span=12)
    song.program(t0, DRUMS, rng.choice([24, 25, 0]))
    start_piece(song, t0, [DRUMS], rng)
    sixteenth = beat / 4
    for k in range(int(dur / sixteenth)):  # sixteenth hats and a shaker
        song.note(t0 + k * sixteenth, sixteenth, DRUMS,
                  HAT_OPEN if k % 8 == 6 else HAT_CLOSED, base - 5 - 20 * (k % 2))
        if k % 2 == 1:
            song.note(t0 + k * sixteenth, sixteenth, DRUMS, rng.choice([69, 70, 82]), base - 20)


def piece_high_acoustic(song, rng, t0, dur):
    key, beat = Key(rng), 60 / rng.uniform(80, 150)
    song.program(t0, 0, rng.choice(HIGH_ACOUSTIC))
    song.program(t0, 1, rng.choice(BELLS))
    start_piece(song, t0, [0, 1, DRUMS], rng)
    base = rng.uniform(50, 120)
    melody(song, rng, key, 0, t0, dur, beat, rng.choice([7, 7, 8]), base,
           steps=(0.25, 0.5, 1))
    chords(song, rng, key, 1, t0, dur, beat, rng.choice([7, 8]), base - 10, "arpeggio")
    for k in range(int(dur / (beat / 2))):  # eighth-note hats under it
        song.note(t0 + k * beat / 2, beat / 2, DRUMS, rng.choice([HAT_CLOSED, HAT_PEDAL, 54]),
                  base - 15 - 15 * (k % 2))


# Bright pieces are shorter: a class file's few chunks then meet more of them.
PIECE_SECONDS = {"music": (3.5, 6.0), "bright": (2.5, 4.0)}
PIECES = {
    "music": [piece_piano, piece_ensemble, piece_band, piece_guitar, piece_plucked,
              piece_synth],
    # chimes and cymbals twice a round: they carry most of the top two octaves
    "bright": [piece_bells, piece_chimes, piece_chimes, piece_cymbals, piece_cymbals,
               piece_high_synth, piece_high_acoustic],
}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in PIECES:
        sys.exit("usage: make-midi.py music|bright SEED SECONDS OUT.mid")
    kind, seed, seconds, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    song = Song()
    kinds = PIECES[kind]
    order = []
    t, i = 0.0, 0
    while t < seconds:
        if i % len(kinds) == 0:  # every kind once per round, in a seeded order
            order = rng.sample(kinds, len(kinds))
        dur = rng.uniform(*PIECE_SECONDS[kind])
        order[i % len(kinds)](song, rng, t, dur)
        t += dur + 0.3  # the notes of the last bar ring into a short gap
        i += 1
    song.write(out, t + 1.0)  # a second of release and reverb at the end


if __name__ == "__main__":
    main()

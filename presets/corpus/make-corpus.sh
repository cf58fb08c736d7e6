#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-corpus.sh: generates the training and held-out audio for the presets'
# fits from Debian packages: speech by espeak-ng, music and bright instruments
# by fluidsynth from the General MIDI soundfont FluidR3_GM.sf2 (MIDI made by
# make-midi.py), noise and tones by corpus-tool. Nothing is downloaded and
# nothing recorded is used; the same inputs give the same bytes.
#
#   make-corpus.sh OUTDIR [RATE]
#
# RATE in Hz, 48000 by default (any rate from 8000 to 192000; 44100 and 96000
# are the ones the presets carry). Writes into OUTDIR:
#   train-{speech,music,bright,noise}.wav   each class's training part
#   heldout-{speech,music,bright,noise}.wav each class's held-out part
#   train-mix.wav    the training mix: the four training parts in 2 s chunks,
#                    speech/music/bright/noise 30/30/20/20 %, every class in
#                    its last 20 % (which the fit holds out)
#   train-mix-b.wav  the same chunks with speech<->music and bright<->noise:
#                    the second source of an array simulation (README.md)
#   coverage.md      share of energy per octave band of every file
#   corpus.txt       tool versions, soundfont, seeds and the files' SHA-256
# All WAV files are mono 32-bit float at RATE. See presets/corpus/README.md.
#
# Environment: MIX_SECONDS (60, a multiple of 20), HELDOUT_SECONDS (15, a
# multiple of 3), MDN_CORPUS_TOOL (a built corpus-tool; otherwise it is compiled
# here with CC, pkg-config and libsndfile), MDN_CORPUS_SF2 (the
# soundfont; it must still be the pinned file), KEEP_WORK=1 (keep OUTDIR/.work),
# HELDOUT_ONLY=1 (only the heldout-*.wav files, coverage.md and corpus.txt: the
# preset-claims test's corpus), HELDOUT_SEED_OFFSET (added to the held-out
# seeds of music, bright, tones and noise: other held-out audio than the fit
# measured on; speech keeps its sentences and voices).
set -eu

usage() {
  echo "usage: $0 OUTDIR [RATE]" >&2
  exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
out=$1
rate=${2:-48000}
case $rate in '' | *[!0-9]*) usage ;; esac
if [ "$rate" -lt 8000 ] || [ "$rate" -gt 192000 ]; then
  echo "make-corpus: RATE must be from 8000 to 192000 Hz" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mix_s=${MIX_SECONDS:-60}
held_s=${HELDOUT_SECONDS:-15}
case $mix_s$held_s in *[!0-9]*) usage ;; esac
if [ $((mix_s % 20)) -ne 0 ] || [ "$mix_s" -eq 0 ]; then
  echo "make-corpus: MIX_SECONDS must be a multiple of 20" >&2
  exit 2
fi
if [ $((held_s % 3)) -ne 0 ] || [ "$held_s" -eq 0 ]; then
  echo "make-corpus: HELDOUT_SECONDS must be a multiple of 3" >&2
  exit 2
fi

# The pinned soundfont: Debian 12's fluid-soundfont-gm 3.1-5.3.
sf2=${MDN_CORPUS_SF2:-/usr/share/sounds/sf2/FluidR3_GM.sf2}
SF2_SIZE=148398306
SF2_SHA256=74594e8f4250680adf590507a306655a299935343583256f3b722c48a1bc1cb0
# Seeds: the training and held-out parts never share one.
SEED_MUSIC_TRAIN=1101 SEED_MUSIC_HELD=2101
SEED_BRIGHT_TRAIN=1201 SEED_BRIGHT_HELD=2201
SEED_TONES_TRAIN=1301 SEED_TONES_HELD=2301
SEED_NOISE_TRAIN=1401 SEED_NOISE_HELD=2401
held_only=${HELDOUT_ONLY:-0}
offset=${HELDOUT_SEED_OFFSET:-0}
case $offset in '' | *[!0-9]*) usage ;; esac
SEED_MUSIC_HELD=$((SEED_MUSIC_HELD + offset)) SEED_BRIGHT_HELD=$((SEED_BRIGHT_HELD + offset))
SEED_TONES_HELD=$((SEED_TONES_HELD + offset)) SEED_NOISE_HELD=$((SEED_NOISE_HELD + offset))
# Class files are cut from their material in chunks of 1 s (training) and 1.5 s
# (held-out), evenly spaced over it; the mix interleaves 2 s chunks of them.
CLASS_CHUNK=1 HELD_CHUNK=1.5 MIX_CHUNK=2

missing=""
for tool in espeak-ng fluidsynth sox python3; do
  command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
done
[ -f "$sf2" ] || missing="$missing fluid-soundfont-gm"
if [ -n "$missing" ]; then
  echo "make-corpus: missing:$missing. Install (Debian):" >&2
  echo "  sudo apt-get install espeak-ng fluidsynth fluid-soundfont-gm sox python3" >&2
  echo "  (or: MDN_EXTRA_PKGS=\"espeak-ng fluidsynth fluid-soundfont-gm sox python3\" sh tools/ensure-deps.sh)" >&2
  exit 1
fi
size=$(wc -c <"$sf2" | tr -d ' ')
if [ "$size" != $SF2_SIZE ] || [ "$(sha256sum "$sf2" | cut -d' ' -f1)" != $SF2_SHA256 ]; then
  echo "make-corpus: $sf2 is not the pinned soundfont (FluidR3_GM.sf2 of Debian 12's" >&2
  echo "  fluid-soundfont-gm 3.1-5.3: $SF2_SIZE bytes, sha256 $SF2_SHA256)." >&2
  echo "  Another soundfont gives other audio, hence other fits; install that package version." >&2
  exit 1
fi

work=$out/.work
rm -rf "$work"
mkdir -p "$work/speech"
start=$(date +%s)

# corpus-tool: a built one from meson, or compiled here.
tool=${MDN_CORPUS_TOOL:-}
if [ -z "$tool" ]; then
  tool=$work/corpus-tool
  # shellcheck disable=SC2046
  ${CC:-cc} -std=c11 -O2 -o "$tool" "$here/corpus-tool.c" \
    $(pkg-config --cflags --libs sndfile) -lm
fi

# Lengths of the material (seconds) the class files are cut from: half as much
# again as they keep, so their chunks spread over more pieces.
train_cls() { echo $(($1 * mix_s / 100)); } # a class's share of the mix, in seconds
mat() { echo $(($1 * 3 / 2 + 4)); }

echo "make-corpus: speech (espeak-ng)"
n=0
parts="train heldout"
[ "$held_only" != 1 ] || parts=heldout
grep -v '^#' "$here/speech.txt" | while IFS='|' read -r part voice wpm pitch text; do
  [ -n "$part" ] || continue
  n=$((n + 1))
  case " $parts " in *" $part "*) ;; *) continue ;; esac
  espeak-ng -v "$voice" -s "$wpm" -p "$pitch" -w "$work/speech/$part-$(printf %03d $n).wav" "$text"
done
for part in $parts; do
  # 6 dB down first: sox works in fixed point and would clip the resampler's overshoot.
  sox -R "$work/speech/$part-"*.wav -e floating-point -b 32 \
    "$work/speech-$part.wav" gain -6 rate -v "$rate"
done

# fluidsynth renders at RATE up to 96 kHz (higher rates: at 96 kHz, then sox's
# resampler), float stereo; its default gain (0.2) keeps the peaks under 1, which
# sox needs (it clips float input).
fs_rate=$rate
[ "$rate" -le 96000 ] || fs_rate=96000
render() { # KIND SEED SECONDS NAME
  python3 "$here/make-midi.py" "$1" "$2" "$3" "$work/$4.mid"
  fluidsynth -q -n -i -o synth.cpu-cores=1 -g 0.2 -r "$fs_rate" -O float -T wav \
    -F "$work/$4-fs.wav" "$sf2" "$work/$4.mid" >/dev/null
  if [ "$fs_rate" = "$rate" ]; then
    mv "$work/$4-fs.wav" "$work/$4.wav"
  else
    sox -R "$work/$4-fs.wav" -e floating-point -b 32 "$work/$4.wav" rate -v "$rate"
  fi
}
echo "make-corpus: music and bright instruments (fluidsynth, FluidR3_GM.sf2)"
if [ "$held_only" != 1 ]; then
  render music $SEED_MUSIC_TRAIN "$(mat "$(train_cls 30)")" music-train
  render bright $SEED_BRIGHT_TRAIN "$(mat "$(train_cls 20)")" bright-train
fi
render music $SEED_MUSIC_HELD "$(mat "$held_s")" music-heldout
render bright $SEED_BRIGHT_HELD "$(mat "$held_s")" bright-heldout

echo "make-corpus: noise and tones"
if [ "$held_only" != 1 ]; then
  "$tool" noise "$rate" "$(mat "$(train_cls 20)")" $SEED_NOISE_TRAIN "$work/noise-train.wav"
  "$tool" tones "$rate" "$(mat "$(train_cls 20)")" $SEED_TONES_TRAIN "$work/tones-train.wav"
fi
"$tool" noise "$rate" "$(mat "$held_s")" $SEED_NOISE_HELD "$work/noise-heldout.wav"
"$tool" tones "$rate" "$(mat "$held_s")" $SEED_TONES_HELD "$work/tones-heldout.wav"

echo "make-corpus: class files and the training mix"
mkdir -p "$out"
a() { "$tool" assemble "$rate" "$@"; }
if [ "$held_only" != 1 ]; then
  a $CLASS_CHUNK "$(train_cls 30)" "$out/train-speech.wav" "$work/speech-train.wav"
  a $CLASS_CHUNK "$(train_cls 30)" "$out/train-music.wav" "$work/music-train.wav"
  a $CLASS_CHUNK "$(train_cls 20)" "$out/train-bright.wav" "$work/bright-train.wav:2" \
    "$work/tones-train.wav:1"
  a $CLASS_CHUNK "$(train_cls 20)" "$out/train-noise.wav" "$work/noise-train.wav"
fi
a $HELD_CHUNK "$held_s" "$out/heldout-speech.wav" "$work/speech-heldout.wav"
a $HELD_CHUNK "$held_s" "$out/heldout-music.wav" "$work/music-heldout.wav"
a $HELD_CHUNK "$held_s" "$out/heldout-bright.wav" "$work/bright-heldout.wav:2" \
  "$work/tones-heldout.wav:1"
a $HELD_CHUNK "$held_s" "$out/heldout-noise.wav" "$work/noise-heldout.wav"
if [ "$held_only" != 1 ]; then
  "$tool" mix "$rate" $MIX_CHUNK "$out/train-mix.wav" "$out/train-mix-b.wav" \
    "$out/train-speech.wav" "$out/train-music.wav" "$out/train-bright.wav" "$out/train-noise.wav"
fi

{
  echo "# Corpus coverage at $rate Hz"
  if [ "$held_only" != 1 ]; then
    echo
    echo "Training parts and the training mix."
    echo
    "$tool" coverage "$out/train-speech.wav" "$out/train-music.wav" "$out/train-bright.wav" \
      "$out/train-noise.wav" "$out/train-mix.wav"
  fi
  echo
  echo "Held-out parts."
  echo
  "$tool" coverage "$out/heldout-speech.wav" "$out/heldout-music.wav" "$out/heldout-bright.wav" \
    "$out/heldout-noise.wav"
} >"$out/coverage.md"

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
{
  echo "rate: $rate"
  echo "mix_seconds: $mix_s"
  echo "heldout_seconds: $held_s"
  echo "soundfont: $sf2 $SF2_SHA256"
  for p in espeak-ng fluidsynth fluid-soundfont-gm sox; do echo "package: $p $(version $p)"; done
  echo "seeds: music $SEED_MUSIC_TRAIN/$SEED_MUSIC_HELD bright $SEED_BRIGHT_TRAIN/$SEED_BRIGHT_HELD" \
    "tones $SEED_TONES_TRAIN/$SEED_TONES_HELD noise $SEED_NOISE_TRAIN/$SEED_NOISE_HELD (train/heldout)"
  echo "heldout_seed_offset: $offset"
  if [ "$held_only" = 1 ]; then
    (cd "$out" && sha256sum heldout-*.wav)
  else
    (cd "$out" && sha256sum train-*.wav heldout-*.wav)
  fi
} >"$out/corpus.txt"
# Other versions of the synthesisers give other bytes (and other fits).
for p in "espeak-ng 1.51+dfsg-10+deb12u2" "fluidsynth 2.3.1-2" "sox 14.4.2+git20190427-3.5"; do
  [ "$(version "${p%% *}")" = "${p#* }" ] ||
    echo "make-corpus: note: ${p%% *} $(version "${p%% *}") is not ${p#* } (Debian 12):" \
      "the audio may differ from the documented corpus" >&2
done

[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$work"
echo "make-corpus: wrote $out at $rate Hz in $(($(date +%s) - start)) s (coverage: $out/coverage.md)"

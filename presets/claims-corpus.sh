#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# claims-corpus.sh: the held-out audio the presets' claims are checked on, at
# each rate: other held-out audio than the fits measured on (other seeds for
# music, bright, tones and noise, another cut of the held-out speech), 12 s per
# class, near the 15 s the fits measured on (shorter excerpts vary more: 6 s of one music
# piece fall up to 5 dB under the highpass's music claim), and for beam8 its
# 8-mic array recordings.
#
#   claims-corpus.sh OUTDIR DESIGN_KERNELS [STAMP]
#
# Writes OUTDIR/claims-RATE/heldout-CLASS.wav and heldout-CLASS-8ch.wav for
# RATES (default "44100 48000 96000"), then touches STAMP if given. Used by
# make-presets.sh and by the preset-claims test (meson). Needs what
# corpus/make-corpus.sh needs (espeak-ng, fluidsynth, fluid-soundfont-gm, sox).
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 OUTDIR DESIGN_KERNELS [STAMP]" >&2
  exit 2
fi
out=$1 design=$2 stamp=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
rates=${RATES:-44100 48000 96000}
mkdir -p "$out"
for rate in $rates; do
  dir=$out/claims-$rate
  HELDOUT_ONLY=1 HELDOUT_SECONDS=12 HELDOUT_SEED_OFFSET=1000 \
    sh "$here/corpus/make-corpus.sh" "$dir" "$rate" >"$out/claims-$rate.log" 2>&1 ||
    { cat "$out/claims-$rate.log" >&2; exit 1; }
  for cls in speech music bright noise; do
    "$design" --array "$dir/heldout-$cls-8ch.wav" "$dir/heldout-$cls.wav"
  done
  echo "claims-corpus: $dir"
done
[ -z "$stamp" ] || touch "$stamp"

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-presets.sh: remakes the shipped presets (presets/*.mdn), the demo's
# sample (presets/sample-speech.wav) and presets/README.md.
#
#   make-presets.sh BUILD_ROOT DESIGN_KERNELS PRESET_SPEED MADDNESS_FIT MADDNESS_INFO PRESET_CLAIMS
#
# Run by `make presets` (the meson run target `presets`), in BUILD_ROOT/presets-work:
# 1. the corpus at each rate (corpus/make-corpus.sh: train-mix.wav and the
#    held-out classes), and for beam8 its 8-mic array recordings
#    (design-kernels --array);
# 2. the kernels designed at each rate (design-kernels); the room IR is made at
#    48 kHz and resampled to the other rates by maddness-fit (libsoxr);
# 3. each preset fitted at each rate on the mix (the engine's default ladder,
#    seed 1), measured on each held-out class (--heldout), each rate added to
#    the preset (--add-to); presets in parallel (MDN_JOBS, default: the cores);
# 4. the claims checked on a second held-out corpus (other seeds, 6 s per
#    class: preset-claims), and the speed-ups of the 48 kHz variants
#    (preset-speed); README.md written from maddness-info's, preset-claims'
#    and preset-speed's output.
#
# REUSE_FITS=1 keeps the corpus, kernels and fits already in
# BUILD_ROOT/presets-work and only measures and writes again; REUSE_CORPUS=1
# keeps the corpus (the slow part: minutes of wall time on a busy machine) and
# designs and fits again. RATES (default "44100 48000 96000") sets the rates.
set -eu

[ $# -eq 6 ] || {
  echo "usage: $0 BUILD_ROOT DESIGN_KERNELS PRESET_SPEED MADDNESS_FIT MADDNESS_INFO PRESET_CLAIMS" >&2
  exit 2
}
build=$1 design=$2 speed=$3 fit=$4 info=$5 claims=$6
presets=$(cd "$(dirname "$0")" && pwd)
work=$build/presets-work
seed=1
rates=${RATES:-44100 48000 96000}
jobs=${MDN_JOBS:-$(nproc 2>/dev/null || echo 2)}
classes="speech music bright noise"

# name, kernel file (in each rate's kernels/), input channels
PRESETS="lowpass lowpass.taps 1
highpass highpass.taps 1
bank16 bank16.taps 1
crossover crossover.taps 1
reverb reverb-ir.wav 1
beam8 beam8.taps 8"

describe() {
  case $1 in
  lowpass) echo "Blackman windowed-sinc lowpass, 6 kHz" ;;
  highpass) echo "highpass at 1 kHz (delayed impulse minus a Blackman lowpass)" ;;
  bank16) echo "16 band-passes, log-spaced from 80 Hz to 21.6 kHz" ;;
  crossover) echo "2 kHz crossover: low band and its exact complement" ;;
  reverb) echo "stereo room: two synthetic 21 ms responses (RT60 50 ms, 2 ms pre-delay), a 48 kHz WAV IR resampled to 44.1 and 96 kHz (libsoxr)" ;;
  beam8) echo "filter-and-sum beams at -30 and +30 degrees, 8 mics 35 mm apart" ;;
  esac
}

# Runs "$@" ITEM for each line of stdin, in $jobs lanes in parallel (lane i
# takes lines i, i + jobs, ...: one after the other); fails if one fails.
parallel() {
  items=$(cat)
  pids=""
  lane=0
  while [ $lane -lt "$jobs" ]; do
    (echo "$items" | awk -v i=$lane -v n="$jobs" 'NR % n == i' | while read -r item; do
      "$@" "$item" || exit 1
    done) &
    pids="$pids $!"
    lane=$((lane + 1))
  done
  status=0
  for pid in $pids; do wait "$pid" || status=1; done
  return $status
}

corpus_one() { # RATE: the training corpus and the claims corpus at RATE
  c=$work/corpus-$1
  HELDOUT_SECONDS=15 sh "$presets/corpus/make-corpus.sh" "$c" "$1" >"$work/corpus-$1.log" 2>&1 ||
    { cat "$work/corpus-$1.log" >&2; return 1; }
  RATES=$1 sh "$presets/claims-corpus.sh" "$work" "$design" >/dev/null
  "$design" --array "$c/train-mix-8ch.wav" "$c/train-mix.wav" "$c/train-mix-b.wav"
  for cls in $classes; do
    "$design" --array "$c/heldout-$cls-8ch.wav" "$c/heldout-$cls.wav"
  done
  echo "make-presets: corpus at $1 Hz"
}

fit_one() { # "NAME KERNEL CIN": every rate, one after the other, into $work/NAME.mdn
  name=${1%% *} rest=${1#* }
  kernel=${rest%% *} cin=${rest#* }
  rm -f "$work/$name.mdn" "$work/$name.fit.txt"
  for rate in $rates; do
    c=$work/corpus-$rate
    suffix=""
    [ "$cin" = 1 ] || suffix=-${cin}ch
    kfile=$work/kernels-$rate/$kernel
    extra=""
    if [ "$kernel" = reverb-ir.wav ]; then
      # The IR exists at 48 kHz: resampled (libsoxr) for the other rates.
      kfile=$work/kernels-48000/$kernel
      extra=--resample-kernel
    fi
    held=""
    for cls in $classes; do held="$held --heldout $cls=$c/heldout-$cls$suffix.wav"; done
    add=""
    [ ! -f "$work/$name.mdn" ] || add="--add-to $work/$name.mdn"
    # shellcheck disable=SC2086
    "$fit" --kernel "$kfile" --rate "$rate" $extra --audio "$c/train-mix$suffix.wav" $held $add \
      --seed $seed \
      -o "$work/$name.mdn" >"$work/$name-$rate.fit.txt" 2>&1 ||
      { cat "$work/$name-$rate.fit.txt" >&2; return 1; }
    { echo "rate: $rate"; cat "$work/$name-$rate.fit.txt"; } >>"$work/$name.fit.txt"
  done
  echo "make-presets: fitted $name ($(grep -h fit_seconds "$work/$name"-*.fit.txt |
    awk '{s += $2} END {printf "%.1f", s}') s of fitting)"
}

if [ "${REUSE_FITS:-0}" != 1 ]; then
  if [ "${REUSE_CORPUS:-0}" = 1 ]; then
    rm -rf "$work"/kernels-* "$work"/*.mdn "$work"/*.txt
  else
    rm -rf "$work"
  fi
  mkdir -p "$work"
  start=$(date +%s)
  for rate in $rates; do
    if [ "$rate" = 48000 ]; then
      "$design" "$work/kernels-$rate" "$rate" "$presets/sample-speech.wav"
    else
      "$design" "$work/kernels-$rate" "$rate"
    fi
  done
  case " $rates " in *" 48000 "*) ;; *) "$design" "$work/kernels-48000" 48000 ;; esac
  if [ "${REUSE_CORPUS:-0}" = 1 ]; then
    echo "make-presets: the corpus already in $work"
  else
    echo "make-presets: the corpus at $rates Hz ($jobs at a time)"
    for rate in $rates; do echo "$rate"; done | parallel corpus_one
  fi
  corpus_done=$(date +%s)
  echo "make-presets: corpus made in $((corpus_done - start)) s"
  echo "$PRESETS" | parallel fit_one
  fit_done=$(date +%s)
  echo "make-presets: fitted in $((fit_done - corpus_done)) s (wall time, $jobs at a time)"
  echo "$((corpus_done - start)) $((fit_done - corpus_done))" >"$work/times.txt"
fi

names=$(echo "$PRESETS" | awk '{print $1}')
paths=""
for name in $names; do paths="$paths $work/$name.mdn"; done
corpora=""
for rate in $rates; do corpora="$corpora --corpus $work/claims-$rate"; done
echo "make-presets: checking the claims on a second held-out corpus"
# shellcheck disable=SC2086
if ! "$claims" $corpora $paths >"$work/claims.txt"; then
  grep LOW "$work/claims.txt" >&2 || true
  echo "make-presets: a claim does not hold (see $work/claims.txt)" >&2
  exit 1
fi
echo "make-presets: timing every tier against the exact path (48 kHz variants)"
# shellcheck disable=SC2086
"$speed" $paths >"$work/speed.txt"

readme=$work/README.md
{
  cat <<'EOF'
# Shipped presets

<!-- Generated by presets/make-presets.sh (`make presets`): do not edit by hand. -->

Each `.mdn` file holds a filter at 44.1, 48 and 96 kHz (three rate variants: the same design in
hertz, with taps in proportion to the rate), each with the engine's default tier ladder fitted
at that rate (`maddness-fit`, seed 1). They are installed to `$datadir/gst-maddness/presets`,
where `maddnessfilter preset=NAME`, `maddness-info NAME` and `maddness-fit --kernel NAME` find
them by name (after the directories of `MADDNESS_PRESET_PATH`); `maddness-info --list` lists
them. `maddnessfilter` runs the variant at the stream's rate (no resampling).

`make presets` remakes everything here: `corpus/make-corpus.sh` makes the training and held-out
audio at each rate from Debian packages ([corpus/README.md](corpus/README.md)),
`design-kernels.c` designs the kernels at each rate (taps files; the room response is a 48 kHz
WAV impulse response, resampled by `maddness-fit --resample-kernel` with libsoxr), `maddness-fit`
fits each preset at each rate on the 60 s training mix and measures every tier on each class of
held-out audio (`--heldout`), `preset-claims.c` checks the claims on a second held-out corpus, and
this file is written from their output and from `preset-speed.c`.

- **expected-snr** (the claim, what `maddness-info` gives as `snr_db` and `maddnessfilter`'s
  `expected-snr` reports) is the tier's worst SNR over four classes of held-out audio (15 s
  each, never fitted on), against the exact convolution: speech (espeak-ng), music (fluidsynth),
  bright/tonal (bells, cymbals, high leads, tones and sweeps up to Nyquist) and noise (white,
  pink, brown, bursts). It is conservative: on audio like any of these classes the tier does at
  least this well; on speech and music it usually does much better (the class columns).
- **speech, music, bright, noise**: the SNR the preset stores for each class (measured at fit
  time), then, after the slash, the SNR `preset-claims` measured on a second held-out corpus
  (other MIDI pieces, tones and noise seeds, another cut of the held-out speech; 12 s per class).
  Every measured value is at least the claim minus 3 dB (`make presets` fails otherwise; the
  `preset-claims` test checks it again in `make check`). A claim describes a class over some
  seconds of it: shorter excerpts vary more (a first check on 6 s per class found 6 s of music
  on which the highpass's fast tiers fell 5 dB under their claim; 12 s of other music stays
  within 2 dB), and audio unlike every class (a bass-only signal through the 1 kHz highpass)
  can do worse.
- **Speed-up** (48 kHz variant) is measured by `preset-speed` (not by `bench/maddness-bench`,
  whose workloads are its own kernels and fits, not these presets): the time of the preset's
  exact path over the tier's, both through `mdn_stream_process` on 3 s of speech-like audio in
  1024-frame buffers, best of 9 interleaved passes, in the same run on the machine that ran
  `make presets`. A speed-up below 1 means the tier is slower than the exact path there. In
  brackets: the speed-up the engine's time model predicts for these kernels
  (`mdn_model_tier_speedup`, docs/tiers.md), and `offered` when `quality` may select the tier
  on that machine (predicted at least 1.3x and no tier claiming more SNR predicted as fast:
  `mdn_model_paying_tiers`); the element shares quality 0..9 among the offered tiers only. It
  all depends on the machine; rerun `make presets` (or `preset-speed NAME`, `maddness-info NAME`)
  to see yours.

The command behind the class columns (after the slash):
`presets/claims-corpus.sh DIR build/presets/design-kernels` (the second held-out corpus at each
rate: `presets/corpus/make-corpus.sh` with `HELDOUT_ONLY=1 HELDOUT_SECONDS=12
HELDOUT_SEED_OFFSET=1000`, and beam8's array recordings), then `build/presets/preset-claims
--corpus DIR/claims-44100 --corpus DIR/claims-48000 --corpus DIR/claims-96000 presets/*.mdn`;
`meson test preset-claims` runs the same check.

EOF
  if [ -f "$work/times.txt" ]; then
    read -r corpus_s fit_s <"$work/times.txt"
    echo "Made in $((corpus_s + fit_s)) s of wall time on $(nproc 2>/dev/null || echo '?') CPU(s)" \
      "($corpus_s s for the corpus, $fit_s s for the fits)."
  fi
  echo "Speed-ups measured on: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo unknown)," \
    "$(nproc 2>/dev/null || echo '?') CPU(s), engine kernels \`$(sed -n 's/^isa: //p' "$work/speed.txt")\`."
  echo
  for name in $names; do echo "- \`$name\`: $(describe "$name")"; done
  echo
  echo "| preset | shape | rate | taps | tier | expected-snr (dB) | speech | music | bright | noise | speed-up |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for name in $names; do
    "$info" "$work/$name.mdn" >"$work/$name.info.txt"
    awk -v name="$name" -v speedfile="$work/speed.txt" -v claimsfile="$work/claims.txt" '
      BEGIN {
        while ((getline line < speedfile) > 0) {
          split(line, f, " ")
          if (f[1] == "preset:") { cur = f[2]; sub(".*/", "", cur); sub("[.]mdn$", "", cur) }
          else if (f[1] == "tier:") {
            sub("speedup=", "", f[4]); sub("predicted=", "", f[5]); sub("offered=", "", f[6])
            sp[cur "/" f[2]] = f[4] "x (" f[5] "x" (f[6] == "yes" ? ", offered" : "") ")"
          }
        }
        while ((getline line < claimsfile) > 0) {
          split(line, f, " ")
          if (f[1] == "claim:") { m = f[8]; sub("measured=", "", m); meas[f[2] "/" f[3] "/" f[4] "/" f[5]] = m }
        }
        first = 1
      }
      # A variant without tiers (the exact path is the cheapest) gets a row too.
      function no_tiers() {
        if (rate != "" && rows == 0) {
          printf("| %s | %s | %s | %s | none: exact only | - | - | - | - | - | - |\n",
                 first ? "`" name "`" : "", first ? cin "->" cout : "", rate, taps)
          first = 0
        }
      }
      /^cin:/ { cin = $2 } /^cout:/ { cout = $2 } /^taps:/ { taps = $2 }
      /^variant:/ { no_tiers(); rate = $2; rows = 0 }
      END { no_tiers() }
      /^tier:/ {
        tier = $2; snr = $3; sub("snr_db=", "", snr)
        cls = ""
        for (i = 4; i <= NF; i++) if ($i ~ /^class_snr_db=/) cls = substr($i, 14)
        n = split(cls, parts, ",")
        delete c
        for (i = 1; i <= n; i++) { split(parts[i], kv, ":"); c[kv[1]] = kv[2] }
        s = (rate == 48000 && (name "/" tier) in sp) ? sp[name "/" tier] : "-"
        line = ""
        split("speech music bright noise", order, " ")
        for (i = 1; i <= 4; i++) {
          key = name "/" rate "/" tier "/" order[i]
          line = line sprintf(" %s / %s |", (order[i] in c) ? sprintf("%.1f", c[order[i]]) : "-",
                              (key in meas) ? sprintf("%.1f", meas[key]) : "-")
        }
        printf("| %s | %s | %s | %s | %s | %.1f |%s %s |\n", first ? "`" name "`" : "",
               first ? cin "->" cout : "", rows == 0 ? rate : "", rows == 0 ? taps : "", tier, snr,
               line, s)
        first = 0; rows++
      }
      /^exact_cost:/ { }
      ' "$work/$name.info.txt"
  done
  cat <<'EOF'

A variant's exact path (quality 10) is not listed: it is the convolution itself. Where a rate
has fewer tiers, the fit kept only those cheaper than the exact path and on the SNR/cost front.

## Audio

`sample-speech.wav` (8 s, 16-bit mono, 48 kHz: the sample `make demo` filters) is generated by
this repository's code (`signals/audio.c`, speech-like, a fixed seed). The training and held-out
audio (written to the build directory, not shipped) is the corpus of
[corpus/README.md](corpus/README.md): speech by espeak-ng, music and bright instruments by
fluidsynth with the FluidR3_GM soundfont, noise and tones by `corpus/corpus-tool.c`; beam8's
8-channel array recordings are simulated from it by `design-kernels --array` (the mix at +30
degrees, the second mix at -40 degrees, sensor noise 40 dB down). Licence: the project's,
LGPL-2.1-or-later; no recorded audio is used.
EOF
} >"$readme"

for name in $names; do cp "$work/$name.mdn" "$presets/$name.mdn"; done
cp "$readme" "$presets/README.md"
echo "make-presets: wrote $presets/README.md and $(echo "$names" | wc -w) presets"

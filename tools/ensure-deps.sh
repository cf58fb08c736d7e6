#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ensure-deps.sh: install the Debian packages gst-maddness needs, or say how.
# As root it runs apt-get itself; otherwise it prints the one line to run.
# libsimde-dev: the AVX-512 kernels are tested over SIMDe on CPUs without AVX-512.
# libsoxr-dev: resampling impulse responses to a preset's other rates (fit time).
# python3-gi, gir1.2-gstreamer-1.0: the Python playbin example and its test.
# espeak-ng, fluidsynth, fluid-soundfont-gm, sox: the held-out corpus the
# preset-claims test checks the shipped presets' claims on (presets/corpus).
# libjson-glib-dev: Neural Amp Modeler .nam files (JSON).
# MDN_EXTRA_PKGS adds packages; a name with an architecture (libglib2.0-dev:arm64,
# make check-neon) first adds that architecture to dpkg (Debian multiarch).
set -e
PKGS="meson ninja-build pkg-config gcc libglib2.0-dev libsndfile1-dev \
libsoxr-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools \
gstreamer1.0-plugins-base gstreamer1.0-plugins-good valgrind libsimde-dev libjson-glib-dev \
python3-gi gir1.2-gstreamer-1.0 espeak-ng fluidsynth fluid-soundfont-gm sox python3"
[ -n "$MDN_EXTRA_PKGS" ] && PKGS="$PKGS $MDN_EXTRA_PKGS"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

# Foreign architectures the missing packages name, not yet known to dpkg.
new_archs=""
for p in $missing; do
  case "$p" in
  *:*)
    arch="${p##*:}"
    if [ "$arch" != "$(dpkg --print-architecture)" ] \
        && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      case " $new_archs " in *" $arch "*) ;; *) new_archs="$new_archs $arch" ;; esac
    fi
    ;;
  esac
done

if [ "$(id -u)" = 0 ]; then
  for arch in $new_archs; do
    echo "ensure-deps: adding dpkg architecture $arch"
    dpkg --add-architecture "$arch"
  done
  echo "ensure-deps: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
else
  echo "ensure-deps: missing packages; run:" >&2
  for arch in $new_archs; do
    echo "  sudo dpkg --add-architecture $arch" >&2
  done
  echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi

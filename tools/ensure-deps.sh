#!/bin/sh
# ensure-deps.sh: install the Debian packages gst-maddness needs, or say how.
# As root it runs apt-get itself; otherwise it prints the one line to run.
# libsimde-dev: the AVX-512 kernels are tested over SIMDe on CPUs without AVX-512.
set -e
PKGS="meson ninja-build pkg-config gcc libglib2.0-dev libkissfft-dev libsndfile1-dev \
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools \
gstreamer1.0-plugins-base gstreamer1.0-plugins-good valgrind libsimde-dev"
[ -n "$MDN_EXTRA_PKGS" ] && PKGS="$PKGS $MDN_EXTRA_PKGS"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "ensure-deps: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
else
  echo "ensure-deps: missing packages; run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi

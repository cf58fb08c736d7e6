# SPDX-License-Identifier: LGPL-2.1-or-later
# Thin wrapper around meson: `make demo`, `make check`, `make bench`.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps bench-deps build check check-sanitize check-neon fuzz demo bench presets clean

all: build

deps:
	@sh tools/ensure-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Runs every test; the last line is a plain "N passed, N failed" summary.
check: build
	@status=0; meson test -C $(BUILD) --print-errorlogs || status=$$?; \
	python3 tools/test-summary.py $(BUILD)/meson-logs/testlog.json; exit $$status

# Hardening (README): every test under AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer on; tests/lsan.supp names GLib/GStreamer one-time allocations only).
ASAN_BUILD ?= build-asan
# Full unwinding: the suppressions match frames below GLib, which has no frame pointers.
# GST_REGISTRY_FORK=no: the system's (unsanitized) gst-plugin-scanner cannot load
# the sanitized plugin, so every GStreamer process scans it itself.
# The sanitizers make the tests 2-3x slower: meson's and libcheck's timeouts
# are tripled in that build.
SANITIZE_ENV = GST_REGISTRY_FORK=no CK_TIMEOUT_MULTIPLIER=3 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
check-sanitize: deps
	@test -f $(ASAN_BUILD)/build.ninja || \
	  meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)
	ninja -C $(ASAN_BUILD)
	@status=0; $(SANITIZE_ENV) meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3 || status=$$?; \
	python3 tools/test-summary.py $(ASAN_BUILD)/meson-logs/testlog.json; exit $$status

# libFuzzer on the preset loader for FUZZ_SECONDS (clang, ASan + UBSan, coverage
# over the engine); fails on any crash, leak, timeout or out-of-memory. Inputs
# that fail land in $(FUZZ_BUILD)/artifacts/: keep them in tests/fuzz/regressions/.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@MDN_EXTRA_PKGS="clang libclang-rt-14-dev" sh tools/ensure-deps.sh
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true \
	  -Dgst=disabled -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dc_args=-fsanitize=fuzzer-no-link $(MESON_OPTS)
	ninja -C $(FUZZ_BUILD) tests/fuzz/fuzz-preset tests/fuzz/make-seeds
	rm -rf $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/artifacts
	mkdir -p $(FUZZ_BUILD)/artifacts
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(FUZZ_BUILD)/tests/fuzz/make-seeds $(FUZZ_BUILD)/corpus > /dev/null
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(FUZZ_BUILD)/tests/fuzz/fuzz-preset -max_total_time=$(FUZZ_SECONDS) \
	  -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
	  -artifact_prefix=$(CURDIR)/$(FUZZ_BUILD)/artifacts/ \
	  $(FUZZ_BUILD)/corpus tests/fuzz/corpus tests/fuzz/regressions

# The NEON kernels (AArch64) on this x86-64 machine: a cross build in $(NEON_BUILD)
# (gcc-aarch64-linux-gnu, the engine's arm64 -dev packages through Debian
# multiarch, cross/aarch64-linux-gnu.ini; no GStreamer) whose engine tests run
# under qemu-aarch64 (the cross file's exe_wrapper), NEON against the scalar
# reference: the engine suite but fit (minutes under qemu, no ISA-specific code).
NEON_BUILD ?= build-neon
NEON_PKGS = gcc-aarch64-linux-gnu qemu-user libglib2.0-dev:arm64 libsndfile1-dev:arm64 \
	libsoxr-dev:arm64 libjson-glib-dev:arm64
NEON_TESTS = fft tier-kernels exact-kernels stream-kernels net-kernels rt-safety tier tier-cost exact stream \
	audit tier-spec preset preset-variants preset-limits kernel-source info preset-names \
	fuzz-replay fuzz-seeds hyperplanes
check-neon:
	@MDN_EXTRA_PKGS="$(NEON_PKGS)" sh tools/ensure-deps.sh
	@test -f $(NEON_BUILD)/build.ninja || meson setup $(NEON_BUILD) \
	  --cross-file cross/aarch64-linux-gnu.ini -Dgst=disabled $(MESON_OPTS)
	ninja -C $(NEON_BUILD)
	@status=0; meson test -C $(NEON_BUILD) --no-rebuild --print-errorlogs --timeout-multiplier 5 \
	  $(NEON_TESTS) || status=$$?; \
	python3 tools/test-summary.py $(NEON_BUILD)/meson-logs/testlog.json; exit $$status

# The plugin from the build tree, the presets from the source tree: the
# quality knob on lowpass (1->1), bank16 (1->16) and beam8 (8->2), whose
# sample is the shipped speech as beam8's array hears it from +30 degrees
# (design-kernels --array, with the speech rotated by half from -40 degrees).
DEMO_ARRAY = $(BUILD)/demo-array.wav
demo: build
	$(BUILD)/presets/design-kernels --array $(DEMO_ARRAY) presets/sample-speech.wav
	GST_PLUGIN_PATH=$(abspath $(BUILD))/gst MADDNESS_PRESET_PATH=$(CURDIR)/presets \
	  $(BUILD)/tools/maddness-demo --sample presets/sample-speech.wav --sample $(DEMO_ARRAY) \
	  --out demo-out.wav lowpass bank16 beam8

# Remakes presets/*.mdn, presets/sample-speech.wav and presets/README.md (a few minutes).
presets: build
	@MDN_EXTRA_PKGS="espeak-ng fluidsynth fluid-soundfont-gm sox python3" sh tools/ensure-deps.sh
	ninja -C $(BUILD) presets

# The bench's peers need FFTW3f and OpenBLAS (fft-bench also kissfft; the
# library links none of them), its plot matplotlib; a build directory
# configured before they were installed is reconfigured to find them.
BENCH_PKGS = libfftw3-dev libopenblas-dev libkissfft-dev python3-matplotlib
BENCH_PYTHON ?= /usr/bin/python3
BENCH_ARGS ?=
bench-deps:
	@MDN_EXTRA_PKGS="$(BENCH_PKGS)" sh tools/ensure-deps.sh
	@if [ -f $(BUILD)/build.ninja ] && ! grep -q BENCH_HAVE_FFTW $(BUILD)/build.ninja; then \
	  meson setup --reconfigure $(BUILD) $(MESON_OPTS); fi

# The table goes to the terminal, one JSON object per result to bench.json.
# BENCH_ARGS: e.g. "-w lowpass64 --seconds 2" (see bench/README.md).
bench: bench-deps build
	$(BUILD)/bench/maddness-bench --json $(BENCH_ARGS) > $(BUILD)/bench.json
	$(BENCH_PYTHON) bench/plot-tradeoff.py $(BUILD)/bench.json docs/tradeoff.png

clean:
	rm -rf $(BUILD)

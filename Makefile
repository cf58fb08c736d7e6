# Thin wrapper around meson: `make demo`, `make check`, `make bench`.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps bench-deps build check demo bench presets clean

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

# The plugin from the build tree, the presets from the source tree.
demo: build
	GST_PLUGIN_PATH=$(abspath $(BUILD))/gst MADDNESS_PRESET_PATH=$(CURDIR)/presets \
	  $(BUILD)/tools/maddness-demo presets/sample-speech.wav lowpass

# Remakes presets/*.mdn, presets/sample-speech.wav and presets/README.md (a few minutes).
presets: build
	ninja -C $(BUILD) presets

# The bench's peers need FFTW3f and OpenBLAS, its plot matplotlib; a build
# directory configured before they were installed is reconfigured to find them.
BENCH_PKGS = libfftw3-dev libopenblas-dev python3-matplotlib
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

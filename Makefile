# Thin wrapper around meson: `make demo`, `make check`, `make bench`.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build check demo bench presets clean

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

demo: build
	$(BUILD)/tools/maddness-demo

clean:
	rm -rf $(BUILD)

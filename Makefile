# Thin wrapper over meson: `make run`, `make check`, `make bench`.
# Every target installs missing Debian packages first (scripts/deps.sh).

BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_FLAGS ?=
# CI builds with -Werror.
ifneq ($(CI),)
MESON_FLAGS += -Dwerror=true
endif

IOVMM = $(BUILD)/tools/iovmm

.PHONY: all deps build run check check-unit check-integ bench lab lab-bench fuzz asan clean

all: build

deps:
	@./scripts/deps.sh
	@./scripts/fetch-kernel.sh >/dev/null

$(BUILD)/build.ninja:
	@./scripts/deps.sh
	@./scripts/fetch-kernel.sh >/dev/null
	meson setup $(BUILD) $(MESON_FLAGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Boot the guest kit on iovmm, run its tests, print the exit-cost table.
# Without a usable /dev/kvm, iovmm demo runs itself inside the lab's L1
# (tools/nested.c, tests/nested/run.sh).
run: build
	$(IOVMM) demo

# Every suite; without a usable /dev/kvm (or with IOVMM_IN_LAB=1) the integ
# suite runs inside one lab L1 (scripts/check.sh, docs/testing.md).
check: build
	./scripts/check.sh $(BUILD)

check-unit: build
	meson test -C $(BUILD) --print-errorlogs --suite unit

check-integ: build
	meson test -C $(BUILD) --print-errorlogs --suite integ

# Tables on stdout, JSON and SVG charts (tools/bench-chart.py) in this dir.
# Without a usable /dev/kvm (or with IOVMM_IN_LAB=1) the three benchmarks
# run in one lab L1 (tests/nested/run.sh); the charts are drawn here.
NESTED = $(shell tests/nested/kvm-usable >/dev/null && [ "$$IOVMM_IN_LAB" != 1 ] || \
	echo tests/nested/run.sh --build $(BUILD) --timeout 3600 --)
bench: build
	$(NESTED) sh -c '$(IOVMM) bench exits --json bench-exits.json && \
		$(IOVMM) bench net --json bench-net.json && \
		$(IOVMM) bench vhost --json bench-vhost.json'
	tools/bench-chart.py bench-exits.json bench-net.json bench-vhost.json

# Every lab scenario (real VFIO, VT-d and SR-IOV inside an emulated host).
lab: build
	ninja -C $(BUILD) lab

# The lab's passthrough benchmarks (docs/benchmarks.md, "Lab: passthrough"):
# one L1 boot, medians of LAB_BENCH_RUNS runs, a table with ratios and
# $(BUILD)/lab-bench.json.
LAB_BENCH_RUNS ?= 5
lab-bench: build
	tests/lab/bench.sh --build $(BUILD) --runs $(LAB_BENCH_RUNS)

# libFuzzer targets under ASan/UBSan (clang): every fuzzer for FUZZ_RUNS
# executions (default 10 M; FUZZ_TARGETS, FUZZ_JOBS: tests/fuzz/all.sh),
# then a table of executions, seconds and findings per target.
FUZZ_RUNS ?= 10000000
fuzz: deps
	FUZZ_RUNS=$(FUZZ_RUNS) ./tests/fuzz/all.sh

# AddressSanitizer + UndefinedBehaviorSanitizer build of everything except
# the guest kit (which has its own flags), and its tests.
asan: deps
	[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) \
		-Db_sanitize=address,undefined -Db_lundef=false $(MESON_FLAGS)
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

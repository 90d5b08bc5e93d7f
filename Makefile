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

.PHONY: all deps build run check check-unit check-integ bench lab lab-bench fuzz asan soak clean

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

# Boot the guest kit on iovmm, run its tests, print the exit-cost table and
# bench io's short table (every I/O path vs QEMU; the NVMe VF row through
# one lab L1 boot where the host has no VFIO), JSON and SVG in this dir.
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
		$(IOVMM) bench vhost --json bench-vhost.json && \
		$(IOVMM) bench reconnect --json bench-reconnect.json && \
		$(IOVMM) bench io --no-chart --json bench-io.json'
	tools/bench-chart.py bench-exits.json bench-net.json bench-vhost.json bench-io.json

# Every lab scenario (real VFIO, VT-d and SR-IOV inside an emulated host).
lab: build
	ninja -C $(BUILD) lab

# The lab's passthrough benchmarks (docs/benchmarks.md, "Lab: passthrough"):
# one L1 boot, medians of LAB_BENCH_RUNS runs, a table with ratios and
# $(BUILD)/lab-bench.json.
LAB_BENCH_RUNS ?= 5
lab-bench: build
	tests/lab/bench.sh --build $(BUILD) --runs $(LAB_BENCH_RUNS)

# The hostile-guest soak, longer than make check's (tests/integ/soak.sh):
# 20 seeds, 6 rounds each, every BAR swept up to 32 KiB; iovmm graded,
# QEMU reported. Needs /dev/kvm.
soak: build
	./tests/integ/soak.sh $(IOVMM) $(BUILD)/guest/kit.elf --rounds 6 \
		--span 32768 --limit 600 $$(seq 1 20)

# libFuzzer targets under ASan/UBSan (clang): every fuzzer for FUZZ_RUNS
# executions (default 10 M; FUZZ_TARGETS, FUZZ_JOBS: tests/fuzz/all.sh),
# then a table of executions, seconds and findings per target. The API's
# fuzzer links meson's libraries, hence the build.
FUZZ_RUNS ?= 10000000
fuzz: build
	IOVMM_BUILD=$(BUILD) FUZZ_RUNS=$(FUZZ_RUNS) ./tests/fuzz/all.sh

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

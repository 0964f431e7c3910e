# Thin wrapper over CMake for the README's commands.
#   make        build build/espgang and build/espsim
#   make check  every test, then all of them again under ASan+UBSan, and the format check
#   make demo   the main job against virtual boards
#   make bench  throughput against esptool-js (minutes; not part of check)
#   make bench-gang, bench-records  gang scaling; the records store (not part of check)
#   make fuzz   libFuzzer on each tests/fuzz target for FUZZ_SECONDS (not part of check)
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# What runs under ThreadSanitizer: the threaded sessions, the records store, and gang
# runs (scheduler, workers, store writer) against espsim.
TSAN_TESTS ?= unit.test_job_threads|unit.test_store|integration.test_run$$|integration.test_run_signals|integration.test_watch|integration.test_factory

.PHONY: all setup build check test test-asan test-tsan format format-check demo bench bench-gang \
	bench-records fuzz clean

all: build

setup:
	@sh tools/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DEG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

test-tsan: setup
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DEG_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	@cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

format-check: setup
	@sh tools/format.sh --check

format: setup
	@sh tools/format.sh

check: format-check test test-asan test-tsan
	@echo "make check: all tests passed (plain, ASan+UBSan, and ThreadSanitizer on the threaded parts)"

demo: build
	@sh tools/demo.sh $(BUILD)

# Benchmarks are not part of make check: they take minutes.
bench: build
	@sh tools/bench/throughput $(BUILD)

# Many boards at once: one run against N processes, 1 to 64 paced boards (minutes).
bench-gang: build
	@sh tools/bench/gang $(BUILD)

# The records store: attempts recorded a second, reports over a million attempts.
bench-records: build
	@sh tools/bench/records $(BUILD)

# Fuzzing with libFuzzer (clang): each target of tests/fuzz for FUZZ_SECONDS, starting
# from its corpus; new inputs go to build-fuzz/corpus/NAME, crashes to build-fuzz/
# (copy one into tests/fuzz/corpus/NAME with its fix). Not part of check, which replays
# the committed corpus.
fuzz: setup
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DEG_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)

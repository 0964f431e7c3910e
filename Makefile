# Thin wrapper over CMake for the README's commands.
#   make        build build/espgang and build/espsim
#   make check  every test, then all of them again under ASan+UBSan, and the format check
#   make demo   the main job against virtual boards
#   make bench  throughput against esptool-js (minutes; not part of check)
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all setup build check test test-asan format format-check demo bench clean

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

format-check: setup
	@sh tools/format.sh --check

format: setup
	@sh tools/format.sh

check: format-check test test-asan
	@echo "make check: all tests passed (plain and ASan+UBSan)"

demo: build
	@sh tools/demo.sh $(BUILD)

# Benchmarks are not part of make check: they take minutes.
bench: build
	@sh tools/bench/throughput $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

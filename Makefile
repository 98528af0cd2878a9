# SPDX-License-Identifier: Apache-2.0
# Thin wrapper around CMake. `make demo` and `make check` install what they
# need on a Debian 12 machine, build into build/ and run.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps build demo check check-unit bench format-check lint clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	@scripts/install-deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	scripts/demo.sh $(BUILD)

check: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFG_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	scripts/lint.sh
	cd $(BUILD) && ctest --output-on-failure -j 1 $(CTEST_FLAGS)

check-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh $(BUILD)

format-check:
	clang-format --dry-run $$(git ls-files '*.c' '*.h')

lint:
	scripts/lint.sh

clean:
	rm -rf $(BUILD)

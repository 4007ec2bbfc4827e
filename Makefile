# The two set-up commands: `make run` (install, build, start eddy with a demo) and
# `make test` (install, build, run every test). Everything else is a step of those.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
EDDY_LISTEN ?= 127.0.0.1:8400
EDDY_DATA_DIR ?= ./eddy-data
PY := /usr/bin/python3

.PHONY: all deps build run test unit integration asan tsan tsan-integration bench clean format

all: build

# JS clients the functions tests run (aws-lambda-ric, @aws-sdk/client-lambda), from the lockfile.
tests/functions_js/node_modules: tests/functions_js/package-lock.json
	npm ci --prefix tests/functions_js --no-audit --no-fund
	@touch $@

# Stripe's library, which signs the webhook tests' deliveries, from the lockfile.
tests/webhooks_js/node_modules: tests/webhooks_js/package-lock.json
	npm ci --prefix tests/webhooks_js --no-audit --no-fund
	@touch $@

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	BUILD=$(BUILD) EDDY_LISTEN=$(EDDY_LISTEN) EDDY_DATA_DIR=$(EDDY_DATA_DIR) scripts/demo.sh

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

integration: build tests/functions_js/node_modules tests/webhooks_js/node_modules
	EDDY_BIN=$(abspath $(BUILD)/eddy) $(PY) -m pytest -q tests/integration

test: unit integration

# Sanitizer builds in their own trees; each runs the unit tests under the sanitizer.
asan:
	$(MAKE) unit BUILD=build-asan CMAKE_FLAGS="-DEDDY_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug"

tsan:
	$(MAKE) unit BUILD=build-tsan CMAKE_FLAGS="-DEDDY_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug"

# The integration tests against a ThreadSanitizer build of the server; any report fails it.
tsan-integration: tests/functions_js/node_modules tests/webhooks_js/node_modules
	$(MAKE) build BUILD=build-tsan CMAKE_FLAGS="-DEDDY_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug"
	rm -rf build-tsan/reports && mkdir -p build-tsan/reports
	TSAN_OPTIONS="log_path=$(abspath build-tsan/reports)/tsan" EDDY_BIN=$(abspath build-tsan/eddy) \
	  $(PY) -m pytest -q tests/integration
	@if ls build-tsan/reports/* >/dev/null 2>&1; then cat build-tsan/reports/*; exit 1; fi

bench: build
	BUILD=$(BUILD) bench/run.sh

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc')

clean:
	rm -rf build build-asan build-tsan

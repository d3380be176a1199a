# The two commands: `make run` (start the service) and `make test` (every test).
# Both install what is missing (Debian packages), then build.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

.PHONY: run test build deps test-deps bench format tidy clean

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target claude-microservice -j $(JOBS)

# Runs on the embedded defaults; without ANTHROPIC_API_KEY (environment or .env) and in
# development, against the built-in simulator, which the first log line announces.
run: build
	./$(BUILD_DIR)/claude-microservice serve

test: test-deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure --timeout 900

bench:
	bench/run

format:
	find src tests -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

tidy: $(BUILD_DIR)/build.ninja
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf $(BUILD_DIR)

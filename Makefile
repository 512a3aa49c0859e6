# pkid: the front door. make | make run | make test | make install | make bench | make fuzz
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
FUZZ_BUILD ?= build-fuzz

PREFIX ?= /usr/local

.PHONY: all build run test bench fuzz clean deps install

all: build

deps:
	@tools/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	@tools/run-demo.sh $(BUILD)

test:
	@tools/deps.sh test
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DPKID_SANITIZE=address,undefined -DPKID_TEST_HOOKS=ON >/dev/null
	@cmake --build $(SAN_BUILD) -j$(JOBS)
	@tools/run-tests.sh $(SAN_BUILD)

# pkid, pkictl, pkid.service, man pages, bash completion under PREFIX
# (DESTDIR=... for staging); builds BUILD first (make build when new).
install:
	@test -f $(BUILD)/CMakeCache.txt || $(MAKE) build
	@cmake --build $(BUILD) -j$(JOBS)
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@tools/run-bench.sh $(BUILD)

fuzz:
	@tools/deps.sh test
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DPKID_FUZZ=ON -DPKID_TEST_HOOKS=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS)
	@tools/run-fuzz.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-30}

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)

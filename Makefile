# Starling — build, test, lint, benchmark and demo.
#
#   make demo   release build, then a 50-peer swarm on loopback for 20 s, live view, and swarm.svg
#   make demo-sessions  identities, a signed record, two peers with a session (loopback)
#   make demo-lan  (root) peers in a namespace lab discover each other by multicast and broadcast
#   make example  the Hummingbird example (Demos/Neighbours): EXAMPLE_PEERS peers on 127.0.0.1, each
#               showing its overlay neighbours over HTTP (first at http://127.0.0.1:8080/), until Ctrl-C
#   make example-test  the example's tests: two apps on 127.0.0.1 driven over HTTP, in process
#               and as two processes stopped by SIGTERM
#   make test   install system deps if needed, build with warnings as errors, run all tests
#   make lint   swift format lint --strict over Sources, Tests, Demos and Fuzz
#   make docs   the Starling module's DocC documentation in docs-out/, any DocC warning an error
#   make bench  release-build benchmarks, each against a baseline in the same run
#   make fuzz   libFuzzer (with AddressSanitizer) on every decoder and core, FUZZ_SECONDS each
#   make fuzz-smoke  the same, FUZZ_SMOKE_SECONDS each (CI)
#   make fuzz-replay  the seed corpus through every target in a debug build (no libFuzzer)
#   make fuzz-corpus  rewrite the seed corpus in Fuzz/Corpus from the encoders
#   make sanitize  the test suite under AddressSanitizer, then ThreadSanitizer
#   make dissector-test  (root, tshark) the Wireshark dissector against traffic captured in a namespace

SWIFT       ?= swift
# One set of flags for build and test, so `swift test` reuses the build.
SWIFT_FLAGS ?= -Xswiftc -warnings-as-errors
BENCH_SECONDS ?= 2
DEMO_DIR    ?= demo-out
# `make docs`: its own scratch path (the symbol graphs are a build of their own), and
# the archive's folder.
DOCS_PATH   ?= .build-docs
DOCS_DIR    ?= docs-out
# Fuzzing: seconds per target, and which targets (all when empty; `starling-fuzz list`).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS ?=
# The libFuzzer build lives apart from the ordinary ones: its flags apply to every module.
FUZZ_PATH   ?= .build/fuzz
FUZZ_BUILD_FLAGS = -c release --product starling-fuzz --scratch-path $(FUZZ_PATH) \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DSTARLING_LIBFUZZER
# Sanitized test runs: which tests (all when empty), e.g. SANITIZE_FILTER="--filter StarlingCoreTests".
SANITIZE_FILTER ?=
# The example app, a package of its own so that the build above never compiles Hummingbird:
# how many copies `make example` runs, the first one's HTTP port (the others take the next
# ones), and options for every copy, e.g. EXAMPLE_ARGS="--log-level debug".
EXAMPLE_PATH ?= Demos/Neighbours
EXAMPLE_PEERS ?= 3
EXAMPLE_HTTP_PORT ?= 8080
EXAMPLE_ARGS ?=

.PHONY: all deps build test lint docs bench demo demo-sessions demo-lan example example-test clean dissector-test \
	fuzz fuzz-build fuzz-smoke fuzz-replay fuzz-corpus sanitize sanitize-address sanitize-thread

all: build

deps:
	@missing=""; \
	pkg-config --exists libsodium 2>/dev/null || missing="$$missing libsodium-dev"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "missing system packages:$$missing"; \
		echo "install them with: sudo apt-get install -y$$missing"; \
		exit 1; \
	fi

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

test: build
	$(SWIFT) test $(SWIFT_FLAGS)

dissector-test: build
	$(SWIFT) test $(SWIFT_FLAGS) --filter DissectorLab

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Demos Fuzz Package.swift

# The plugin builds the Starling target for its symbol graphs, then DocC turns them and
# Sources/Starling/Starling.docc into a static site; any warning fails the target.
docs: deps
	@mkdir -p $(DOCS_DIR)
	$(SWIFT) package --scratch-path $(DOCS_PATH) \
		--allow-writing-to-directory $(DOCS_DIR) \
		generate-documentation --target Starling --warnings-as-errors \
		--output-path $(DOCS_DIR)/Starling.doccarchive

bench: deps
	$(SWIFT) build -c release --product starling
	.build/release/starling bench records --seconds $(BENCH_SECONDS)
	.build/release/starling bench framing --seconds $(BENCH_SECONDS)
	.build/release/starling bench datagrams --seconds $(BENCH_SECONDS)
	.build/release/starling bench rpc --seconds $(BENCH_SECONDS)
	.build/release/starling bench bulk --seconds $(BENCH_SECONDS)
	.build/release/starling bench handshakes --seconds $(BENCH_SECONDS)
	.build/release/starling bench membership --seconds $(BENCH_SECONDS)
	.build/release/starling bench lookup

fuzz-build: deps
	$(SWIFT) build $(FUZZ_BUILD_FLAGS)

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_PATH)/release/starling-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	scripts/fuzz.sh $(FUZZ_PATH)/release/starling-fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: build
	@bin="$$($(SWIFT) build --show-bin-path)/starling-fuzz"; \
	for target in $$("$$bin" list); do "$$bin" replay $$target Fuzz/Corpus/$$target || exit 1; done

fuzz-corpus: build
	rm -rf Fuzz/Corpus
	mkdir -p Fuzz/Corpus
	"$$($(SWIFT) build --show-bin-path)/starling-fuzz" make-corpus Fuzz/Corpus

sanitize: sanitize-address sanitize-thread

# Each sanitizer builds in its own folder, so the ordinary build stays usable.
sanitize-address: deps
	LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan-suppressions.txt \
		$(SWIFT) test --sanitize=address --scratch-path .build/asan $(SANITIZE_FILTER)

sanitize-thread: deps
	$(SWIFT) test --sanitize=thread --scratch-path .build/tsan $(SANITIZE_FILTER)

# 50 peers on 127.0.0.1 (nothing leaves the machine); the overlay is drawn to swarm.svg.
# A release build: a debug build runs the protocol code several times slower, and a
# demo should show the library as users run it.
demo: deps
	$(SWIFT) build -c release --product starling
	.build/release/starling swarm --peers 50 --duration 20 --graph swarm.svg

demo-sessions: build
	@bash scripts/demo.sh "$(DEMO_DIR)"

# Needs root: the lab's network namespaces are made and removed by the script; the
# binary is built by the invoking user, so root never runs swift build.
demo-lan: build
	@bin="$$($(SWIFT) build --show-bin-path)/starling"; \
	if [ "$$(id -u)" -eq 0 ]; then bash scripts/demo-lan.sh "$$bin"; else sudo bash scripts/demo-lan.sh "$$bin"; fi

# The first copy starts a swarm; the others join through it (--seed). Everything stays on
# 127.0.0.1; Ctrl-C stops every copy gracefully (each peer leaves the overlay).
example: deps
	$(SWIFT) build $(SWIFT_FLAGS) --package-path $(EXAMPLE_PATH) --product starling-neighbours
	@bash scripts/example.sh "$$($(SWIFT) build --package-path $(EXAMPLE_PATH) --show-bin-path)/starling-neighbours" \
		$(EXAMPLE_PEERS) $(EXAMPLE_HTTP_PORT) $(EXAMPLE_ARGS)

# Every product first: a test runs the built starling-neighbours executable.
example-test: deps
	$(SWIFT) build $(SWIFT_FLAGS) --package-path $(EXAMPLE_PATH)
	$(SWIFT) test $(SWIFT_FLAGS) --package-path $(EXAMPLE_PATH)

clean:
	rm -rf .build $(EXAMPLE_PATH)/.build $(DOCS_PATH) $(DOCS_DIR) $(DEMO_DIR) swarm.svg

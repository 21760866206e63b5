# kafkatls — see README.md. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/kafkatls
PKGS    := ./...

# `kafkatls --version` names the build: make build stamps these.
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_TIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
BUILDINFO  := github.com/kafkatls/kafkatls/internal/buildinfo
LDFLAGS    := -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).revision=$(REVISION) -X $(BUILDINFO).buildTime=$(BUILD_TIME)

.PHONY: build install test test-short vet fmt fuzz bench clean demo interop man

# Static binaries (no cgo): they run on any Linux whatever its libc, and
# start about half a millisecond sooner without the dynamic loader.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' .

# The whole suite, real peers included (keytool/java, openssl, kcat, ZooKeeper).
# Tests needing a missing peer skip with a message locally and FAIL under CI=true.
test: vet
	$(GO) test -count=1 -timeout 20m $(PKGS)

# Unit tests only: no JVMs, no external processes.
test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Short, bounded fuzzing of every reader of untrusted input (CI runs it with FUZZTIME=5s).
FUZZTIME ?= 10s
FUZZ_TARGETS := stores:FuzzRead pem:FuzzDecode principal:FuzzJavaName principal:FuzzParseDN templates:FuzzPropertiesRoundTrip \
	inspect:FuzzDetect inspect:FuzzInspect inspect:FuzzScanP12 sasl:FuzzParseDiscovery
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "== fuzz ./$$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s; \
	done

# Interop suite: real Kafka 4.x (KRaft), Kafka 3.9 + ZooKeeper, kcat. Needs java>=17, mvn, unzip;
# the first run fetches the jars from Maven Central into ~/.cache/kafkatls-interop.
interop:
	./interop/run.sh

# Benchmarks (docs/performance.md): Go micro-benchmarks, then kafkatls bundle
# against the classic openssl + keytool flow. Reports; never fails on a timing.
BENCH_RUNS ?= 5
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...
	BENCH_RUNS=$(BENCH_RUNS) GO=$(GO) bench/compare.sh

# The main job on a fresh machine: a CA, a broker and a client in ./kafka-pki.
demo: build
	$(BIN) init && $(BIN) issue kafka-1 --role broker && $(BIN) issue client1

# Man pages for every command (cobra/doc) into man/.
man:
	$(GO) run ./internal/genman man

clean:
	rm -rf bin

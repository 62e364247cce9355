# ganetimgr: `make run` to try it, `make test` to test it.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/ganetimgr

.PHONY: run build test test-short lint fuzz bench gobench sandbox-up sandbox-down docker clean

## run: build and serve on http://127.0.0.1:8080 (a private PostgreSQL when DATABASE_URL is unset)
run: build
	./$(BIN) serve

## build: the ganetimgr binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ganetimgr

## test: every test (real PostgreSQL; real Ganeti and chromium when present, required with CI=true)
test: lint
	$(GO) test -count=1 -timeout 30m ./...

## test-short: skip the slower integration tests
test-short:
	$(GO) test -short ./...

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: run each decoder fuzzer for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in ./internal/rapi ./internal/tags ./internal/sshkeys; do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench: the load benchmark of the instance lists (private PostgreSQL, fake clusters, wrk; about 5 minutes)
bench:
	$(GO) run ./cmd/ganetimgr-bench

## gobench: Go benchmarks
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## sandbox-up / sandbox-down: the single-node Ganeti used by the integration tests (root)
sandbox-up:
	bash test/ganeti/up.sh
sandbox-down:
	bash test/ganeti/down.sh

## docker: the container image
docker:
	docker build -t ganetimgr:$(VERSION) --build-arg VERSION=$(VERSION) .

clean:
	rm -rf bin

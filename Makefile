# metricgate — run `make help` for the targets.

GO          ?= go
BIN         := bin
LINT        := $(BIN)/golangci-lint
LINT_VERSION := v2.15.0
FUZZTIME    ?= 10m
TEST_FUZZTIME ?= 10s

.DEFAULT_GOAL := help

.PHONY: help
help: ## show the targets
	@grep -hE '^[a-z][a-z-]*:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install missing system packages (C compiler, PostgreSQL binaries)
	@bash .ci/install-deps

.PHONY: test-deps
test-deps: ## install missing system packages for the tests (also headless Chromium)
	@bash .ci/install-deps test

.PHONY: bench-deps
bench-deps: ## install missing system packages for the benchmarks (also GNU time)
	@bash .ci/install-deps bench

# The version and commit `metricgate version` prints, from the checkout
# (also when GOFLAGS has -buildvcs=false): the tag, else the pseudo-version
# Go would give the commit (v0.0.0-<UTC time>-<12 hex>), "+dirty" with
# uncommitted changes; empty outside a git checkout, where the Go build
# information decides.
VERSION     ?= $(shell (git describe --tags --exact-match 2>/dev/null || TZ=UTC git log -1 --format='v0.0.0-%cd-%H' --date=format-local:%Y%m%d%H%M%S 2>/dev/null | cut -c1-34) | tr -d '\n'; git diff --quiet HEAD 2>/dev/null || echo +dirty)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS     := $(if $(VERSION),-X gitlab.com/metricgate/metricgate/cli.linkVersion=$(VERSION)) $(if $(COMMIT),-X gitlab.com/metricgate/metricgate/cli.linkCommit=$(COMMIT))

.PHONY: build
build: ## build bin/metricgate
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/metricgate ./cmd/metricgate

.PHONY: test
test: test-deps check-generated check-tidy ## vet, check formatting, generated code and go.mod, run every test and a short fuzz of the header parser and the guard
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(TEST_FUZZTIME) ./catalog
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=$(TEST_FUZZTIME) ./guard

.PHONY: fuzz
fuzz: ## fuzz the header parser and the guard for FUZZTIME (10m) each; FUZZPARALLEL=1 on a shared machine
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) $(if $(FUZZPARALLEL),-parallel=$(FUZZPARALLEL)) ./catalog
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=$(FUZZTIME) $(if $(FUZZPARALLEL),-parallel=$(FUZZPARALLEL)) ./guard

.PHONY: soak
soak: deps ## 30 simulated days of daily runs with faults (internal/soak, a few minutes): runs made, freshness, duplicates, losses, canaries, memory and goroutines
	$(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 30m ./internal/soak

.PHONY: lint
lint: $(LINT) ## run golangci-lint (installed into bin/ on first use)
	$(LINT) run ./...

$(LINT):
	GOBIN=$(CURDIR)/$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(LINT_VERSION)

.PHONY: generate
generate: ## regenerate generated code (sqlc: history/internal/db)
	$(GO) tool -modfile=tools/go.mod sqlc generate -f history/sqlc.yaml
	$(GO) generate ./...

.PHONY: check-generated
check-generated: ## fail when history/internal/db is not what sqlc generates
	@bash .ci/check-generated

.PHONY: check-tidy
check-tidy: ## fail when go.mod or go.sum is not what go mod tidy makes
	@$(GO) mod tidy -diff || { echo "check-tidy: run 'go mod tidy' and commit go.mod and go.sum"; exit 1; }

.PHONY: bench
bench: bench-deps ## run the benchmarks: validate on 1,000 files; the examples with metricgate's people counts vs as written (scale 10); the runner vs psql, per-query overhead, peak RSS of a 1M-row run, 4 sources vs 1 behind a latency proxy; /api/v1/status under load; dump and load vs psql and read_csv (5M rows); an increment of 1 % of rows vs a full dump
	$(GO) test -run='^$$' -bench=. -benchmem ./catalog ./guard ./cli
	ENTITY_BENCH_SCALE=10 $(GO) test -run='^$$' -bench=EntityCounts -benchtime=3x -timeout=30m ./queries
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./runner
	$(GO) test -run='^$$' -bench=StatusUnderLoad -benchtime=1x ./api
	DUMP_BENCH_SCALE=35 $(GO) test -run='^$$' -bench=DumpLoad -benchtime=1x -timeout=60m ./dump
	DUMP_BENCH_SCALE=35 $(GO) test -run='^$$' -bench=Increment -benchtime=1x -timeout=60m ./dump

.PHONY: demo
demo: deps build ## the daily run end to end on a throwaway GitLab-shaped database: every query into DuckDB, then the public dump and its load
	$(BIN)/metricgate demo

.PHONY: clean
clean: ## remove build output and demo state
	rm -rf $(BIN) .demo

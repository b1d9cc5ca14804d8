# regsim — the two commands a new user needs are `make catalogue` and `make test`.

CARGO ?= cargo

.PHONY: catalogue test test-deps conformance dockerd bench completions man fuzz fmt lint clean static image image-check

## Run every scenario in scenarios/ and print each job log.
catalogue:
	$(CARGO) run --release --quiet --bin regsim -- run scenarios/

## All tests: unit tests, the catalogue snapshots, the mock servers over HTTP, the agreement
## with a real dockerd and the conformance suite (engines or tools that are missing are skipped
## with a message; required under CI=true). diagnose's index goes to target/regsim-cache.
test:
	REGSIM_CACHE_DIR=$(CURDIR)/target/regsim-cache $(CARGO) test --workspace

## What the schema and parser checks need besides Rust: the npm `mermaid` package (for
## tests/explain.rs; needs node and npm) — xmllint comes from Debian's libxml2-utils.
test-deps:
	npm ci --prefix tests/mermaid --no-audit --no-fund

## The conformance suite alone (tests/conformance/): real dockerd, distribution 2.8.2, skopeo and
## oci-client against the mocks, and forged tokens; prints its table and
## `conformance: N checks, N agree, 0 differ`. Needs dockerd (`make dockerd`), docker-registry, skopeo.
conformance:
	$(CARGO) test -p regsim --test conformance

## Start Debian's dockerd 20.10 for the real-daemon tests (installs docker.io if missing).
dockerd:
	bash scripts/start-dockerd.sh

## A statically linked regsim in target/static/bin/ — `cargo install` from this checkout with
## glibc's static C library (crt-static): the toolchain here has no musl target, and regsim
## links no C library but libc (its TLS is rustls). Runs on any x86_64 Linux.
static:
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) install --locked --path harness/app \
	  --target x86_64-unknown-linux-gnu --root $(CURDIR)/target/static --target-dir $(CURDIR)/target/static-build

## The container image regsim:latest (FROM scratch: the static binary, the catalogue, a non-root
## user), built by the local dockerd; `make image-check` runs it as CI does.
image: static
	bash scripts/build-image.sh

image-check:
	bash scripts/check-image.sh

## Measure the catalogue's wall time and the simulated-vs-real-daemon speed-up.
bench:
	$(CARGO) bench --bench catalogue

## Where `completions` and `man` write.
GENERATED ?= target

## Shell completions for bash, zsh, fish, elvish and PowerShell, from the clap definitions, in
## $(GENERATED)/completions/ (bash: copy regsim.bash to ~/.local/share/bash-completion/completions/regsim;
## zsh: put _regsim on $$fpath; fish: regsim.fish into ~/.config/fish/completions/).
completions:
	mkdir -p $(GENERATED)/completions
	$(CARGO) run --quiet --bin regsim -- completions bash > $(GENERATED)/completions/regsim.bash
	$(CARGO) run --quiet --bin regsim -- completions zsh > $(GENERATED)/completions/_regsim
	$(CARGO) run --quiet --bin regsim -- completions fish > $(GENERATED)/completions/regsim.fish
	$(CARGO) run --quiet --bin regsim -- completions elvish > $(GENERATED)/completions/regsim.elv
	$(CARGO) run --quiet --bin regsim -- completions powershell > $(GENERATED)/completions/_regsim.ps1

## Man pages regsim(1) and regsim-COMMAND(1), in $(GENERATED)/man/ (`man -l $(GENERATED)/man/regsim.1`).
man:
	$(CARGO) run --quiet --bin regsim -- man $(GENERATED)/man

## Fuzz each cargo fuzz target of harness/fuzz (scenario, diagnose, http) for FUZZ_SECONDS and
## print its executions; fails on a crash, hang or OOM (README "Fuzzing"). Needs nightly and
## cargo-fuzz; not part of `make test`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= scenario diagnose http
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" bash scripts/fuzz.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean

# Skylark's two front doors: `make run` and `make test`. Each target installs what a fresh
# Debian 12 machine lacks before it does anything else.

SHELL := /bin/bash
CARGO ?= cargo
ARGS ?= --help

.PHONY: run test bench locker deps lint tidy clean

## run: build the `skylark` command and run it (pass arguments with ARGS="scan ~/Music").
run: deps
	$(CARGO) build --release -p skylark-cli
	./target/release/skylark $(ARGS)

## test: format check, lints, then every test in the workspace.
test: deps lint
	$(CARGO) test --workspace --locked

## bench: the library and player benchmarks whose figures are in docs/benchmarks.md (several minutes; the
## generated libraries are kept in target/bench-data).
bench: deps
	python3 -m pip install --quiet -r crates/catalog/benches/python/requirements.txt
	$(CARGO) bench --locked -p skylark-catalog --bench library | tee target/bench-results.md
	$(CARGO) bench --locked -p skylark-player --bench decode | tee -a target/bench-results.md
	$(CARGO) bench --locked -p skylark-player --bench playback | tee -a target/bench-results.md

## locker: run a development locker on 127.0.0.1:8750 with its data in target/locker-data
## (add an account first: cargo run -p skylark-locker -- user add NAME --data target/locker-data).
locker:
	$(CARGO) run --release -p skylark-locker -- serve --data target/locker-data

## deps: Debian packages the tests need (encoders that make the audio fixtures).
deps:
	@scripts/install-deps

## lint: rustfmt, clippy with warnings as errors, and the tidy checks.
lint: tidy
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## tidy: every Rust file opens with a //! comment saying what it is for.
tidy:
	@missing=$$(for f in $$(git ls-files --cached --others --exclude-standard '*.rs'); do head -n1 "$$f" | grep -q '^//!' || echo "$$f"; done); \
	if [ -n "$$missing" ]; then echo "these files do not open with a //! comment:"; echo "$$missing"; exit 1; fi

clean:
	$(CARGO) clean

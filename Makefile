# Skylark's two front doors: `make run` and `make test`. Each target installs what a fresh
# Debian 12 machine lacks before it does anything else.

SHELL := /bin/bash
CARGO ?= cargo
ARGS ?= --help

NPM ?= npm
TAURI_DRIVER_VERSION ?= 2.1.0
TOOLS := $(CURDIR)/target/tools

.PHONY: run cli test test-rust test-ui e2e web bench bench-desktop locker locker-test-deps package deps ui lint tidy clean

## run: build and open the desktop app (the library lives in the platform's data folder, or in
## $SKYLARK_DATA_DIR).
run: deps ui
	$(CARGO) build --release --locked -p skylark-desktop
	./target/release/skylark-desktop

## cli: build the `skylark` command and run it (pass arguments with ARGS="scan ~/Music").
cli: deps
	$(CARGO) build --release --locked -p skylark-cli
	./target/release/skylark $(ARGS)

## test: format check, lints, every Rust test, the UI's checks and tests, then the desktop app
## end to end under Xvfb.
test: deps ui lint test-rust test-ui e2e

test-rust: locker-test-deps
	$(CARGO) test --workspace --locked

## locker-test-deps: the PyPI packages the locker's tests run (moto's S3 server, the tuspy client,
## the py-opensonic Subsonic client).
locker-test-deps:
	python3 -m pip install --quiet -r crates/locker-server/tests/requirements.txt

## test-ui: the UI's linter, type checks and unit tests.
test-ui: ui/node_modules/.package-lock.json
	$(NPM) --prefix ui run lint
	$(NPM) --prefix ui run check
	$(NPM) --prefix ui test

## e2e: the real app under Xvfb through tauri-driver and WebKitWebDriver, then the locker's web
## player in Debian's Chromium through Playwright; screenshots in target/e2e.
e2e: deps ui web tests/e2e/node_modules/.package-lock.json $(TOOLS)/bin/tauri-driver
	$(CARGO) build --locked -p skylark-desktop -p skylark-locker -p skylark-cli
	PATH="$(TOOLS)/bin:$$PATH" dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" $(NPM) --prefix tests/e2e run desktop
	$(NPM) --prefix tests/e2e run web

## package: the Linux .deb, through Tauri's bundler.
package: deps ui
	cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb

## ui: install the UI's packages (exactly as locked) and build it into ui/dist, which the app embeds.
ui: ui/node_modules/.package-lock.json
	$(NPM) --prefix ui run build

## web: build the UI for the browser into ui/dist-web, the web player the locker serves at /.
web: ui/node_modules/.package-lock.json
	$(NPM) --prefix ui run build:web

ui/node_modules/.package-lock.json: ui/package-lock.json
	$(NPM) --prefix ui ci --no-audit --no-fund

tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	$(NPM) --prefix tests/e2e ci --no-audit --no-fund --ignore-scripts

$(TOOLS)/bin/tauri-driver:
	$(CARGO) install tauri-driver --locked --version $(TAURI_DRIVER_VERSION) --root $(TOOLS)

## bench: the library and player benchmarks whose figures are in docs/benchmarks.md (several minutes; the
## generated libraries are kept in target/bench-data).
bench: deps
	python3 -m pip install --quiet -r crates/catalog/benches/python/requirements.txt
	$(CARGO) bench --locked -p skylark-catalog --bench library | tee target/bench-results.md
	$(CARGO) bench --locked -p skylark-player --bench decode | tee -a target/bench-results.md
	$(CARGO) bench --locked -p skylark-player --bench playback | tee -a target/bench-results.md
	@# The locker's benchmark runs nginx and wrk beside it, the hashing one b3sum (bench only, so not
	@# in scripts/install-deps).
	@command -v nginx >/dev/null && command -v wrk >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx wrk >/dev/null; }
	$(CARGO) bench --locked -p skylark-locker --bench locker | tee -a target/bench-results.md
	@command -v b3sum >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends b3sum >/dev/null; }
	$(CARGO) bench --locked -p skylark-locker-client --bench hashing | tee -a target/bench-results.md
	$(CARGO) bench --locked -p skylark-locker-client --bench sync | tee -a target/bench-results.md
	$(CARGO) bench --locked -p skylark-locker-client --bench locker_play | tee -a target/bench-results.md
	$(MAKE) bench-desktop

## bench-desktop: the desktop app with a synthetic 100,000-track catalog: Songs and search latency,
## idle memory (results appended to target/bench-results.md).
bench-desktop: deps ui tests/e2e/node_modules/.package-lock.json $(TOOLS)/bin/tauri-driver
	$(CARGO) build --release --locked -p skylark-desktop --bin skylark-desktop --example synthetic_library
	./target/release/examples/synthetic_library target/bench-data/desktop 100000
	PATH="$(TOOLS)/bin:$$PATH" SKYLARK_DESKTOP_BIN="$(CURDIR)/target/release/skylark-desktop" \
	  SKYLARK_BENCH_DATA="$(CURDIR)/target/bench-data/desktop" \
	  xvfb-run -a -s "-screen 0 1280x800x24" node tests/e2e/bench.mjs | tee -a target/bench-results.md

## locker: run a development locker on 127.0.0.1:8750 with its data in target/locker-data and the
## web player at http://127.0.0.1:8750/ (add an account first:
## cargo run -p skylark-locker -- user add NAME --data target/locker-data).
locker: web
	$(CARGO) run --release -p skylark-locker -- serve --data target/locker-data --web-dir ui/dist-web

## deps: Debian packages the tests need (encoders that make the audio fixtures).
deps:
	@scripts/install-deps

## lint: rustfmt, clippy with warnings as errors, and the tidy checks (clippy compiles the desktop
## app, which embeds ui/dist: build the UI first). The player is linted a second time without its
## audio device, as the locker builds it (no ALSA).
lint: tidy ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p skylark-player --no-default-features --locked -- -D warnings

## tidy: every Rust file opens with a //! comment saying what it is for.
tidy:
	@missing=$$(for f in $$(git ls-files --cached --others --exclude-standard '*.rs'); do head -n1 "$$f" | grep -q '^//!' || echo "$$f"; done); \
	if [ -n "$$missing" ]; then echo "these files do not open with a //! comment:"; echo "$$missing"; exit 1; fi

clean:
	$(CARGO) clean

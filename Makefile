# hipkit — common tasks. `make example` and `make test` are the README's quick start.
SWIFT ?= swift
HIPKIT = .build/debug/hipkit
EXAMPLE ?= examples/deploy-board

.PHONY: deps build test example release manual install dist clean docs bench crash soak attacks fuzz lint format

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# Builds hipkit and runs it on a shipped example: validate, then build into $(EXAMPLE)/dist.
example: build
	$(HIPKIT) validate $(EXAMPLE)
	$(HIPKIT) build $(EXAMPLE)
	@echo "descriptor: $(EXAMPLE)/dist/atlassian-connect.json"

# The man page goes first: a test packs the debug binary with it as `make dist` does.
test: deps
	$(SWIFT) build --build-tests
	$(MAKE) manual CONFIG=debug
	SWIFT=$(SWIFT) scripts/run-tests

# An optimised binary in .build/release: one file, with the templates and the Swift runtime inside.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

# The man page, generated from the commands by swift-argument-parser's GenerateManual plugin and
# dated by the last commit, so the same commit gives the same page.
CONFIG ?= release
MANUAL = .build/plugins/GenerateManual/outputs/hipkit/hipkit.1
MANUAL_DATE = $(shell git log -1 --format=%cs 2>/dev/null || date +%F)
manual:
	$(SWIFT) package generate-manual --configuration $(CONFIG) --date $(MANUAL_DATE)

# Installs the release binary, its man page and bash, zsh and fish completions under PREFIX
# (and DESTDIR, for packagers).
PREFIX ?= /usr/local
# The manual first: its plugin links its own release binary, which `release` then links again.
install: deps
	$(MAKE) manual CONFIG=release
	$(MAKE) release
	scripts/stage-install "$(DESTDIR)$(PREFIX)" .build/release/hipkit $(MANUAL)

# .build/dist/hipkit-VERSION-linux-ARCH.tar.gz (what `make install` installs, in one folder) and
# its .sha256.
dist: deps
	$(MAKE) manual CONFIG=release
	$(MAKE) release
	scripts/dist .build/release/hipkit $(MANUAL) .build/dist

# Benchmarks against Hugo, cmark-gfm and nginx (Benchmarks/README.md): the release binary, then
# the suite (about 11 minutes on 2 cores), which writes Benchmarks/results/latest.json.
# BENCH_FLAGS=--quick is a one-minute smoke test that writes results/quick.json instead.
bench: release
	python3 Benchmarks/run.py --hipkit .build/release/hipkit $(BENCH_FLAGS)

# SIGKILL `hipkit build` 200 times, and `hipkit serve` after 200 acknowledged writes, alone on
# SQLite and two on one PostgreSQL database (Reliability/).
crash: release
	python3 Reliability/crash_safety.py --hipkit .build/release/hipkit

# 10 minutes of views, JWT glance queries and glance updates at once (SOAK_SECONDS to change),
# on one server with SQLite, then on two servers sharing a PostgreSQL database.
SOAK_SECONDS ?= 600
soak: release
	python3 Reliability/soak.py --hipkit .build/release/hipkit --seconds $(SOAK_SECONDS) --store sqlite
	python3 Reliability/soak.py --hipkit .build/release/hipkit --seconds $(SOAK_SECONDS) --store postgres

# The attack and secrets-at-rest suites against a running server (also part of `make test`).
attacks: build
	swift build --build-tests
	swift test --skip-build --filter 'AttackTests|SecretStoreTests'

# libFuzzer over hipkit's readers of untrusted input, FUZZ_SECONDS per target (Fuzz/run).
FUZZ_SECONDS ?= 60
fuzz:
	Fuzz/run $(FUZZ_SECONDS)

# swift-format (it ships with the toolchain), configured by .swift-format: `make lint` fails on
# code that `make format` would change, and .ci/run runs it before the tests.
FORMAT_PATHS = Package.swift Sources Tests Plugins Fuzz/Package.swift Fuzz/Sources templates/TemplatesBundle.swift
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMAT_PATHS)

clean:
	rm -rf .build

# Regenerates docs/spec.md from hipkit's own tables (a test checks it is current).
docs: build
	$(HIPKIT) spec-reference > docs/spec.md

# hipkit — common tasks. `make example` and `make test` are the README's quick start.
SWIFT ?= swift
HIPKIT = .build/debug/hipkit
EXAMPLE ?= examples/deploy-board

.PHONY: deps build test example release clean docs bench crash soak attacks fuzz lint format

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# Builds hipkit and runs it on a shipped example: validate, then build into $(EXAMPLE)/dist.
example: build
	$(HIPKIT) validate $(EXAMPLE)
	$(HIPKIT) build $(EXAMPLE)
	@echo "descriptor: $(EXAMPLE)/dist/atlassian-connect.json"

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# An optimised binary in .build/release, with its resource bundle beside it.
release: deps
	$(SWIFT) build -c release

# Benchmarks against Hugo, cmark-gfm and nginx (Benchmarks/README.md): the release binary, then
# the suite (7–10 minutes on 2 cores), which writes Benchmarks/results/latest.json.
# BENCH_FLAGS=--quick is a one-minute smoke test that writes results/quick.json instead.
bench: release
	python3 Benchmarks/run.py --hipkit .build/release/hipkit $(BENCH_FLAGS)

# SIGKILL `hipkit build` 200 times and `hipkit serve` after 200 acknowledged writes (Reliability/).
crash: release
	python3 Reliability/crash_safety.py --hipkit .build/release/hipkit

# 10 minutes of views, JWT glance queries and glance updates at once (SOAK_SECONDS to change).
SOAK_SECONDS ?= 600
soak: release
	python3 Reliability/soak.py --hipkit .build/release/hipkit --seconds $(SOAK_SECONDS)

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

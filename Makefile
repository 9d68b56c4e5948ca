# One entry point for users, developers and CI. Everything a target needs is
# installed by it (pinned Python tools into the project-local .venv); every
# server it uses (moto, the LWA stand-in, cargo lambda watch) is started by it
# on loopback and stopped when it ends.

SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

.PHONY: help venv run test test-peers test-rust lint check-template e2e build deploy bench clean chaos chaos-short
.PHONY: browser-deps test-browser onboard-link

help:
	@echo "make run          - all four functions locally (moto, LWA/SP-API/consent stand-ins, cargo lambda watch): refresher, reader, fleet, rotation, onboarding, lost/restored"
	@echo "make test         - every check: fmt, clippy, unit and integration tests, peers, template lint, the make run story, browser test, short fault injection"
	@echo "make e2e          - the make run story in check mode (fails on the first unmet step)"
	@echo "make test-browser - the onboarding flow in headless Chromium (installs Debian chromium + chromium-driver)"
	@echo "make chaos        - the fault-injection suite: 1,000+ invocations under injected AWS and LWA faults (SEED=n replays)"
	@echo "make bench        - size, cold start, latency and memory figures"
	@echo "make build        - release bootstrap zips with cargo lambda (arm64, falls back to x86_64)"
	@echo "make deploy       - sam build && sam deploy --guided (stack spapi-lwa, see samconfig.toml)"
	@echo "make onboard-link PROFILE=… MARKETPLACE=… - a seller's onboarding link (deployed stack, or the local demo)"

$(VENV)/.installed: requirements-dev.txt
	@echo "Installing the pinned Python tools (requirements-dev.txt) into $(VENV): 2-4 minutes on a first run, pip is quiet meanwhile"
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	scripts/demo.sh

test: venv lint test-rust test-peers check-template e2e test-browser chaos-short
	@echo "make test: all checks passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

test-rust: venv
	PEERS_PYTHON=$(CURDIR)/$(PY) cargo test --all-targets

test-peers: venv
	$(PY) -m unittest tools/test_lwa_standin.py tools/test_consent_standin.py
	$(PY) -m unittest tools/test_spapi_appmgmt.py tools/test_sqs_event_source.py

check-template: venv
	VENV=$(VENV) scripts/check-template.sh

e2e: venv
	DEMO_CHECK=1 scripts/demo.sh

build: venv
	scripts/build.sh

# The pinned SAM builds Rust (BuildMethod rust-cargolambda) without
# --beta-features. SAM cannot pass --locked to cargo lambda: check first that
# Cargo.lock is complete and current, so the build uses exactly its versions.
deploy: venv
	cargo fetch --locked
	$(VENV)/bin/sam build
	$(VENV)/bin/sam deploy --guided

bench: venv
	scripts/bench.sh

clean:
	cargo clean
	rm -rf $(VENV) .run .aws-sam

# Fault-injection suite (tools/chaos.py): the debug refresher under injected
# AWS and LWA faults, random deadlines, single and fleet mode. SEED=n replays.
CHAOS_ARGS ?=
chaos: venv
	cargo build --bins
	$(PY) tools/chaos.py $(if $(SEED),--seed $(SEED)) $(CHAOS_ARGS)

# The short seeded plan `make test` runs (under a minute; 0 violations).
chaos-short: venv
	cargo build --bins
	$(PY) tools/chaos.py --seed 7 --invocations 48 --fleet-invocations 12 --reader-invocations 20 --rotator-invocations 24 --onboarding-invocations 16

# ---- seller onboarding (docs/onboarding.md)

# Debian's Chromium and its driver for the browser test; installed only when missing.
BROWSER_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; else \
		echo "installing $(BROWSER_PACKAGES) (Debian packages) for the browser test"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES); \
	fi

# The onboarding flow in a real headless Chromium (moto, the stand-in and
# cargo lambda watch are started and stopped by the test).
test-browser: venv browser-deps
	$(PY) -m unittest tests/browser/test_onboarding_browser.py

# A seller's onboarding link: `make onboard-link PROFILE=acme-de MARKETPLACE=DE`
# (optional ACCOUNT=vendor, VALID_HOURS=1..720). Deployed stack: set STACK (the
# CloudFormation stack name; the function comes from its outputs) or FUNCTION.
# Local demo (`DEMO_KEEP=1 make run`): set LOCAL_PORT to the onboarding watch port.
onboard-link: venv
	@PROFILE="$(PROFILE)" MARKETPLACE="$(MARKETPLACE)" ACCOUNT="$(ACCOUNT)" VALID_HOURS="$(VALID_HOURS)" \
		STACK="$(STACK)" FUNCTION="$(FUNCTION)" LOCAL_PORT="$(LOCAL_PORT)" $(PY) scripts/onboard_link.py

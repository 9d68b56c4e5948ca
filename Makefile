# One entry point for users, developers and CI. Everything a target needs is
# installed by it (pinned Python tools into the project-local .venv); every
# server it uses (moto, the LWA stand-in, cargo lambda watch) is started by it
# on loopback and stopped when it ends.

SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

.PHONY: help venv run test test-peers test-rust lint check-template e2e build deploy bench clean

help:
	@echo "make run    - run token-refresher and token-reader locally (moto + LWA stand-in + cargo lambda watch)"
	@echo "make test   - every check: unit and integration tests, end-to-end run, fmt, clippy, template checks"
	@echo "make build  - release bootstrap zips with cargo lambda (arm64, falls back to x86_64)"
	@echo "make deploy - sam build --beta-features && sam deploy --guided"
	@echo "make bench  - size, cold start, latency and memory figures"

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	scripts/demo.sh

test: venv lint test-rust test-peers check-template e2e
	@echo "make test: all checks passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

test-rust: venv
	PEERS_PYTHON=$(CURDIR)/$(PY) cargo test --all-targets

test-peers: venv
	$(PY) -m unittest tools/test_lwa_standin.py
	$(PY) -m unittest tools/test_spapi_appmgmt.py tools/test_sqs_event_source.py

check-template: venv
	VENV=$(VENV) scripts/check-template.sh

e2e: venv
	DEMO_CHECK=1 scripts/demo.sh

build: venv
	scripts/build.sh

deploy: venv
	$(VENV)/bin/sam build --beta-features
	$(VENV)/bin/sam deploy --guided

bench: venv
	scripts/bench.sh

clean:
	cargo clean
	rm -rf $(VENV) .run .aws-sam

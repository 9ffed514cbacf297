# KetaClinic: `make run` serves the demo clinic; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# About 4 blocking threads per worker: more costs throughput and pushes SQLite write p99 up (docs/performance.md).
THREADS ?= 4
# granian's WSGI workers and, beside them, the audit writer (ketaclinic/web/management/commands/serve.py).
# `$(SERVE) --check` refuses, before migrating or loading anything, a port or data folder already served.
SERVE = $(PY) -m ketaclinic serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

.PHONY: run serve test test-browser test-postgres lint typecheck check fuzz bench clean

$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

# The offline FHIR validator (R4 + US Core) the test suite runs on a sample export: packages from the npm registry only.
FHIR_VALIDATE := tests/fhir-validate
$(FHIR_VALIDATE)/node_modules/.installed: $(FHIR_VALIDATE)/package.json $(FHIR_VALIDATE)/package-lock.json
	npm ci --prefix $(FHIR_VALIDATE) --no-audit --no-fund
	touch $@

# The demo clinic on the embedded database (or DATABASE_URL when set), served by a production WSGI server.
run: export KETACLINIC_DEMO ?= 1
# Self-report links in the demo's messages point at this server.
run: export KETACLINIC_PUBLIC_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.runtime
	$(SERVE) --check
	$(PY) -m ketaclinic migrate --noinput -v0
	$(PY) -m ketaclinic collectstatic --noinput -v0
	$(PY) -m ketaclinic load_demo
	@echo "KetaClinic is serving on http://$(HOST):$(PORT)  (Ctrl-C stops it); patients' messages go to var/outbox/"
	exec $(SERVE)

# Serve without touching the database or loading the demo (production: set KETACLINIC_SECRET_KEY).
serve: $(VENV)/.runtime
	$(SERVE) --check
	$(PY) -m ketaclinic collectstatic --noinput -v0
	exec $(SERVE)

test: $(VENV)/.test $(FHIR_VALIDATE)/node_modules/.installed
	$(PY) -m pytest -m "not browser"

test-browser: $(VENV)/.test
	./tests/browser/ensure-chromium
	$(PY) -m pytest -m browser tests/browser

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.test
	$(VENV)/bin/mypy

# Migrations match the models, and the checked-in rule catalogue matches the code.
check: $(VENV)/.test
	DJANGO_SETTINGS_MODULE=ketaclinic.test_settings $(PY) -m ketaclinic makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=ketaclinic.test_settings $(PY) -m ketaclinic rules --check-docs

# The same suite on PostgreSQL (CI starts the server; DATABASE_URL may point elsewhere), without the tests
# marked `installation`: they start KetaClinic on SQLite files of their own whatever the suite's database,
# so on PostgreSQL they would only repeat what `make test` checks.
test-postgres: $(VENV)/.test $(FHIR_VALIDATE)/node_modules/.installed
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(PY) -m pytest -m "not browser and not installation"

# schemathesis over the whole OpenAPI document (every check; examples, coverage and fuzzing phases) against
# a throwaway demo clinic served as `make run` serves it (tests/fuzz/run.py). FUZZ_SECONDS (150) sets
# its length, FUZZ_SEED repeats a run; other schemathesis options go in FUZZ_ARGS.
fuzz: $(VENV)/.test
	$(PY) -m tests.fuzz.run $(FUZZ_ARGS)

bench: $(VENV)/.test
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) bench/run.py
	$(PY) bench/floor.py
	$(PY) bench/assessments.py
	$(PY) -m ketaclinic schedule_benchmark
	$(PY) bench/timeline.py
	$(PY) bench/fhir_export.py
	$(PY) bench/outcomes.py

clean:
	rm -rf $(VENV) var $(FHIR_VALIDATE)/node_modules

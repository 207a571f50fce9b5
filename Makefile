# Thin wrapper: every target is one line. `make help` lists them.
UV_VERSION := 0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test demo bench lint format clean soak

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install -q uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml */pyproject.toml services/*/pyproject.toml | $(UV)
	$(UV) sync --frozen --all-packages --python 3.11 && touch $@

run: .venv/.synced ## install everything and start the whole system on embedded defaults
	$(RUN) devstack run

test: .venv/.synced ## install what the tests need and run the whole suite
	$(RUN) pytest $(PYTEST_ARGS)

demo: .venv/.synced ## drive realistic traffic against a running `make run`
	$(RUN) devstack demo

bench: .venv/.synced ## run the benchmarks and write docs/benchmarks.md
	$(RUN) python -m bench

soak: .venv/.synced ## ten minutes of mixed traffic against a running `make run`
	$(RUN) devstack soak

lint: .venv/.synced ## ruff and mypy --strict
	$(RUN) ruff check . && $(RUN) ruff format --check . && $(RUN) mypy shared/src services/*/src devstack/src tests

format: .venv/.synced ## apply ruff's formatting and fixes
	$(RUN) ruff format . && $(RUN) ruff check --fix .

clean: ## remove the data folder, caches and the virtual environments
	rm -rf data .venv .tools .pytest_cache .mypy_cache .ruff_cache

# Quick start: `make demo` (SQLite, tasks in-process, demo data) and `make test` (PostgreSQL + Redis).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bureau
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bureau_bench
# `make test` runs the small benchmark on a database of its own: it never rebuilds the one `make bench` made.
BENCH_SMALL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bureau_bench_small
# `make demo PORT=8001` when 8000 is taken.
PORT ?= 8000

.PHONY: demo test install lint bench bench-small

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	touch $@

install: $(BIN)/.installed

# The demo runs with DEBUG on: the only mode in which base settings fall back to a development SECRET_KEY.
demo: export DEBUG := true
demo: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo --teachers 2000
	$(BIN)/python manage.py credential_key --ensure
	@echo "打开 http://127.0.0.1:$(PORT)/ 用上面的账号登录（Ctrl+C 停止）"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	bash scripts/ensure_services.sh
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_libreoffice.sh
	DEBUG=true DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	BENCH_DATABASE_URL=$(BENCH_SMALL_DATABASE_URL) $(BIN)/python bench/run.py --small
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_TEST_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/python -m pytest --create-db $(PYTEST_ARGS)

# Lint and the layers contract between apps (both also run first in `make test`).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The full city-scale benchmark (100,000 teachers, 7.5 M ledger rows): several minutes; see bench/RESULTS.md.
# Prints OK/OVER per bar and fails (exit 1, a loud OVER banner) when a bar of SPEC §9 is missed.
bench: install
	bash scripts/ensure_services.sh
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py

# The instrument's own check (1,000 teachers, under a minute): prints OK/OVER, never fails on OVER.
bench-small: install
	bash scripts/ensure_services.sh
	BENCH_DATABASE_URL=$(BENCH_SMALL_DATABASE_URL) $(BIN)/python bench/run.py --small

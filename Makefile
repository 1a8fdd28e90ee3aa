# Kirakira: `make run` serves the site with demo data, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run prod test install install-dev lint messages bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	scripts/serve-dev

# The production processes (gunicorn + a task worker) under one supervisor, against DATABASE_URL
# (PostgreSQL) and the production settings: see deploy/kirakira.env.example and scripts/prod.
prod: install
	scripts/prod

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

# Refresh the translation catalogs after changing user-facing strings, then fill in ja and ko.
messages: install-dev
	$(PY) manage.py makemessages --all --no-obsolete --ignore '.venv/*' --ignore 'bench/*'
	$(PY) manage.py makemessages --all --no-obsolete -d djangojs --ignore '.venv/*' --ignore 'staticfiles/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

# Benchmarks print ratios against a baseline measured in the same run (see bench/*.md).
bench: install-dev
	$(PY) bench/usage_log.py
	$(PY) bench/encryption.py
	$(PY) bench/staff_access.py
	$(PY) bench/retention.py
	$(PY) bench/export.py
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache

# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run dev web worker migrate static test bench superuser clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-models.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Wavelength needs Python 3.11 or newer (set PYTHON=python3.11).")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-models.txt
	touch $@

migrate: install
	$(PY) manage.py migrate --noinput

static: install
	$(PY) manage.py collectstatic --noinput --verbosity 0

GUNICORN := $(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) discovery.wsgi

# The site (gunicorn, sized by gunicorn.conf.py) and the worker together; Ctrl-C stops both (and with them the
# embedded PostgreSQL).
run: migrate static
	@echo "Wavelength: http://$(HOST):$(PORT)/  (Ctrl-C stops the site and the worker)"
	@trap 'kill $$worker $$web 2>/dev/null' INT TERM EXIT; \
	$(PY) manage.py qcluster & worker=$$!; \
	$(GUNICORN) & web=$$!; \
	wait -n; kill $$worker $$web 2>/dev/null; wait

# For working on the code: Django's server reloads on every change (static files come from the source).
dev: migrate
	@echo "Wavelength (development): http://$(HOST):$(PORT)/  (Ctrl-C stops the site and the worker)"
	@trap 'kill $$worker $$web 2>/dev/null' INT TERM EXIT; \
	$(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT) & web=$$!; \
	wait -n; kill $$worker $$web 2>/dev/null; wait

web: migrate static
	$(GUNICORN)

worker: migrate
	$(PY) manage.py qcluster

superuser: migrate
	$(PY) manage.py createsuperuser

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

# Lint and layers first: a new import cycle or an unused import fails the run like a failing test.
test: install $(CHROMIUM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: migrate
	@for script in bench/bench_*.py; do \
		[ -e "$$script" ] || continue; \
		echo "== $$script"; $(PY) "$$script" || exit 1; \
	done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Two commands do everything on a fresh Debian machine:
#   make run   - set up, migrate, load demo data, serve at http://127.0.0.1:5000
#   make test  - set up, then ruff and the whole pytest suite (SQLite pass, then PostgreSQL pass)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test setup system-deps translations lint serve demo bench clean postgres

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@bash scripts/serve.sh

test: setup
	@bash scripts/test.sh

# Create (or check) the PostgreSQL database, its owner and the app role with passwords, migrate, print the URLs.
postgres: setup
	@bash scripts/postgres-setup.sh

setup: system-deps $(STAMP) translations

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $(STAMP)

translations: $(STAMP)
	@$(BIN)/pybabel compile -d saas/translations >/dev/null

# Refresh the catalogue after changing user-facing strings (then translate the new entries).
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs '.* .venv node_modules' -k _l -k lazy_gettext -k N_ -o saas/translations/messages.pot \
		--no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i saas/translations/messages.pot -d saas/translations -l zh_Hans_CN --no-fuzzy-matching

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	@WITH_BENCH=1 bash scripts/system-deps.sh
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) instance/*.db test-artifacts

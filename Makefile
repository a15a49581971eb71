# Two commands: `make run` serves the app, `make test` runs every test.
# Each creates .venv and installs what it needs on a fresh machine.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean translations js-constants

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/flask --app webapp db upgrade
	$(VENV)/bin/flask --app webapp demo
	SESSION_COOKIE_SECURE=0 $(VENV)/bin/flask --app webapp run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/codes.py
	$(PY) bench/load.py
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV)

# After changing interface strings: extract, update the English catalogs, translate, compile.
# The catalogs are wrapped at 120 columns, as committed, so an update shows only what changed.
# Two catalogs: the pages' (webapp/translations) and the verifiers' (policy_codes/translations, which
# omscode reads without Flask). Message ids are the Russian text; N_ marks one for later translation.
# Two more, Click's messages for `flask` and argparse's for omscode in Russian (webapp/translations/ru/LC_MESSAGES/
# click.po, policy_codes/translations/ru/LC_MESSAGES/argparse.po, ids their English), are written by hand and only
# compiled here.
translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -o $(VENV)/oms-messages.pot .
	$(VENV)/bin/pybabel update -i $(VENV)/oms-messages.pot -d webapp/translations -w 120 --ignore-obsolete --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d webapp/translations
	$(VENV)/bin/pybabel compile -d webapp/translations -D click
	$(VENV)/bin/pybabel extract -k N_ --no-default-keywords -o $(VENV)/oms-policy-codes.pot policy_codes
	$(VENV)/bin/pybabel update -i $(VENV)/oms-policy-codes.pot -d policy_codes/translations -D policy_codes -w 120 --ignore-obsolete --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d policy_codes/translations -D policy_codes
	$(VENV)/bin/pybabel compile -d policy_codes/translations -D argparse

# After changing a constant of the code format in Python (policy_codes/, signing/): write the browser
# verifier's copy, static/js/format-constants.js, and commit it. tests/test_format_constants.py checks it.
js-constants: $(STAMP)
	$(PY) -m policy_codes.format_constants static/js/format-constants.js

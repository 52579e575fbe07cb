# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint translations i18n-extract bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed again only when the requirements change.
.stamp-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

.stamp-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ .stamp-runtime

# The compiled catalogues are built, not committed.
translations: modell/translations/sv/LC_MESSAGES/messages.mo

modell/translations/sv/LC_MESSAGES/messages.mo: modell/translations/sv/LC_MESSAGES/messages.po | $(BIN)/python
	$(BIN)/pybabel compile --use-fuzzy -d modell/translations -l sv

# Set up, migrate the embedded SQLite database, load reference and demo data, serve;
# the scheduler (reminders, and the worker's mail delivery and reset links) runs beside the
# web server and stops with it.
run: .stamp-runtime translations
	mkdir -p instance
	MODELL_ENV=development $(BIN)/flask db upgrade
	MODELL_ENV=development $(BIN)/flask modell load-reference
	MODELL_ENV=development BASE_URL=$${BASE_URL:-http://127.0.0.1:$${PORT:-5000}} \
	  $(BIN)/flask modell demo
	export MODELL_ENV=development BASE_URL=$${BASE_URL:-http://127.0.0.1:$${PORT:-5000}}; \
	$(BIN)/flask modell scheduler & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $${PORT:-5000}

# The whole suite: lint, bandit's security checks (a finding is fixed or suppressed inline
# with its reason), then SQLite always; PostgreSQL when TEST_DATABASE_URL is set; the
# browser tests when Chromium is installed. Skips are listed at the end.
test: .stamp-dev translations
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r modell config.py wsgi.py
	$(BIN)/pytest -n $${PYTEST_WORKERS:-2} -rs $(PYTEST_ARGS)

# Benchmarks: every main page at national scale under gunicorn against the floor, with
# queries per page on demo and national data and the workers' memory (SQLite, and
# PostgreSQL when a server answers; writes bench/results.json); a scheduler tick with 5,000
# due against 5,000 and 200,000 stored; the suggested grouping on a large cohort.
bench: .stamp-dev translations
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.scheduler
	$(BIN)/python -m bench.run

# Load and faults: 20 users against gunicorn (2 workers) on a PostgreSQL server of its own,
# 60 s of load, then 60 s through a crash and restart of the server (writes bench/loadtest.json).
# `make test` runs the short version (demo data, 15 s and 30 s).
loadtest: .stamp-dev translations
	$(BIN)/python -m bench.loadtest

lint: .stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# After adding strings: extract them and merge into the Swedish catalogue.
i18n-extract: .stamp-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d modell/translations -l sv --no-fuzzy-matching
	rm messages.pot

clean:
	rm -rf $(VENV) .stamp-* instance/modell.db

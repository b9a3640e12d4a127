# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test install migrate demo messages bench-live bench-console bench-video bench-sound clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

## Install, migrate, load the demo city and start web + worker + beat (Ctrl-C stops all).
run: demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "  Poste de pilotage: http://$(HOST):$(PORT)/   (API docs: /api/docs/, health: /healthz)"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m controlroom.run_procfile start -f Procfile

## The whole test suite (uses DATABASE_URL / REDIS_URL when set, embedded defaults otherwise),
## in TEST_WORKERS processes (pytest-xdist; each has its own test database).
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

messages: install
	$(BIN)/python manage.py makemessages -l en --no-obsolete $(addprefix --ignore ,'.venv/*' 'var/*' 'tests/*' 'bench/*' '*/migrations/*')
	$(BIN)/python manage.py compilemessages --ignore '.venv'

bench-live: install
	$(BIN)/python bench/live_push.py $(BENCH_ARGS)

bench-console: install
	$(BIN)/python bench/console_load.py $(BENCH_ARGS)

bench-video: install
	$(BIN)/python bench/video_pipeline.py $(BENCH_ARGS)

bench-sound: install
	$(BIN)/python bench/acoustics.py $(BENCH_ARGS)
	$(BIN)/python bench/acoustics_synthetic.py
	$(BIN)/python bench/acoustic_location.py

clean:
	rm -rf var/ .pytest_cache

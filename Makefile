# The two commands: `make demo` and `make test`. Both do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := functions:.

.PHONY: demo test setup lint synth bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt functions/requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

demo: setup
	$(BIN)/python -m local demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/run.py

# After changing functions/requirements.txt: the Lambda bundle installs only what the lock names.
lock: setup
	$(BIN)/python -m infra.lock

synth: setup
	npx cdk synth --quiet

clean:
	rm -rf .local cdk.out

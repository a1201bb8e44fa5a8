# The two commands: `make demo` and `make test`. Both do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := functions:.

.PHONY: demo test setup system-packages lint synth bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt functions/requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages `make test` needs: Chromium for the browser tests, python3-venv and npm on a bare
# machine (installed as root, or through passwordless sudo; otherwise it names what to install).
system-packages:
	PYTHON=$(PYTHON) .ci/system-packages

setup: $(VENV)/.installed node_modules/.installed

demo: setup
	$(BIN)/python -m local demo

test: system-packages setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadscope -q

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

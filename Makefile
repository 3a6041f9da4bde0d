# Set-up and the main jobs. Each target creates the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## demo: train on the embedded corpus (data/simple_english), print samples and a BLEU report
demo: $(STAMP)
	$(PY) train.py

## test: run the test suite, one process per core (most tests spend their time tracing TensorFlow graphs, one core each)
test: $(STAMP)
	$(PY) -m pytest -q -n auto --dist worksteal --durations=10

## bench: the BLEU speed benchmark (needs ../shared/datasets)
bench: $(STAMP)
	$(PY) benchmarks/bleu_speed.py

clean:
	rm -rf $(VENV) build *.egg-info

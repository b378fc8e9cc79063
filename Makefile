# make setup  create .venv with the tested OpenMMLab stack (tools/setup_env.sh);
#             STACK=onedl: the maintained fork (onedl-*) in .venv-onedl instead
#             (every target below takes STACK, or VENV for another folder)
# make test   set up, build the docs, then lint and run the test suite (all
#             but the torch.compile cases) on every core (pytest-xdist)
# make test-fast  set up, then lint and run the fast tier (no end-to-end
#             tests, no torch.compile cases)
# make test-compile  set up, then run the torch.compile cases (aot_eager
#             and inductor; one process, inductor builds use the cores)
# make demo   set up, then generate the demo data, train and evaluate
#             Mask R-CNN and UPerNet on it and draw predictions
# make docs   set up, then build the documentation into docs/_build/html
#             (Sphinx, warnings as errors; tools/setup_docs.sh installs it)
STACK ?= upstream
ifeq ($(filter $(STACK),upstream onedl),)
$(error STACK must be upstream or onedl, not '$(STACK)')
endif
VENV_upstream := .venv
VENV_onedl := .venv-onedl
VENV ?= $(VENV_$(STACK))
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=
# pytest-xdist workers (one per core); files stay whole on one worker
WORKERS ?= auto
XDIST := -n $(WORKERS) --dist loadfile

.PHONY: setup lint test test-fast test-compile demo clean-demo

setup:
	STACK=$(STACK) VENV=$(VENV) bash tools/setup_env.sh

lint: setup
	$(PYTHON) -m ruff check .

test: setup docs lint
	$(PYTHON) -m pytest -q $(XDIST) -m "not compile" $(PYTEST_ARGS)

test-fast: setup lint
	$(PYTHON) -m pytest -q $(XDIST) -m "not e2e and not compile" $(PYTEST_ARGS)

test-compile: setup
	$(PYTHON) -m pytest -q -m compile $(PYTEST_ARGS)

demo: setup
	PYTHON=$(PYTHON) bash tools/run_demo.sh

.PHONY: docs
docs: setup
	VENV=$(VENV) bash tools/setup_docs.sh
	$(PYTHON) -m sphinx -E -W --keep-going -n -q -b html docs docs/_build/html

clean-demo:
	rm -rf data/demo work_dirs/demo

# make setup  create .venv with the pinned stack (tools/setup_env.sh)
# make test   set up, then run the test suite
# make test-compile  set up, then run the inductor (torch.compile) cases
# make demo   set up, then generate the demo data, train and evaluate
#             Mask R-CNN and UPerNet on it and draw predictions
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test test-compile demo clean-demo

setup:
	VENV=$(VENV) bash tools/setup_env.sh

test: setup
	$(PYTHON) -m pytest -q $(PYTEST_ARGS)

test-compile: setup
	$(PYTHON) -m pytest -q -m compile $(PYTEST_ARGS)

demo: setup
	PYTHON=$(PYTHON) bash tools/run_demo.sh

clean-demo:
	rm -rf data/demo work_dirs/demo

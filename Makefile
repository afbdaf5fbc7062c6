# The course's commands. `make course` runs every lesson; `make test` runs the test suite.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup course site smoke lab test clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[course,dev]"
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the pinned dependencies and srlib

course: setup    ## execute every notebook in learner mode into build/executed/, then the website build/site/
                 ## (built even when a lesson failed: its page shows the error; the exit status says so)
	@status=0; $(PY) -m srlib course || status=$$?; $(PY) -m srlib site || status=$$?; exit $$status

site: setup      ## build/executed/ as an offline website in build/site/ (needs npm the first time)
	$(PY) -m srlib site

smoke: setup     ## the same, in smoke mode (seconds per notebook)
	@status=0; $(PY) -m srlib course --smoke || status=$$?; $(PY) -m srlib site || status=$$?; exit $$status

lab: setup       ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) notebooks

test: setup      ## unit tests + every notebook executed in smoke mode (nbval)
	SRLIB_SMOKE=1 $(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider

clean:
	rm -rf build .pytest_cache

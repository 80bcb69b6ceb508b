# make lab     set up .venv, generate the embedded sample data, start JupyterLab on notebooks/
# make test    set up, the student edition, then every unit test, nbval over every notebook, every exercise check
# make course  set up, then execute every notebook headless into hand-outs, maths offline:
#              build/student/*.html (solutions replaced by stubs) and build/instructor/*.html
# make student the student edition into build/student/: solutions replaced by stubs, outputs cleared
# make slides  one offline reveal.js deck per notebook into build/slides/ (see slides/README.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample/SYNTHETIC.json

.PHONY: lab test course slides sample clean execute student

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,test]'
	touch $@

$(SAMPLE): $(STAMP) course_lib/data/synthetic.py
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -c "import course_lib.data as d; d.ensure_sample('data/sample')"

sample: $(SAMPLE)

# JupyterLab refuses to run as root (containers, cloud VMs) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(SAMPLE)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG)

test: $(SAMPLE) student
	$(BIN)/python -m pytest

# Generated from notebooks/ by slides/student.py (see CONTRIBUTING.md, Exercises); never edited by hand.
student: $(STAMP)
	$(BIN)/python slides/student.py --out build/student notebooks/*.ipynb

# Both fetch reveal.js, MathJax, require.js and jQuery from the npm registry once (cached in
# build/_npm/) and copy them beside the pages, so the pages open from file:// with no network.
course: $(SAMPLE) student
	$(BIN)/python slides/build.py handouts --execute --out build notebooks/*.ipynb

slides: $(STAMP)
	$(BIN)/python slides/build.py decks --out build/slides notebooks/*.ipynb

clean:
	rm -rf build .pytest_cache

# Re-execute notebooks in place with the CI settings before committing them: make execute NB=notebooks/01_*.ipynb
NB ?= notebooks/*.ipynb
execute: $(SAMPLE)
	COURSE_SIZE=small YT8M_DATA=$(CURDIR)/data/sample TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0 \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 $(NB)

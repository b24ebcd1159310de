# The README's commands. Each installs what it needs first, once: pip runs again only
# when requirements.txt or pyproject.toml changed (the stamp file records the install).
PYTHON ?= python3
PRESET ?= book
# A read-only data mirror: $DEVISE_MIRROR if set, else ../shared/data when it exists.
DEVISE_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export DEVISE_MIRROR
STAMP := .install.stamp
LINTED := devise_lite tests benchmarks _ext

.PHONY: all install run book lab browser test test-fast lint bench bench-whole notebooks clean-book

all: install run book        ## every stage, then the rendered book in _build/html

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m pip install -q -r requirements.txt
	touch $@

run: install
	$(PYTHON) -m devise_lite run --preset $(PRESET)

book: install
	# Progress bars would land in the pages (as widgets or stderr); stages print their own.
	# jupyter-book build, with the chapters executed a core each (_ext/book_build.py).
	TQDM_DISABLE=1 DEVISE_PRESET=$(PRESET) $(PYTHON) _ext/book_build.py . -W -n --keep-going

lab: install                 ## JupyterLab with the chapters opening as notebooks
	# Once per user: .md files open as notebooks (jupytext), not as text.
	jupytext-config set-default-viewer markdown
	DEVISE_PRESET=$(PRESET) jupyter lab

browser:                     ## chromium + chromium-driver for the browser tests (apt, as root)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium and chromedriver are installed"; \
	else \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	fi

# One pytest-xdist worker a core: the workers share the tiny run's stages and the book
# build (tests/conftest.py), so nothing is built twice.
test: install                ## every test (tiny preset, real data from the mirror)
	$(PYTHON) -m pytest -q -n auto

test-fast: install           ## the tests not marked slow: under 90 seconds
	$(PYTHON) -m pytest -q -m "not slow"

lint: install                ## ruff: lint and format, the package, tests, benchmarks
	$(PYTHON) -m ruff check $(LINTED)
	$(PYTHON) -m ruff format --check $(LINTED)

bench: install               ## every speed figure, each against a baseline (minutes)
	$(PYTHON) benchmarks/bench_all.py

bench-whole: install         ## cold + warm `book` run in a fresh copy, against targets
	$(PYTHON) benchmarks/bench_all.py --whole-run

notebooks:                   ## output-free .ipynb copies of the chapters (for Colab)
	jupytext --to ipynb --update-metadata '{"jupytext": null}' book/intro.md book/0*.md

clean-book:
	jupyter-book clean .

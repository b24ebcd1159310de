# The two commands of the README. Both install what they need first (quick when already installed).
PYTHON ?= python3
PRESET ?= book
# A read-only data mirror: $DEVISE_MIRROR if set, else ../shared/data when it exists.
DEVISE_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export DEVISE_MIRROR

.PHONY: all install run book test bench bench-whole notebooks clean-book

all: install run book        ## every stage, then the rendered book in _build/html

install:
	$(PYTHON) -m pip install -q -r requirements.txt

run:
	$(PYTHON) -m devise_lite run --preset $(PRESET)

book:
	# Progress bars would land in the pages (as widgets or stderr); the stages print their own.
	TQDM_DISABLE=1 DEVISE_PRESET=$(PRESET) jupyter-book build . -W -n --keep-going

test: install                ## the test suite (tiny preset, real data from the mirror)
	$(PYTHON) -m pytest -q

bench:                       ## every speed figure on this machine, each against a baseline (a few minutes)
	$(PYTHON) benchmarks/bench_all.py

bench-whole:                 ## cold + warm `book` run in a fresh copy, against the 30 / 3 min targets
	$(PYTHON) benchmarks/bench_all.py --whole-run

notebooks:                   ## output-free .ipynb copies of the chapters (Colab opens only .ipynb)
	jupytext --to ipynb --update-metadata '{"jupytext": null}' book/intro.md book/0*.md

clean-book:
	jupyter-book clean .

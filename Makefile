# The two commands of the README. Both install what they need first (quick when already installed).
PYTHON ?= python3
PRESET ?= book
# A read-only data mirror: $DEVISE_MIRROR if set, else ../shared/data when it exists.
DEVISE_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export DEVISE_MIRROR

.PHONY: all install run book test bench clean-book

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

bench:
	$(PYTHON) benchmarks/bench_word2vec.py
	$(PYTHON) benchmarks/bench_features.py
	$(PYTHON) benchmarks/bench_training.py

clean-book:
	jupyter-book clean .

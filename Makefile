# One place for the project's commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
MODE   ?= standard

.PHONY: help venv browser test test-unit test-chapters test-browser book book-clean serve chapter bench clean

help:
	@echo "make test      set up .venv if needed, run unit tests + every chapter (quick mode)"
	@echo "make book      set up .venv if needed, build the book (MODE=$(MODE)) into _build/html"
	@echo "make serve     serve _build/html on http://127.0.0.1:8000 (this machine only)"
	@echo "make test-browser  after make book: every page in headless Chromium, network off"
	@echo "make bench     benchmark the optimisers against torch.optim"
	@echo "make chapter CH=chapters/01_rmsprop_ode.md   build one chapter stand-alone"
	@echo "make book-clean  wipe _build (forces re-execution)"

$(BIN)/activate: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(BIN)/activate

venv: $(BIN)/activate

# The test command: unit tests and every chapter through nbval, in quick mode.
test: venv
	LRTHEORY_MODE=quick $(BIN)/python -m pytest -n 2 --dist loadfile

test-unit: venv
	$(BIN)/python -m pytest tests

test-chapters: venv
	LRTHEORY_MODE=quick $(BIN)/python -m pytest -n 2 --dist loadfile chapters appendix reading_guide.md

# jupyter-cache does not know about LRTHEORY_MODE: drop the cache when the mode changes.
book: venv
	@mkdir -p _build
	@if [ -f _build/.lrtheory-mode ] && [ "$$(cat _build/.lrtheory-mode)" != "$(MODE)" ]; then \
		echo "mode changed to $(MODE): clearing the execution cache"; rm -rf _build/.jupyter_cache _build/jupyter_execute; fi
	@echo "$(MODE)" > _build/.lrtheory-mode
	LRTHEORY_MODE=$(MODE) LRTHEORY_PROGRESS=0 $(BIN)/jupyter-book build . -W --keep-going
	@echo "open $(CURDIR)/_build/html/index.html  (or: make serve)"

# Chromium (apt) and the Playwright client, for the browser tests.
browser: venv
	scripts/install_browser.sh $(BIN)/python

# Browser tests of the built book (after `make book`): every page in headless
# Chromium with the network off; screenshots in test-artifacts/screenshots/.
test-browser: browser
	LRTHEORY_REQUIRE_BOOK=1 $(BIN)/python -m pytest tests/browser -q -p no:cacheprovider

bench: venv
	$(BIN)/python -m lrtheory.bench

book-clean:
	rm -rf _build

serve:
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

chapter: venv
	PATH=$(CURDIR)/$(BIN):$$PATH LRTHEORY_MODE=$(MODE) scripts/build_chapter.sh $(CH)

clean: book-clean
	rm -rf .pytest_cache .hypothesis

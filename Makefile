# Two set-up commands for a fresh Debian 12 machine: `make demo` and `make test`.
# Everything below is idempotent: stamps record what is done, re-runs are cheap.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
APT_PACKAGES := ffmpeg opencv-doc libsystemd-dev pkg-config python3-venv python3-dev gcc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck unit deps apt venv models clean lock


demo: deps
	$(VENV)/bin/counterunit demo --out demo-output

# -ra (pyproject addopts) folds skips sharing a reason into one line; tests/skip_report.py
# lists every skipped test with its reason and the total, so the count is the real one.
test: deps lint typecheck
	$(PY) -m pytest -q -n auto --dist loadfile -p no:cacheprovider -p tests.skip_report

lint: deps
	$(VENV)/bin/ruff check .

typecheck: deps
	$(VENV)/bin/mypy .

deps: apt venv models

# dpkg -s is cheap, so the apt check runs every time instead of trusting a stamp.
apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The whole dependency tree, pinned with sha256 hashes (requirements/README.md):
# dev.txt for this .venv (tests, demo, tools), device.txt for a unit's image
# (image-build/deb/build.py), hq.txt for an HQ server. pip refuses anything unhashed.
venv: $(STAMPS)/venv
$(STAMPS)/venv: requirements/dev.txt pyproject.toml | apt
	@mkdir -p $(STAMPS)
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

# Re-writes the three locks from requirements/*.in (which name pyproject.toml's extras)
# with the uv pinned in dev.txt. What this .venv has installed is the constraint, so a
# package added with `pip install NAME==VERSION` is locked at that version and nothing
# else moves; bump a version by installing it first. Not part of `make test`.
LOCKS := dev device hq
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal \
	--python-version 3.11 --no-emit-package counterunit --custom-compile-command "make lock"
lock: $(STAMPS)/venv
	$(PY) -m pip freeze --all --exclude-editable > $(STAMPS)/venv-freeze.txt
	for name in $(LOCKS); do \
	  $(UV_COMPILE) -c $(STAMPS)/venv-freeze.txt -o requirements/$$name.txt \
	    requirements/$$name.in || exit 1; \
	  sed -i -E '/^ *# *(via )?-c .*venv-freeze\.txt$$/d' requirements/$$name.txt; \
	done

# Verifying sha256 of present models is quick, so this always runs.
models: $(STAMPS)/venv
	$(PY) -m vision.models.fetch

clean:
	rm -rf $(STAMPS) demo-output .mypy_cache .ruff_cache .pytest_cache

# A top-level folder that needs more (apt packages, its own targets) keeps a
# fragment <folder>/<part>.mk; fragments may append to APT_PACKAGES.
include $(sort $(wildcard */*.mk))

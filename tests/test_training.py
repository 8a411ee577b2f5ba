"""Training backends: backend resolution, the Unsloth guard and arguments, response markers, 4-bit peft on CPU,
best-checkpoint selection, and resuming a killed training job from its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.jsonio import read_json, read_yaml, write_json, write_jsonl
from breakeven.models.sources import fetch_model
from breakeven.train import resolve_backend
from breakeven.train.job import run_training
from breakeven.train.request import TrainRequest
from breakeven.train.sft import STATE_FILE, read_state
from breakeven.train.unsloth_trainer import ALL_LINEAR, markers, model_kwargs, peft_kwargs, train_lora

MODEL = "tiny-random-llama"


@pytest.fixture(scope="module")
def project() -> Project:
    config = read_yaml(REPO_ROOT / "config" / "config.yaml") | {"models": [MODEL]}
    return Project(config)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, project) -> Path:
    out = tmp_path_factory.mktemp("model") / MODEL
    fetch_model(project.models[MODEL], out)
    return out


def cell(project: Project, training: dict, lora: dict | None = None) -> dict:
    model = project.models[MODEL]
    return {
        "lora": project.lora_params(MODEL, "support_email", "lora_50") | (lora or {}),
        "max_seq_length": 512,
        "instructions": True,
        "task": project.adapter_config("support_email"),
        "model": {key: model[key] for key in ("name", "source", "response_markers")},
        "training": project.config["training"] | training,
    }


def write_data(folder: Path, n_train: int, n_val: int) -> dict[str, Path]:
    from breakeven.data.sources import load_synthetic

    rows = load_synthetic({"generator": "support_emails", "n": n_train + n_val, "seed": 3})
    paths = {name: folder / f"{name}.jsonl" for name in ("train", "val")}
    write_jsonl(paths["train"], rows[:n_train])
    write_jsonl(paths["val"], rows[n_train:])
    write_json(folder / "documents.json", {})
    write_json(folder / "manifest.json", {})
    return paths


def training_args(project, tiny_model, folder: Path, data: dict, training: dict, lora: dict | None = None) -> dict:
    return {
        "cell": cell(project, training, lora),
        "model_dir": tiny_model,
        "train_path": data["train"],
        "val_path": data["val"],
        "manifest_path": folder / "manifest.json",
        "documents_path": folder / "documents.json",
        "seed": 0,
        "out_dir": folder / "adapter",
        "checkpoint_dir": folder / "checkpoints",
        "threads": 1,
    }


def test_auto_backend_is_unsloth_only_with_cuda_and_unsloth():
    assert resolve_backend("auto", cuda=True, unsloth=True) == "unsloth"
    assert resolve_backend("auto", cuda=True, unsloth=False) == "peft"
    assert resolve_backend("auto", cuda=False, unsloth=True) == "peft"
    assert resolve_backend("auto") == "peft"  # this machine: no CUDA
    assert resolve_backend("unsloth") == "unsloth"
    with pytest.raises(KeyError, match="valid: auto, peft, unsloth"):
        resolve_backend("deepspeed")


def test_unsloth_without_cuda_names_the_missing_pieces(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present: the guard does not fire (bench/gpu_check.py runs unsloth for real)")
    request = TrainRequest(tmp_path, [], [], {}, 64, 0, tmp_path / "a", tmp_path / "c")
    with pytest.raises(RuntimeError, match=r"needs a CUDA device .*set training.backend to 'peft' or 'auto'"):
        train_lora(request)


def test_unsloth_arguments_come_from_the_cell(project, tmp_path):
    c = cell(project, {}, {"r": 8, "alpha": 16, "dropout": 0.1})
    request = TrainRequest(
        Path("/m"), [], [], c["lora"], 333, 7, tmp_path, tmp_path, response_markers=c["model"]["response_markers"]
    )
    assert model_kwargs(request) == {"model_name": "/m", "max_seq_length": 333, "load_in_4bit": True, "dtype": None}
    peft = peft_kwargs(request)
    assert (peft["r"], peft["lora_alpha"], peft["lora_dropout"], peft["random_state"]) == (8, 16, 0.1, 7)
    assert peft["target_modules"] == ALL_LINEAR
    assert markers(request) == {"instruction_part": "<|im_start|>user\n", "response_part": "<|im_start|>assistant\n"}
    with pytest.raises(ValueError, match="no 'response_markers'"):
        markers(TrainRequest(Path("/m"), [], [], c["lora"], 333, 7, tmp_path, tmp_path))


def test_response_markers_delimit_the_answer_in_the_rendered_template(project, tiny_model):
    """What unsloth keeps after the last response marker is exactly the answer and its end of turn."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    conversation = [
        {"role": "system", "content": "Reply with JSON."},
        {"role": "user", "content": "Hi, this is Ana."},
        {"role": "assistant", "content": '{"customer_name": "Ana"}'},
    ]
    for path in sorted((REPO_ROOT / "config" / "models").glob("*.yaml")):
        model = read_yaml(path)
        if model.get("chat_template") != "chatml":
            continue  # hub models carry their own templates (checked on a machine that has them)
        text = tokenizer.apply_chat_template(conversation, tokenize=False)
        instruction, response = model["response_markers"]["instruction"], model["response_markers"]["response"]
        assert text.count(instruction) == 1 and text.index(instruction) < text.index(response), path
        assert text.split(response)[-1].strip() == '{"customer_name": "Ana"}<|im_end|>', path


def test_peft_trains_a_4bit_base_on_cpu_and_keeps_the_best_checkpoint(project, tiny_model, tmp_path):
    data = write_data(tmp_path, 12, 4)
    args = training_args(
        project, tiny_model, tmp_path, data, {"load_in_4bit": True, "eval_steps": 1, "early_stopping_patience": 0}
    )
    info = run_training(**args)
    assert info["backend"] == "peft" and info["load_in_4bit"] and info["device"] == "cpu"
    assert (tmp_path / "adapter" / "adapter_model.safetensors").stat().st_size > 0
    assert info["steps"] == 3 and info["best_step"] in (1, 2, 3)
    assert info["val_loss"] == pytest.approx(info["best_val_loss"], rel=1e-4)  # the best weights were reloaded
    assert info["train_sha256"] and info["base_source"] == {"kind": "tiny_random", "seed": 0}
    assert info["gpu_hours"] == 0 and info["device_hours"] > 0
    assert read_state(tmp_path / "checkpoints")["status"] == "done"
    assert not list((tmp_path / "checkpoints").glob("checkpoint-*"))  # optimizer states removed once done


RUN_TRAINING = """
import json, sys
from pathlib import Path
from breakeven.train.job import run_training
args = json.loads(Path(sys.argv[1]).read_text())
run_training(**{k: Path(v) if k.endswith(("_dir", "_path")) else v for k, v in args.items()})
"""


def test_killed_training_resumes_from_its_last_checkpoint(project, tiny_model, tmp_path):
    data = write_data(tmp_path, 48, 2)
    args = training_args(
        project,
        tiny_model,
        tmp_path,
        data,
        {"eval_steps": 4, "early_stopping_patience": 0},
        {"batch_size": 1, "epochs": 2},
    )
    (tmp_path / "args.json").write_text(json.dumps(args, default=str))
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", RUN_TRAINING, str(tmp_path / "args.json")]
    job = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = tmp_path / "checkpoints" / STATE_FILE
    deadline = time.monotonic() + 300
    while not (state_file.exists() and read_state(tmp_path / "checkpoints").get("global_step", 0) >= 8):
        assert job.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    killed_at = read_state(tmp_path / "checkpoints")
    assert killed_at["status"] == "training" and 8 <= killed_at["global_step"] < killed_at["max_steps"]
    assert not (tmp_path / "adapter" / "train_info.json").exists()

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    info = read_json(tmp_path / "adapter" / "train_info.json")
    assert info["resumed_from_step"] == killed_at["global_step"] and info["attempts"] == 2
    assert info["steps"] == killed_at["max_steps"] and (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    assert info["train_seconds"] >= killed_at["elapsed_s"]  # wall time adds up over both attempts
    assert f"resuming from {tmp_path / 'checkpoints' / killed_at['last_checkpoint']}" in rerun.stdout

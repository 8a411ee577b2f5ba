"""Adapters on the Hugging Face Hub: the generated model card, the pull path (offline, from the hub cache), and
the publish/pull rules in the DAG. Pushing itself needs the hub and a token; it is not run here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard
from workflow_cli import planned_jobs, run_workflow

from breakeven.publish.card import model_card, repo_name
from breakeven.publish.hub import pull_adapter

SHA = "0123456789abcdef0123456789abcdef01234567"


def cell() -> dict:
    """A LoRA cell's metrics file as the score job writes it (the fields the card reads)."""
    return {
        "task": "support_email",
        "system": "qwen3-8b",
        "condition": "lora_500",
        "seed": 1,
        "primary_metric": "field_f1",
        "metrics": {
            "field_f1": {"value": 0.8123, "ci_low": 0.7711, "ci_high": 0.8498, "n": 400},
            "valid_json": {"value": 0.99, "ci_low": 0.978, "ci_high": 0.998, "n": 400},
        },
        "training": {
            "backend": "unsloth",
            "device": "cuda:NVIDIA H100",
            "n_train": 500,
            "steps": 63,
            "train_seconds": 412.3,
            "best_val_loss": 0.4321,
            "train_sha256": "f" * 64,
            "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "learning_rate": 0.0002, "epochs": 2, "batch_size": 8},
        },
    }


def test_model_card_content():
    model = yaml.safe_load((Path(__file__).parents[1] / "config/models/qwen3-8b.yaml").read_text())
    provenance = {"kind": "synthetic", "generator": "support_emails", "n": 2000, "seed": 13}
    card = model_card(model, "support_email", cell(), provenance)
    text = str(card)
    reread = ModelCard(text)
    assert reread.data.base_model == "Qwen/Qwen3-8B" and reread.data.license == "apache-2.0"
    assert reread.data.library_name == "peft" and "support_email" in reread.data.tags
    results = {r.metric_type: r for r in reread.data.eval_results}
    assert results["field_f1"].metric_value == pytest.approx(0.8123)
    assert "95% CI 0.771-0.850, n=400" in results["field_f1"].metric_name
    assert model["source"]["revision"] in text  # the base model's pinned revision
    assert "500 examples (kind: synthetic, generator: support_emails, n: 2000, seed: 13)" in text
    assert "| r | 16 |" in text and "| learning_rate | 0.0002 |" in text
    assert "| field_f1 | 0.812 | [0.771, 0.850] | 400 |" in text
    assert "Base model licence: Apache-2.0" in text
    assert repo_name("qwen3-8b", "support_email", "lora_500", 1) == "qwen3-8b-support-email-lora-500-seed1"


def test_model_card_pull_adapter_offline(tmp_path, monkeypatch):
    """A published adapter comes back from the hub cache at its pinned commit (HF_HUB_OFFLINE, no network)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # read at import time from HF_HOME
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    snapshot = tmp_path / "hub" / "models--me--qwen3-8b-support-email-lora-500-seed1" / "snapshots" / SHA
    snapshot.mkdir(parents=True)
    (snapshot / "adapter_config.json").write_text(json.dumps({"r": 16, "peft_type": "LORA"}))
    (snapshot / "adapter_model.safetensors").write_bytes(b"weights")
    (snapshot / "train_info.json").write_text(json.dumps({"n_train": 500}))

    out = pull_adapter("me/qwen3-8b-support-email-lora-500-seed1", SHA, tmp_path / "adapter")
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 16
    assert (out / "adapter_model.safetensors").read_bytes() == b"weights"
    assert json.loads((out / "train_info.json").read_text()) == {"n_train": 500}

    with pytest.raises(ValueError, match="pin a 40-character commit SHA"):
        pull_adapter("me/qwen3-8b-support-email-lora-500-seed1", "main", tmp_path / "other")
    (snapshot / "adapter_config.json").unlink()
    with pytest.raises(FileNotFoundError, match="not a PEFT adapter"):
        pull_adapter("me/qwen3-8b-support-email-lora-500-seed1", SHA, tmp_path / "again")


def test_model_card_rules_publish_and_pull(tmp_path):
    """Publishing adds one push per trained LoRA cell; a pulled cell is downloaded, not trained nor pushed."""
    overlay = {
        "publish": {
            "enabled": True,
            "namespace": "me",
            "pull": {
                "smollm2-135m/support_email/lora_200/seed0": f"me/smollm2-135m-support-email-lora-200-seed0@{SHA}"
            },
        }
    }
    (tmp_path / "publish.yaml").write_text(yaml.safe_dump(overlay))
    result = run_workflow(tmp_path, "-n", "--configfile", str(tmp_path / "publish.yaml"), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs["train"] == 1 and jobs["pull_adapter"] == 1 and jobs["publish_adapter"] == 1
    assert "results/default/hub_adapters/smollm2-135m/support_email/lora_200/seed0" in result.stdout

    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"publish": {"pull": {"a/b/c/seed0": "me/x@main"}}}))
    result = run_workflow(tmp_path, "-n", "--configfile", str(tmp_path / "bad.yaml"), timeout=300)
    assert result.returncode != 0
    assert "publish" in result.stdout and "pull" in result.stdout and "me/x@main" in result.stdout

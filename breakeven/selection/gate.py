"""The base-model gate: zero-shot pass rates of the candidate base models, the decision, and a chance check.

A pass is one example answered correctly under the task's own scorer (``error_class == "correct"``); for
extraction a rubric threshold on the per-example field score may replace "every field right".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.data.documents import attach_documents
from breakeven.jsonio import read_json, read_jsonl, write_json
from breakeven.tasks import Task, build_task

SELECTION = "selection.json"

DEPLOY, FINE_TUNE, FULL = "deploy", "fine_tune", "full_pipeline"
DECISION_TEXT = {
    DEPLOY: "the base model is likely sufficient: deploy it, with targeted fine-tuning only",
    FINE_TUNE: "fine-tune the base model",
    FULL: "run the full pipeline (data work, fine-tuning, and a stronger candidate)",
}


def passed(row: dict, rubric: float | None) -> bool:
    """Whether one scored example counts as a pass."""
    if rubric is not None and "field_f1" in row:
        return row["field_f1"] >= rubric
    return row["error_class"] == "correct"


@dataclass(frozen=True)
class PassRate:
    """Passes among n examples, with a Wilson 95% interval."""

    passes: int
    n: int

    @property
    def rate(self) -> float:
        return self.passes / self.n if self.n else 0.0

    def as_dict(self) -> dict:
        from scipy.stats import binomtest  # imported here: the Snakefile imports this module to plan the DAG

        ci = binomtest(self.passes, self.n).proportion_ci(method="wilson") if self.n else None
        return {
            "passes": self.passes,
            "n": self.n,
            "rate": self.rate,
            "ci_low": ci.low if ci else 0.0,
            "ci_high": ci.high if ci else 0.0,
        }


def pass_rate(per_example: list[dict], rubric: float | None) -> PassRate:
    return PassRate(sum(passed(row, rubric) for row in per_example), len(per_example))


def decide(rate: float, sufficient: float, fine_tune: float) -> str:
    """deploy (>= sufficient), fine_tune (>= fine_tune), else full_pipeline."""
    if rate >= sufficient:
        return DEPLOY
    return FINE_TUNE if rate >= fine_tune else FULL


def chance_rate(task: Task, train: list[dict], test: list[dict], rubric: float | None) -> dict:
    """Pass rate on test of answering every example with the most frequent training answer (majority class,
    most common option, "no answer", ...): the level a model reaches without reading the input."""
    answer, _ = Counter(task.target_text(row) for row in train).most_common(1)[0]
    scored = task.score_batch([answer] * len(test), test)
    return {"answer": answer, **pass_rate(scored, rubric).as_dict()}


def failure_analysis(per_example: list[dict], outputs: dict[str, str], rubric: float | None, k: int = 3) -> dict:
    """Counts of each error class among the failures, with up to ``k`` example outputs per class."""
    failures = [row for row in per_example if not passed(row, rubric)]
    counts = Counter(row["error_class"] for row in failures)
    return {
        cls: {
            "count": count,
            "examples": [
                {"id": row["id"], "output": outputs.get(row["id"], "")[:300]}
                for row in failures
                if row["error_class"] == cls
            ][:k],
        }
        for cls, count in counts.most_common()
    }


def candidate_row(model: dict, metrics: dict, outputs: dict[str, str], rubric: float | None) -> dict:
    """One candidate's entry: its model card fields, val pass rate, primary metric and failures."""
    card = {
        key: model.get(key) for key in ("display_name", "license", "parameters_b", "context_length", "release_date")
    }
    primary = metrics["metrics"][metrics["primary_metric"]]
    return {
        "model": model["name"],
        **card,
        "domain_notes": model.get("domain_notes", ""),
        "pass_rate": pass_rate(metrics["per_example"], rubric).as_dict(),
        "primary_metric": metrics["primary_metric"],
        "primary_value": primary["value"],
        "failures": failure_analysis(metrics["per_example"], outputs, rubric),
    }


def contamination(test_metrics: dict, chance: dict, val_rate: dict, rubric: float | None, margin: float) -> dict:
    """Zero-shot test pass rate against chance (flagged above ``margin``) and against the val pass rate."""
    test = pass_rate(test_metrics["per_example"], rubric).as_dict()
    above = test["rate"] - chance["rate"]
    return {
        "test": test,
        "chance": chance["rate"],
        "above_chance": above,
        "margin": margin,
        "flagged": above > margin,
        "test_minus_val": test["rate"] - val_rate["rate"],
    }


def rank(candidates: list[dict]) -> list[dict]:
    """Best val pass rate first; ties go to the smaller (cheaper to serve) model."""
    return sorted(candidates, key=lambda c: (-c["pass_rate"]["rate"], c.get("parameters_b") or float("inf")))


def select(task: str, candidates: list[dict], gate: dict) -> dict:
    """The task's decision: primary and backup candidates, the rationale, and whether LoRA cells are gated."""
    ranked = rank(candidates)
    primary = ranked[0]
    backup = ranked[1] if len(ranked) > 1 else None
    rate = primary["pass_rate"]["rate"]
    decision = decide(rate, gate["sufficient"], gate["fine_tune"])
    rationale = (
        f"{primary['model']} passes {rate:.0%} of {primary['pass_rate']['n']} val examples zero-shot "
        f"(95% CI {primary['pass_rate']['ci_low']:.0%}–{primary['pass_rate']['ci_high']:.0%}), the best of "
        f"{len(ranked)} candidate(s); thresholds: sufficient ≥ {gate['sufficient']:.0%}, fine-tune ≥ "
        f"{gate['fine_tune']:.0%}: {DECISION_TEXT[decision]}."
    )
    if backup:
        rationale += f" Backup: {backup['model']} ({backup['pass_rate']['rate']:.0%})."
    return {
        "task": task,
        "primary": primary["model"],
        "backup": backup["model"] if backup else None,
        "decision": decision,
        "pass_rate": rate,
        "rationale": rationale,
        "gated": bool(gate["gate"] and decision == DEPLOY),
        "candidates": ranked,
    }


def run_select_base(
    task_cfg: dict,
    models: dict[str, dict],
    val_cells: dict[str, tuple[Path, Path]],
    test_cells: dict[str, Path],
    train_path: Path,
    test_path: Path,
    documents_path: Path,
    gate: dict,
    out_dir: Path,
) -> dict:
    """Write one JSON per candidate and ``selection.json`` for a task into ``out_dir``.

    ``val_cells`` maps a model to its base_val (metrics, predictions) files; ``test_cells`` to the metrics of its
    zero-shot test cell, used for the chance check (skipped where the run has none).
    """
    rubric = gate["extraction_rubric"]
    task = build_task(task_cfg, REPO_ROOT)
    chance = chance_rate(task, read_jsonl(train_path), attach_documents(read_jsonl(test_path), documents_path), rubric)
    candidates = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (metrics_path, predictions_path) in val_cells.items():
        outputs = {row["id"]: row["output"] for row in read_jsonl(predictions_path)}
        entry = candidate_row(models[name], read_json(metrics_path), outputs, rubric)
        entry["contamination"] = (
            contamination(read_json(test_cells[name]), chance, entry["pass_rate"], rubric, gate["contamination_margin"])
            if name in test_cells
            else None
        )
        write_json(out_dir / f"{name}.json", entry)
        candidates.append(entry)
    selection = select(task_cfg["name"], candidates, gate) | {"chance": chance}
    write_json(out_dir / SELECTION, selection)
    return selection

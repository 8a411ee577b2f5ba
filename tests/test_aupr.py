"""CUAD's ranking metrics (AUPR, precision at 80% recall) on real per-question confidences: the first-token
log-probabilities each backend returns (transformers, the OpenAI Chat Completions API), combined over windows,
with bootstrap CIs; without confidences the metrics are unavailable, with the reason."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from fastapi import FastAPI, Request
from loopback import ThreadedServer
from sklearn.metrics import average_precision_score

from breakeven.providers.cell import logprobs_unavailable, prediction_row
from breakeven.providers.openai_client import OpenAIClient
from breakeven.score.cell import score_cell
from breakeven.tasks.qa_metrics import precision_at_recall, ranking_ci, ranking_samples
from breakeven.tasks.span_qa import NO_ANSWER, TOP_LOGPROBS, SpanQATask

BOOTSTRAP = {"n_resamples": 1000, "confidence": 0.95, "seed": 0}
PROMPT = {"system": "Quote the clause or reply: No answer", "user": "Question: {question}\n\n{input}"}
TASK_CFG = {"name": "cuad", "kind": "span_qa", "chunking": {"window": 8, "stride": 6, "max_windows": 4}}


def task() -> SpanQATask:
    return SpanQATask(TASK_CFG, PROMPT)


def synthetic_case(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Questions with an answer a third of the time; the model says an answer when its confidence passes 0.5,
    and its confidence ranks the questions far better than that yes/no flag."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 1 / 3
    confidence = np.clip(rng.normal(0.35 + 0.35 * truth, 0.15), 0, 1)
    return truth, confidence, confidence >= 0.5


def rows(truth, confidence, said) -> list[dict]:
    return [
        {
            "has_answer": bool(t),
            "predicted_answer": bool(s),
            "token_f1": float(t == s),
            "exact_match": float(t == s),
            "confidence": None if c is None else float(c),
        }
        for t, c, s in zip(truth, confidence, said)
    ]


def test_aupr_ranks_the_confidences_not_the_answered_flag():
    truth, confidence, said = synthetic_case()
    metrics = task().metrics(rows(truth, confidence, said), BOOTSTRAP)
    # what the hard flag gave: recall * precision + (1 - recall) * prevalence, whatever the confidences say
    recall, precision = (truth & said).sum() / truth.sum(), (truth & said).sum() / said.sum()
    degenerate = recall * precision + (1 - recall) * truth.mean()
    assert average_precision_score(truth, said) == pytest.approx(degenerate)
    aupr, p80 = metrics["detection_aupr"], metrics["detection_p_at_80r"]
    assert aupr["value"] == pytest.approx(average_precision_score(truth, confidence))
    assert aupr["value"] > degenerate + 0.1
    assert p80["value"] == pytest.approx(precision_at_recall(truth, confidence, 0.8))
    for estimate in (aupr, p80):
        assert estimate["ci_low"] < estimate["value"] < estimate["ci_high"] and estimate["n"] == truth.size
        assert estimate["ci_high"] - estimate["ci_low"] < 0.3


def test_aupr_unavailable_without_confidences_says_why():
    truth, confidence, said = synthetic_case(60)
    missing = rows(truth, [None] * truth.size, said)
    for estimate in (task().metrics(missing, BOOTSTRAP)[m] for m in ("detection_aupr", "detection_p_at_80r")):
        assert math.isnan(estimate["value"]) and math.isnan(estimate["ci_low"])
        assert "no per-question confidence" in estimate["unavailable"]
    reason = "API system 'x' returns no token log-probabilities"
    api_rows = [{**row, "confidence_unavailable": reason} for row in missing]
    assert task().metrics(api_rows, BOOTSTRAP)["detection_aupr"]["unavailable"] == reason
    assert "unavailable" not in task().metrics(rows(truth, confidence, said), BOOTSTRAP)["detection_aupr"]


def test_aupr_vectorised_resamples_match_scikit_learn_with_ties():
    rng = np.random.default_rng(3)
    truth = rng.random(80) < 0.4
    scores = np.round(rng.random(80) * 4) / 4  # five distinct values: many ties
    idx = rng.integers(0, 80, size=(50, 80))
    weights = np.stack([np.bincount(row, minlength=80) for row in idx]).astype(float)  # resamples as counts
    got = ranking_samples(truth, scores, weights)
    for row, (ap, p80) in zip(idx, got):
        assert ap == pytest.approx(average_precision_score(truth[row], scores[row]))
        assert p80 == pytest.approx(precision_at_recall(truth[row], scores[row], 0.8))
    assert np.isnan(ranking_samples(np.zeros(5, bool), scores[:5], np.ones((1, 5)))).all()  # no positive: NaN
    estimates = ranking_ci(truth, scores, **BOOTSTRAP)
    assert estimates["aupr"].value == pytest.approx(average_precision_score(truth, scores))


def test_aupr_window_confidence_and_the_most_confident_window():
    adapter = task()
    # P("No") 0.6 + P(" no") 0.1 begin the abstention; "Non" and "The" do not
    candidates = [("No", math.log(0.6)), (" no", math.log(0.1)), ("Non", math.log(0.05)), ("The", math.log(0.2))]
    assert adapter.window_confidence(candidates) == pytest.approx(0.3)
    # ending the reply at once (a special token, text None) is an empty reply: no answer
    assert adapter.window_confidence([(None, math.log(0.25)), ("\n", math.log(0.5)), ("", -3.0)]) == pytest.approx(0.75)
    windows = [[("No", math.log(0.9))], [("The", math.log(0.5)), ("No", math.log(0.4))], [("Licensee", -0.05)]]
    answer = adapter.answer([NO_ANSWER, "The term is two years.", "Licensee may not assign."], windows)
    assert answer["output"] == "Licensee may not assign."  # the most confident answering window, not the first
    assert answer["confidence"] == pytest.approx(1 - 0.0) and len(answer["request_confidences"]) == 3
    assert answer["request_confidences"][:2] == pytest.approx([0.1, 0.6])
    assert adapter.answer([NO_ANSWER, NO_ANSWER], [None, windows[0]]) == {"output": NO_ANSWER, "confidence": None}


def test_aupr_confidences_from_transformers_first_step(tmp_path):
    import torch

    from breakeven.infer.hf import HFGenerator
    from breakeven.models.chat_templates import install_chat_template
    from breakeven.models.tiny import build_tiny_llama

    build_tiny_llama(tmp_path, seed=0)
    install_chat_template(tmp_path, "chatml")
    generator = HFGenerator(tmp_path)
    conversations = [[{"role": "user", "content": text}] for text in ("a clause", "the term of the licence " * 5)]
    answers = generator.generate(conversations, 6, 2, top_logprobs=5)
    assert all(a.first_logprobs is None for a in generator.generate(conversations, 6, 2))
    for conversation, answer in zip(conversations, answers):
        prompt = generator.tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        ids = generator.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            logprobs = torch.log_softmax(generator.model(ids).logits[0, -1].float(), dim=-1)
        top = torch.topk(logprobs, 5)
        special = set(generator.tokenizer.all_special_ids)
        decoded = [
            None if i in special else generator.tokenizer.decode([i]).replace("\ufffd", "")
            for i in top.indices.tolist()
        ]
        expected = list(zip(decoded, top.values.tolist()))
        assert [text for text, _ in answer.first_logprobs] == [text for text, _ in expected]
        assert [lp for _, lp in answer.first_logprobs] == pytest.approx([lp for _, lp in expected], abs=1e-4)


def chat_app(seen: list[dict]) -> FastAPI:
    """Chat Completions in OpenAI's documented shape, with logprobs when asked; records the bodies."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict:
        body = await request.json()
        seen.append(body)
        top = [{"token": "No", "logprob": math.log(0.7), "bytes": None}, {"token": "The", "logprob": -1.5}]
        logprobs = {"content": [{"token": "No", "logprob": math.log(0.7), "bytes": None, "top_logprobs": top}]}
        return {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "m-2026-01-01",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": NO_ANSWER},
                    "logprobs": logprobs if body.get("logprobs") else None,
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
        }

    return app


def test_aupr_chat_completions_logprobs_through_the_sdk():
    from test_api import system

    seen: list[dict] = []
    with ThreadedServer(chat_app(seen)) as server:
        client = OpenAIClient(system(logprobs=True), "k", f"{server.url}/v1")
        messages = [{"role": "user", "content": "q"}]

        async def ask() -> tuple:
            try:
                with_lp = await client.send(client.body("m", messages, 8, None, top_logprobs=TOP_LOGPROBS))
                without = await client.send(client.body("m", messages, 8, None))
                return with_lp, without
            finally:
                await client.aclose()

        with_lp, without = asyncio.run(ask())
    assert seen[0]["logprobs"] is True and seen[0]["top_logprobs"] == TOP_LOGPROBS and "logprobs" not in seen[1]
    assert [text for text, _ in with_lp.first_logprobs] == ["No", "The"]
    assert [lp for _, lp in with_lp.first_logprobs] == pytest.approx([math.log(0.7), -1.5])
    assert without.first_logprobs is None and with_lp.model_version == "m-2026-01-01"
    assert task().window_confidence(with_lp.first_logprobs) == pytest.approx(0.3)


def outcome(text: str, first_logprobs) -> dict:
    return {
        "text": text,
        "first_logprobs": first_logprobs,
        "input_tokens": 10,
        "output_tokens": 2,
        "cached_tokens": 0,
        "model_version": "m",
        "latency_s": 0.1,
        "attempts": 1,
        "cache_hit": False,
        "error": None,
        "truncated": False,
    }


def test_aupr_api_rows_carry_confidences_or_the_reason():
    from test_api import system

    adapter = task()
    price = {"input_per_1m": 1.0, "output_per_1m": 2.0, "batch_discount": 0.5}
    examples = [
        {"id": "a", "input": {"question": "q", "context": "x"}, "target": {"answers": [], "is_impossible": True}},
        {
            "id": "b",
            "input": {"question": "q", "context": "x"},
            "target": {"answers": [{"text": "Licensee may not assign.", "start": 0}], "is_impossible": False},
        },
    ]
    answers = {"a": (NO_ANSWER, [("No", math.log(0.8))]), "b": ("Licensee may not assign.", [("Lic", -0.1)])}
    scored = [
        prediction_row(adapter, i, [outcome(text, lp)], price, False, None, None) for i, (text, lp) in answers.items()
    ]
    assert [row["confidence"] for row in scored] == pytest.approx([0.2, 1.0])
    reason = logprobs_unavailable(system(name="gpt", logprobs=False))
    assert "config/api_models/gpt.yaml" in reason and logprobs_unavailable(system(logprobs=True)) is None
    blind = [
        prediction_row(adapter, i, [outcome(text, None)], price, False, None, reason)
        for i, (text, _) in answers.items()
    ]
    assert all(row["confidence"] is None and row["confidence_unavailable"] == reason for row in blind)
    small = {"n_resamples": 200, "confidence": 0.95, "seed": 0}
    metrics = score_cell(adapter, examples, scored, small)["metrics"]
    assert metrics["detection_aupr"]["value"] == 1.0 and "unavailable" not in metrics["detection_aupr"]
    assert score_cell(adapter, examples, blind, small)["metrics"]["detection_p_at_80r"]["unavailable"] == reason


def metric_file(system: str, aupr: dict) -> dict:
    estimate = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 60}
    usage = {"latency_p50_s": 0.1, "latency_p95_s": 0.2, "input_tokens_mean": 10.0, "output_tokens_mean": 2.0}
    return {
        "task": "cuad",
        "system": system,
        "condition": "zero_shot",
        "seed": 0,
        "kind": "prompt",
        "primary_metric": "token_f1",
        "metrics": {"token_f1": estimate, "detection_aupr": aupr, "detection_p_at_80r": aupr},
        "usage": usage,
        "run": {"wall_s": 6.0, "n": 60, "device": "cpu"},
        "training": None,
    }


def test_aupr_unavailable_shows_as_a_dash_with_its_reason_in_the_paper():
    import pandas as pd

    from breakeven.analysis.summary import cells_wide, metrics_long
    from breakeven.report.fragments import results_table

    nan, reason = float("nan"), "API system 'gpt' returns no token log-probabilities"
    cells = [
        metric_file("local", {"value": 0.71, "ci_low": 0.6, "ci_high": 0.8, "n": 60}),
        metric_file("gpt", {"value": nan, "ci_low": nan, "ci_high": nan, "n": 60, "unavailable": reason}),
    ]
    keys = ["task", "system", "condition", "seed"]
    costs = pd.DataFrame(
        [{**{k: c[k] for k in keys}, "cost_per_1k": 1.0, "cost_per_1k_correct": 2.0} for c in cells]
    ).assign(cost_per_1k_correct_low=1.5, cost_per_1k_correct_high=2.5)
    costs = costs.assign(serving_concurrency=nan, serving_latency_p50_s=nan, serving_latency_p95_s=nan)  # no load test
    table = results_table(cells_wide(cells), metrics_long(cells), costs)
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| ")}
    assert " 0.710 | 0.710 |" in rows["local"] and " – | – |" in rows["gpt"]
    assert f"- detection aupr, detection p at 80r unavailable for gpt · zero_shot: {reason}" in table
    only_api = results_table(cells_wide(cells[1:]), metrics_long(cells[1:]), costs)  # every value missing
    assert " – | – |" in only_api

"""The paper's headline and per-task verdict: built from the paired test, the break-even against the configured
API reference (with its interval) and the base-model gate, on constructed cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cost_cells import BOOTSTRAP, COST, PRICING, bernoulli, latencies, metric_cell, summary

from breakeven.cost.tables import UPPER_BOUND, breakeven, deployments
from breakeven.cost.uncertainty import breakeven_intervals, resampled_costs
from breakeven.report.verdict import findings_text, standing, task_verdict, volume

N = 200
LORA = ("m", "lora_200", 0)


def cells(api_accuracy: float = 0.7, api_tokens=(1500.0, 40.0), gemini: bool = False) -> list[dict]:
    built = [
        metric_cell("m", "zero_shot", "prompt", bernoulli(0.5, N, 1), latencies(0.05, N, 11)),
        metric_cell("m", "five_shot", "prompt", bernoulli(0.6, N, 2), latencies(0.08, N, 12)),
        metric_cell("m", "lora_200", "lora", bernoulli(0.8, N, 3), latencies(0.05, N, 13), train_hours=0.5),
        metric_cell(
            "gpt-5.4-mini", "five_shot", "api", bernoulli(api_accuracy, N, 4), latencies(1.0, N, 14), api_tokens
        )
        | {"run": {"wall_s": 200.0, "n": N, "device": "api", "pricing": "gpt-5.4-mini", "batch": False}},
    ]
    if gemini:
        gem = metric_cell("gemini-2.5-flash", "five_shot", "api", bernoulli(0.7, N, 5), latencies(1.0, N, 15))
        gem["run"] |= {"device": "api", "pricing": "gemini-2.5-flash", "batch": False, "standin": False}
        gem["usage"] |= {"cached_tokens_mean": 0.0, "cost_usd_mean": 0.0, "input_tokens_mean": 1500.0}
        for row in gem["per_example"]:
            row |= {"input_tokens": 1500.0, "cached_tokens": 0}
        built.append(gem)
    for cell in built:
        if cell["kind"] == "api":
            cell["run"].setdefault("standin", False)
            cell["usage"] |= {"cached_tokens_mean": 0.0, "cost_usd_mean": 0.0}
            for row in cell["per_example"]:
                row.setdefault("cached_tokens", 0)
    return built


def paired(rows: dict[tuple, tuple[float, float]], reference: tuple = LORA) -> pd.DataFrame:
    """The paired table against ``reference``: (system, condition, seed) -> (difference, BH-adjusted p)."""
    return pd.DataFrame(
        [
            {
                "task": "t",
                "system": s,
                "condition": c,
                "seed": seed,
                "reference": " · ".join(map(str, reference)),
                "metric": "exact",
                "difference": d,
                "ci_low": d - 0.05,
                "ci_high": d + 0.05,
                "p_value": p,
                "p_adjusted_bh": p,
                "n": N,
            }
            for (s, c, seed), (d, p) in rows.items()
        ]
    )


def decision_inputs(built: list[dict], cost: dict = COST, pricing: dict = PRICING):
    wide = summary(built)
    table = deployments(wide, pricing, cost)
    samples = resampled_costs(table, built, pricing, cost, BOOTSTRAP)
    return wide, breakeven_intervals(breakeven(table, cost), table, samples, cost, 0.95)


WORSE = {("m", "zero_shot", 0): (-0.3, 0.0001), ("m", "five_shot", 0): (-0.2, 0.0001)}
GATE = {
    "task": "t",
    "primary": "m",
    "decision": "fine_tune",
    "gated": False,
    "candidates": [{"model": "m", "pass_rate": {"rate": 0.55, "ci_low": 0.41, "ci_high": 0.68, "passes": 27, "n": 50}}],
}


def _reference_row(rows: pd.DataFrame, condition: str = "lora_200") -> dict:
    return rows[rows["api_reference"] & (rows["condition"] == condition)].iloc[0].to_dict()


def test_headline_uses_api_reference_not_the_first_breakeven_row():
    """With a Gemini and a gpt-5.4-mini cell, breakeven.csv lists Gemini first; the headline must name the
    configured reference (cost.api_reference = gpt-5.4-mini) and its volume."""
    built = cells(gemini=True)
    wide, rows = decision_inputs(built)
    lora = rows[rows["condition"] == "lora_200"]
    assert list(lora["api"]) == ["gemini-2.5-flash", "gpt-5.4-mini"]  # the first row is Gemini's
    gemini, gpt = (lora.set_index("api").loc[name, "breakeven_daily_volume"] for name in lora["api"])
    table = paired(
        WORSE | {("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.003), ("gemini-2.5-flash", "five_shot", 0): (-0.1, 0.003)}
    )
    text = findings_text(wide, table, rows, 0.05)
    assert (
        f"breaks even with gpt-5.4-mini · five_shot (the configured API reference) at {volume(gpt)} queries/day" in text
    )
    assert "gemini" not in text and volume(gemini) not in text
    ref = _reference_row(rows)
    assert f"95% CI {volume(ref['ci_low'])} – {volume(ref['ci_high'])}" in text


def test_headline_best_cell_rests_on_the_paired_test_against_the_reference_not_ci_overlap():
    """The LoRA cell's and zero-shot's 95% CIs overlap, yet the paired test separates them: the headline says
    what the paired test says. A cell scoring higher than the reference without significance is not 'better'."""
    wide, rows = decision_inputs(cells())
    wide.loc[wide["condition"] == "zero_shot", ["value", "ci_low", "ci_high"]] = [0.70, 0.63, 0.77]
    wide.loc[wide["condition"] == "lora_200", ["ci_low", "ci_high"]] = [0.74, 0.86]  # overlapping intervals
    text = findings_text(wide, paired(WORSE | {("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.003)}), rows, 0.05)
    assert "overlap" not in text
    assert "the best cell by the paired test is m · lora_200 · seed 0" in text
    assert (
        "no cell is significantly better (BH-adjusted p < 0.05 needed); 3 of 3 other cells are significantly worse"
        in text
    )

    named = paired(
        {LORA: (0.1, 0.2), ("m", "zero_shot", 0): (-0.1, 0.01), ("gpt-5.4-mini", "five_shot", 0): (0.05, 0.3)},
        reference=("m", "five_shot", 0),
    )
    text = findings_text(wide, named, rows, 0.05)
    assert "the best cell by the paired test is m · lora_200 · seed 0" in text
    assert "the paired test does not separate it from gpt-5.4-mini · five_shot, m · five_shot" in text


def test_standing_needs_exactly_one_reference():
    wide, _ = decision_inputs(cells())
    every = WORSE | {LORA: (0.1, 0.01), ("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.01)}
    with pytest.raises(ValueError, match="paired.csv: expected one reference cell without a row per task, found none"):
        standing(wide, paired(every), 0.05)


def _verdict(built, pairs, selection=GATE, cost=COST, pricing=PRICING):
    wide, rows = decision_inputs(built, cost, pricing)
    return task_verdict(standing(wide, paired(pairs), 0.05), rows, selection, cost), rows


def test_task_verdict_fine_tunes_when_lora_beats_the_api_and_breaks_even():
    text, rows = _verdict(cells(), WORSE | {("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.002)})
    ref = _reference_row(rows)
    be = f"{volume(ref['breakeven_daily_volume'])} queries/day (95% CI {volume(ref['ci_low'])} – {volume(ref['ci_high'])})"
    assert text.startswith("**t.** The base-model gate gave m a zero-shot val pass rate of 55% (95% CI 41%–68%)")
    assert "gpt-5.4-mini · five_shot scores" in text and "-0.100 [-0.150, -0.050], BH-adjusted p = 0.0020" in text
    assert (
        f"**Verdict: fine-tune (m · lora_200 · seed 0): the paired test puts it above the API, and it costs less from {be}.**"
        in text
    )
    assert text.rstrip().endswith("This bears out the gate's call.")


def test_task_verdict_prompts_the_api_when_it_is_significantly_better():
    text, rows = _verdict(cells(api_accuracy=0.9), WORSE | {("gpt-5.4-mini", "five_shot", 0): (0.1, 0.001)})
    be = volume(_reference_row(rows)["breakeven_daily_volume"])
    assert (
        "**Verdict: prompt the API: the paired test puts gpt-5.4-mini · five_shot among the best cells and no "
        f"self-hosted cell; self-hosting m · lora_200 · seed 0 would cost less from {be} queries/day" in text
    )
    assert "at lower accuracy.**" in text and "gate's call" not in text


def test_task_verdict_deploys_the_base_model_when_fine_tuning_does_not_beat_it():
    """Five-shot tied with LoRA: no training to pay for, so the base model breaks even sooner and is deployed."""
    pairs = {
        ("m", "zero_shot", 0): (-0.3, 0.001),
        ("m", "five_shot", 0): (-0.02, 0.6),
        ("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.002),
    }
    text, rows = _verdict(cells(), pairs)
    five, lora = _reference_row(rows, "five_shot"), _reference_row(rows, "lora_200")
    assert five["breakeven_daily_volume"] < lora["breakeven_daily_volume"]
    assert (
        f"**Verdict: deploy the base model (m · five_shot): the paired test puts it above the API, and it costs less from {volume(five['breakeven_daily_volume'])} queries/day"
        in text
    )
    assert "Unlike the gate's call, the base model needs no fine-tuning here." in text


def test_task_verdict_weighs_volume_when_the_api_ties():
    text, rows = _verdict(cells(api_accuracy=0.8), WORSE | {("gpt-5.4-mini", "five_shot", 0): (-0.01, 0.7)})
    ref = _reference_row(rows)
    assert f"**Verdict: prompt the API below {volume(ref['breakeven_daily_volume'])} queries/day (95% CI" in text
    assert "fine-tune (m · lora_200 · seed 0) above it: the paired test does not separate them.**" in text


def test_task_verdict_names_the_error_cost_that_pays_for_accuracy():
    """On dear hardware the more accurate LoRA cell costs more per query than the API: with free errors it never
    breaks even, and the verdict names the cost of a wrong answer above which it pays."""
    dear = PRICING | {"hardware": {"gpu": {"hourly_usd": 200.0}}}
    built = cells(api_tokens=(300.0, 10.0))
    text, rows = _verdict(built, WORSE | {("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.002)}, pricing=dear)
    ref = _reference_row(rows)
    assert np.isnan(ref["breakeven_daily_volume"]) and ref["self_per_query"] > ref["api_per_query"]
    value = summary(built).set_index("system")["value"]
    gain = summary(built).query("condition == 'lora_200'")["value"].iloc[0] - value["gpt-5.4-mini"]
    threshold = (ref["self_per_query"] - ref["api_per_query"]) / gain
    assert f"**Verdict: fine-tune (m · lora_200 · seed 0) if a wrong answer costs more than ${threshold:,.4f}" in text


def test_task_verdict_weighs_cost_only_when_the_api_is_not_measured():
    built = [c for c in cells() if c["kind"] != "api"]
    wide, rows = decision_inputs(built)
    text = task_verdict(standing(wide, paired(WORSE), 0.05), rows, None, COST)
    ref = _reference_row(rows)
    assert rows["api_deployment"].eq("api (usage estimated)").all()
    assert "the API reference gpt-5.4-mini's accuracy was not measured (usage estimated)" in text
    assert (
        f"**Verdict: fine-tune (m · lora_200 · seed 0) from {volume(ref['breakeven_daily_volume'])} queries/day" in text
    )
    assert "below it, prompt the API (the verdict weighs cost only).**" in text


def test_headline_says_when_the_break_even_is_an_upper_bound():
    """A cell priced at the load test's highest concurrency, which met the latency target, may serve more at the
    target: its break-even is an upper bound, and the headline says so (and only then)."""
    built = cells()
    wide = summary(built)
    versus = paired(WORSE | {("gpt-5.4-mini", "five_shot", 0): (-0.1, 0.003)})
    for capped in (False, True):
        table = deployments(wide, PRICING, COST)
        table["at_load_test_cap"] = capped & (table["kind"] != "api")
        samples = resampled_costs(table, built, PRICING, COST, BOOTSTRAP)
        rows = breakeven_intervals(breakeven(table, COST), table, samples, COST, 0.95)
        assert (UPPER_BOUND in findings_text(wide, versus, rows, 0.05)) is capped

"""The paper's pre-registered hypotheses: their statements, and each test's verdict."""

from __future__ import annotations

import pandas as pd

from breakeven.report.markdown import pipe_table


def hypotheses_list(hypotheses: list[dict]) -> str:
    """The statements, as registered in the config before the run."""
    if not hypotheses:
        return "No hypotheses were registered in the config.\n"

    def side(h: dict, which: str) -> str:
        system = h.get(f"{which}_system")
        return f"`{system} · {h[which]}`" if system else f"`{h[which]}`"

    lines = [f"- **{h['id']}**: {h['statement']} ({side(h, 'better')} > {side(h, 'worse')})" for h in hypotheses]
    return "\n".join(lines) + "\n"


def hypotheses_results(table: pd.DataFrame) -> str:
    """Each (hypothesis, task, system) test: difference with CI, p-values, verdict."""
    if table.empty:
        return "No registered hypothesis had both of its cells in this run.\n"
    rows = [
        [
            r["hypothesis"],
            r["task"],
            r["system"],
            f"`{r['better']}` − `{r['worse']}`",
            f"{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
            f"{r['p_value']:.4f}",
            f"{r['p_adjusted_bh']:.4f}",
            r["verdict"],
        ]
        for r in table.to_dict("records")
    ]
    header = ["hypothesis", "task", "system", "comparison", "difference [95% CI]", "p", "p (BH)", "verdict"]
    alpha = f"{table['alpha'].iloc[0]:g}"
    caption = (
        "Pre-registered hypotheses: paired bootstrap of the primary metric (first seed), p-values adjusted "
        "across all tests (Benjamini-Hochberg). The verdict rests on the adjusted p and the registered sign: "
        f"supported = p (BH) < {alpha} with better − worse > 0, contradicted = p (BH) < {alpha} with the "
        "opposite sign, else inconclusive; the CI shown is unadjusted"
    )
    return pipe_table(header, rows, caption)


def variability_table(table: pd.DataFrame) -> str:
    """Mean ± sd across training seeds and across test resamples."""

    def seeds(r: dict) -> str:
        if r["n_seeds"] < 2:
            return f"{r['seed_mean']:.3f} (1 seed)"
        return f"{r['seed_mean']:.3f} ± {r['seed_sd']:.3f} ({r['n_seeds']} seeds)"

    rows = [
        [r["task"], r["system"], r["condition"], seeds(r), f"{r['eval_mean']:.3f} ± {r['eval_sd']:.3f}"]
        for r in table.to_dict("records")
    ]
    n_eval = int(table["n_eval_seeds"].iloc[0]) if len(table) else 0
    caption = (
        f"Spread of the primary metric: mean ± sd across training seeds, and across {n_eval} seeded resamples "
        "of the test examples (sampling noise alone)"
    )
    return pipe_table(["task", "system", "condition", "training seeds", "test resamples"], rows, caption)

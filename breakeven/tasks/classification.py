"""Single-label classification (BANKING77, LEDGAR, FPB) and multiple choice (MedMCQA).

Free text maps to a label in three steps: exact, then case/whitespace/punctuation-normalised, then the
closest label by string similarity (difflib, cutoff 0.8). Anything else is ``unparseable``: scored wrong
and counted, never raised. The cell metric is recomputed on every bootstrap resample (see breakeven.stats.bootstrap).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from breakeven.stats.bootstrap import classification_ci, mean_ci, row_groups
from breakeven.tasks import BaseTask

CLOSE_MATCH_CUTOFF = 0.8
LETTERS = "ABCDEFGHIJ"


def normalise_label(text: str) -> str:
    return re.sub(r"[\s_]+", " ", re.sub(r"[^\w\s]", " ", text.casefold())).strip()


class LabelParser:
    """Maps model output to one of a fixed set of labels."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self._normalised = {normalise_label(label): label for label in labels}

    def parse(self, output: str) -> tuple[str | None, str]:
        """The label and how it was matched: exact | normalised | closest | unparseable | empty."""
        text = output.strip().strip("`\"'").strip()
        if not text:
            return None, "empty"
        first_line = text.splitlines()[0].strip()
        for candidate in (text, first_line, re.sub(r"^(label|answer|category)\s*:\s*", "", first_line, flags=re.I)):
            if candidate in self.labels:
                return candidate, "exact"
            if normalise_label(candidate) in self._normalised:
                return self._normalised[normalise_label(candidate)], "normalised"
        close = difflib.get_close_matches(
            normalise_label(first_line), list(self._normalised), n=1, cutoff=CLOSE_MATCH_CUTOFF
        )
        if close:
            return self._normalised[close[0]], "closest"
        return None, "unparseable"


class ClassificationTask(BaseTask):
    """Pick one label of a fixed set; metric = accuracy | macro_f1 | weighted_f1."""

    def __init__(self, cfg: dict, prompt: dict) -> None:
        self.cfg = cfg
        self.prompt = prompt
        self.labels: list[str] = list(cfg["labels"])
        if len(self.labels) < 2:
            raise ValueError(f"task {cfg['name']}: field 'labels' needs at least two labels")
        self.parser = LabelParser(self.labels)
        self.metric_names = tuple(dict.fromkeys((cfg["primary_metric"], "accuracy", "valid_label")))

    def format_input(self, example: dict) -> str:
        return str(example["input"])

    def system_prompt(self) -> str:
        return self.prompt["system"].replace("{labels}", "\n".join(self.labels))

    def target_text(self, example: dict) -> str:
        return str(example["target"])

    def parse(self, output: str, example: dict) -> tuple[str | None, str]:
        return self.parser.parse(output)

    def score(self, output: str, example: dict) -> dict[str, Any]:
        label, how = self.parse(output or "", example)
        correct = float(label == example["target"])
        if label is None:
            error = how
        else:
            error = "correct" if correct else "wrong_label"
        return {
            "accuracy": correct,
            "valid_label": float(label is not None),
            "parsed": label,
            "match": how,
            "gold": example["target"],
            "error_class": error,
        }

    def metrics(self, per_example: list[dict], bootstrap: dict) -> dict[str, dict]:
        """Primary metric recomputed per bootstrap resample; accuracy and valid-label rate as means."""
        golds = [row["gold"] for row in per_example]
        preds = [row["parsed"] for row in per_example]
        groups = row_groups(per_example)
        out = {
            name: mean_ci([row[name] for row in per_example], **bootstrap, groups=groups).as_dict()
            for name in ("accuracy", "valid_label")
        }
        primary = self.cfg["primary_metric"]
        if primary != "accuracy":
            out[primary] = classification_ci(golds, preds, self.labels, primary, **bootstrap, groups=groups).as_dict()
        return out


class MultipleChoiceTask(ClassificationTask):
    """Answer with the letter of one option; the options are listed in the prompt."""

    def __init__(self, cfg: dict, prompt: dict) -> None:
        cfg = {**cfg, "labels": list(LETTERS[: cfg.get("n_options", 4)])}
        super().__init__(cfg, prompt)

    def format_input(self, example: dict) -> str:
        options = "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(example["input"]["options"]))
        return f"{example['input']['question']}\n{options}"

    def parse(self, output: str, example: dict) -> tuple[str | None, str]:
        """A leading letter ("B", "(B)", "B. ...") or "answer is B"; else the text of exactly one option."""
        text = output.strip()
        if not text:
            return None, "empty"
        letters = LETTERS[: len(self.labels)]
        # "(B) ...", "B. ...", "B)" or a bare "B" -- but not the article in "A patient ..."
        match = re.match(rf"^(?:\(([{letters}])\)|([{letters}])(?:[.):]|\s*$))", text) or re.search(
            rf"\b(?:answer|option)\s*(?:is|:)?\s*\(?([{letters}])\b(?!\w)", text, flags=re.I
        )
        if match:
            return next(g for g in match.groups() if g).upper(), "exact"
        said = normalise_label(text.splitlines()[0])
        hits = [LETTERS[i] for i, option in enumerate(example["input"]["options"]) if normalise_label(option) == said]
        if len(hits) == 1:
            return hits[0], "option_text"
        return None, "unparseable"

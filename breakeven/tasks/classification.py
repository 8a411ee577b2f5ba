"""Single-label classification (BANKING77, LEDGAR, FPB) and multiple choice (MedMCQA).

Free text maps to a label in four steps: the answer (or its first line, or that line after a "Label:"-style
prefix) is a label, exactly or after case/whitespace/punctuation normalisation; else the answer mentions
exactly one label that no negation ("not", "neither", "isn't", ...) precedes in its clause (the longest label
wins where one contains another); else, when no label is negated, the closest label by string similarity
(difflib, cutoff 0.8). Two labels mentioned, a negated label, or nothing close is ``ambiguous``, ``negated``
or ``unparseable``: scored wrong and counted, never raised or guessed. The cell metric is recomputed on every
bootstrap resample (see breakeven.stats.bootstrap).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from breakeven.stats.bootstrap import classification_ci, mean_ci, row_groups
from breakeven.tasks import BaseTask

CLOSE_MATCH_CUTOFF = 0.8
LETTERS = "ABCDEFGHIJ"
PREFIX = re.compile(
    r"^(?:the\s+)?(?:label|answer|category|class|intent|sentiment)(?:\s+is)?\s*[:=]?\s*", flags=re.IGNORECASE
)
NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|without|cannot|\w+n t)\b")
"""Negations in normalised text (where "isn't" reads "isn t")."""
ANSWER_CUE = r"(?i:\b(?:answer|option|choice)\b(?:\s+is)?\s*:?|\bit'?s\b|\b(?:choose|pick|select)\b)"
"""Words after which a multiple-choice answer names its letter."""
CLAUSE = re.compile(r"[.,;:!?\n]|\bbut\b", flags=re.IGNORECASE)


def normalise_label(text: str) -> str:
    return re.sub(r"[\s_]+", " ", re.sub(r"[^\w\s]", " ", text.casefold())).strip()


class LabelParser:
    """Maps model output to one of a fixed set of labels."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self._normalised = {normalise_label(label): label for label in labels}
        # longest first, so a label containing another is found before it
        alternatives = "|".join(re.escape(n) for n in sorted(self._normalised, key=len, reverse=True) if n)
        self._mention = re.compile(rf"(?<!\w)(?:{alternatives or '(?!)'})(?!\w)")

    def parse(self, output: str) -> tuple[str | None, str]:
        """The label and how it was matched: exact | normalised | mentioned | closest, or None with why:
        ambiguous | negated | unparseable | empty."""
        text = output.strip().strip("`\"'").strip()
        if not text:
            return None, "empty"
        first_line = text.splitlines()[0].strip()
        for candidate in (text, first_line, PREFIX.sub("", first_line).strip("`\"'*")):
            if candidate in self.labels:
                return candidate, "exact"
            if normalise_label(candidate) in self._normalised:
                return self._normalised[normalise_label(candidate)], "normalised"
        said, negated = self._mentions(text)
        if len(said) == 1:
            return said.pop(), "mentioned"
        if said or negated:
            return None, "ambiguous" if said else "negated"
        return self._closest(PREFIX.sub("", first_line))

    def _mentions(self, text: str) -> tuple[set[str], set[str]]:
        """The labels the text names, split into those asserted and those a negation in their clause precedes."""
        said, negated = set(), set()
        for clause in map(normalise_label, CLAUSE.split(text)):
            for match in self._mention.finditer(clause):
                label = self._normalised[match.group()]
                (negated if NEGATION.search(clause[: match.start()]) else said).add(label)
        return said - negated, negated

    def _closest(self, line: str) -> tuple[str | None, str]:
        """The label closest to the line, unless the line negates something the label does not."""
        close = difflib.get_close_matches(normalise_label(line), list(self._normalised), n=1, cutoff=CLOSE_MATCH_CUTOFF)
        if not close:
            return None, "unparseable"
        extra = set(NEGATION.findall(normalise_label(line))) - set(NEGATION.findall(close[0]))
        return (None, "negated") if extra else (self._normalised[close[0]], "closest")


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
        """A leading letter ("B", "(B)", "B. ..."), a letter after an answer cue ("the answer is B", "Option:
        (B)", "it's B"; lower case only at the end, so "the answer is a placebo" is no "A"), or exactly one
        bracketed letter; else the text of exactly one option (the first line, or what follows the cue)."""
        text = output.strip().replace("**", "").strip()
        if not text:
            return None, "empty"
        upper = LETTERS[: len(self.labels)]
        lower = upper.lower()
        patterns = (
            rf"^\(([{upper}])\)|^([{upper}])(?:[.):]|\s*$)|^([{lower}])[.)]?$",
            rf"{ANSWER_CUE}\s*\(?(?:([{upper}])|([{lower}])(?=[.)]?\s*$))(?!\w)",
        )
        for pattern in patterns:
            if match := re.search(pattern, text):
                return next(g for g in match.groups() if g).upper(), "exact"
        bracketed = set(re.findall(rf"\(([{upper}])\)", text))
        if len(bracketed) == 1:
            return bracketed.pop(), "exact"
        return self._option_text(text, example)

    @staticmethod
    def _option_text(text: str, example: dict) -> tuple[str | None, str]:
        first_line = text.splitlines()[0]
        after_cue = re.search(rf"{ANSWER_CUE}\s*(.+)", first_line)
        for said in (first_line, after_cue.group(1) if after_cue else ""):
            options = example["input"]["options"]
            hits = [LETTERS[i] for i, option in enumerate(options) if normalise_label(option) == normalise_label(said)]
            if len(hits) == 1:
                return hits[0], "option_text"
        return None, "unparseable"

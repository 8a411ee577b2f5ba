"""A small generated LEDGAR fixture (the real data is hub-only): synthetic contract provisions for ten of the
real LEDGAR label names, written in the mirror layout that :func:`breakeven.data.mirror.read_mirror` reads."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

FIXTURE_SIZES: Mapping[str, int] = MappingProxyType({"train": 60, "validation": 20, "test": 20})

TEMPLATES: dict[str, tuple[str, ...]] = {
    "Governing Laws": (
        "This Agreement shall be governed by and construed in accordance with the laws of the State of {state}.",
        "The laws of the State of {state}, without regard to its conflict of laws principles, govern this {doc}.",
        "All matters arising out of this {doc} shall be governed by the internal laws of {state}.",
    ),
    "Notices": (
        "All notices under this {doc} shall be in writing and delivered to {party} at its address set forth above.",
        "Any notice shall be deemed given {days} days after mailing by certified mail to {party}.",
        "Notices to {party} shall be sent by overnight courier or by email with confirmation of receipt.",
    ),
    "Severability": (
        "If any provision of this {doc} is held invalid, the remaining provisions shall continue in full force.",
        "The invalidity of any term of this {doc} shall not affect the validity of the remaining terms.",
        "Should any provision be unenforceable, it shall be modified to the minimum extent necessary.",
    ),
    "Counterparts": (
        "This {doc} may be executed in counterparts, each of which shall be deemed an original.",
        "This {doc} may be signed in any number of counterparts, together constituting one instrument.",
        "Signatures delivered by facsimile or PDF shall be effective as originals for this {doc}.",
    ),
    "Entire Agreements": (
        "This {doc} constitutes the entire agreement between the parties and supersedes all prior understandings.",
        "This {doc} and its exhibits contain the whole agreement of {party} and the other parties hereto.",
        "No representations other than those set forth in this {doc} have been made by {party}.",
    ),
    "Amendments": (
        "This {doc} may be amended only by a written instrument signed by {party} and the other parties.",
        "No amendment of this {doc} shall be effective unless in writing and executed by each party.",
        "Any modification of this {doc} requires the prior written consent of {party}.",
    ),
    "Waivers": (
        "No failure by {party} to exercise any right under this {doc} shall operate as a waiver thereof.",
        "A waiver of any breach of this {doc} shall not be deemed a waiver of any subsequent breach.",
        "Any waiver by {party} must be in writing to be effective.",
    ),
    "Confidentiality": (
        "{party} shall keep confidential all Confidential Information received under this {doc}.",
        "The obligations of confidentiality shall survive for {days} months after termination of this {doc}.",
        "{party} shall not disclose the terms of this {doc} to any third party without prior written consent.",
    ),
    "Indemnifications": (
        "{party} shall indemnify and hold harmless the other parties from any losses arising from its breach.",
        "{party} agrees to defend and indemnify the indemnified parties against all third-party claims.",
        "The indemnification obligations of {party} under this {doc} shall survive its termination.",
    ),
    "Terminations": (
        "Either party may terminate this {doc} upon {days} days' prior written notice to the other party.",
        "{party} may terminate this {doc} immediately upon a material breach by the other party.",
        "This {doc} shall terminate automatically upon the insolvency of {party}.",
    ),
}
"""Label name (a real LEDGAR label) -> provision templates."""

SLOTS: dict[str, tuple[str, ...]] = {
    "state": ("Delaware", "New York", "California", "Texas", "Illinois"),
    "doc": ("Agreement", "Credit Agreement", "Purchase Agreement", "Lease", "Indenture"),
    "party": ("the Company", "the Purchaser", "the Borrower", "the Executive", "the Administrative Agent"),
    "days": ("5", "10", "30", "60", "90"),
}


def provision(rng: random.Random) -> dict[str, str]:
    """One ``{"text", "label"}`` record: a random label and template with random slot values."""
    label = rng.choice(sorted(TEMPLATES))
    values = {slot: rng.choice(choices) for slot, choices in SLOTS.items()}
    return {"text": rng.choice(TEMPLATES[label]).format(**values), "label": label}


def ledgar_fixture(folder: Path, n_per_split: Mapping[str, int] = FIXTURE_SIZES, seed: int = 0) -> None:
    """Write ``ledgar/labels.json`` and ``ledgar/{split}.jsonl`` (``n_per_split`` rows each) under the mirror
    root ``folder``, deterministically from ``seed``."""
    root = Path(folder) / "ledgar"
    root.mkdir(parents=True, exist_ok=True)
    (root / "labels.json").write_text(json.dumps(sorted(TEMPLATES), indent=1) + "\n", encoding="utf-8")
    rng = random.Random(seed)
    for split, n in n_per_split.items():
        lines = [json.dumps(provision(rng)) for _ in range(n)]
        (root / f"{split}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")

"""Tests for breakeven.data.synthetic.support_emails (the synthetic support-email generator)."""

import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from breakeven.data.synthetic import support_emails as se
from breakeven.data.synthetic import templates
from breakeven.data.synthetic.support_emails import CATEGORIES, FIELDS, PRODUCTS, SENTIMENTS, generate_emails

N = 2000


@pytest.fixture(scope="module")
def emails() -> list[dict]:
    return generate_emails(N, 0)


def test_deterministic_and_seed_dependent(emails: list[dict]) -> None:
    assert generate_emails(N, 0) == emails
    assert generate_emails(N, 1) != emails
    assert generate_emails(5, 7) == generate_emails(5, 7)


def test_ids_unique_and_padded(emails: list[dict]) -> None:
    ids = [e["id"] for e in emails]
    assert len(set(ids)) == N
    assert ids[0] == "email-00000" and ids[-1] == "email-01999"
    assert all(set(e) == {"id", "situation", "email", "label"} for e in emails)


def test_exact_category_quota(emails: list[dict]) -> None:
    counts = Counter(e["label"]["issue_category"] for e in emails)
    assert counts == {"billing": 440, "technical": 440, "account": 440, "shipping": 440, "other": 240}


@pytest.mark.parametrize("n", [1, 7, 33, 101])
def test_quota_sums_for_other_n(n: int) -> None:
    rows = generate_emails(n, 3)
    assert len(rows) == n
    assert sum(Counter(e["label"]["issue_category"] for e in rows).values()) == n


def test_sentiment_proportions(emails: list[dict]) -> None:
    counts = Counter(e["label"]["sentiment"] for e in emails)
    for sentiment, share in zip(SENTIMENTS, (0.20, 0.45, 0.35)):
        assert abs(counts[sentiment] / N - share) <= 0.01


def test_labels_well_typed(emails: list[dict]) -> None:
    for e in emails:
        label = e["label"]
        assert tuple(label) == FIELDS
        name = label["customer_name"]
        assert name is None or (isinstance(name, str) and len(name.split()) >= 2)
        assert label["issue_category"] in CATEGORIES
        assert e["situation"].split("/")[0] == label["issue_category"]
        assert type(label["urgency"]) is int and 1 <= label["urgency"] <= 5
        request = label["primary_request"]
        assert isinstance(request, str) and request == request.lower() and 2 <= len(request.split()) <= 5
        products = label["mentioned_products"]
        assert products == sorted(set(products)) and all(p in PRODUCTS for p in products)
        assert label["sentiment"] in SENTIMENTS


def test_labels_recoverable_from_text(emails: list[dict]) -> None:
    for e in emails:
        text, label = e["email"], e["label"]
        assert [p for p in PRODUCTS if p in text] == [p for p in PRODUCTS if p in label["mentioned_products"]]
        if label["customer_name"] is None:
            assert not any(name in text for name in templates.NAMES)
        else:
            assert label["customer_name"] in text


def test_primary_request_fixed_per_situation(emails: list[dict]) -> None:
    requests = {}
    for e in emails:
        assert requests.setdefault(e["situation"], e["label"]["primary_request"]) == e["label"]["primary_request"]
    assert len(requests) >= 28
    assert len(set(requests.values())) >= 28


def test_field_absence_and_variety(emails: list[dict]) -> None:
    assert sum(e["label"]["customer_name"] is None for e in emails) >= 0.05 * N
    assert sum("---------- Forwarded message ---------" in e["email"] for e in emails) >= 0.05 * N
    assert any(re.search(r"^> ", e["email"], re.M) for e in emails)
    assert sum(e["email"].startswith("Subject: ") for e in emails) >= 0.5 * N
    n_products = Counter(len(e["label"]["mentioned_products"]) for e in emails)
    assert n_products[0] >= 0.05 * N and n_products[2] + n_products[3] >= 0.02 * N
    assert len({e["label"]["urgency"] for e in emails}) == 5
    lines = Counter(line for e in emails for line in e["email"].splitlines())
    assert sum(lines[g] > 0 for g in templates.GREETINGS) >= 6
    assert sum(lines[s] > 0 for s in templates.SIGN_OFFS) >= 6


def test_email_lengths(emails: list[dict]) -> None:
    words = [len(e["email"].split()) for e in emails]
    assert max(words) < 350
    assert sum(60 <= w <= 250 for w in words) >= 0.75 * N


def test_typos_spare_capitalised_words() -> None:
    text = "Please check the Nimbus Router X2 that Priya Shah ordered yesterday afternoon."
    typoed = se._add_typos(text, 3, random.Random(0))
    assert typoed != text
    assert "Nimbus Router X2" in typoed and "Priya Shah" in typoed
    assert len(typoed.split()) == len(text.split())


def test_pythonhashseed_independent() -> None:
    code = (
        "import hashlib, json; from breakeven.data.synthetic.support_emails import generate_emails; "
        "print(hashlib.sha256(json.dumps(generate_emails(300, 4)).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            cwd=Path(__file__).parents[1],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_fast() -> None:
    start = time.perf_counter()
    generate_emails(N, 5)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("n", [0, -3])
def test_rejects_small_n(n: int) -> None:
    with pytest.raises(ValueError, match=r"\bn\b"):
        generate_emails(n, 0)

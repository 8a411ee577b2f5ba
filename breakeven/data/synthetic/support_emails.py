"""Deterministic template generator of synthetic customer-support emails.

Each email is labelled with the six ``FIELDS`` of the email -> JSON extraction task. Text
comes from hand-written seed situations and phrase pools, drawn with one seeded
``random.Random``, so ``(n, seed)`` fixes the output (no network, model or global state).

Every label is recoverable from the text:

- ``customer_name``: the full name in the intro or signature; ``None`` when not given;
- ``issue_category`` and ``primary_request``: fixed by the seed situation;
- ``urgency``: the situation's base urgency, or 1 with a "no rush" cue, base + 1 (at
  most 5) with a deadline cue, 5 with an "urgent/ASAP" cue;
- ``mentioned_products``: the sorted catalogue names written verbatim in the email;
- ``sentiment``: positive with praise phrases, negative with complaint phrases, else neutral.

Typos (swapped or dropped letters) only touch lowercase words of the customer's own
paragraphs, never product names, person names or signatures.
"""

import itertools
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from breakeven.data.synthetic import templates as t
from breakeven.data.synthetic.templates import CATEGORIES, FIELDS, PRODUCTS, SENTIMENTS, Situation

__all__ = ["CATEGORIES", "FIELDS", "PRODUCTS", "SENTIMENTS", "generate_emails"]

_TYPO_WORD = re.compile(r"\b[a-z]{4,}\b")


@dataclass(frozen=True)
class _Draft:
    """Everything drawn for one email before its text is written."""

    sit: Situation
    sentiment: str
    name: str | None
    cue: str  # "none", "calm", "deadline" or "critical"
    body: str  # the situation's request, with placeholders filled
    aside: str | None  # an extra product mentioned in passing
    facts: dict[str, str]


def _quota(n: int, shares: tuple[int, ...]) -> list[int]:
    """Split ``n`` by integer ``shares`` with largest-remainder rounding (ties to the first)."""
    total = sum(shares)
    counts = [n * s // total for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: -(n * shares[i] % total))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _spread(values: tuple[str, ...], shares: tuple[int, ...], n: int, rng: random.Random) -> list[str]:
    """``n`` values in exact quota proportions, shuffled."""
    out = [v for v, count in zip(values, _quota(n, shares)) for _ in range(count)]
    rng.shuffle(out)
    return out


def _assign_situations(n: int, rng: random.Random) -> list[Situation]:
    """Situations for ``n`` emails: exact category quotas, each category cycling its situations."""
    orders = {c: [s for s in t.SITUATIONS if s.category == c] for c in CATEGORIES}
    for order in orders.values():
        rng.shuffle(order)
    cycles = {c: itertools.cycle(order) for c, order in orders.items()}
    return [next(cycles[c]) for c in _spread(CATEGORIES, t.CATEGORY_SHARES, n, rng)]


def _facts(rng: random.Random) -> dict[str, str]:
    """Random order numbers, amounts, dates and other details for the templates."""
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
    currency = rng.choice("$£€")
    cents = rng.randrange(1500, 60000)
    month = t.MONTHS[day.month - 1]
    hour, minute = rng.randint(1, 12), rng.randrange(60)
    return {
        "order": rng.choice(("#{}", "ORD-{}", "{}")).format(rng.randrange(100000, 1000000)),
        "invoice": f"INV-{rng.randrange(10000, 100000)}",
        "amount": f"{currency}{cents / 100:.2f}",
        "amount2": f"{currency}{(cents - rng.randrange(300, cents // 2)) / 100:.2f}",
        "date": f"{month} {day.day}",
        "stamp": f"{t.WEEKDAYS[day.weekday()][:3]}, {month[:3]} {day.day}, {day.year} at {hour}:{minute:02d} "
        f"{rng.choice(('AM', 'PM'))}",
        "weekday": rng.choice(t.WEEKDAYS[:5]),
        "last4": f"{rng.randrange(10000):04d}",
        "days": str(rng.randint(4, 21)),
        "months": str(rng.randint(2, 18)),
        "code": f"E-{rng.randint(100, 999)}",
        "street": f"{rng.randint(2, 240)} {rng.choice(t.STREETS)}",
        "qty": str(rng.choice((25, 40, 50, 100, 150, 200, 500))),
        "subs": f"{rng.randint(20, 900)},000",
        "handle": f"{rng.choice(t.HANDLES)}{rng.randint(10, 9999)}",
        "tracking": f"1Z{rng.randrange(10**9, 10**10)}",
        "customer_id": f"C-{rng.randrange(100000, 1000000)}",
        "year": str(rng.randint(2014, 2023)),
    }


def _join(names: list[str]) -> str:
    """``a``, ``a and b`` or ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _pick_cue(sit: Situation, rng: random.Random) -> str:
    """An urgency cue that makes sense for the situation's base urgency."""
    allowed = [
        c for c in t.CUE_ODDS if not (c == "calm" and sit.urgency > 3) and not (c == "critical" and sit.urgency < 2)
    ]
    return rng.choices(allowed, weights=[t.CUE_ODDS[c] for c in allowed])[0]


def _urgency(base: int, cue: str) -> int:
    """Urgency 1..5 implied by a situation's base urgency and the cue in the text."""
    return {"none": base, "calm": 1, "deadline": min(5, base + 1), "critical": 5}[cue]


def _add_typos(text: str, count: int, rng: random.Random) -> str:
    """Swap or drop a letter inside ``count`` lowercase words of 4+ letters (capitalised words are untouched)."""
    words = list(_TYPO_WORD.finditer(text))
    for match in sorted(rng.sample(words, min(count, len(words))), key=lambda m: -m.start()):
        word = match.group()
        i = rng.randrange(1, len(word) - 1)
        if rng.random() < 0.5 and word[i] != word[i + 1]:
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            typo = word[:i] + word[i + 1 :]
        text = text[: match.start()] + typo + text[match.end() :]
    return text


def _draft(sit: Situation, sentiment: str, rng: random.Random) -> tuple[_Draft, list[str]]:
    """Draw one email's content; also return the products it mentions."""
    facts = _facts(rng)
    main = rng.sample(t.POOLS[sit.kind], rng.choices((0, 1, 2), weights=sit.weights)[0])
    items = _join(main) + sit.suffix if main else sit.generic
    body = rng.choice([b for b in sit.bodies if "{items}" in b] if main else sit.bodies)
    aside = rng.choice([p for p in PRODUCTS if p not in main]) if rng.random() < t.P_ASIDE else None
    draft = _Draft(
        sit=sit,
        sentiment=sentiment,
        name=None if rng.random() < t.P_NO_NAME else rng.choice(t.NAMES),
        cue=_pick_cue(sit, rng),
        body=body.format(items=items, **facts),
        aside=rng.choice(t.ASIDES).format(product=aside) if aside else None,
        facts=facts,
    )
    return draft, main + ([aside] if aside else [])


def _opening(d: _Draft, intro: bool, tone_first: bool, thread: str, rng: random.Random) -> str:
    """The first paragraph: intro, tone opener, the request and optional details."""
    parts = [rng.choice(t.INTROS).format(name=d.name, **d.facts)] if intro else []
    if tone_first:
        parts.append(rng.choice(t.TONE[d.sentiment][0]))
    if thread == "reply":
        parts.append(rng.choice(t.REPLY_LEADS))
    if rng.random() < t.P_CONTEXT:
        parts.append(rng.choice(t.CONTEXTS[d.sit.category]).format(**d.facts))
    if thread == "own":
        parts.append(rng.choice(t.FOLLOW_UP).format(**d.facts))
    else:
        parts.append(d.body)
        extras = t.EXTRAS[d.sit.category]
        if rng.random() < t.P_EXTRA:
            parts.extend(e.format(**d.facts) for e in rng.sample(extras, rng.randint(1, 2)))
    if thread in t.NOTICES:
        parts.append(f"I've forwarded the {t.NOTICES[thread][3]} below for reference.")
    if d.aside:
        parts.append(d.aside)
    return " ".join(parts)


def _closing(d: _Draft, tone_first: bool, rng: random.Random) -> str:
    """The second paragraph: urgency cue, filler and tone closer (each possibly absent)."""
    cues = {"calm": t.CALM, "deadline": t.DEADLINE, "critical": d.sit.critical + t.CRITICAL}
    parts = [rng.choice(cues[d.cue]).format(**d.facts)] if d.cue in cues else []
    if rng.random() < t.P_FILLER:
        parts.append(rng.choice(t.FILLERS))
    tone = t.TONE.get(d.sentiment)
    if tone and (not tone_first or rng.random() < 0.5):
        parts.append(rng.choice(tone[1]))
    return " ".join(parts)


def _signature(name: str | None, intro: bool, rng: random.Random) -> str:
    """Sign-off and signature; a named sender without an intro always signs with the full name."""
    sign_off = rng.choice(t.SIGN_OFFS)
    title, company, phone = rng.choice(t.TITLES), rng.choice(t.COMPANIES), f"+1 555-01{rng.randint(10, 99)}"
    if name is None:
        return rng.choice((sign_off, "", "Sent from my phone", f"{sign_off}\nAccounts team, {company}"))
    if intro and rng.random() < 0.5:
        return rng.choice((sign_off, f"{sign_off}\n{name.split()[0]}"))
    return rng.choice(
        (
            f"{sign_off}\n{name}",
            f"{sign_off}\n{name}\n{title}, {company}",
            f"{sign_off}\n{name}\n{company} | {phone}",
            f"-- \n{name}\n{title}",
        )
    )


def _thread_block(d: _Draft, thread: str, rng: random.Random) -> str:
    """The quoted reply or forwarded message below the signature, if any."""
    handle = f"{d.facts['handle']}@{rng.choice(('mailbox', 'inbox', 'postbox'))}.example"
    if thread == "reply":
        quoted = ("Hi,", "", rng.choice(t.AGENT_LINES), "", rng.choice(t.AGENTS), "Ardent Support")
        lines = [f"On {d.facts['stamp']}, Ardent Support <support@ardent.example> wrote:"]
        return "\n".join(lines + [f"> {q}".rstrip() for q in quoted])
    if thread == "own":
        sender = f"{d.name} <{handle}>" if d.name else f"<{handle}>"
        subject, message = rng.choice(d.sit.subjects).format(**d.facts), d.body
    else:
        sender, subject, message, _ = (s.format(**d.facts) for s in t.NOTICES[thread])
    header = f"{t.FORWARD_HEADER}\nFrom: {sender}\nDate: {d.facts['stamp']}\nSubject: {subject}\n"
    return f"{header}To: support@ardent.example\n\n{message}"


def _pick_thread(category: str, rng: random.Random) -> str:
    """``none``, ``reply``, ``own`` (forwarded earlier email) or a category (forwarded notice)."""
    roll = rng.random()
    if roll < t.P_FORWARD:
        return category if category in t.NOTICES and rng.random() < 0.5 else "own"
    return "reply" if roll < t.P_FORWARD + t.P_REPLY else "none"


def _subject(d: _Draft, thread: str, rng: random.Random) -> str:
    """A ``Subject:`` line (or empty), prefixed with Re:/Fwd:/URGENT: where fitting."""
    if rng.random() > t.P_SUBJECT:
        return ""
    subject = rng.choice(d.sit.subjects if rng.random() < 0.8 else t.GENERIC_SUBJECTS).format(**d.facts)
    if d.cue == "critical" and rng.random() < 0.5:
        subject = "URGENT: " + subject
    prefix = {"none": "", "reply": "Re: "}.get(thread, "Fwd: ")
    return f"Subject: {prefix}{subject}"


def _write_email(d: _Draft, rng: random.Random) -> str:
    """Assemble subject, greeting, paragraphs (with seeded typos), signature and thread."""
    thread = _pick_thread(d.sit.category, rng)
    intro = d.name is not None and rng.random() < t.P_INTRO
    tone_first = d.sentiment in t.TONE and rng.random() < 0.67
    opening = _opening(d, intro, tone_first, thread, rng)
    paragraphs = "\n\n".join(p for p in (opening, _closing(d, tone_first, rng)) if p)
    if rng.random() < t.P_TYPOS:
        paragraphs = _add_typos(paragraphs, rng.randint(1, 3), rng)
    greeting = rng.choice(t.GREETINGS) if rng.random() < t.P_GREETING else ""
    blocks = (
        _subject(d, thread, rng),
        greeting,
        paragraphs,
        _signature(d.name, intro, rng),
        _thread_block(d, thread, rng) if thread != "none" else "",
    )
    return "\n\n".join(b for b in blocks if b)


def generate_emails(n: int, seed: int) -> list[dict]:
    """Generate ``n`` labelled support emails, deterministically from ``seed``.

    Returns records ``{"id", "situation", "email", "label"}`` where ``label`` maps each of
    ``FIELDS`` to its value. Categories and sentiments follow exact quotas (see module doc).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)
    situations = _assign_situations(n, rng)
    sentiments = _spread(SENTIMENTS, t.SENTIMENT_SHARES, n, rng)
    records = []
    for index, (sit, sentiment) in enumerate(zip(situations, sentiments)):
        draft, products = _draft(sit, sentiment, rng)
        label = {
            "customer_name": draft.name,
            "issue_category": sit.category,
            "urgency": _urgency(sit.urgency, draft.cue),
            "primary_request": sit.request,
            "mentioned_products": sorted(products),
            "sentiment": sentiment,
        }
        email = _write_email(draft, rng)
        records.append({"id": f"email-{index:05d}", "situation": sit.sid, "email": email, "label": label})
    return records

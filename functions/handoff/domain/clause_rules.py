"""Clause classification: deterministic rules (regular expressions and keywords) that say which kind
of clause a contract text is and whether it is standard for us. Rules prefer silence to noise: a
finding must point at text."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from handoff.contracts import Contract
from handoff.domain.mentions import country_mentions

ClauseCategory = Literal[
    "liability_cap",
    "unlimited_liability",
    "termination_for_convenience",
    "ip_ownership",
    "payment_terms",
    "penalties_liquidated_damages",
    "data_residency",
    "non_solicitation",
    "other",
]
CATEGORIES: tuple[str, ...] = get_args(ClauseCategory)


@dataclass(frozen=True)
class Rule:
    category: ClauseCategory
    standard: bool
    explanation: str
    regions: tuple[str, ...] = ()


_I = re.IGNORECASE
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "fourteen": 14, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "forty-five": 45, "sixty": 60, "ninety": 90, "one hundred and twenty": 120, "one hundred twenty": 120,
}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_DURATION = re.compile(
    r"\b(?P<n>\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")(?:\s*\(\d+\))?"
    r"[\s-]*(?:calendar\s+|business\s+|working\s+)?(?P<unit>day|week|month|year)s?\b", _I)


def _durations(text: str, units: Iterable[str] = _UNIT_DAYS) -> list[int]:
    """Durations named in the text, in days ("thirty (30) days", "12 months", "two years")."""
    found = []
    for m in _DURATION.finditer(text):
        n, unit = m["n"].lower(), m["unit"].lower()
        if unit in units:
            found.append((int(n) if n.isdigit() else _NUMBER_WORDS[n]) * _UNIT_DAYS[unit])
    return found


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;!?])\s+", text) if s.strip()]


_LIABILITY = re.compile(r"\bliab(?:le|ility|ilities)\b", _I)
_CAP = re.compile(r"(?:shall|will|must|does) not exceed|not to exceed|(?<!not )limited to|capped at|\bcap\b"
                  r"|maximum (?:aggregate )?liability|in no event\b[^.]*\bexceed", _I)
_UNLIMITED = re.compile(r"\bunlimited\b|\buncapped\b|without (?:any )?(?:limit|limitation|cap)\b"
                        r"|\bno (?:limit|limitation|cap)\b|shall not be (?:limited|capped)"
                        r"|not (?:be )?subject to any (?:limit|limitation|cap)", _I)
# Unlimited liability for these is usual (and often mandatory law): not a finding on its own.
_CARVE_OUT = re.compile(r"fraud|wil+ful|gross negligence|death|personal injury|cannot (?:be )?(?:limited|excluded)"
                        r"|by (?:applicable )?law", _I)


def _liability(title: str, text: str) -> Rule | None:
    if not (_LIABILITY.search(title) or (_LIABILITY.search(text) and (_CAP.search(text) or _UNLIMITED.search(text)))):
        return None
    general = [s for s in sentences(text) if _UNLIMITED.search(s) and not _CARVE_OUT.search(s)]
    if general:
        return Rule("unlimited_liability", False, f'liability is not capped: "{general[0].strip()}"')
    if cap := _CAP.search(text):
        pct = re.search(r"\d+(?:\.\d+)?\s*%", text)
        stated = f" at {pct.group(0)}" if pct else ""
        return Rule("liability_cap", True, f"liability is capped{stated} ({cap.group(0)!r})")
    return Rule("liability_cap", False, "liability clause states no cap")


_TFC = re.compile(r"terminat\w*\b[^.]{0,120}?\b(?:for (?:its |their |any party's )?convenience|without cause"
                  r"|for any reason|at will)\b|\bconvenience\b[^.]{0,40}\bterminat", _I)
_IMMEDIATE = re.compile(r"\bimmediate(?:ly)?\b|without (?:prior |any )?notice|with no notice", _I)
_MIN_NOTICE_DAYS = 30


def _termination(title: str, text: str) -> Rule | None:
    # Only the convenience sentences count: "terminate immediately for breach" is a different right.
    convenience = [s for s in sentences(text) if _TFC.search(s)]
    if not convenience:
        return None
    if any(_IMMEDIATE.search(s) for s in convenience):
        return Rule("termination_for_convenience", False, "termination for convenience without a notice period")
    notice = [d for s in convenience if re.search(r"notice", s, _I) for d in _durations(s)]
    if not notice:
        return Rule("termination_for_convenience", False, "termination for convenience with no notice period stated")
    if min(notice) < _MIN_NOTICE_DAYS:
        return Rule("termination_for_convenience", False,
                    f"termination for convenience on {min(notice)} days' notice (under {_MIN_NOTICE_DAYS})")
    return Rule("termination_for_convenience", True, f"termination for convenience on {min(notice)} days' notice")


_IP = re.compile(r"intellectual property|\bIPRs?\b|\bIP\b|copyright|patents?\b|work product", _I)
_CUSTOMER_OWNS = re.compile(
    r"\b(?:customer|client|buyer)\b[^.]{0,40}\b(?:own|owns|acquires?|shall have title)\b"
    r"|vest(?:s|ed)? (?:solely |exclusively )?in (?:the )?(?:customer|client)"
    r"|assign(?:s|ed)?\b[^.]{0,80}\bto (?:the )?(?:customer|client)\b|property of (?:the )?(?:customer|client)", _I)
_PRE_EXISTING = re.compile(r"pre-?existing|\bbackground\b|prior (?:materials|works?|IP)|existing (?:materials|tools|IP)"
                           r"|know-how|methodolog|before the (?:effective|start)", _I)
_RETAINED = re.compile(r"\bretain|remains? (?:with|the (?:sole )?property of) (?:the )?"
                       r"(?:supplier|consultant|contractor|vendor|provider)|exclud|\bexcept\b|other than|save for", _I)


def _ip(title: str, text: str) -> Rule | None:
    if not (_IP.search(text) or _IP.search(title)):
        return None
    for s in sentences(text):
        if _CUSTOMER_OWNS.search(s) and _PRE_EXISTING.search(s) and not _RETAINED.search(s):
            return Rule("ip_ownership", False, f'customer takes ownership of pre-existing IP: "{s.strip()}"')
    return Rule("ip_ownership", True, "IP terms without a transfer of the supplier's pre-existing IP")


_PAYMENT = re.compile(r"\bpay(?:ment|able)\b|\binvoices?\b|\bnet\s?\d+\b", _I)


def payment_days(text: str) -> list[int]:
    """Payment periods a clause names, the governing one first: "net 60", "payable within thirty (30) days"."""
    net = [int(n) for n in re.findall(r"\bnet\s?(\d+)\b", text, _I)]
    # Terms are counted in days; "invoiced monthly for 12 months" is a billing period, not a term.
    return net or [d for s in sentences(text) if _PAYMENT.search(s) for d in _durations(s, ("day",))]


def _payment(title: str, text: str, contract: Contract, max_days: int) -> Rule | None:
    days = payment_days(text)
    if not (days or re.search(r"payment", title, _I)):
        return None
    # A clause that names no period follows the structured terms.
    term = days[0] if days else contract.payment_terms_days
    if term > max_days:
        return Rule("payment_terms", False, f"payment terms of {term} days exceed the {max_days}-day maximum")
    return Rule("payment_terms", True, f"payment terms of {term} days")


_PENALTY = re.compile(r"liquidated damages|\bpenalt(?:y|ies)\b|delay damages", _I)


def _penalties(title: str, text: str) -> Rule | None:
    cleaned = re.sub(r"\b(?:without|no)\s+(?:any\s+)?penalt(?:y|ies)\b", "", f"{title}. {text}", flags=_I)
    if m := _PENALTY.search(cleaned):
        return Rule("penalties_liquidated_damages", False, f"penalties or liquidated damages ({m.group(0)!r})")
    return None


_NON_SOLICIT = re.compile(r"solicit|poach|no-hire|\b(?:hire|recruit|employ)\b[^.]{0,60}\b(?:employees|staff|personnel)",
                          _I)
_MAX_NON_SOLICIT_DAYS = 365


def _non_solicitation(title: str, text: str) -> Rule | None:
    if not (_NON_SOLICIT.search(text) or _NON_SOLICIT.search(title)):
        return None
    period = max(_durations(text), default=0)
    if period > _MAX_NON_SOLICIT_DAYS:
        return Rule("non_solicitation", False, f"non-solicitation lasts {period // 30} months (over 12)")
    return Rule("non_solicitation", True, "non-solicitation of up to 12 months")


_REGIONS = {"European Economic Area": "EEA", "EEA": "EEA", "European Union": "EU", "EU": "EU", "EFTA": "EFTA"}
_RESIDENCY = re.compile(
    r"\b(?:processed|stored|hosted|located|kept|held|resides?|remains?|retained)\b[^.;]{0,40}?"
    r"\b(?:within|in|inside)\s+(?=(?P<target>[^.;]+))"  # look-ahead: a later "outside the EU" still matches
    r"|\b(?:not|never)\s+be\s+(?:transferred|moved|processed|stored)\s+outside\s+(?:of\s+)?(?=(?P<outside>[^.;]+))",
    _I)
_TARGET_END = re.compile(r",|\bunless\b|\bexcept\b|\bbut\b|\band (?:shall|will|may|must|not)\b", _I)


def _data_residency(title: str, text: str) -> Rule | None:
    if not re.search(r"\bdata\b|personal information", f"{title} {text}", _I):
        return None
    regions: list[str] = []
    for m in _RESIDENCY.finditer(text):
        target = _TARGET_END.split(m["target"] or m["outside"])[0]
        named = [_REGIONS[r] for r in re.findall(r"European Economic Area|European Union|\bEEA\b|\bEU\b|\bEFTA\b",
                                                  target)]
        named += [c for mention in country_mentions(target) for c in sorted(mention.codes)]
        regions += [r for r in named if r not in regions]
    if not regions:
        return None
    return Rule("data_residency", True, f"data must stay within {', '.join(regions)}", tuple(regions))


def classify_clause(title: str, text: str, contract: Contract, max_payment_terms_days: int) -> list[Rule]:
    """Every category the clause touches (a clause can be both a cap and a penalty); "other" if none."""
    rules = [
        _liability(title, text),
        _termination(title, text),
        _ip(title, text),
        _payment(title, text, contract, max_payment_terms_days),
        _penalties(title, text),
        _data_residency(title, text),
        _non_solicitation(title, text),
    ]
    found = [r for r in rules if r is not None]
    return found or [Rule("other", True, "no contract rule applies")]

"""Contract intelligence behind one port: classify clauses and spot mismatches between free text
(proposal summary, clause texts) and the structured deal. It only ever reports WARNINGs: findings
route a legal or compliance approval, they never block, approve or change money.

The default OfflineAnalyser is deterministic (regex and keyword rules, no network). Rules prefer
silence to noise: a finding must point at text, and anything the structured deal confirms is fine.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol, get_args

import pycountry
from pydantic import Field

from handoff.contracts import ClosedWonEvent, Contract, ExceptionEntry, Money
from handoff.contracts.base import RecordModel
from handoff.contracts.event import ClosedWonDetail
from handoff.contracts.money import is_currency

STEP = "AnalyseContract"

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

# Priority points a non-standard clause adds: a rough proxy for revenue at risk.
CLAUSE_WEIGHT: dict[str, int] = {
    "unlimited_liability": 40,
    "liability_cap": 30,  # a liability clause without a cap
    "ip_ownership": 30,
    "penalties_liquidated_damages": 25,
    "payment_terms": 15,
    "termination_for_convenience": 15,
    "non_solicitation": 10,
    "data_residency": 10,
    "other": 10,
}
MISMATCH_WEIGHT = {"amount": 10, "currency": 25, "date": 10, "country": 10, "payment_terms": 15}


class ClauseFinding(RecordModel):
    clause_id: str
    field: str  # contract.clauses[i]
    category: ClauseCategory
    standard: bool
    explanation: str
    source: Literal["rules", "model"] = "rules"


class Analysis(RecordModel):
    findings: list[ClauseFinding] = Field(default_factory=list)
    exceptions: list[ExceptionEntry] = Field(default_factory=list)  # WARNING only, step AnalyseContract
    data_residency_regions: list[str] = Field(default_factory=list)  # "EEA", "EU" or ISO alpha-2
    priority_boost: int = Field(default=0, ge=0, le=100)
    analyser: str = "offline"
    notes: list[str] = Field(default_factory=list)

    @property
    def has_non_standard_clauses(self) -> bool:
        return any(not f.standard for f in self.findings)


class ContractAnalyser(Protocol):
    def analyse(self, event: ClosedWonEvent, *, max_payment_terms_days: int) -> Analysis:
        """Never raises for content reasons; never emits BLOCKING exceptions."""
        ...


def warning(code: Literal["NON_STANDARD_CLAUSE", "SCOPE_MISMATCH"], message: str, field: str, priority: int
            ) -> ExceptionEntry:
    return ExceptionEntry(code=code, severity="WARNING", message=message, step=STEP, field=field,
                          priority=max(0, min(100, priority)))


class OfflineAnalyser:
    """Deterministic rules; the default and the fallback of every other analyser."""

    def analyse(self, event: ClosedWonEvent, *, max_payment_terms_days: int) -> Analysis:
        detail = event.detail
        findings: list[ClauseFinding] = []
        exceptions: list[ExceptionEntry] = []
        regions: list[str] = []
        for i, clause in enumerate(detail.contract.clauses):
            field = f"contract.clauses[{i}]"
            for rule in classify_clause(clause.title, clause.text, detail.contract, max_payment_terms_days):
                findings.append(ClauseFinding(clause_id=clause.id, field=field, category=rule.category,
                                              standard=rule.standard, explanation=rule.explanation))
                regions += [r for r in rule.regions if r not in regions]
                if not rule.standard:
                    exceptions.append(warning(
                        "NON_STANDARD_CLAUSE",
                        f"Clause {clause.id} ({clause.title or rule.category}): {rule.explanation}",
                        field, CLAUSE_WEIGHT[rule.category]))
        exceptions += find_mismatches(detail)
        return Analysis(findings=findings, exceptions=exceptions, data_residency_regions=regions,
                        priority_boost=min(100, sum(e.priority or 0 for e in exceptions)))


# --- clause classification ------------------------------------------------------------------


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


def _sentences(text: str) -> list[str]:
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
    general = [s for s in _sentences(text) if _UNLIMITED.search(s) and not _CARVE_OUT.search(s)]
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
    sentences = [s for s in _sentences(text) if _TFC.search(s)]
    if not sentences:
        return None
    if any(_IMMEDIATE.search(s) for s in sentences):
        return Rule("termination_for_convenience", False, "termination for convenience without a notice period")
    notice = [d for s in sentences if re.search(r"notice", s, _I) for d in _durations(s)]
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
    for s in _sentences(text):
        if _CUSTOMER_OWNS.search(s) and _PRE_EXISTING.search(s) and not _RETAINED.search(s):
            return Rule("ip_ownership", False, f'customer takes ownership of pre-existing IP: "{s.strip()}"')
    return Rule("ip_ownership", True, "IP terms without a transfer of the supplier's pre-existing IP")


_PAYMENT = re.compile(r"\bpay(?:ment|able)\b|\binvoices?\b|\bnet\s?\d+\b", _I)


def payment_days(text: str) -> list[int]:
    """Payment periods a clause names, the governing one first: "net 60", "payable within thirty (30) days"."""
    net = [int(n) for n in re.findall(r"\bnet\s?(\d+)\b", text, _I)]
    # Terms are counted in days; "invoiced monthly for 12 months" is a billing period, not a term.
    return net or [d for s in _sentences(text) if _PAYMENT.search(s) for d in _durations(s, ("day",))]


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


# --- mismatches between free text and structured fields ---------------------------------------


@dataclass(frozen=True)
class Mention:
    quote: str
    codes: frozenset[str]
    start: int
    end: int


_AMBIGUOUS_NAMES = {"Georgia", "Jersey", "Chad", "Jordan", "Guinea"}  # US state, first names, ...
_COUNTRY_ALIASES = {
    "UK": "GB", "U.K.": "GB", "Britain": "GB", "Great Britain": "GB", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB", "US": "US", "U.S.": "US", "USA": "US", "U.S.A.": "US",
    "UAE": "AE", "Holland": "NL", "Russia": "RU", "Turkey": "TR", "Czech Republic": "CZ", "Ivory Coast": "CI",
    "Brunei": "BN", "Cape Verde": "CV", "Burma": "MM", "Vatican": "VA", "Palestine": "PS", "Macau": "MO",
    "Democratic Republic of the Congo": "CD", "Swaziland": "SZ", "Macedonia": "MK",
}
# Demonyms name a country too ("a French payroll interface"); English is left out: it is the language.
_DEMONYMS = {
    "American": "US", "Argentine": "AR", "Argentinian": "AR", "Australian": "AU", "Austrian": "AT", "Belgian": "BE",
    "Brazilian": "BR", "British": "GB", "Bulgarian": "BG", "Canadian": "CA", "Chilean": "CL", "Chinese": "CN",
    "Colombian": "CO", "Croatian": "HR", "Czech": "CZ", "Danish": "DK", "Dutch": "NL", "Egyptian": "EG",
    "Emirati": "AE", "Estonian": "EE", "Filipino": "PH", "Finnish": "FI", "French": "FR", "German": "DE",
    "Greek": "GR", "Hungarian": "HU", "Indian": "IN", "Indonesian": "ID", "Irish": "IE", "Israeli": "IL",
    "Italian": "IT", "Japanese": "JP", "Kenyan": "KE", "Korean": "KR", "Latvian": "LV", "Lithuanian": "LT",
    "Luxembourgish": "LU", "Malaysian": "MY", "Mexican": "MX", "Moroccan": "MA", "Nigerian": "NG",
    "Norwegian": "NO", "Pakistani": "PK", "Peruvian": "PE", "Polish": "PL", "Portuguese": "PT", "Romanian": "RO",
    "Russian": "RU", "Saudi": "SA", "Scottish": "GB", "Welsh": "GB", "Singaporean": "SG", "Slovak": "SK",
    "Slovenian": "SI", "South African": "ZA", "South Korean": "KR", "North Korean": "KP",
    "Spanish": "ES", "Swedish": "SE", "Swiss": "CH", "Taiwanese": "TW",
    "Thai": "TH", "Turkish": "TR", "Ukrainian": "UA", "Vietnamese": "VN",
}


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(c, attr, None)
            if name and not re.search(r"[,(]", name) and name not in _AMBIGUOUS_NAMES:
                names[name.removeprefix("the ")] = c.alpha_2
    return names | _COUNTRY_ALIASES | _DEMONYMS


_NAMES = _country_names()
_COUNTRY = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n) for n in sorted(_NAMES, key=len, reverse=True))
                      + r")(?!\w)")
# "New Mexico", "Latin American", "Indian Ocean", "German-speaking", "US$", "Swiss francs" name no country.
_NOT_BEFORE = re.compile(r"(?:New|North|South|Latin|Central)\s$")
_NOT_AFTER = re.compile(r"^(?:\$|\s+(?:Ocean|Sea|dollars?|francs?)\b|-?\s*(?:speaking|speakers?|language)\b)", _I)


def _shouting(text: str, start: int, end: int) -> bool:
    """Upper-case legal text, where "US" is a pronoun rather than a country."""
    around = [ch for ch in text[max(0, start - 40): end + 40] if ch.isalpha()]
    return sum(ch.isupper() for ch in around) > 0.6 * len(around)


def country_mentions(text: str) -> list[Mention]:
    found = []
    for m in _COUNTRY.finditer(text):
        if _NOT_BEFORE.search(text[: m.start()]) or _NOT_AFTER.search(text[m.end():]):
            continue
        if m.group(0).replace(".", "").isupper() and _shouting(text, m.start(), m.end()):
            continue
        found.append(Mention(m.group(0), frozenset({_NAMES[m.group(0)]}), m.start(), m.end()))
    return found


_DOLLARS = frozenset({"USD", "AUD", "CAD", "SGD", "NZD", "HKD"})
_SYMBOLS = {"US$": {"USD"}, "AU$": {"AUD"}, "A$": {"AUD"}, "NZ$": {"NZD"}, "HK$": {"HKD"}, "CA$": {"CAD"},
            "C$": {"CAD"}, "S$": {"SGD"}, "$": _DOLLARS, "€": {"EUR"}, "£": {"GBP"}, "¥": {"JPY", "CNY"},
            "₹": {"INR"}}
_WORDS = {"us dollar": {"USD"}, "u.s. dollar": {"USD"}, "australian dollar": {"AUD"}, "canadian dollar": {"CAD"},
          "singapore dollar": {"SGD"}, "new zealand dollar": {"NZD"}, "hong kong dollar": {"HKD"},
          "dollar": _DOLLARS, "euro": {"EUR"}, "pound sterling": {"GBP"}, "pounds sterling": {"GBP"},
          "swiss franc": {"CHF"}, "yen": {"JPY"}, "rupee": {"INR"}, "yuan": {"CNY"}, "renminbi": {"CNY"}}
# ISO codes that are also English words in upper-case legal text ("ALL", "TOP").
_WORD_CODES = {"ALL", "BOB", "CUP", "GEL", "MAD", "MOP", "PEN", "SOS", "TOP", "TRY"}
_MAJOR_CODES = {"USD", "EUR", "GBP", "CHF", "JPY", "AUD", "CAD", "SGD", "NZD", "HKD", "CNY", "INR", "SEK", "NOK",
                "DKK", "PLN", "CZK", "HUF", "ZAR", "BRL", "MXN", "AED", "SAR"}

_NUM = r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SUFFIX = r"(?i:k|mm|mn|m|bn|million|billion|thousand)(?![A-Za-z])"
_MULTIPLIER = {"k": 3, "thousand": 3, "m": 6, "mm": 6, "mn": 6, "million": 6, "bn": 9, "billion": 9}
_SYM = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_WORD = "|".join(re.escape(w) for w in sorted(_WORDS, key=len, reverse=True))
_AMOUNT = re.compile(
    rf"(?<![A-Za-z0-9])(?P<pre>{_SYM}|[A-Z]{{3}}(?=\s?\d))\s?(?P<num>{_NUM})(?:\s?(?P<suf>{_SUFFIX}))?"
    rf"|(?<![\w.,])(?P<num2>{_NUM})(?:\s?(?P<suf2>{_SUFFIX}))?\s?(?P<post>[A-Z]{{3}}\b|(?i:{_WORD})s?\b)")
_CURRENCY_WORD = re.compile(rf"(?<![\w$])(?:[A-Z]{{3}}\b|(?i:{_WORD})s?\b)")


def _currencies(token: str) -> frozenset[str]:
    token = token.strip()
    if token in _SYMBOLS:
        return frozenset(_SYMBOLS[token])
    if re.fullmatch(r"[A-Z]{3}", token):
        return frozenset({token}) if is_currency(token) and token not in _WORD_CODES else frozenset()
    word = token.lower()
    return frozenset(_WORDS.get(word) or _WORDS.get(word.removesuffix("s")) or ())


def _number(text: str, suffix: str | None) -> tuple[Decimal, Decimal] | None:
    """The amount and the rounding the text implies ("$1.2m" is 1,200,000 give or take 50,000)."""
    s = re.sub(r"[\u00a0\u202f ]", "", text)
    seps = [c for c in s if c in ",."]
    last = max(s.rfind(","), s.rfind("."))
    if len(set(seps)) == 2 or (len(seps) == 1 and (suffix or len(s) - last - 1 != 3)):
        s = s[:last].replace(",", "").replace(".", "") + "." + s[last + 1:]
    else:
        s = s.replace(",", "").replace(".", "")
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    if not suffix:
        return value, Decimal(0)
    scale = _MULTIPLIER[suffix.lower()]
    exponent = value.as_tuple().exponent
    step = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return value.scaleb(scale), (step / 2).scaleb(scale)


@dataclass(frozen=True)
class AmountMention(Mention):
    value: Decimal
    tolerance: Decimal


def amount_mentions(text: str) -> list[AmountMention]:
    found = []
    for m in _AMOUNT.finditer(text):
        currency = m["pre"] or m["post"]
        codes = _currencies(currency)
        parsed = _number(m["num"] or m["num2"], m["suf"] or m["suf2"])
        if codes and parsed:
            found.append(AmountMention(m.group(0).strip(), codes, m.start(), m.end(), *parsed))
    return found


def currency_mentions(text: str) -> list[Mention]:
    """Currencies named without an amount ("invoiced in USD", "paid in euros")."""
    found = []
    for m in _CURRENCY_WORD.finditer(text):
        token = m.group(0)
        if re.fullmatch(r"[A-Z]{3}", token) and token not in _MAJOR_CODES:
            continue
        if codes := _currencies(token):
            found.append(Mention(token, codes, m.start(), m.end()))
    return found


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DATE = re.compile(
    r"(?<![\w-])(?:(?P<iso>(?P<y1>\d{4})-(?P<m1>\d{2})-(?P<d1>\d{2}))"
    r"|(?:(?P<da>\d{1,2})(?:st|nd|rd|th)?\s+)?(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May"
    r"|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
    r"(?:\s+(?P<db>\d{1,2})(?:st|nd|rd|th)?,?)?\s+(?P<y2>\d{4})"
    r"|(?P<part>Q[1-4]|H[12])\s*(?P<y3>\d{4}))(?![\w-])")


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def date_mentions(text: str) -> list[tuple[str, date, date]]:
    """Dates and periods named in the text, each as (quote, first day, last day)."""
    found = []
    for m in _DATE.finditer(text):
        try:
            if m["iso"]:
                day = date(int(m["y1"]), int(m["m1"]), int(m["d1"]))
                found.append((m.group(0), day, day))
            elif m["month"]:
                year, month = int(m["y2"]), _MONTHS[m["month"][:3].lower()]
                if d := m["da"] or m["db"]:
                    day = date(year, month, int(d))
                    found.append((m.group(0), day, day))
                else:
                    found.append((m.group(0), date(year, month, 1), _month_end(year, month)))
            else:
                year, n = int(m["y3"]), int(m["part"][1])
                months = 3 if m["part"][0] == "Q" else 6
                first = (n - 1) * months + 1
                found.append((m.group(0), date(year, first, 1), _month_end(year, first + months - 1)))
        except ValueError:
            continue  # "31 February 2027" is not a date we can compare
    return found


def _monies(detail: ClosedWonDetail) -> list[Money]:
    c = detail.contract
    monies = [c.value, detail.opportunity.amount, *(m.amount for m in c.milestones), *(r.rate for r in c.rate_card),
              *(s.cost for s in detail.subcontractors)]
    monies += [m for m in (c.not_to_exceed, c.monthly_fee) if m is not None]
    if c.milestones and len({m.amount.currency for m in c.milestones}) == 1:
        total = sum((m.amount.value for m in c.milestones), Decimal(0))
        monies.append(Money.of(total, c.milestones[0].amount.currency))
    return monies


def _known_dates(detail: ClosedWonDetail) -> set[date]:
    c, s = detail.contract, detail.scope
    known = {c.start_date, c.end_date, detail.opportunity.close_date, detail.occurred_at.date()}
    known |= {m.due_date for m in c.milestones} | {p.start for p in s.phases} | {p.end for p in s.phases}
    known |= {n.start_date for n in detail.staffing}
    if c.signed_at:
        known.add(c.signed_at.date())
    return known


# Amounts in these sentences are caps, insurance or damages, not the price: only their currency is checked.
_NOT_PRICE = re.compile(r"liab|insur|indemn|damages|penalt|service credit", _I)


def _texts(detail: ClosedWonDetail) -> Iterator[tuple[str, str]]:
    yield "scope.summary", detail.scope.summary
    for i, clause in enumerate(detail.contract.clauses):
        yield f"contract.clauses[{i}].text", clause.text


def find_mismatches(detail: ClosedWonDetail) -> list[ExceptionEntry]:
    found: list[ExceptionEntry] = []
    for field, text in _texts(detail):
        found += _dedupe(_text_mismatches(detail, field, text))
    found += _payment_days_mismatches(detail)
    return found


def _dedupe(entries: Iterable[ExceptionEntry]) -> list[ExceptionEntry]:
    seen: dict[tuple[str | None, str], ExceptionEntry] = {}
    for e in entries:
        seen.setdefault((e.field, e.message), e)
    return list(seen.values())


def _text_mismatches(detail: ClosedWonDetail, field: str, text: str) -> Iterator[ExceptionEntry]:
    c = detail.contract
    monies = _monies(detail)
    deal_currencies = {m.currency for m in monies}
    amounts = amount_mentions(text)
    for a in amounts:
        same = [m for m in monies if m.currency in a.codes]
        if not same:
            yield warning("SCOPE_MISMATCH", f'{field} names "{a.quote}" but the contract is in {c.value.currency}',
                          field, MISMATCH_WEIGHT["currency"])
            continue
        sentence = next((s for s in _sentences(text) if a.quote in s), text)
        if _NOT_PRICE.search(sentence) or any(abs(m.value - a.value) <= a.tolerance for m in same):
            continue
        ratio = min(Decimal(1), abs(a.value - c.value.value) / c.value.value) if c.value.value else Decimal(1)
        yield warning("SCOPE_MISMATCH",
                      f'{field} names "{a.quote}" but the contract value is {c.value} and no milestone, fee, rate '
                      f"or cost has that amount", field, MISMATCH_WEIGHT["amount"] + int(ratio * 30))
    spans = [(a.start, a.end) for a in amounts]
    for cur in currency_mentions(text):
        if any(s <= cur.start < e for s, e in spans) or cur.codes & deal_currencies:
            continue
        yield warning("SCOPE_MISMATCH", f'{field} names "{cur.quote}" but the contract is in {c.value.currency}',
                      field, MISMATCH_WEIGHT["currency"])
    known = _known_dates(detail)
    for quote, first, last in date_mentions(text):
        # Outside the term, unless the structured deal names a date in it (close date, signature).
        if (last < c.start_date or first > c.end_date) and not any(first <= k <= last for k in known):
            yield warning("SCOPE_MISMATCH", f'{field} names "{quote}", outside the contract term '
                          f"{c.start_date} to {c.end_date}", field, MISMATCH_WEIGHT["date"])
    allowed = set(detail.scope.countries) | {detail.account.country, detail.account.billing_address.country}
    for country in country_mentions(text):
        if not country.codes & allowed:
            code = ", ".join(sorted(country.codes))
            yield warning("SCOPE_MISMATCH", f'{field} names "{country.quote}" ({code}) but scope.countries is '
                          f"{', '.join(detail.scope.countries)} and the account is in {detail.account.country}",
                          field, MISMATCH_WEIGHT["country"])


def _payment_days_mismatches(detail: ClosedWonDetail) -> Iterator[ExceptionEntry]:
    """A payment clause that names a period other than contract.paymentTermsDays."""
    c = detail.contract
    for i, clause in enumerate(c.clauses):
        named = payment_days(clause.text)
        if named and named[0] != c.payment_terms_days:
            yield warning("SCOPE_MISMATCH", f"clause {clause.id} sets payment terms of {named[0]} days but "
                          f"contract.paymentTermsDays is {c.payment_terms_days}", f"contract.clauses[{i}].text",
                          MISMATCH_WEIGHT["payment_terms"])

"""Mentions in free text (proposal summary, clause texts): countries, currencies, amounts and dates,
as a reader would take them, each with the quote it came from."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import pycountry

from handoff.contracts.money import is_currency

_I = re.IGNORECASE


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

"""Tax id validation by customer country: EU VAT, GB VAT, AU ABN, US EIN.

Format and check digits only; whether a number is registered (VIES, HMRC, ABR) is a lookup for an
adapter, not the domain. Countries without a scheme here are accepted as given."""

import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

TaxScheme = Literal["EU_VAT", "GB_VAT", "AU_ABN", "US_EIN", "NONE"]


class TaxIdCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    valid: bool
    normalised: str  # canonical form to store: "DE811907980", "GB980780684", "51824753556", "84-1234567"
    scheme: TaxScheme
    reason: str  # why it is invalid, or what was checked
    missing: bool = False


# VAT prefix (Greece uses EL) and the body format after it.
_EU_FORMATS: dict[str, tuple[str, str, str]] = {
    "AT": ("AT", r"U\d{8}", "U followed by 8 digits"),
    "BE": ("BE", r"[01]\d{9}", "10 digits starting with 0 or 1"),
    "BG": ("BG", r"\d{9,10}", "9 or 10 digits"),
    "CY": ("CY", r"\d{8}[A-Z]", "8 digits and a letter"),
    "CZ": ("CZ", r"\d{8,10}", "8 to 10 digits"),
    "DE": ("DE", r"[1-9]\d{8}", "9 digits"),
    "DK": ("DK", r"[1-9]\d{7}", "8 digits"),
    "EE": ("EE", r"\d{9}", "9 digits"),
    "ES": ("ES", r"[0-9A-Z]\d{7}[0-9A-Z]", "9 characters (letter or digit, 7 digits, letter or digit)"),
    "FI": ("FI", r"\d{8}", "8 digits"),
    "FR": ("FR", r"[0-9A-HJ-NP-Z]{2}\d{9}", "a 2-character key and the 9-digit SIREN"),
    "GR": ("EL", r"\d{9}", "9 digits"),
    "HR": ("HR", r"\d{11}", "11 digits"),
    "HU": ("HU", r"\d{8}", "8 digits"),
    "IE": ("IE", r"\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W]", "7 digits and 1 or 2 letters"),
    "IT": ("IT", r"\d{11}", "11 digits"),
    "LT": ("LT", r"\d{9}|\d{12}", "9 or 12 digits"),
    "LU": ("LU", r"\d{8}", "8 digits"),
    "LV": ("LV", r"\d{11}", "11 digits"),
    "MT": ("MT", r"\d{8}", "8 digits"),
    "NL": ("NL", r"\d{9}B\d{2}", "9 digits, B and 2 digits"),
    "PL": ("PL", r"\d{10}", "10 digits"),
    "PT": ("PT", r"\d{9}", "9 digits"),
    "RO": ("RO", r"[1-9]\d{1,9}", "2 to 10 digits"),
    "SE": ("SE", r"\d{10}01", "12 digits ending in 01"),
    "SI": ("SI", r"\d{8}", "8 digits"),
    "SK": ("SK", r"\d{10}", "10 digits"),
}
EU_COUNTRIES = frozenset(_EU_FORMATS)
_VAT_PREFIXES = frozenset({prefix for prefix, _, _ in _EU_FORMATS.values()} | {"GB", "XI"})

# IRS campus prefixes; any other two-digit prefix has never been issued.
_EIN_PREFIXES = frozenset(
    "01 02 03 04 05 06 10 11 12 13 14 15 16 20 21 22 23 24 25 26 27 30 31 32 33 34 35 36 37 38 39 "
    "40 41 42 43 44 45 46 47 48 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 71 72 73 "
    "74 75 76 77 80 81 82 83 84 85 86 87 88 90 91 92 93 94 95 98 99".split()
)
_FR_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def scheme_for(country: str) -> TaxScheme:
    country = country.upper()
    if country in EU_COUNTRIES:
        return "EU_VAT"
    return {"GB": "GB_VAT", "AU": "AU_ABN", "US": "US_EIN"}.get(country, "NONE")


def validate_tax_id(country: str, tax_id: str | None) -> TaxIdCheck:
    """Check a customer's tax id against the scheme of its country (ISO alpha-2)."""
    country = country.upper()
    scheme = scheme_for(country)
    if tax_id is None or not tax_id.strip():
        return TaxIdCheck(valid=False, normalised="", scheme=scheme, reason="no tax id given", missing=True)
    compact = re.sub(r"[\s.\-/]", "", tax_id).upper()
    match scheme:
        case "EU_VAT":
            return _eu_vat(country, compact)
        case "GB_VAT":
            return _gb_vat(compact)
        case "AU_ABN":
            return _au_abn(compact)
        case "US_EIN":
            return _us_ein(tax_id.strip())
    return TaxIdCheck(valid=True, normalised=compact, scheme="NONE", reason=f"no format check for {country}")


def _ok(normalised: str, scheme: TaxScheme, reason: str) -> TaxIdCheck:
    return TaxIdCheck(valid=True, normalised=normalised, scheme=scheme, reason=reason)


def _bad(normalised: str, scheme: TaxScheme, reason: str) -> TaxIdCheck:
    return TaxIdCheck(valid=False, normalised=normalised, scheme=scheme, reason=reason)


def _eu_vat(country: str, compact: str) -> TaxIdCheck:
    prefix, pattern, shape = _EU_FORMATS[country]
    given = "EL" if compact[:2] == "GR" else compact[:2]
    if given == prefix:
        compact = compact[2:]
    elif given in _VAT_PREFIXES:
        return _bad(compact, "EU_VAT", f"prefix {compact[:2]} does not match the account country {country}")
    if country == "BE" and re.fullmatch(r"\d{9}", compact):
        compact = "0" + compact  # old 9-digit Belgian numbers
    normalised = prefix + compact
    if not re.fullmatch(pattern, compact):
        return _bad(normalised, "EU_VAT", f"{country} VAT numbers are {prefix} followed by {shape}")
    check = _EU_CHECKS.get(country)
    if check is None:
        return _ok(normalised, "EU_VAT", "format valid (no check digit rule for this country)")
    if not check(compact):
        return _bad(normalised, "EU_VAT", "check digits do not match: the number is mistyped")
    return _ok(normalised, "EU_VAT", "format and check digits valid")


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _de(body: str) -> bool:
    # ISO 7064 MOD 11,10
    product = 10
    for d in body[:8]:
        total = (int(d) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10 == int(body[8])


def _fr(body: str) -> bool:
    key, siren = body[:2], body[2:]
    if siren[:3] != "000" and not _luhn_ok(siren):  # 000: Monaco, not a SIREN
        return False
    if key.isdigit():
        return int(key) == (int(siren) * 100 + 12) % 97
    # Newer alphanumeric keys.
    first, second = _FR_ALPHABET.index(key[0]), _FR_ALPHABET.index(key[1])
    check = first * 24 + second - 10 if key[0].isdigit() else first * 34 + second - 100
    return (int(siren) + 1 + check // 11) % 11 == check % 11


def _it(body: str) -> bool:
    office = body[7:10]
    office_ok = "001" <= office <= "100" or office in {"120", "121", "888", "999"}  # province of registration
    return int(body[:7]) != 0 and office_ok and _luhn_ok(body)


def _nl(body: str) -> bool:
    # Companies: "elfproef" on the 9 digits; sole traders since 2020: ISO 7064 mod 97 over NL+number.
    digits = body[:9]
    eleven = (_weighted(digits, (9, 8, 7, 6, 5, 4, 3, 2)) - int(digits[8])) % 11 == 0
    as_number = "".join(str(int(c, 36)) for c in "NL" + body)
    return int(digits) > 0 and int(body[10:]) > 0 and (eleven or int(as_number) % 97 == 1)


def _be(body: str) -> bool:
    return (int(body[:8]) + int(body[8:])) % 97 == 0


def _at(body: str) -> bool:
    digits = body[1:]
    total = 0
    for i, d in enumerate(digits[:7]):
        n = int(d) * (2 if i % 2 else 1)
        total += n // 10 + n % 10
    return (6 - total) % 10 == int(digits[7])


_EU_CHECKS: dict[str, Callable[[str], bool]] = {
    "AT": _at,
    "BE": _be,
    "DE": _de,
    "DK": lambda b: _weighted(b, (2, 7, 6, 5, 4, 3, 2, 1)) % 11 == 0,
    "FI": lambda b: _weighted(b, (7, 9, 10, 5, 8, 4, 2, 1)) % 11 == 0,
    "FR": _fr,
    "IT": _it,
    "NL": _nl,
    "PL": lambda b: _weighted(b, (6, 5, 7, 2, 3, 4, 5, 6, 7, -1)) % 11 == 0,
}


def _gb_vat(compact: str) -> TaxIdCheck:
    prefix = "XI" if compact.startswith("XI") else "GB"  # XI: Northern Ireland, same numbers
    compact = compact.removeprefix(prefix)
    normalised = prefix + compact
    if re.fullmatch(r"(GD[0-4]|HA[5-9])\d\d", compact):  # government departments, health authorities
        return _ok(normalised, "GB_VAT", "government or health authority number")
    if not re.fullmatch(r"\d{9}(\d{3})?", compact):
        return _bad(normalised, "GB_VAT", "GB VAT numbers are GB followed by 9 digits (12 for a branch)")
    # Weighted sum plus the last two digits is 0 mod 97, or 42 for numbers issued since 2010
    # (the "9755" scheme: sum + 55 is 0 mod 97).
    remainder = (_weighted(compact[:7], (8, 7, 6, 5, 4, 3, 2)) + int(compact[7:9])) % 97
    allowed = {0, 42} if int(compact[:3]) >= 100 else {0}
    if remainder not in allowed:
        return _bad(normalised, "GB_VAT", "check digits do not match: the number is mistyped")
    return _ok(normalised, "GB_VAT", "format and check digits valid")


def _au_abn(compact: str) -> TaxIdCheck:
    if not re.fullmatch(r"\d{11}", compact):
        return _bad(compact, "AU_ABN", "an ABN is 11 digits, e.g. 51 824 753 556")
    if int(compact[:2]) < 11:  # the two check digits are always 11..99
        return _bad(compact, "AU_ABN", "check digits do not match: the ABN is mistyped")
    digits = [int(d) for d in compact]
    digits[0] -= 1
    if _weighted("".join(map(str, digits)), (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)) % 89:
        return _bad(compact, "AU_ABN", "check digits do not match: the ABN is mistyped")
    return _ok(compact, "AU_ABN", "format and check digits valid")


def _us_ein(raw: str) -> TaxIdCheck:
    match = re.fullmatch(r"(\d{2})-?(\d{7})", raw)
    if not match:
        return _bad(raw, "US_EIN", "an EIN is NN-NNNNNNN, e.g. 84-1234567")
    normalised = f"{match[1]}-{match[2]}"
    if match[1] not in _EIN_PREFIXES:
        return _bad(normalised, "US_EIN", f"EIN prefix {match[1]} has never been issued by the IRS")
    return _ok(normalised, "US_EIN", "format and IRS prefix valid (an EIN has no check digit)")

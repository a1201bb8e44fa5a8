"""Tax id validation by customer country: EU VAT (all 27 member states), GB VAT, AU ABN, US EIN.

Format and check digits only, by python-stdnum (each country's published rules, kept up to date
there rather than in tables of ours); whether a number is registered (VIES, HMRC, ABR) is a lookup
for an adapter, not the domain. Countries without a scheme here are accepted as given."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict
from stdnum import exceptions as stdnum_errors
from stdnum.au import abn
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.us import ein

TaxScheme = Literal["EU_VAT", "GB_VAT", "AU_ABN", "US_EIN", "NONE"]


class TaxIdCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    valid: bool
    normalised: str  # canonical form to store: "DE811907980", "GB980780684", "51824753556", "84-1234567"
    scheme: TaxScheme
    reason: str  # why it is invalid, or what was checked
    missing: bool = False


EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
_PREFIX = {country: "EL" if country == "GR" else country for country in EU_COUNTRIES}  # Greece's VAT prefix is EL
_VAT_PREFIXES = frozenset(_PREFIX.values()) | {"GB", "XI"}


def scheme_for(country: str) -> TaxScheme:
    country = country.upper()
    if country in EU_COUNTRIES:
        return "EU_VAT"
    national: dict[str, TaxScheme] = {"GB": "GB_VAT", "AU": "AU_ABN", "US": "US_EIN"}
    return national.get(country, "NONE")


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


def _why(error: stdnum_errors.ValidationError, what: str) -> str:
    if isinstance(error, stdnum_errors.InvalidChecksum):
        return f"check digits do not match: the {what} is mistyped"
    if isinstance(error, stdnum_errors.InvalidLength):
        return f"wrong number of characters for a {what}"
    if isinstance(error, stdnum_errors.InvalidComponent):
        return f"a part of the {what} is not one that is issued (e.g. its prefix or region code)"
    return f"not in the format of a {what}"


def _eu_vat(country: str, compact: str) -> TaxIdCheck:
    prefix = _PREFIX[country]
    given = "EL" if compact[:2] == "GR" else compact[:2]
    if given == prefix:
        compact = compact[2:]
    elif given in _VAT_PREFIXES:
        return _bad(compact, "EU_VAT", f"prefix {compact[:2]} does not match the account country {country}")
    normalised = prefix + compact
    try:
        valid = eu_vat.validate(normalised)
    except stdnum_errors.ValidationError as error:
        return _bad(normalised, "EU_VAT", f"{_why(error, f'{country} VAT number')} ({prefix} followed by the number)")
    return _ok(eu_vat.compact(valid), "EU_VAT", "format and check digits valid")


def _gb_vat(compact: str) -> TaxIdCheck:
    prefix = "XI" if compact.startswith("XI") else "GB"  # XI: Northern Ireland, same numbers
    body = compact.removeprefix(prefix)
    normalised = prefix + body
    try:
        gb_vat.validate(body)
    except stdnum_errors.ValidationError as error:
        return _bad(normalised, "GB_VAT", f"{_why(error, 'GB VAT number')}: GB followed by 9 digits (12 for a branch)")
    return _ok(normalised, "GB_VAT", "format and check digits valid")


def _au_abn(compact: str) -> TaxIdCheck:
    try:
        return _ok(abn.validate(compact), "AU_ABN", "format and check digits valid")
    except stdnum_errors.ValidationError as error:
        return _bad(compact, "AU_ABN", f"{_why(error, 'ABN')}: 11 digits, e.g. 51 824 753 556")


def _us_ein(raw: str) -> TaxIdCheck:
    try:
        return _ok(ein.format(ein.validate(raw)), "US_EIN", "format and IRS prefix valid (an EIN has no check digit)")
    except stdnum_errors.ValidationError as error:
        reason = "the prefix has never been issued by the IRS" if isinstance(error, stdnum_errors.InvalidComponent) \
            else "an EIN is NN-NNNNNNN, e.g. 84-1234567"
        return _bad(raw.strip(), "US_EIN", reason)

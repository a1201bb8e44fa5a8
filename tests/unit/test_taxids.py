import pytest

from handoff.domain.taxids import EU_COUNTRIES, scheme_for, validate_tax_id


@pytest.mark.parametrize(
    ("country", "tax_id", "normalised"),
    [
        # From the fixtures.
        ("DE", "DE811907980", "DE811907980"),
        ("AU", "51 824 753 556", "51824753556"),
        ("US", "84-1234567", "84-1234567"),
        ("US", "36-7654321", "36-7654321"),
        # Separators, case and a missing prefix are tolerated and normalised away.
        ("DE", "de 811.907.980", "DE811907980"),
        ("DE", "136695976", "DE136695976"),
        ("FR", "FR40303265045", "FR40303265045"),
        ("FR", "FR 83 404833048", "FR83404833048"),
        ("FR", "KF732829320", "FRKF732829320"),  # alphanumeric key, no prefix
        ("IT", "IT00743110157", "IT00743110157"),
        ("NL", "NL004495445B01", "NL004495445B01"),  # company: eleven-test
        ("NL", "NL281590139B62", "NL281590139B62"),  # sole trader since 2020: mod 97
        ("BE", "BE0403019261", "BE0403019261"),
        ("BE", "403019261", "BE0403019261"),  # old 9-digit form
        ("AT", "ATU13585627", "ATU13585627"),
        ("DK", "DK13585628", "DK13585628"),
        ("PL", "PL8567346215", "PL8567346215"),
        ("FI", "FI20774740", "FI20774740"),
        ("ES", "ESA13585625", "ESA13585625"),  # format only
        ("GR", "GR094259216", "EL094259216"),  # Greece uses EL
        ("GB", "GB 629 4847 00", "GB629484700"),  # mod 97
        ("GB", "GB408309409", "GB408309409"),  # 9755 variant
        ("GB", "629484700123", "GB629484700123"),  # branch trader
        ("GB", "XI629484700", "XI629484700"),  # Northern Ireland
        ("GB", "GD001", "GBGD001"),  # government department
        ("GB", "HA500", "GBHA500"),  # health authority
        ("US", "841234567", "84-1234567"),
    ],
)
def test_valid_ids_are_normalised(country: str, tax_id: str, normalised: str) -> None:
    check = validate_tax_id(country, tax_id)
    assert check.valid, check.reason
    assert check.normalised == normalised
    assert not check.missing
    assert check.scheme == scheme_for(country)


@pytest.mark.parametrize(
    ("country", "tax_id", "reason"),
    [
        ("DE", "DE811907981", "check digits"),
        ("DE", "DE011907980", "format"),  # leading zero never issued
        ("DE", "DE81190798", "number of characters"),
        ("FR", "FR41303265045", "check digits"),
        ("FR", "FR40303265046", "check digits"),  # SIREN Luhn fails
        ("IT", "IT00743110158", "check digits"),
        ("IT", "IT00743112157", "not one that is issued"),  # province code 211 does not exist
        ("NL", "NL004495446B01", "check digits"),
        ("NL", "NL281590139B63", "check digits"),  # mod 97 covers the suffix too
        ("NL", "NL004495445X01", "format"),
        ("BE", "BE0403019262", "check digits"),
        ("BE", "BE2403019261", "not one that is issued"),
        ("AT", "ATU13585628", "check digits"),
        ("PL", "PL8567346216", "check digits"),
        ("DE", "FR40303265045", "prefix FR does not match"),
        ("GB", "GB629484701", "check digits"),
        ("GB", "GB010000035", "check digits"),  # 9755 only applies to numbers issued since 2010 (>= 100)
        ("GB", "GB62948470", "9 digits"),
        ("GB", "GD500", "9 digits"),  # GD is below 500, HA from 500
        ("AU", "51 824 753 557", "check digits"),
        ("AU", "10 000 000 000", "check digits"),  # check digits are 11..99
        ("AU", "5182475355", "11 digits"),
        ("US", "07-1234567", "prefix has never been issued"),
        ("US", "84-123456", "NN-NNNNNNN"),
        ("US", "8-41234567", "NN-NNNNNNN"),
        ("US", "84 1234567", "NN-NNNNNNN"),
    ],
)
def test_malformed_ids_say_why(country: str, tax_id: str, reason: str) -> None:
    check = validate_tax_id(country, tax_id)
    assert not check.valid
    assert not check.missing
    assert reason in check.reason


def test_every_single_digit_typo_is_caught() -> None:
    # Every single-digit typo of a valid number is caught by the check digits (DE, AU).
    for country, good in (("DE", "811907980"), ("AU", "51824753556")):
        for i in range(len(good)):
            for digit in "0123456789":
                if digit == good[i]:
                    continue
                typo = good[:i] + digit + good[i + 1 :]
                assert not validate_tax_id(country, typo).valid, typo


@pytest.mark.parametrize("tax_id", [None, "", "   "])
def test_missing_is_not_malformed(tax_id: str | None) -> None:
    check = validate_tax_id("DE", tax_id)
    assert check.missing and not check.valid
    assert check.scheme == "EU_VAT"
    assert check.reason == "no tax id given"


def test_countries_without_a_scheme_accept_any_non_empty_id() -> None:
    check = validate_tax_id("SG", " 201234567k ")
    assert check.valid and check.scheme == "NONE" and check.normalised == "201234567K"
    assert validate_tax_id("SG", None).missing


def test_country_code_is_case_insensitive() -> None:
    assert validate_tax_id("de", "DE811907980").valid
    assert scheme_for("gb") == "GB_VAT" and scheme_for("GR") == "EU_VAT" and scheme_for("JP") == "NONE"


# One valid VAT number per EU member state (published examples of each scheme); a changed last
# character must fail its check digits or format. The old tables checked digits for 9 states.
EU_VALID = {
    "AT": "ATU13585627", "BE": "BE0403019261", "BG": "BG175074752", "CY": "CY10259033P", "CZ": "CZ25123891",
    "DE": "DE136695976", "DK": "DK13585628", "EE": "EE100931558", "ES": "ESB58378431", "FI": "FI20774740",
    "FR": "FR40303265045", "GR": "EL094259216", "HR": "HR33392005961", "HU": "HU12892312", "IE": "IE6433435F",
    "IT": "IT00743110157", "LT": "LT119511515", "LU": "LU15027442", "LV": "LV40003521600", "MT": "MT11679112",
    "NL": "NL004495445B01", "PL": "PL8567346215", "PT": "PT501964843", "RO": "RO18547290", "SE": "SE123456789701",
    "SI": "SI50223054", "SK": "SK2022749619",
}


def test_every_eu_member_state_has_a_scheme() -> None:
    assert set(EU_VALID) == set(EU_COUNTRIES) and len(EU_COUNTRIES) == 27


@pytest.mark.parametrize(("country", "number"), sorted(EU_VALID.items()))
def test_every_member_state_check_digits(country: str, number: str) -> None:
    check = validate_tax_id(country, number)
    assert check.valid and check.scheme == "EU_VAT" and check.normalised == number
    at = -4 if country == "NL" else -1  # a Dutch number's check digit comes before its B01 branch suffix
    old = number[at]
    new = str((int(old) + 1) % 10) if old.isdigit() else ("A" if old != "A" else "B")
    wrong = number[:at] + new + (number[at + 1:] if at != -1 else "")
    assert not validate_tax_id(country, wrong).valid

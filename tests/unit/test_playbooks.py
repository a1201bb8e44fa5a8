import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.adapters.playbook_files import all_playbooks, load_playbook, service_lines
from handoff.domain.playbooks import DEFAULT_SEVERITIES, Playbook, PlaybookError
from handoff.domain.taxids import EU_COUNTRIES

LINES = ["advisory", "data-analytics", "erp-implementation", "managed-services"]


# --- the shipped playbooks ------------------------------------------------------------------------


def test_every_service_line_has_a_valid_playbook() -> None:
    playbooks = all_playbooks()
    assert sorted(playbooks) == LINES == service_lines()
    for line, playbook in playbooks.items():
        assert isinstance(playbook, Playbook)
        assert playbook.service_line == line
        assert playbook.wbs_template and all(phase.tasks for phase in playbook.wbs_template)
        assert playbook.required_fields
        assert playbook.project_code_scheme
        assert playbook.cost_center_for("EMEA", "DE").startswith("CC-EMEA-")
        assert playbook.approvals.deadlines.respond_within_hours > 0
        assert 0 <= playbook.staffing.soft_request_min_probability <= 100


@pytest.mark.parametrize("line", LINES)
def test_tax_rules_cover_the_markets(line: str) -> None:
    playbook = all_playbooks()[line]
    for country in ("DE", "FR", "GB", "US", "AU", "SG", "NL", "IT", "ES", "BE", "IE", "AT"):
        assert playbook.has_tax_rule(country), country
    de, au, sg, us, gb = (playbook.tax_rule(c) for c in ("DE", "AU", "SG", "US", "GB"))
    assert (de.rate, de.tax_id_scheme, de.tax_id_required, de.reverse_charge_cross_border) == (
        Decimal("0.19"), "EU_VAT", True, True)
    assert (au.rate, au.name, au.tax_id_scheme, au.tax_id_required) == (Decimal("0.10"), "GST", "AU_ABN", True)
    assert (sg.rate, sg.name) == (Decimal("0.09"), "GST")
    assert (us.rate, us.tax_id_scheme) == (Decimal(0), "US_EIN")
    assert gb.tax_id_scheme == "GB_VAT" and not gb.reverse_charge_cross_border
    for country, rule in playbook.tax_rules.items():
        assert rule.country == country
        assert type(rule.rate) is Decimal and Decimal(0) <= rule.rate < 1
        # Read as Decimal from the YAML text, never through float.
        assert rule.rate == rule.rate.quantize(Decimal("0.001"))
        assert rule.reverse_charge_cross_border == (country in EU_COUNTRIES)


def test_contracting_entities_decide_cross_border() -> None:
    playbook = all_playbooks()["erp-implementation"]
    assert playbook.supplier_country("FR") == "DE"
    assert playbook.supplier_country("DE") == "DE"
    assert playbook.supplier_country("GB") == "GB"
    assert playbook.supplier_country("US") == "US"
    assert playbook.supplier_country("BR") == "US"  # default entity
    assert playbook.contracting_entity("AU").name == "Example Consulting Pty Ltd"


def test_severities_owner_groups_and_slas_have_defaults() -> None:
    playbook = all_playbooks()["advisory"]
    assert playbook.severity("UNKNOWN_VENDOR") == "WARNING"
    assert playbook.severity("CONTRACT_NOT_SIGNED") == "BLOCKING"
    assert playbook.severity("PROCESSING_FAILURE") == DEFAULT_SEVERITIES["PROCESSING_FAILURE"] == "BLOCKING"
    assert playbook.owner_group("INVALID_TAX_ID") == "tax"
    assert playbook.owner_group("UNKNOWN_VENDOR") == "procurement"
    assert playbook.owner_group("APPROVAL_TIMEOUT") == "deal-desk"
    assert playbook.exceptions.sla_hours == {"BLOCKING": 24, "WARNING": 72}


def test_region_and_country_variants_apply_in_file_order() -> None:
    emea = load_playbook("erp-implementation", region="EMEA", country="DE", contract_type="milestone")
    assert emea.variants_applied == ("emea-costs-in-eur",)
    assert emea.cost_rate_currency == "EUR"
    assert emea.cost_rate("solution architect ") == Decimal(110)
    assert emea.cost_rate("Astronaut") == emea.default_cost_rate == Decimal(88)
    uk = load_playbook("erp-implementation", region="EMEA", country="GB", contract_type="milestone")
    assert uk.variants_applied == ("emea-costs-in-eur", "uk-costs-in-gbp")
    assert uk.cost_rate_currency == "GBP"
    assert uk.cost_center_for("EMEA", "GB") == "CC-UK-ERP"
    amer = load_playbook("erp-implementation", region="AMER", country="US", contract_type="milestone")
    assert amer.variants_applied == ()
    assert amer.cost_rate_currency == "USD"


def test_contract_type_variant_overrides_a_nested_key_only() -> None:
    base = load_playbook("erp-implementation", region="AMER", country="US", contract_type="milestone")
    fixed = load_playbook("erp-implementation", region="AMER", country="US", contract_type="fixed_fee")
    assert (base.billing.fixed_fee_installments, fixed.billing.fixed_fee_installments) == (3, 4)
    assert fixed.billing.max_payment_terms_days == base.billing.max_payment_terms_days  # merged, not replaced


def test_time_and_materials_requires_a_cap_and_country_lists_match() -> None:
    tm = load_playbook("data-analytics", region="APAC", country="AU", contract_type="time_and_materials")
    assert tm.variants_applied == ("apac-costs-in-aud", "time-and-materials-needs-a-cap")
    assert "contract.notToExceed" in tm.required_fields
    assert tm.cost_rate_currency == "AUD"
    assert tm.cost_center_for("APAC", "SG") == "CC-SG-DAT"
    fr = load_playbook("managed-services", region="EMEA", country="FR", contract_type="retainer")
    gb = load_playbook("managed-services", region="EMEA", country="GB", contract_type="retainer")
    assert (fr.billing.max_payment_terms_days, gb.billing.max_payment_terms_days) == (60, 30)


def test_loaded_playbooks_are_cached() -> None:
    first = load_playbook("advisory", region="AMER", country="US", contract_type="fixed_fee")
    assert load_playbook("advisory", region="AMER", country="US", contract_type="fixed_fee") is first


@pytest.mark.parametrize("line", ["consulting", "../playbooks/advisory", "Advisory", "", "_common"])
def test_unknown_service_line_is_a_playbook_error(line: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(line, region="AMER", country="US", contract_type="fixed_fee")
    assert caught.value.key == "service_line"
    assert "no playbook for service line" in str(caught.value)
    assert "advisory, data-analytics" in str(caught.value)


def test_tax_rule_for_an_uncovered_country_names_it() -> None:
    with pytest.raises(PlaybookError) as caught:
        all_playbooks()["advisory"].tax_rule("KE")
    assert caught.value.key == "tax_rules.KE"


# --- validation of playbook files -------------------------------------------------------------------


def minimal(line: str = "pilot") -> dict[str, Any]:
    """A complete playbook without a common file."""
    return {
        "service_line": line,
        "name": "Pilot",
        "required_fields": ["scope.summary"],
        "wbs_template": [{"name": "Build", "tasks": ["Sprint"]}, {"name": "Run", "tasks": ["Operate"]}],
        "cost_centers": {"default": "CC-PILOT", "by_region": {"EMEA": "CC-EMEA-PILOT"}},
        "project_code_scheme": "{line}-{country}-{year}-{seq:04d}",
        "billing": {"max_payment_terms_days": 45, "fixed_fee_installments": 3},
        "tax_rules": {"DE": {"rate": "0.19", "tax_id_required": True, "tax_id_scheme": "EU_VAT"}},
        "contracting_entities": {"default": {"name": "Pilot GmbH", "country": "DE"}},
        "cost_rate_currency": "EUR",
        "default_cost_rate": 80,
        "cost_rates": {"Engineer": 70},
        "exceptions": {"severities": {"UNKNOWN_VENDOR": "WARNING"}},
    }


def write(directory: Path, data: dict[str, Any], line: str = "pilot") -> Path:
    path = directory / f"{line}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load(directory: Path, line: str = "pilot", **deal: str) -> Playbook:
    where = {"region": "EMEA", "country": "DE", "contract_type": "milestone", **deal}
    return load_playbook(line, directory=directory, **where)


def error_for(directory: Path, data: dict[str, Any]) -> PlaybookError:
    path = write(directory, data)
    with pytest.raises(PlaybookError) as caught:
        load(directory)
    assert caught.value.file == str(path)
    return caught.value


def test_minimal_playbook_loads_with_defaults(tmp_path: Path) -> None:
    write(tmp_path, minimal())
    playbook = load(tmp_path)
    assert playbook.billing.max_payment_terms_days == 45
    assert playbook.billing.rounding == "ROUND_HALF_UP"  # BillingRules default
    assert playbook.severity("MISSING_FIELD") == "BLOCKING"
    assert all_playbooks(tmp_path) == {"pilot": playbook}


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d.update(billing_rules={}), "billing_rules"),
        (lambda d: d["billing"].update(max_payment_term_days=30), "billing.max_payment_term_days"),
        (lambda d: d["tax_rules"]["DE"].update(vat_rate="0.19"), "tax_rules.DE.vat_rate"),
        (lambda d: d["wbs_template"][1].update(taks=["x"]), "wbs_template[1].taks"),
        (lambda d: d["cost_centers"]["by_region"].update(LATAM="CC-X"), "cost_centers.by_region.LATAM"),
        (lambda d: d["exceptions"]["severities"].update(NOT_A_CODE="WARNING"), "exceptions.severities.NOT_A_CODE"),
        (lambda d: d["exceptions"]["severities"].update(MISSING_FIELD="CRITICAL"),
         "exceptions.severities.MISSING_FIELD"),
        (lambda d: d.update(approvals={"deadlines": {"respond_within_days": 2}}),
         "approvals.deadlines.respond_within_days"),
        (lambda d: d.update(variants_applied=["x"]), "variants_applied"),
    ],
)
def test_unknown_keys_name_the_file_and_key_path(tmp_path: Path, mutate: Any, key: str) -> None:
    data = minimal()
    mutate(data)
    error = error_for(tmp_path, data)
    assert error.key == key
    assert "unknown key" in str(error) or "Input should be" in str(error)
    assert str(tmp_path / "pilot.yaml") in str(error)


@pytest.mark.parametrize(
    ("mutate", "key", "says"),
    [
        (lambda d: d.pop("cost_rate_currency"), "cost_rate_currency", "required key is missing"),
        (lambda d: d.update(cost_rate_currency="EURO"), "cost_rate_currency", "ISO 4217"),
        (lambda d: d.update(default_cost_rate=0), "default_cost_rate", "greater than 0"),
        (lambda d: d.update(project_code_scheme="{line}-{customer}-{seq}"), "project_code_scheme", "{customer}"),
        (lambda d: d.update(project_code_scheme="{line}-{country}"), "project_code_scheme", "unique"),
        (lambda d: d.update(project_code_scheme="{line}-{year:%y}-{seq}"), "project_code_scheme", "cannot be rendered"),
        (lambda d: d.update(required_fields=["account..taxId"]), "required_fields", "dotted camelCase path"),
        (lambda d: d["tax_rules"].update(XX={"rate": "0.1"}), "tax_rules.XX", "ISO 3166-1"),
        (lambda d: d["tax_rules"]["DE"].update(country="AT"), "tax_rules", "declares country AT"),
        (lambda d: d["tax_rules"]["DE"].update(tax_id_scheme="IN_GST"), "tax_rules.DE.tax_id_scheme", "EU_VAT"),
        (lambda d: d.update(service_line="other"), "service_line", "the file name"),
        (lambda d: d.update(wbs_template=[]), "wbs_template", "at least 1"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, mutate: Any, key: str, says: str) -> None:
    data = minimal()
    mutate(data)
    error = error_for(tmp_path, data)
    assert error.key == key
    assert says in str(error)


def test_floats_are_read_as_exact_decimals(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())
    path.write_text(path.read_text().replace("rate: '0.19'", "rate: 0.19").replace("default_cost_rate: 80",
                                                                                   "default_cost_rate: 80.10"))
    playbook = load(tmp_path)
    assert playbook.tax_rule("DE").rate == Decimal("0.19") and str(playbook.tax_rule("DE").rate) == "0.19"
    assert str(playbook.default_cost_rate) == "80.10"


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())
    path.write_text(path.read_text() + "default_cost_rate: 99\n")
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path)
    assert caught.value.file == str(path)
    assert "duplicate key 'default_cost_rate'" in str(caught.value)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pilot.yaml"
    path.write_text("service_line: pilot\nbilling: [unclosed\n")
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path)
    assert caught.value.file == str(path)
    assert "not valid YAML" in str(caught.value)
    path.write_text("- just\n- a list\n")
    with pytest.raises(PlaybookError, match="must be a YAML mapping"):
        load(tmp_path)


def variant(**fields: Any) -> dict[str, Any]:
    return {"name": "test-variant", **fields}


def test_variant_may_only_override_declared_keys(tmp_path: Path) -> None:
    data = minimal()
    # rounding has a default in BillingRules but this base does not declare it.
    data["variants"] = [variant(when={"region": "EMEA"}, overrides={"billing": {"rounding": "ROUND_DOWN"}})]
    error = error_for(tmp_path, data)
    assert error.key == "variants[0].overrides.billing.rounding"
    assert "only override keys the base playbook declares" in str(error)


@pytest.mark.parametrize(
    ("variants", "key", "says"),
    [
        ([variant(when={"segment": "enterprise"}, overrides={"default_cost_rate": 1})], "variants[0].when.segment",
         "unknown key"),
        ([variant(when={}, overrides={"default_cost_rate": 1})], "variants[0].when", "at least one of"),
        ([variant(when={"region": "LATAM"}, overrides={"default_cost_rate": 1})], "variants[0].when.region[0]",
         "AMER"),
        ([variant(when={"contractType": "barter"}, overrides={"default_cost_rate": 1})],
         "variants[0].when.contractType[0]", "fixed_fee"),
        ([variant(when={"country": "DE"})], "variants[0].overrides", "required key is missing"),
        ([variant(when={"country": "DE"}, overrides={"default_cost_rate": 1}, priority=2)], "variants[0].priority",
         "unknown key"),
        ([variant(when={"country": "DE"}, overrides={"billing": {"max_payment_terms_days": "soon"}})],
         "variants[0].overrides.billing.max_payment_terms_days", "valid integer"),
        ([variant(when={"country": "DE"}, overrides={"service_line": "x"})], "variants[0].overrides.service_line",
         "cannot be overridden"),
        ([variant(when={"country": "DE"}, overrides={"tax_rules": {"DE": {"rate": "0.07", "vat": 1}}})],
         "variants[0].overrides.tax_rules.DE.vat", "only override keys the base playbook declares"),
        ([variant(when={"country": "FR"}, overrides={"cost_rate_currency": "EUR"}),
          variant(when={"region": "APAC"}, overrides={"cost_rates": {"Engineer": -5}})],
         "variants[1].overrides.cost_rates.Engineer", "greater than 0"),
    ],
)
def test_invalid_variants_name_the_key(tmp_path: Path, variants: list, key: str, says: str) -> None:
    # Every variant is validated at load, whether or not it matches the deal being loaded.
    data = minimal()
    data["variants"] = variants
    error = error_for(tmp_path, data)
    assert error.key == key
    assert says in str(error)


def test_variant_conditions_all_must_match(tmp_path: Path) -> None:
    data = minimal()
    data["variants"] = [
        variant(name="emea-tm", when={"region": "EMEA", "contractType": "time_and_materials"},
                overrides={"billing": {"max_payment_terms_days": 30}}),
        variant(name="dach", when={"country": ["DE", "AT", "CH"]}, overrides={"cost_rates": {"Engineer": 75}}),
        variant(name="snake-case-alias", when={"contract_type": "retainer"}, overrides={"default_cost_rate": 90}),
    ]
    write(tmp_path, data)
    assert load(tmp_path).variants_applied == ("dach",)
    tm = load(tmp_path, contract_type="time_and_materials")
    assert tm.variants_applied == ("emea-tm", "dach")
    assert (tm.billing.max_payment_terms_days, tm.billing.fixed_fee_installments) == (30, 3)
    assert tm.cost_rate("engineer") == Decimal(75)
    apac = load(tmp_path, region="APAC", country="SG", contract_type="time_and_materials")
    assert apac.variants_applied == ()
    assert load(tmp_path, contract_type="retainer").default_cost_rate == Decimal(90)


def test_common_file_is_merged_and_blamed_for_its_own_errors(tmp_path: Path) -> None:
    data = minimal()
    shared = {"tax_rules": data.pop("tax_rules"), "billing": {"max_payment_terms_days": 60, "rounding": "ROUND_DOWN"}}
    (tmp_path / "_common.yaml").write_text(yaml.safe_dump(shared))
    write(tmp_path, data)
    playbook = load(tmp_path)
    assert playbook.tax_rule("DE").rate == Decimal("0.19")
    assert (playbook.billing.max_payment_terms_days, playbook.billing.rounding) == (45, "ROUND_DOWN")  # line wins
    assert service_lines(tmp_path) == ["pilot"]

    shared["billing"]["round_to"] = "cents"
    (tmp_path / "_common.yaml").write_text(yaml.safe_dump(shared))
    _touch(tmp_path / "_common.yaml")
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path)
    assert caught.value.file == str(tmp_path / "_common.yaml")
    assert caught.value.key == "billing.round_to"


def test_variants_in_the_common_file_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "_common.yaml").write_text(yaml.safe_dump({"variants": []}))
    write(tmp_path, minimal())
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path)
    assert caught.value.file == str(tmp_path / "_common.yaml") and caught.value.key == "variants"


def test_an_edited_file_is_reloaded(tmp_path: Path) -> None:
    data = minimal()
    write(tmp_path, data)
    assert load(tmp_path).default_cost_rate == Decimal(80)
    data["default_cost_rate"] = 81
    write(tmp_path, data)
    _touch(tmp_path / "pilot.yaml")
    assert load(tmp_path).default_cost_rate == Decimal(81)


def _touch(path: Path) -> None:
    """Move the modification time forward explicitly: no sleeping for the clock to tick."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

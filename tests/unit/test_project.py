"""Project code, WBS and tax treatment."""

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from handoff.contracts import ClosedWonEvent, WbsNode, parse_event
from handoff.domain.policy import TaxRule
from handoff.domain.project import (
    WbsTemplatePhase,
    build_project_shell,
    describe_tax_treatment,
    project_code,
    service_line_code,
)
from tests.support.fixtures import fixture_path

ERP_TEMPLATE = [
    WbsTemplatePhase(name="Blueprint", tasks=["Fit-gap workshops", "Blueprint document"]),
    WbsTemplatePhase(name="Build", tasks=["Configuration", "Interfaces"]),
    WbsTemplatePhase(name="Deploy", tasks=["Cutover"]),
    WbsTemplatePhase(name="Hypercare", tasks=["Hypercare support"]),
    WbsTemplatePhase(name="Project management", tasks=["Steering committee", "Status reports"]),
]


def load(name: str) -> ClosedWonEvent:
    return parse_event(fixture_path("closed-won", name).read_text())


def with_detail(name: str, **changes: Any) -> ClosedWonEvent:
    raw = load(name).model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        section, field = path.split("__")
        raw["detail"][section][field] = value
    return parse_event(raw)


def code_for(scheme: str, **overrides: Any) -> str:
    args: dict[str, Any] = {"service_line": "erp-implementation", "country": "DE", "region": "EMEA", "year": 2027,
                            "seq": 42, "opportunity_id": "006Qy00000AbCdE1"}
    return project_code(scheme, **{**args, **overrides})


def walk(nodes: list[WbsNode]) -> list[WbsNode]:
    return [n for node in nodes for n in [node, *walk(node.children)]]


def assert_children_within_parents(nodes: list[WbsNode], start: date, end: date) -> None:
    for node in nodes:
        assert start <= node.start <= node.end <= end, node.code
        assert_children_within_parents(node.children, node.start, node.end)


# --- project code ----------------------------------------------------------------------------

def test_project_code_placeholders() -> None:
    digest = hashlib.sha256(b"006Qy00000AbCdE1").hexdigest()[:6].upper()
    assert code_for("{line}-{country}-{year}-{hash}") == f"ERP-DE-2027-{digest}"
    assert code_for("{region}/{line}/{year}/{seq:05d}") == "EMEA/ERP/2027/00042"
    assert code_for("{service_line}:{opportunity_id}") == "erp-implementation:006Qy00000AbCdE1"


def test_project_code_hash_is_stable_and_distinguishes_deals() -> None:
    first = code_for("{hash}")
    assert first == code_for("{hash}") and len(first) == 6 and first == first.upper()
    assert int(first, 16) >= 0
    assert code_for("{hash}", opportunity_id="006Qy00000AbCdE2") != first


@pytest.mark.parametrize(("line", "code"), [
    ("erp-implementation", "ERP"), ("advisory", "ADV"), ("managed-services", "MSV"), ("data-analytics", "DAT"),
    ("cloud-migration", "CLO"),
])
def test_service_line_codes(line: str, code: str) -> None:
    assert service_line_code(line) == code
    assert code_for("{line}", service_line=line) == code


@pytest.mark.parametrize(("scheme", "named"), [
    ("{line}-{customer}", "{customer}"),
    ("{line}-{seq:0{width}d}", "{width}"),
    ("{line}-{}", "{} (positional)"),
    ("{line}-{0}", "{0}"),
])
def test_project_code_rejects_unknown_placeholders(scheme: str, named: str) -> None:
    with pytest.raises(ValueError) as error:
        code_for(scheme)
    assert named in str(error.value)


# --- WBS ------------------------------------------------------------------------------------

def test_emea_wbs_merges_template_phases_and_milestones() -> None:
    event = load("emea-milestone-erp-rollout")
    shell = build_project_shell(event, code="ERP-DE-2027-0042", cost_center="CC-DE-ERP",
                                tax_treatment="standard VAT 19%", template=ERP_TEMPLATE)
    assert shell.name == "Nordwerk Group - S/4 rollout, DACH and France"
    assert (shell.cost_center, shell.tax_treatment) == ("CC-DE-ERP", "standard VAT 19%")
    assert (shell.start_date, shell.end_date) == (date(2027, 1, 4), date(2027, 9, 30))
    assert [(n.code, n.name, n.start, n.end) for n in shell.wbs] == [
        ("ERP-DE-2027-0042.1", "Blueprint", date(2027, 1, 4), date(2027, 2, 26)),
        ("ERP-DE-2027-0042.2", "Build", date(2027, 3, 1), date(2027, 5, 28)),
        ("ERP-DE-2027-0042.3", "Deploy wave 1 (DE)", date(2027, 6, 1), date(2027, 7, 30)),
        ("ERP-DE-2027-0042.4", "Deploy wave 2 (FR) and hypercare", date(2027, 8, 2), date(2027, 9, 30)),
    ]
    blueprint, build, wave1, wave2 = shell.wbs
    # Template tasks, then the unmatched "Project management" template phase (first phase only), then M1.
    assert [c.name for c in blueprint.children] == [
        "Fit-gap workshops", "Blueprint document", "Project management",
        "Milestone M1: Mobilisation and blueprint sign-off",
    ]
    assert [c.code for c in blueprint.children] == [f"ERP-DE-2027-0042.1.{i}" for i in range(1, 5)]
    pm = blueprint.children[2]
    assert [(c.code, c.name) for c in pm.children] == [
        ("ERP-DE-2027-0042.1.3.1", "Steering committee"), ("ERP-DE-2027-0042.1.3.2", "Status reports"),
    ]
    assert [c.name for c in build.children] == ["Configuration", "Interfaces", "Milestone M2: Build complete (DE)"]
    assert [c.name for c in wave1.children] == ["Cutover", "Milestone M3: Go-live Germany"]
    # "Deploy" and "Hypercare" both match the second wave.
    assert [c.name for c in wave2.children] == ["Cutover", "Hypercare support",
                                                "Milestone M4: Go-live France and hypercare exit"]
    m4 = wave2.children[-1]
    assert (m4.start, m4.end) == (date(2027, 9, 30), date(2027, 9, 30))
    assert_children_within_parents(shell.wbs, shell.start_date, shell.end_date)
    codes = [n.code for n in walk(shell.wbs)]
    assert len(codes) == len(set(codes)) == 18


def test_template_phase_name_broader_than_contract_phase_still_matches() -> None:
    template = [WbsTemplatePhase(name="Discovery and interviews", tasks=["Stakeholder interviews"]),
                WbsTemplatePhase(name="Synthesis", keywords=["recommendations"], tasks=["Final report"])]
    shell = build_project_shell(load("us-fixed-fee-advisory"), code="ADV-1", cost_center="CC-US",
                                tax_treatment="exempt/none", template=template)
    assert [[c.name for c in n.children] for n in shell.wbs] == [["Stakeholder interviews"], [], ["Final report"]]
    assert_children_within_parents(shell.wbs, shell.start_date, shell.end_date)


def test_keyword_match_is_whole_word_and_case_insensitive() -> None:
    template = [WbsTemplatePhase(name="BUILD", tasks=["Sprint"]), WbsTemplatePhase(name="Ship", tasks=["Release"])]
    event = with_detail("us-retainer-managed-services", scope__phases=[
        {"name": "Rebuilding", "start": "2027-01-01", "end": "2027-06-30"},
        {"name": "build out", "start": "2027-07-01", "end": "2027-12-31"},
    ])
    shell = build_project_shell(event, code="P", cost_center="C", tax_treatment="t", template=template)
    # "Rebuilding" does not contain the word "build"; unmatched "Ship" lands under the first phase.
    assert [c.name for c in shell.wbs[0].children] == ["Ship"]
    assert [c.name for c in shell.wbs[0].children[0].children] == ["Release"]
    assert [c.name for c in shell.wbs[1].children] == ["Sprint"]


def test_milestone_between_phases_goes_to_nearest_phase_clamped() -> None:
    event = with_detail("emea-milestone-erp-rollout", contract__milestones=[
        {"id": "M1", "name": "Blueprint", "amount": {"value": "240000.00", "currency": "EUR"}, "dueDate": "2027-02-27"},
        {"id": "M2", "name": "Rest", "amount": {"value": "240000.00", "currency": "EUR"}, "dueDate": "2027-07-31"},
    ])
    shell = build_project_shell(event, code="P", cost_center="C", tax_treatment="t", template=[])
    m1 = shell.wbs[0].children[0]
    assert m1.name == "Milestone M1: Blueprint (due 2027-02-27)"
    assert (m1.start, m1.end) == (date(2027, 2, 26), date(2027, 2, 26))
    m2 = shell.wbs[2].children[0]  # Jul 31 is one day after wave 1 ends, two before wave 2 starts
    assert (m2.name, m2.start) == ("Milestone M2: Rest (due 2027-07-31)", date(2027, 7, 30))
    assert_children_within_parents(shell.wbs, shell.start_date, shell.end_date)


def test_no_phases_gives_one_delivery_phase_over_the_contract() -> None:
    event = with_detail("us-fixed-fee-advisory", scope__phases=[])
    shell = build_project_shell(event, code="ADV-9", cost_center="C", tax_treatment="t",
                                template=[WbsTemplatePhase(name="Discovery", tasks=["Kickoff"])])
    assert [(n.code, n.name, n.start, n.end) for n in shell.wbs] == [
        ("ADV-9.1", "Delivery", date(2026, 12, 1), date(2027, 2, 26)),
    ]
    assert [c.name for c in shell.wbs[0].children] == ["Discovery"]
    assert [c.name for c in shell.wbs[0].children[0].children] == ["Kickoff"]


def test_project_spans_phases_outside_the_contract_term() -> None:
    event = with_detail("us-retainer-managed-services", scope__phases=[
        {"name": "Transition", "start": "2026-12-15", "end": "2026-12-31"},
        {"name": "Run", "start": "2027-01-01", "end": "2027-12-31"},
    ])
    shell = build_project_shell(event, code="MSV", cost_center="C", tax_treatment="t", template=[])
    assert (shell.start_date, shell.end_date) == (date(2026, 12, 15), date(2027, 12, 31))


def test_project_shell_serialises_to_the_record_shape() -> None:
    shell = build_project_shell(load("us-retainer-managed-services"), code="MSV-US-2027-0001", cost_center="CC",
                                tax_treatment="exempt/none", template=[])
    data = shell.to_json_dict()
    assert data["wbs"][0] == {"code": "MSV-US-2027-0001.1", "name": "Service year FY27", "start": "2027-01-01",
                              "end": "2027-12-31", "children": []}
    assert data["costCenter"] == "CC" and data["taxTreatment"] == "exempt/none"


# --- tax treatment --------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "customer", "supplier", "expected"), [
    (TaxRule(country="DE", rate=Decimal("0.19")), "DE", "DE", "standard VAT 19%"),
    (TaxRule(country="DE", rate=Decimal("0.19"), reverse_charge_cross_border=True), "DE", "FR", "reverse charge"),
    (TaxRule(country="DE", rate=Decimal("0.19"), reverse_charge_cross_border=True), "DE", None, "standard VAT 19%"),
    (TaxRule(country="AU", rate=Decimal("0.10"), name="GST"), "AU", "AU", "GST 10%"),
    (TaxRule(country="US", rate=Decimal(0), name="sales tax"), "US", "US", "exempt/none"),
    (TaxRule(country="US", rate=Decimal("0.0825"), name="sales tax"), "US", None, "sales tax 8.25%"),
    (TaxRule(country="GR", rate=Decimal("0.24"), reverse_charge_cross_border=True), "EL", "GR", "standard VAT 24%"),
])
def test_describe_tax_treatment(rule: TaxRule, customer: str, supplier: str | None, expected: str) -> None:
    assert describe_tax_treatment(rule, customer, supplier) == expected

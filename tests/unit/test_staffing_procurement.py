"""Staffing demand (soft, firm, released) and purchase requisitions: deterministic ids, no duplicates."""

from datetime import date
from decimal import Decimal

from handoff.contracts import ClosedWonEvent, StaffingRequest, parse_event
from handoff.domain.procurement import purchase_requisitions
from handoff.domain.staffing import firm_up, request_id, staffing_requests
from tests.support.fixtures import fixture_path


def load(name: str) -> ClosedWonEvent:
    return parse_event(fixture_path("closed-won", name).read_text())


def statuses(requests: list[StaffingRequest]) -> list[tuple[str, str]]:
    return [(r.role, r.status) for r in requests]


# --- staffing -------------------------------------------------------------------------------

def test_staffing_requests_from_the_emea_deal() -> None:
    soft = staffing_requests(load("emea-milestone-erp-rollout"), firm=False)
    assert [(r.role, r.hours, r.start_date, r.location, r.status) for r in soft] == [
        ("Engagement Manager", 640, date(2027, 1, 4), "DE", "SOFT"),
        ("Solution Architect", 960, date(2027, 1, 4), "DE", "SOFT"),
        ("Functional Consultant", 1200, date(2027, 3, 1), "FR", "SOFT"),
    ]
    assert soft[2].skills == ["SAP MM", "French"]
    firm = staffing_requests(load("emea-milestone-erp-rollout"), firm=True)
    assert {r.status for r in firm} == {"FIRM"}


def test_request_ids_are_deterministic_and_distinct() -> None:
    first = staffing_requests(load("emea-milestone-erp-rollout"), firm=False)
    again = staffing_requests(load("emea-milestone-erp-rollout"), firm=True)
    assert [r.request_id for r in first] == [r.request_id for r in again]
    assert len({r.request_id for r in first}) == 3
    assert first[0].request_id == request_id("006Qy00000AbCdE1", 1, "Engagement Manager")
    assert first[0].request_id.startswith("SR-") and len(first[0].request_id) == 15
    # Same role in another deal is another request.
    other = staffing_requests(load("us-fixed-fee-advisory"), firm=False)
    assert other[0].role == first[0].role and other[0].request_id != first[0].request_id


def test_firm_up_turns_soft_into_firm_without_duplicates() -> None:
    event = load("emea-milestone-erp-rollout")
    soft = staffing_requests(event, firm=False)
    result = firm_up(soft, staffing_requests(event, firm=True))
    assert statuses(result) == [("Engagement Manager", "FIRM"), ("Solution Architect", "FIRM"),
                                ("Functional Consultant", "FIRM")]
    assert [r.request_id for r in result] == [r.request_id for r in soft]
    # Running it again changes nothing.
    assert firm_up(result, staffing_requests(event, firm=True)) == result


def test_firm_up_adds_new_releases_dropped_and_takes_wanted_details() -> None:
    event = load("emea-milestone-erp-rollout")
    soft = staffing_requests(event, firm=False)
    changed = soft[0].model_copy(update={"hours": 700})
    newcomer = StaffingRequest(role="Data Migration Lead", hours=200, start_date=date(2027, 3, 1), location="DE",
                               status="SOFT", request_id=request_id("006Qy00000AbCdE1", 4, "Data Migration Lead"))
    result = firm_up(soft, [changed, soft[2], newcomer])
    assert statuses(result) == [("Engagement Manager", "FIRM"), ("Solution Architect", "RELEASED"),
                                ("Functional Consultant", "FIRM"), ("Data Migration Lead", "FIRM")]
    assert result[0].hours == 700
    assert len({r.request_id for r in result}) == 4


def test_firm_up_collapses_duplicates_on_either_side() -> None:
    soft = staffing_requests(load("us-fixed-fee-advisory"), firm=False)
    result = firm_up([*soft, soft[0]], [*soft, *soft])
    assert statuses(result) == [("Engagement Manager", "FIRM"), ("Senior Consultant", "FIRM")]


def test_firm_up_matches_requests_without_id_by_role_start_and_location() -> None:
    soft = staffing_requests(load("us-retainer-managed-services"), firm=False)
    legacy = soft[0].model_copy(update={"request_id": None})
    result = firm_up([legacy], [legacy.model_copy(update={"status": "SOFT"})])
    assert statuses(result) == [("Analytics Lead", "FIRM")]


def test_firm_up_with_nothing_wanted_releases_everything() -> None:
    soft = staffing_requests(load("apac-time-and-materials"), firm=False)
    assert [r.status for r in firm_up(soft, [])] == ["RELEASED", "RELEASED"]


# --- procurement ----------------------------------------------------------------------------

def test_purchase_requisition_per_subcontractor() -> None:
    reqs = purchase_requisitions(load("emea-milestone-erp-rollout"), cost_center="CC-DE-ERP",
                                 project_code="ERP-DE-2027-0042")
    assert len(reqs) == 1
    req = reqs[0]
    assert (req.vendor, req.amount, req.currency) == ("Paie Connect SAS", Decimal("38000.00"), "EUR")
    assert (req.cost_center, req.project_code) == ("CC-DE-ERP", "ERP-DE-2027-0042")
    assert req.to_json_dict()["amount"] == "38000.00"


def test_requisition_ids_are_deterministic_per_deal_and_vendor() -> None:
    event = load("emea-milestone-erp-rollout")
    first = purchase_requisitions(event, cost_center="A", project_code="P1")
    again = purchase_requisitions(load("emea-milestone-erp-rollout"), cost_center="B", project_code="P2")
    assert first[0].requisition_id == again[0].requisition_id
    assert first[0].requisition_id is not None and first[0].requisition_id.startswith("PR-")


def test_two_subcontractors_get_distinct_requisitions_in_their_own_currency() -> None:
    raw = load("emea-milestone-erp-rollout").model_dump(mode="json", by_alias=True)
    raw["detail"]["subcontractors"].append({"vendor": "Paie Connect SAS", "scope": "Payroll testing",
                                            "cost": {"value": "1200.500", "currency": "KWD"}, "country": "FR"})
    reqs = purchase_requisitions(parse_event(raw), cost_center="C", project_code="P")
    assert [(r.amount, r.currency) for r in reqs] == [(Decimal("38000.00"), "EUR"), (Decimal("1200.500"), "KWD")]
    assert len({r.requisition_id for r in reqs}) == 2


def test_no_subcontractors_no_requisitions() -> None:
    assert purchase_requisitions(load("us-fixed-fee-advisory"), cost_center="C", project_code="P") == []

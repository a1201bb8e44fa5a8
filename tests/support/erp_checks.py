"""What the fake ERP must hold after any number of deliveries, retries, replays or redrives of the
same deals: exactly one of everything each deal asks for."""

from collections import Counter
from typing import Any


def assert_one_of_everything(state: Any, deals: dict[str, dict], codes: dict[str, str]) -> None:
    """One customer, project and billing schedule per deal, one staffing request per need, one
    requisition per subcontractor and one CRM write-back per deal. `codes`: opportunity id to
    project code, as the handoff records name them."""
    assert sorted(c["legalName"] for c in state.customers.values()) == sorted(
        d["account"]["legalName"] for d in deals.values())
    assert sorted(state.projects) == sorted(codes.values())
    assert Counter(s["projectCode"] for s in state.schedules.values()) == Counter(codes.values())
    assert Counter(r["opportunityId"] for r in state.staffing.values()) == {
        o: len(d["staffing"]) for o, d in deals.items()}
    assert {r["status"] for r in state.staffing.values()} == {"FIRM"}
    assert Counter(r["projectCode"] for r in state.requisitions.values()) == {
        codes[o]: len(d["subcontractors"]) for o, d in deals.items() if d.get("subcontractors")}
    assert state.crm == codes

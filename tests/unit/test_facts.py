"""Facts from one change of a handoff-table item (pure): what each change states, and the same
change delivered again gives the same fact ids."""

import json
from datetime import UTC, datetime

from handoff.domain.facts import facts_from_change

AT = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
PK = "HANDOFF#ho-0123456789abcdef"


def record(**fields: object) -> dict:
    return {"pk": PK, "sk": "RECORD", "handoffId": "ho-0123456789abcdef", "opportunityId": "OPP-1",
            "serviceLine": "advisory", "region": "EMEA", "receivedAt": "2027-01-15T07:00:00.000Z", "rework": 0,
            "status": "RECEIVED", **fields}


def test_a_new_record_is_received_at_its_own_time() -> None:
    [fact] = facts_from_change(None, record(), at=AT, change_id="e1", sequence=7)
    assert (fact.kind, fact.occurred_at, fact.service_line, fact.fix_round) == (
        "received", "2027-01-15T07:00:00.000Z", "advisory", 0)
    assert fact.dt == "2027-01-15" and fact.seq == "7".zfill(40)


def test_a_fix_round_and_an_activation() -> None:
    blocked = record(status="BLOCKED")
    resumed = facts_from_change(blocked, record(status="VALIDATING", rework=1), at=AT, change_id="e2")
    assert [(f.kind, f.fix_round) for f in resumed] == [("round_started", 1), ("status_changed", 1)]
    done = facts_from_change(record(status="PROVISIONING", rework=1),
                             record(status="ACTIVATED", rework=1, activatedAt="2027-01-15T09:30:00.000Z"),
                             at=AT, change_id="e3")
    activated = next(f for f in done if f.kind == "activated")
    assert activated.duration_seconds == 9000.0 and activated.occurred_at == "2027-01-15T09:30:00.000Z"


def test_exceptions_raised_and_resolved_by_difference() -> None:
    def item(*codes: str) -> dict:
        return {"pk": PK, "sk": "EXCEPTIONS#ValidateReadiness", "exceptions": json.dumps([
            {"code": c, "severity": "BLOCKING", "message": "m", "step": "ValidateReadiness", "field": "f",
             "ownerGroup": "finance"} for c in codes])}

    first = facts_from_change(None, item("INVALID_TAX_ID", "MISSING_FIELD"), at=AT, change_id="e4")
    assert sorted((f.kind, f.code) for f in first) == [("exception_raised", "INVALID_TAX_ID"),
                                                        ("exception_raised", "MISSING_FIELD")]
    changed = facts_from_change(item("INVALID_TAX_ID", "MISSING_FIELD"), item("MISSING_FIELD"), at=AT, change_id="e5")
    assert [(f.kind, f.code, f.owner_group) for f in changed] == [("exception_resolved", "INVALID_TAX_ID", "finance")]
    removed = facts_from_change(item("MISSING_FIELD"), None, at=AT, change_id="e6")  # a new round deletes them
    assert [(f.kind, f.code) for f in removed] == [("exception_resolved", "MISSING_FIELD")]


def test_an_approval_requested_then_decided_with_its_duration() -> None:
    pending = {"pk": PK, "sk": "APPROVAL#x", "approvalId": "x", "kind": "finance", "status": "PENDING",
               "createdAt": "2027-01-15T08:00:00.000Z"}
    [asked] = facts_from_change(None, pending, at=AT, change_id="e7")
    assert (asked.kind, asked.approval_kind) == ("approval_requested", "finance")
    decided = {**pending, "status": "EXPIRED", "decidedAt": "2027-01-16T08:00:00.000Z"}
    [fact] = facts_from_change(pending, decided, at=AT, change_id="e8")
    assert (fact.kind, fact.decision, fact.duration_seconds) == ("approval_decided", "EXPIRED", 86400.0)
    assert facts_from_change(decided, {**decided, "comment": "late"}, at=AT, change_id="e9") == []


def test_redelivery_gives_the_same_ids_and_other_items_give_nothing() -> None:
    again = facts_from_change(None, record(), at=AT, change_id="e1")
    assert again == facts_from_change(None, record(), at=AT, change_id="e1")
    assert again[0].fact_id != facts_from_change(None, record(), at=AT, change_id="other")[0].fact_id
    assert facts_from_change(None, {"pk": PK, "sk": "NOTICE#fix-0"}, at=AT, change_id="e10") == []
    assert facts_from_change(None, {"pk": "COUNTER#project", "sk": "COUNTER"}, at=AT, change_id="e11") == []


def test_a_call_outcome_and_the_deal_terms() -> None:
    call = {"pk": PK, "sk": "CALL#2027-01-15T08:00:00.000Z#ab", "step": "SetupBillingSchedule", "system": "billing",
            "operation": "create_schedule", "outcome": "FAILED", "error": "IntegrationTransient",
            "at": "2027-01-15T08:00:00.000Z", "durationSeconds": 1.5}
    [fact] = facts_from_change(None, call, at=AT, change_id="e12")
    assert (fact.system, fact.outcome, fact.error, fact.duration_seconds) == (
        "billing", "FAILED", "IntegrationTransient", 1.5)
    event = {"detail": {"eventId": "ev", "occurredAt": "2027-01-10T00:00:00Z",
                        "opportunity": {"id": "OPP-1", "serviceLine": "advisory", "region": "EMEA",
                                        "closeDate": "2027-01-10"},
                        "account": {"country": "DE", "erpCustomerId": None},
                        "contract": {"type": "milestone", "value": {"value": "1000.00", "currency": "EUR"},
                                     "paymentTermsDays": 60, "clauses": [{"id": "c", "title": "Liability"}]},
                        "scope": {"countries": ["FR", "DE"]}, "subcontractors": [{"vendor": "v"}]}}
    [deal] = facts_from_change(None, {"pk": PK, "sk": "DEAL", "event": json.dumps(event)}, at=AT, change_id="e13")
    assert (deal.contract_type, deal.amount, deal.countries, deal.subcontractors, deal.customer_new) == (
        "milestone", "1000.00", "DE,FR", 1, True)
    assert deal.closed_ts == datetime(2027, 1, 10, tzinfo=UTC).timestamp()

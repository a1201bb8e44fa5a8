"""Mark handoff activated: the Handoff Activated event goes out before the status changes, so a bus
that refuses it leaves the handoff un-activated for the step's Retry (then CloseHandoff) to handle."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handoff.adapters.event_bus import EventBus
from handoff.adapters.handoff_store import HandoffStore
from handoff.contracts import parse_event
from handoff.contracts.record import ProjectShell
from handoff.contracts.timestamps import iso
from handoff.domain.errors import IntegrationTransient
from handoff.handlers import activate_handoff
from handoff.handlers._step import HandoffRef
from tests.conftest import load_raw
from tests.support.aws import create_handoff_table, forget_aws_clients

REGION = "eu-west-1"


class RefusingEvents:
    def put_events(self, **_kwargs: Any) -> dict:
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}]}


class RecordingEvents:
    def __init__(self) -> None:
        self.entries: list[dict] = []

    def put_events(self, Entries: list[dict]) -> dict:
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e-{len(self.entries)}"}]}


class RecordingCrm:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def project_created(self, opportunity_id: str, project_code: str, *, idempotency_key: str, **_: object) -> None:
        self.calls.append((opportunity_id, project_code, idempotency_key))


@pytest.fixture
def handoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HandoffStore, str, RecordingCrm]]:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        monkeypatch.setenv("HANDOFF_TABLE", "handoffs")
        forget_aws_clients()
        create_handoff_table("handoffs", REGION)
        store = HandoffStore(boto3.resource("dynamodb", region_name=REGION).Table("handoffs"))
        raw = load_raw("closed-won", "us-fixed-fee-advisory")
        handoff_id = store.register(parse_event(raw), raw, datetime(2026, 11, 20, 9, tzinfo=UTC)).handoff_id
        store.save(handoff_id, project=ProjectShell(code="ADV-AMER-2026-0042", name="Advisory", cost_center="CC-1",
                                                    tax_treatment="standard", start_date=date(2026, 12, 1),
                                                    end_date=date(2027, 2, 26)).to_json_dict())
        crm = RecordingCrm()
        monkeypatch.setattr(activate_handoff, "ports", lambda: SimpleNamespace(crm=crm))
        yield store, handoff_id, crm
        forget_aws_clients()


def test_a_refused_activation_event_leaves_the_handoff_not_activated(
        handoff: tuple[HandoffStore, str, RecordingCrm], monkeypatch: pytest.MonkeyPatch) -> None:
    store, handoff_id, _crm = handoff
    monkeypatch.setattr(activate_handoff, "event_bus", lambda: EventBus(RefusingEvents(), "bus"))
    with pytest.raises(IntegrationTransient, match="InternalFailure"):
        activate_handoff.activate(HandoffRef(handoffId=handoff_id))
    record = store.record(handoff_id)
    assert record.status == "RECEIVED" and record.activated_at is None
    assert "MarkActivated" not in {t.step for t in record.timeline}


def test_activation_writes_back_publishes_then_marks_activated(
        handoff: tuple[HandoffStore, str, RecordingCrm], monkeypatch: pytest.MonkeyPatch) -> None:
    store, handoff_id, crm = handoff
    events = RecordingEvents()
    monkeypatch.setattr(activate_handoff, "event_bus", lambda: EventBus(events, "bus"))
    assert activate_handoff.activate(HandoffRef(handoffId=handoff_id)) == {
        "handoffId": handoff_id, "projectCode": "ADV-AMER-2026-0042"}
    assert crm.calls == [("hs-deal-9912004", "ADV-AMER-2026-0042", f"{handoff_id}:MarkActivated")]
    [entry] = events.entries
    detail = json.loads(entry["Detail"])
    assert (entry["Source"], entry["DetailType"]) == ("closed-won-handoff", "Handoff Activated")
    assert (detail["handoffId"], detail["projectCode"]) == (handoff_id, "ADV-AMER-2026-0042")
    record = store.record(handoff_id)
    assert record.status == "ACTIVATED" and record.activated_at is not None
    assert detail["activatedAt"] == iso(record.activated_at)

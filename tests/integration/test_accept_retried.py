"""AcceptEvent retried within its own execution (its first answer lost to a timeout or a throttled
write after the commit) gets its registration back; the same event in another execution is a
duplicate. Without this a retried AcceptEvent ended the only execution as "Duplicate event ignored"
and the handoff stayed RECEIVED for good (found by `--inject-faults 0.3`)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from handoff.adapters.handoff_store import HandoffStore
from handoff.contracts import HandoffStatus, parse_event
from tests.conftest import load_raw
from tests.support.aws import create_handoff_table

REGION = "eu-west-1"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FIRST, OTHER = "arn:aws:states:eu-west-1:1:execution:wf:first", "arn:aws:states:eu-west-1:1:execution:wf:other"


@pytest.fixture
def store() -> Iterator[HandoffStore]:
    with mock_aws():
        create_handoff_table("handoffs", REGION)
        yield HandoffStore(boto3.resource("dynamodb", region_name=REGION).Table("handoffs"))


def deal(event_id: str) -> dict:
    raw = load_raw("needs-fix", "unsigned-contract")
    raw["detail"]["eventId"] = event_id
    return raw


def register(store: HandoffStore, raw: dict, execution: str | None, minutes: int = 0):
    return store.register(parse_event(raw), raw, T0 + timedelta(minutes=minutes), execution_id=execution)


def test_a_retry_in_the_same_execution_starts_again_another_execution_is_a_duplicate(store: HandoffStore) -> None:
    first = register(store, deal("evt-1"), FIRST)
    assert (first.action, first.status) == ("start", "RECEIVED")

    retried = register(store, deal("evt-1"), FIRST, minutes=1)
    assert (retried.handoff_id, retried.action, retried.status) == (first.handoff_id, "start", "RECEIVED")
    assert register(store, deal("evt-1"), OTHER, minutes=2).action == "duplicate"
    assert register(store, deal("evt-1"), None, minutes=2).action == "duplicate"
    assert [t.step for t in store.record(first.handoff_id).timeline].count("AcceptEvent") == 1


def test_a_retried_fix_round_resumes_once(store: HandoffStore) -> None:
    handoff_id = register(store, deal("evt-1"), FIRST).handoff_id
    store.set_status(handoff_id, HandoffStatus.BLOCKED)
    fixed = deal("evt-fixed")
    fixed["detail"]["contract"].update(status="signed", signedAt="2026-11-22T09:00:00Z")

    taken = register(store, fixed, OTHER, minutes=5)
    again = register(store, fixed, OTHER, minutes=6)

    assert (taken.action, again.action) == ("resume", "resume") and again.status == "VALIDATING"
    assert store.state(handoff_id).rework == 1
    assert register(store, fixed, FIRST, minutes=7).action == "duplicate"

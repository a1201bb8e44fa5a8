"""TrackPipeline with stage changes of one deal running at once: the older event's writes land after
the newer one's, and the ledger still ends as the newest event says (moto: handoff, ledger and
idempotency tables; the ledger adapter)."""

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handoff.adapters import system_ports
from handoff.adapters.ledger.inspector import LedgerInspector
from handoff.adapters.ledger.staffing import LedgerStaffing
from handoff.handlers import track_pipeline
from local.lambdas import LambdaContext
from tests.support.aws import (
    create_handoff_table,
    create_idempotency_table,
    create_ledger_table,
    forget_aws_clients,
)
from tests.support.events import closed_won, stage_changed

REGION = "eu-west-1"


def forget_cached_clients() -> None:
    forget_aws_clients()
    system_ports.use_backoff_sleep(system_ports.use_backoff_sleep(lambda _s: None))  # also forgets ports


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> Iterator[LedgerInspector]:
    with mock_aws():
        for name, value in {"AWS_DEFAULT_REGION": REGION, "HANDOFF_TABLE": "handoffs", "LEDGER_TABLE": "ledger",
                            "IDEMPOTENCY_TABLE": "idempotency", "SYSTEMS_CONFIG": "{}"}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SYSTEMS_SECRET_ARN", raising=False)
        forget_cached_clients()
        create_handoff_table("handoffs", REGION)
        create_ledger_table("ledger", REGION)
        create_idempotency_table("idempotency", REGION)
        yield LedgerInspector(boto3.resource("dynamodb", region_name=REGION).Table("ledger"))
        forget_cached_clients()


def run(event: dict) -> dict:
    return track_pipeline.handler(event, LambdaContext(function_name="TrackPipeline", deadline=time.monotonic() + 60))


def statuses(ledger: LedgerInspector, opportunity: str) -> list[str]:
    return sorted(r["status"] for r in ledger.staffing_requests(opportunity))


def test_a_loss_handled_while_an_older_stage_change_opens_soft_requests_still_releases_them(
        ledger: LedgerInspector, monkeypatch: pytest.MonkeyPatch) -> None:
    won = closed_won("emea-milestone-erp-rollout", "race-1")
    negotiation = stage_changed(won, stage="Negotiation", probability=60, occurred_at="2026-10-01T09:00:00Z")
    lost = stage_changed(won, stage="Closed Lost", probability=0, occurred_at="2026-10-02T09:00:00Z")
    open_soft = LedgerStaffing.open_soft
    interleaved: list[dict] = []

    def slow_open_soft(self: LedgerStaffing, *args: Any, **kwargs: Any) -> Any:
        if not interleaved:  # the loss runs start to finish while this call is on the wire
            interleaved.append(run(lost))
        return open_soft(self, *args, **kwargs)

    monkeypatch.setattr(LedgerStaffing, "open_soft", slow_open_soft)
    result = run(negotiation)

    assert result["action"] == "OPEN_SOFT" and interleaved[0]["action"] == "RELEASE"
    assert interleaved[0]["released"] == 0  # nothing was open yet when the loss was handled
    assert statuses(ledger, "race-1") == ["RELEASED"] * 3  # the negotiation caught up with the loss


def test_without_a_race_there_is_no_catch_up(ledger: LedgerInspector, monkeypatch: pytest.MonkeyPatch) -> None:
    won = closed_won("emea-milestone-erp-rollout", "race-2")
    calls: list[str] = []
    release = LedgerStaffing.release
    monkeypatch.setattr(LedgerStaffing, "release", lambda self, *a, **k: calls.append("release") or release(
        self, *a, **k))
    assert run(stage_changed(won, stage="Negotiation", probability=60))["action"] == "OPEN_SOFT"
    assert statuses(ledger, "race-2") == ["SOFT"] * 3 and calls == []

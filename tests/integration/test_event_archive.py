"""The archive adapter against moto: the retention it reports, a replay started with the window and
the bus as destination, followed by name; an unknown replay is ReplayNotFound."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handoff.adapters.event_archive import EventArchive, ReplayNotFound
from handoff.domain.replay_window import ReplayWindowInvalid
from handoff.logic.replay_events import start_replay

REGION = "eu-west-1"


@pytest.fixture
def archive() -> Iterator[EventArchive]:
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        bus = events.create_event_bus(Name="handoffs")["EventBusArn"]
        created = events.create_archive(ArchiveName="crm-events", EventSourceArn=bus, RetentionDays=7,
                                        EventPattern=json.dumps({"source": [{"prefix": "crm."}]}))
        yield EventArchive(events, "crm-events", created["ArchiveArn"], bus)


def test_a_replay_of_a_window_is_started_onto_the_bus_and_followed(archive: EventArchive) -> None:
    now = datetime.now(UTC)
    started = start_replay(archive, (now - timedelta(hours=2)).isoformat(), (now - timedelta(hours=1)).isoformat(),
                           now=now, prefix="ClosedWonHandoff", caller="arn:aws:iam::1:user/ops")
    assert started.retention_days == 7 and started.archive == "crm-events" and started.state == "STARTING"
    assert started.name.startswith("ClosedWonHandoff-") and started.arn.endswith(f":replay/{started.name}")
    followed = archive.replay(started.name)
    assert followed["replayName"] == started.name and followed["state"] in ("STARTING", "RUNNING", "COMPLETED")
    assert abs(_epoch(followed["start"]) - (now - timedelta(hours=2)).timestamp()) < 1
    assert abs(_epoch(followed["end"]) - (now - timedelta(hours=1)).timestamp()) < 1


def test_the_archives_retention_bounds_the_window(archive: EventArchive) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ReplayWindowInvalid, match="retention of 7 days") as refused:
        start_replay(archive, (now - timedelta(days=8)).isoformat(), now.isoformat(), now=now, prefix="p", caller=None)
    assert refused.value.field == "start"


def test_an_unknown_replay_is_not_found(archive: EventArchive) -> None:
    with pytest.raises(ReplayNotFound):
        archive.replay("no-such-replay")


def _epoch(value: Any) -> float:
    assert isinstance(value, str)  # ISO 8601, as the API answers
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()

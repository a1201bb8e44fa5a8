"""A replay of the bus archive through the operators' recovery API (POST /replays, GET
/replays/{name}) on the embedded runtime: exactly the events of the window, oldest first, each with
`replay-name`, reach the bus's rules again; a window EventBridge could not replay is refused
naming the field; the CLI's `replay` takes the same route."""

import copy
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from local import cli
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw


def own(name: str, tag: str) -> dict:
    event = copy.deepcopy(load_raw("needs-fix", name))
    event["detail"]["opportunity"]["id"] = f"{tag}-{name}"
    event["detail"]["eventId"] = f"{tag}-{name}-1"
    return event


def publish_at(runtime: EmbeddedRuntime, event: dict, at: datetime) -> None:
    runtime.client("events").put_events(Entries=[{
        "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"]),
        "EventBusName": runtime.env("EVENT_BUS_NAME"), "Time": at}])


def replay_inputs(runtime: EmbeddedRuntime, name: str) -> list[dict]:
    sfn = runtime.client("stepfunctions")
    found = []
    for execution in sorted(runtime.executions(), key=lambda e: e["startDate"]):
        body = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        if body.get("replay-name") == name:
            found.append(body)
    return found


def completed(runtime: EmbeddedRuntime, name: str) -> dict:
    for _ in range(200):
        status, state = runtime.api_call("GET", f"/replays/{name}")
        assert status == 200, state
        if state["state"] == "COMPLETED":
            runtime.wait_settled()
            return state
        time.sleep(0.05)
    raise TimeoutError(name)


def test_exactly_the_windows_events_are_replayed_in_order_with_the_replay_name(runtime: EmbeddedRuntime) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    names = ("missing-tax-id", "unsigned-contract", "milestones-do-not-sum")
    events = [own(name, "rp1") for name in names]
    # Published out of order, the oldest last: 2 h, 1 h and 4 h ago.
    for event, hours in zip(events, (2, 1, 4), strict=True):
        publish_at(runtime, event, now - timedelta(hours=hours))
    publish_at(runtime, own("missing-tax-id", "rp1-late"), now - timedelta(minutes=10))  # after the window
    publish_at(runtime, own("unsigned-contract", "rp1-early"), now - timedelta(hours=5))  # before it
    runtime.wait_settled()

    status, started = runtime.api_call("POST", "/replays", {
        "start": (now - timedelta(hours=4, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert status == 202, started
    assert started["retentionDays"] == 30 and started["state"] in ("STARTING", "RUNNING", "COMPLETED")
    state = completed(runtime, started["replayName"])
    assert state["replayName"] == started["replayName"]

    replayed = replay_inputs(runtime, started["replayName"])
    assert [e["detail"]["eventId"] for e in replayed] == [
        "rp1-milestones-do-not-sum-1", "rp1-missing-tax-id-1", "rp1-unsigned-contract-1"]
    assert all(e["replay-name"] == started["replayName"] and e["source"].startswith("crm.") for e in replayed)
    # Each was a duplicate of what the handoff already had: still one handoff per deal, still BLOCKED.
    records = [r for r in runtime.records() if r.opportunity_id.startswith("rp1-")]
    assert sorted((r.opportunity_id, r.status, r.rework) for r in records) == sorted(
        [(f"rp1-{n}", "BLOCKED", 0) for n in names]
        + [("rp1-late-missing-tax-id", "BLOCKED", 0), ("rp1-early-unsigned-contract", "BLOCKED", 0)])


@pytest.mark.parametrize(("body", "field"), [
    ({"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T09:00:00Z"}, "end"),
    ({"start": "2999-01-01T00:00:00Z", "end": "2999-01-02T00:00:00Z"}, "start"),
    ({"start": "2020-01-01T00:00:00Z", "end": "2999-01-01T00:00:00Z"}, "end"),
    ({"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}, "start"),
    ({"end": "2020-01-02T00:00:00Z"}, "start"),
    ({"start": "2026-12-02 10:00", "end": "2026-12-02T11:00:00Z"}, "start"),
])
def test_a_window_that_cannot_be_replayed_is_refused_naming_the_field(runtime: EmbeddedRuntime, body: dict,
                                                                       field: str) -> None:
    status, answer = runtime.api_call("POST", "/replays", body)
    assert status == 422 and answer["problems"][0]["field"] == field, answer


def test_an_unknown_replay_is_404(runtime: EmbeddedRuntime) -> None:
    status, answer = runtime.api_call("GET", "/replays/ClosedWonHandoff-nope")
    assert status == 404 and answer["problems"][0]["field"] == "replayName"


def test_replay_from_the_command_line(runtime: EmbeddedRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    api = f"{runtime.api.base_url}/{runtime.resources.stage_name}"
    now = datetime.now(UTC)
    start, end = (now - timedelta(minutes=5)).isoformat(), now.isoformat()
    assert cli.main(["replay", "--api", api, "--start", start, "--end", end]) == 0
    assert "): COMPLETED" in capsys.readouterr().out
    assert cli.main(["replay", "--api", api, "--start", start]) == 0  # --end: now
    assert "): COMPLETED" in capsys.readouterr().out
    assert cli.main(["replay", "--api", api, "--start", end, "--end", start]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --end: end (") and "must be after start" in error
    runtime.wait_settled()

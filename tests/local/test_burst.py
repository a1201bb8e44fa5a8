"""A small burst of the realistic mix (local/burst.py) through the embedded runtime and the
one-shot CLI: nothing lost, nothing duplicated. The 1,000-event burst is `make bench`'s
(benchmarks/RESULTS.md); no timing is asserted here."""

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.burst import Burst, check, classify, generate
from local.runtime import EmbeddedRuntime
from tests.support.events import closed_won

ROOT = Path(__file__).resolve().parents[2]


def test_the_generator_is_seeded_and_mixes_every_kind() -> None:
    burst = generate(60, seed=3)
    assert burst.events == generate(60, seed=3).events and burst.events != generate(60, seed=4).events
    counts = burst.counts()
    assert len(burst.events) == 60 and set(counts) == {"closed_won", "stage_change", "needs_fix", "invalid", "duplicate"}
    ids = [e["detail"]["eventId"] for e in burst.events]
    duplicates = [i for i, kind in zip(ids, burst.kinds, strict=True) if kind == "duplicate"]
    assert all(ids.count(i) >= 2 for i in duplicates)  # a duplicate is an earlier event sent again
    # Own opportunity ids: none of the examples' ids is reused.
    opportunities = {(e["detail"].get("opportunity") or {}).get("id") for e in burst.events} - {None}
    assert all(o.startswith("burst-3-") for o in opportunities)
    # What a file's events are, told from the events alone, agrees with the generator's kinds
    # (needs-fix deals are valid closed-won events).
    told = classify(burst.events).kinds
    assert told == [{"needs_fix": "closed_won"}.get(k, k) for k in burst.kinds]


@pytest.fixture(scope="module")
def burst_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRuntime]:
    with EmbeddedRuntime(tmp_path_factory.mktemp("burst")) as runtime:
        yield runtime


def test_a_burst_of_the_mix_loses_nothing_and_duplicates_nothing(burst_runtime: EmbeddedRuntime) -> None:
    burst = generate(16, seed=14)  # every kind of the mix at least twice; small, for the suite's time
    kinds = Counter(burst.kinds)
    assert min(kinds[k] for k in ("closed_won", "needs_fix", "invalid", "duplicate", "stage_change")) >= 1, kinds
    before = check(burst_runtime, Burst()).counts  # what other tests of this runtime left
    burst_runtime.publish(burst.events)
    burst_runtime.wait_settled()
    burst_runtime.decide_all("approve")
    outcome = check(burst_runtime, burst)
    assert outcome.problems == []
    closed, blocked = burst.opportunities("closed_won"), burst.opportunities("needs_fix")
    mine = Counter(r.status for r in burst_runtime.records() if r.opportunity_id in {**closed, **blocked})
    assert mine == {"ACTIVATED": len(closed), "BLOCKED": len(blocked)}
    added = {name: count - before.get(name, 0) for name, count in outcome.counts.items()}
    assert added["projects"] == added["billing_schedules"] == added["launch_packet_emails"] == len(closed)
    assert added["quarantined"] == kinds["invalid"]
    # Sent again after the burst settled, every event changes nothing.
    burst_runtime.publish(burst.events)
    burst_runtime.wait_settled()
    again = check(burst_runtime, burst)
    assert again.problems == [] and again.counts == outcome.counts


def test_the_check_finds_what_was_created_twice(burst_runtime: EmbeddedRuntime) -> None:
    """The check can fail: a second project for an activated handoff is reported."""
    from handoff.adapters.ledger.inspector import LedgerInspector
    from tests.conftest import load_raw

    event = load_raw("closed-won", "us-fixed-fee-advisory")
    event["detail"]["opportunity"]["id"], event["detail"]["eventId"] = "burst-twice-1", "evt-burst-twice-1"
    burst = Burst()
    burst.add(event, "closed_won", "us-fixed-fee-advisory")
    burst_runtime.publish(burst.events)
    burst_runtime.wait_settled()
    assert check(burst_runtime, burst).problems == []
    handoff = next(r.handoff_id for r in burst_runtime.records() if r.opportunity_id == "burst-twice-1")
    table = burst_runtime.session.resource("dynamodb").Table(burst_runtime.env("LEDGER_TABLE"))
    project = next(p for p in LedgerInspector(table).projects() if str(p.get("idempotencyKey", "")).startswith(handoff))
    table.put_item(Item={**project, "pk": project["pk"] + "-AGAIN", "code": project["code"] + "-AGAIN"})
    try:
        problems = check(burst_runtime, burst).problems
    finally:
        table.delete_item(Key={"pk": project["pk"] + "-AGAIN", "sk": project["sk"]})
    assert any(p.startswith("projects: more than one") for p in problems), problems


def test_the_cli_runs_a_burst_file_with_invalid_events_in_it(tmp_path: Path) -> None:
    events = tmp_path / "burst.json"
    made = subprocess.run([sys.executable, "-m", "local", "burst", "--events", "8", "--seed", "14", "--out", str(events)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert made.returncode == 0, made.stderr
    burst = generate(8, seed=14)
    assert json.loads(events.read_text()) == burst.events
    done = subprocess.run([sys.executable, "-m", "local", "run", str(events)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    invalid = burst.kinds.count("invalid")
    assert done.stdout.count("quarantined (fails its contract): ") == invalid
    assert "nothing lost, nothing duplicated" in done.stdout, done.stdout[-3000:]
    assert done.stdout.count(": ACTIVATED\n") == len(burst.opportunities("closed_won"))


def handoff_with_fault(runtime: EmbeddedRuntime, opportunity_id: str, fault: Any) -> Any:
    """One closed-won deal of its own run while `fault` is injected (removed after); its record."""
    event = closed_won("us-fixed-fee-advisory", opportunity_id, f"evt-{opportunity_id}")
    try:
        runtime.publish([event])
        runtime.wait_settled()
    finally:
        runtime.faults.faults.remove(fault)
    return next(r for r in runtime.records() if r.opportunity_id == opportunity_id)


def test_a_step_over_the_ses_sending_rate_is_retried_not_failed(burst_runtime: EmbeddedRuntime) -> None:
    """A burst outruns SES's sending rate for longer than the SDK retries (5 attempts): the step
    fails as Mail.Throttled, the workflow retries it (docs/capacity.md), the handoff activates and
    the launch packet is mailed once."""
    def launch_packets() -> int:
        return sum(m.subject.startswith("Launch packet ready") for m in burst_runtime.emails())

    before = launch_packets()
    throttled = burst_runtime.faults.inject("ses", "SendRawEmail", "Throttling", times=8)
    record = handoff_with_fault(burst_runtime, "burst-ses-1", throttled)
    assert throttled.fired == 8
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    failed = [e for e in burst_runtime.lambdas.invocations if e[1] == "Mail.Throttled"]
    assert len(failed) == 1  # the first attempt of the launch-packet step, after the SDK's 5
    assert launch_packets() == before + 1


def test_a_used_up_daily_mail_quota_fails_the_handoff_at_once_and_a_retry_mails_once(
    burst_runtime: EmbeddedRuntime,
) -> None:
    """SES answers its daily quota with the same code as its rate (Throttling): retrying for minutes
    cannot pass, so the step fails as Mail.DailyQuotaExceeded, unretried; the handoff is FAILED,
    named, and a retry once the quota is back mails the launch packet once."""
    quota = burst_runtime.faults.inject("ses", "SendRawEmail", "Throttling", times=50,
                                        message="Daily message quota exceeded.")
    record = handoff_with_fault(burst_runtime, "burst-quota-1", quota)
    assert record.status == "FAILED", (record.status, record.exceptions)
    [exception] = record.exceptions
    assert exception.message.startswith("Mail.DailyQuotaExceeded: SES Throttling: Daily message quota exceeded")
    assert [e for e in burst_runtime.lambdas.invocations if e[1] == "Mail.DailyQuotaExceeded"] != []
    assert quota.fired <= 5  # one invocation's SDK attempts: the workflow did not retry the step
    assert not any(m.subject.startswith(f"Launch packet ready: {record.project.code}") for m in burst_runtime.emails())

    status, body = burst_runtime.retry(record.handoff_id)
    assert status == 202, body
    burst_runtime.wait_settled()
    assert next(r for r in burst_runtime.records() if r.opportunity_id == "burst-quota-1").status == "ACTIVATED"
    assert sum(m.subject.startswith(f"Launch packet ready: {record.project.code}")
               for m in burst_runtime.emails()) == 1

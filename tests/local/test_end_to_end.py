"""The whole handoff on the embedded runtime: the stack's own template on moto, handlers in-process."""

import copy
import json
from decimal import Decimal
from pathlib import Path

from local.runtime import EmbeddedRuntime
from tests.conftest import fixture_files, load_raw

EXPECTED_TOTALS = {
    "006Qy00000AbCdE1": (Decimal("480000.00"), "EUR", 4),
    "hs-deal-9912004": (Decimal("85000.00"), "USD", 3),
    "006Qy00000MsR8k2": (Decimal("144000.00"), "USD", 12),
}


def by_opportunity(runtime: EmbeddedRuntime) -> dict:
    return {r.opportunity_id: r for r in runtime.records()}


def test_every_closed_won_example_activates_with_correct_billing(runtime: EmbeddedRuntime) -> None:
    events = [json.loads(p.read_text()) for p in fixture_files("closed-won")]
    runtime.publish(events)
    runtime.wait_settled()
    decided = runtime.decide_all("approve")
    records = by_opportunity(runtime)
    assert decided >= 3  # the EMEA deal needs procurement, finance and compliance
    for event in events:
        record = records[event["detail"]["opportunity"]["id"]]
        assert record.status == "ACTIVATED", (record.status, record.exceptions)
        assert record.project is not None and record.project.code
        assert record.customer is not None
        schedule = record.billing_schedule
        assert schedule is not None
        assert sum(line.amount for line in schedule.lines) == schedule.total
        assert record.activated_at is not None and record.duration_seconds is not None
        assert len(record.staffing_requests) == len(event["detail"]["staffing"])
        assert len(record.purchase_requisitions) == len(event["detail"].get("subcontractors", []))
        assert all(a.decision == "APPROVED" for a in record.approvals)
        assert record.launch_packet and record.launch_packet.startswith("s3://")
    for opportunity, (total, currency, lines) in EXPECTED_TOTALS.items():
        schedule = records[opportunity].billing_schedule
        assert (schedule.total, schedule.currency, len(schedule.lines)) == (total, currency, lines)
    tm = records["006Qy00000ApT4m9"].billing_schedule
    assert tm.total <= Decimal("312000.00") and all(line.estimate for line in tm.lines)
    emea = records["006Qy00000AbCdE1"]
    assert {a.kind for a in emea.approvals} >= {"procurement", "compliance"}
    assert emea.purchase_requisitions[0].amount == Decimal("38000.00")
    # Each step wrote one timeline entry, none twice.
    steps = [t.step for t in emea.timeline if not t.step.startswith("Approval")]
    assert len(steps) == len(set(steps))
    # Launch packets reached delivery leadership by email.
    subjects = [m.subject for m in runtime.emails()]
    assert sum(s.startswith("Launch packet ready") for s in subjects) == len(events)


def test_the_same_event_twice_creates_one_project(runtime: EmbeddedRuntime) -> None:
    event = load_raw("closed-won", "us-retainer-managed-services")
    event["detail"]["opportunity"]["id"] = "dup-opportunity-1"
    event["detail"]["eventId"] = "dup-event-1"
    runtime.publish([event, copy.deepcopy(event)])
    runtime.wait_settled()
    runtime.publish([event])  # a late redelivery
    runtime.wait_settled()
    records = [r for r in runtime.records() if r.opportunity_id == "dup-opportunity-1"]
    assert len(records) == 1 and records[0].status == "ACTIVATED"
    from handoff.adapters.ledger.inspector import LedgerInspector

    ledger = runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE"))
    projects = [p for p in LedgerInspector(ledger).projects() if records[0].project.code == p.get("code")]
    assert len(projects) == 1


def test_invalid_events_are_rejected_naming_the_field_and_kept_in_quarantine(runtime: EmbeddedRuntime) -> None:
    readable = [p for p in fixture_files("invalid") if p.stem != "truncated"]
    runtime.publish([json.loads(p.read_text()) for p in readable])
    runtime.wait_settled()
    kept = {q["event"]["detail"]["eventId"]: q for q in runtime.quarantined()}
    expected = {
        "hs-evt-bad-1": "detail.opportunity.id",
        "hs-evt-bad-2": "detail.opportunity.amount.value",
        "hs-evt-bad-3": "detail.schemaVersion",
    }
    for event_id, field in expected.items():
        assert event_id in kept, kept.keys()
        assert any(p["field"] == field for p in kept[event_id]["problems"]), kept[event_id]["problems"]
    assert not [r for r in runtime.records() if r.event_id in expected]
    failed = [e for e in runtime.executions() if e["status"] == "FAILED"]
    assert len(failed) >= len(expected)


def test_needs_fix_examples_end_blocked_with_the_matching_exception(runtime: EmbeddedRuntime) -> None:
    expected = {
        "unsigned-contract": ("CONTRACT_NOT_SIGNED", "contract.status"),
        "milestones-do-not-sum": ("MILESTONES_MISMATCH", "contract.milestones"),
        "missing-tax-id": ("INVALID_TAX_ID", "account.taxId"),
    }
    events = {p.stem: json.loads(p.read_text()) for p in fixture_files("needs-fix")}
    runtime.publish(list(events.values()))
    runtime.wait_settled()
    records = by_opportunity(runtime)
    for name, (code, field) in expected.items():
        record = records[events[name]["detail"]["opportunity"]["id"]]
        assert record.status == "BLOCKED"
        blocking = [(e.code, e.field) for e in record.exceptions if e.severity == "BLOCKING"]
        assert (code, field) in blocking, blocking
        assert record.project is None and record.billing_schedule is None
        # The exceptions queue's message became an open work item (its consumer took it).
        items = runtime.work_items().for_handoff(record.handoff_id)
        assert (code, field, "open") in [(i.code, i.field, i.state) for i in items], items
    owners = {m.to for m in runtime.emails() if m.subject.startswith("Action needed")}
    assert any("grace.tan@" in o for o in owners), owners


def test_cli_json_meets_the_contract_and_rejects_unreadable_input(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    bad = subprocess.run([sys.executable, "-m", "local", "run", str(root / "tests/fixtures/invalid/truncated.json")],
                         capture_output=True, text=True, cwd=root)
    assert bad.returncode == 2 and "truncated.json" in bad.stderr and "not valid JSON" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "local", "run",
                              str(root / "tests/fixtures/invalid/missing-opportunity-id.json")],
                             capture_output=True, text=True, cwd=root)
    assert missing.returncode == 2 and "detail.opportunity.id" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_the_cli_activates_a_deal_in_a_clean_process() -> None:
    """What `make demo` does, in a process without the test suite's environment: the handlers must
    get their settings (Powertools service, metrics namespace, ...) from the stack alone."""
    import os
    import subprocess
    import sys

    from handoff.contracts.record import HandoffRecord

    root = Path(__file__).resolve().parents[2]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    environment["PYTHONPATH"] = f"{root / 'functions'}{os.pathsep}{root}"
    log_file = root / ".local" / "lambda.log"
    logged_before = log_file.stat().st_size if log_file.exists() else 0
    done = subprocess.run([sys.executable, "-m", "local", "run", "--json",
                           str(root / "tests/fixtures/closed-won/us-fixed-fee-advisory.json")],
                          capture_output=True, text=True, cwd=root, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    [record] = [HandoffRecord.model_validate(r) for r in json.loads(done.stdout)]
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    assert record.billing_schedule is not None and record.billing_schedule.total == Decimal("85000.00")
    with log_file.open("rb") as log:  # what this run appended (the file keeps earlier runs' lines)
        log.seek(logged_before if log_file.stat().st_size >= logged_before else 0)  # 0: moved aside at start
        appended = log.read().decode("utf-8").splitlines()
    assert appended and '"service":"service_undefined"' not in appended[-1]


def test_the_cli_runs_stage_changed_events_and_shows_the_soft_requests() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "local", "run",
                           str(root / "tests/fixtures/stage-changed/emea-erp-negotiation.json")],
                          capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(pipeline, no handoff yet): 3 staffing request(s)" in done.stdout
    assert done.stdout.count("[SOFT]") == 3


def test_line_breaks_in_deal_and_owner_names_do_not_fail_the_handoff(runtime: EmbeddedRuntime) -> None:
    # A CRM deal name with a line break used to end the handoff FAILED: the email header refused it.
    event = load_raw("closed-won", "emea-milestone-erp-rollout")
    event["detail"]["opportunity"].update(id="crlf-opportunity-1", name="ERP rollout\r\nBcc: someone@evil.example")
    event["detail"]["opportunity"]["owner"]["name"] = "Lena\nHoffmann"
    event["detail"]["eventId"] = "crlf-opportunity-1-won"
    runtime.publish([event])
    runtime.wait_settled()
    runtime.decide_all("approve")
    record = next(r for r in runtime.records() if r.opportunity_id == "crlf-opportunity-1")
    assert record.status == "ACTIVATED"
    mails = [m for m in runtime.emails() if "ERP rollout Bcc: someone@evil.example" in m.subject]
    assert mails and all("\n" not in m.subject for m in mails)
    assert all(m.message["Bcc"] is None for m in mails)

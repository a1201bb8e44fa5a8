"""Facts and the report end to end: handoffs run on the embedded runtime, every change reaches the
facts through the table's DynamoDB stream, and the report's numbers are what happened."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local.report import collect_facts, report_on, write_facts
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw
from tests.support.events import closed_won
from tests.support.runtime_fixture import runtime  # noqa: F401 - one embedded runtime per test module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reported(runtime: EmbeddedRuntime, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list, Path]:  # noqa: F811
    won = closed_won("us-fixed-fee-advisory", "rep-advisory")
    blocked = load_raw("needs-fix", "missing-tax-id")
    blocked["detail"]["opportunity"]["id"], blocked["detail"]["eventId"] = "rep-taxid", "rep-taxid-1"
    runtime.publish([won, blocked])
    runtime.wait_settled()
    runtime.decide_all("approve")
    fixed = json.loads(json.dumps(blocked))
    fixed["detail"]["eventId"] = "rep-taxid-2"
    fixed["detail"]["account"]["taxId"] = "DE811907980"
    runtime.publish([fixed])
    runtime.wait_settled()
    runtime.decide_all("approve")
    facts = collect_facts(runtime)
    folder = tmp_path_factory.mktemp("facts")
    write_facts(facts, folder)
    write_facts(facts, folder / "again")  # the same facts delivered twice count once
    return report_on(folder), facts, folder


def test_every_change_is_a_fact_and_history_survives_the_fix_round(reported: tuple) -> None:
    _report, facts, _folder = reported
    handoff = next(f.handoff_id for f in facts if f.kind == "received" and f.opportunity_id == "rep-taxid")
    kinds = [f.kind for f in facts if f.handoff_id == handoff]
    assert {"received", "deal", "round_started", "activated", "exception_raised", "exception_resolved",
            "system_call", "approval_requested", "approval_decided", "step"} <= set(kinds)
    raised = [f for f in facts if f.handoff_id == handoff and f.kind == "exception_raised"]
    assert [(f.code, f.severity) for f in raised if f.severity == "BLOCKING"] == [("INVALID_TAX_ID", "BLOCKING")]
    steps = [f.step for f in facts if f.handoff_id == handoff and f.kind == "step" and f.fix_round == 1]
    assert "ValidateReadiness" in steps  # the second round's own entry, the first round's kept
    assert len({f.fact_id for f in facts}) == len(facts)
    # The fix round's timeline entry says what changed and which blocking exception it addresses.
    [entry] = [f for f in facts if f.handoff_id == handoff and f.kind == "step" and f.step == "AcceptEvent"
               and f.fix_round == 1]
    assert "account.taxId" in (entry.detail or "") and "It addresses INVALID_TAX_ID" in (entry.detail or "")


def test_the_report_counts_what_happened(reported: tuple) -> None:
    report, _facts, _folder = reported
    assert report["handoffs"] == 2
    assert report["byStatus"] == {"ACTIVATED": 2}
    assert report["firstTimeRight"] == 0.5  # the advisory deal; the other needed a fix round
    assert report["reworkRate"] == 0.5 and report["exceptionRate"] == 0.5
    assert report["exceptionsByCode"]["INVALID_TAX_ID"] == 1
    assert report["exceptionCycleSeconds"]["byCode"]["INVALID_TAX_ID"]["count"] == 1
    # one call per system of record and activated handoff, none failed (ledger adapters)
    for system in ("customer_master", "projects", "billing", "staffing", "crm"):
        assert report["integrationFailures"][system] == {"calls": 2, "failures": 0, "failureRate": 0.0}
    cycle = report["cycleTimeSeconds"]["receivedToActivated"]
    assert 0 < cycle["p50"] <= cycle["p90"]
    assert report["billingAccuracy"]["schedules"] == 2 and report["billingAccuracy"]["accurate"] == 2
    approvals = sum(v["count"] for v in report["approvalSeconds"].values())
    assert approvals == sum(v["approved"] for v in report["approvals"].values()) >= 1


def test_cli_reports_on_facts_kept_earlier_as_one_json_object(reported: tuple, tmp_path: Path) -> None:
    report, _facts, folder = reported
    done = subprocess.run([sys.executable, "-m", "local", "report", "--facts", str(folder), "--json",
                           "--html", str(tmp_path / "html")], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": "functions:.", "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == report
    page = (tmp_path / "html" / "index.html").read_text()
    assert page.count("<svg") >= 4 and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<script" not in page


@pytest.mark.parametrize("args", [["--facts", "/nonexistent/facts"], ["/nonexistent/events.json"]])
def test_unreadable_input_is_exit_2_naming_it(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "local", "report", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True, env={"PYTHONPATH": "functions:.", "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 2
    assert done.stdout == "" and args[-1] in done.stderr and len(done.stderr.strip().splitlines()) == 1

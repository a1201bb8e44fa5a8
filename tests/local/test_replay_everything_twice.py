"""Replay everything twice and find nothing duplicated: the day's closed-won examples and a stage
change run to the end against the fake ERP (the REST systems of record), then the archive's window
covering them is replayed twice and a dead-letter queue holding a copy of an already-processed event
is redriven. The fake ERP still holds exactly one customer, project, billing schedule, staffing
request per need, requisition per subcontractor and CRM write-back per deal, and every email went
once (counted as tests/local/test_inject_faults.py does)."""

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from local.inject_faults import FaultInjection
from local.runtime import EmbeddedRuntime
from tests.conftest import fixture_files, load_raw
from tests.support.erp_checks import assert_one_of_everything

APPROVAL_REQUESTS = 3  # one per approval the examples need


def replay(runtime: EmbeddedRuntime, start: datetime) -> str:
    status, started = runtime.api_call("POST", "/replays", {"start": start.isoformat(),
                                                             "end": datetime.now(UTC).isoformat()})
    assert status == 202, started
    for _ in range(400):
        state = runtime.api_call("GET", f"/replays/{started['replayName']}")[1]["state"]
        if state == "COMPLETED":
            break
        time.sleep(0.05)
    runtime.wait_settled()
    runtime.decide_all("approve")  # nothing is asked again; were it, it would be decided and counted
    return started["replayName"]


def replayed_inputs(runtime: EmbeddedRuntime, name: str) -> list[dict]:
    sfn = runtime.client("stepfunctions")
    inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in runtime.executions()]
    return [i for i in inputs if i.get("replay-name") == name]


def test_replaying_the_day_twice_and_a_redrive_duplicate_nothing(tmp_path: Path) -> None:
    stage_change = load_raw("stage-changed", "emea-erp-negotiation")
    events = [json.loads(p.read_text()) for p in fixture_files("closed-won")]
    deals = {e["detail"]["opportunity"]["id"]: e["detail"] for e in events}
    injection = FaultInjection(0.0, 0, workdir=tmp_path / "run")  # the fake ERP, no faults
    started = datetime.now(UTC) - timedelta(seconds=5)
    with injection.runtime() as runtime:
        runtime.publish([stage_change])
        runtime.wait_settled()
        runtime.publish(events)
        runtime.decide_all("approve")
        assert {r.opportunity_id: r.status for r in runtime.records()} == dict.fromkeys(deals, "ACTIVATED")
        first_run = Counter((m.to, m.subject) for m in runtime.emails())

        names = [replay(runtime, started), replay(runtime, started)]
        for name in names:  # the replays did reach the workflow: every closed-won event again
            assert sorted(i["detail"]["eventId"] for i in replayed_inputs(runtime, name)) == sorted(
                d["eventId"] for d in deals.values())

        # A copy of an event the workflow already took, dead-lettered as EventBridge does, then redriven.
        execution = runtime.executions()[-1]
        delivered = json.loads(runtime.client("stepfunctions").describe_execution(
            executionArn=execution["executionArn"])["input"])
        runtime.client("sqs").send_message(
            QueueUrl=runtime.physical("UndeliveredEvents", "AWS::SQS::Queue"), MessageBody=json.dumps(delivered),
            MessageAttributes={"TARGET_ARN": {"DataType": "String", "StringValue": runtime.physical(
                "HandoffWorkflow", "AWS::StepFunctions::StateMachine")}})
        status, done = runtime.redrive("UndeliveredEvents")
        assert status == 202 and done["redriven"] == 1, done
        runtime.wait_settled()
        runtime.decide_all("approve")

        records = {r.opportunity_id: r for r in runtime.records()}
        emails = runtime.emails()
    assert {o: r.status for o, r in records.items()} == dict.fromkeys(deals, "ACTIVATED")
    assert all(r.rework == 0 for r in records.values())

    state = injection.erp.state
    codes = {o: r.project.code for o, r in records.items() if r.project}
    assert_one_of_everything(state, deals, codes)

    mails = Counter((m.to, m.subject) for m in emails)
    assert mails == first_run and max(mails.values()) == 1, mails
    # Each approval mailed its request once and, when decided, its one-time code once (`code` verification).
    codes_mailed = [m for m in emails if m.subject.startswith("Your confirmation code")]
    assert len(codes_mailed) == APPROVAL_REQUESTS
    assert len(emails) == 2 * APPROVAL_REQUESTS + len(deals)

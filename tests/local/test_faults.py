"""Fault injection on the embedded runtime (local/faults.py, hooked in local/moto_bridge.py): AWS
errors with AWS's codes and shapes, function timeouts as Lambda reports them, and handoffs that
still activate exactly once through them."""

import json
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed, transient
from local.faults import FaultPlan
from local.lambdas import InProcessLambdas
from local.provision import REGION, Function
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw
from tests.support.events import closed_won

NO_SDK_RETRY = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def faults(runtime: EmbeddedRuntime) -> Iterator[FaultPlan]:
    yield runtime.faults
    runtime.faults.clear()


def function_named(runtime: EmbeddedRuntime, module: str) -> str:
    return next(f.name for f in runtime.resources.functions.values() if f.handler == f"handoff.handlers.{module}.handler")


def executions_of(runtime: EmbeddedRuntime, opportunity: str) -> list[dict]:
    return [e for e in runtime.executions()
            if opportunity in json.dumps(runtime.client("stepfunctions").describe_execution(
                executionArn=e["executionArn"])["input"])]


def failed_tasks(runtime: EmbeddedRuntime, opportunity: str) -> list[dict]:
    return [e["taskFailedEventDetails"] for x in executions_of(runtime, opportunity)
            for e in runtime.history(x["executionArn"]) if e["type"] == "TaskFailed"]


def publish(runtime: EmbeddedRuntime, opportunity: str) -> None:
    event = load_raw("closed-won", "us-fixed-fee-advisory")
    event["detail"]["opportunity"]["id"] = opportunity
    event["detail"]["eventId"] = f"evt-{opportunity}"
    runtime.publish([event])
    runtime.wait_settled()


def record_of(runtime: EmbeddedRuntime, opportunity: str):
    return next(r for r in runtime.records() if r.opportunity_id == opportunity)


# --- the shapes ------------------------------------------------------------------------------------
def test_dynamodb_errors_have_aws_codes_statuses_and_cancellation_reasons(runtime: EmbeddedRuntime,
                                                                          faults: FaultPlan) -> None:
    dynamodb = runtime.session.client("dynamodb", region_name=REGION, config=NO_SDK_RETRY)
    table = runtime.env("HANDOFF_TABLE")
    faults.inject("dynamodb", "GetItem", "ThrottlingException", times=1, matching=table)
    with pytest.raises(ClientError) as throttled:
        dynamodb.get_item(TableName=table, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert transient(throttled.value) and not condition_failed(throttled.value)
    # times=1: the next call goes through to moto.
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})

    faults.inject("dynamodb", "TransactWriteItems", "TransactionConflict")
    put = {"Put": {"TableName": table, "Item": {"pk": {"S": "fault-a"}, "sk": {"S": "R"}}}}
    other = {"Put": {"TableName": table, "Item": {"pk": {"S": "fault-b"}, "sk": {"S": "R"}}}}
    with pytest.raises(ClientError) as conflict:
        dynamodb.transact_write_items(TransactItems=[put, other])
    error = conflict.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["TransactionConflict", "None"]
    assert "[TransactionConflict, None]" in error["Error"]["Message"]
    assert transient(conflict.value) and not condition_failed(conflict.value)
    # Nothing was written: the error came before moto.
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "fault-a"}, "sk": {"S": "R"}})
    assert [(f.service, f.operation, f.error) for f in faults.fired[-2:]] == [
        ("dynamodb", "GetItem", "ThrottlingException"), ("dynamodb", "TransactWriteItems", "TransactionConflict")]


def test_the_sdk_retries_a_throttle_as_on_aws_with_scaled_waits(runtime: EmbeddedRuntime, faults: FaultPlan) -> None:
    dynamodb = runtime.session.client("dynamodb", region_name=REGION,
                                      config=Config(retries={"mode": "standard", "max_attempts": 3}))
    table = runtime.env("HANDOFF_TABLE")
    fault = faults.inject("dynamodb", "GetItem", "ProvisionedThroughputExceededException", times=2, matching=table)
    started = time.monotonic()
    dynamodb.get_item(TableName=table, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
    assert fault.fired == 2
    assert time.monotonic() - started < 1  # standard mode waits up to 1 s, then 2 s: scaled to ms


def test_ses_lambda_and_step_functions_errors_in_their_protocols(runtime: EmbeddedRuntime, faults: FaultPlan) -> None:
    ses = runtime.session.client("ses", region_name=REGION, config=NO_SDK_RETRY)
    faults.inject("ses", "SendRawEmail", "Throttling")
    with pytest.raises(ClientError) as throttled:
        ses.send_raw_email(RawMessage={"Data": b"Subject: x\r\n\r\nx"}, Source=runtime.env("MAIL_FROM"))
    assert throttled.value.response["Error"]["Code"] == "Throttling"
    assert throttled.value.response["Error"]["Message"] == "Maximum sending rate exceeded."

    lam = runtime.session.client("lambda", region_name=REGION, config=NO_SDK_RETRY)
    faults.inject("lambda", "Invoke", "TooManyRequestsException")
    with pytest.raises(ClientError) as too_many:
        lam.invoke(FunctionName=function_named(runtime, "close_handoff"), Payload=b"{}")
    assert too_many.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert too_many.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429

    sfn = runtime.session.client("stepfunctions", region_name=REGION, config=NO_SDK_RETRY)
    faults.inject("stepfunctions", "ListStateMachines", "ServiceUnavailable", rate=1.0, times=1)
    with pytest.raises(ClientError) as unavailable:
        sfn.list_state_machines()
    assert unavailable.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert sfn.list_state_machines()["stateMachines"]


def test_rate_faults_are_reproducible_from_the_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed)
        plan.inject("dynamodb", "*", "ThrottlingException", rate=0.3)
        return [plan.draw("dynamodb", "PutItem", "", function_error=False) is not None for _ in range(50)]

    assert pattern(7) == pattern(7)
    assert 5 <= sum(pattern(7)) <= 25
    with pytest.raises(ValueError, match="rate"):
        FaultPlan().inject("dynamodb", "*", "ThrottlingException", rate=0)


# --- Lambda timeouts -----------------------------------------------------------------------------------
def test_a_function_past_its_timeout_is_stopped_and_reported_as_lambda_does(tmp_path: Path) -> None:
    (tmp_path / "slow_step.py").write_text(textwrap.dedent("""
        import threading, time
        progress = []
        def handler(event, context):
            while True:          # a hung call: stopped at the deadline, as Lambda stops the sandbox
                progress.append(time.monotonic())
                time.sleep(0.005)
        def quick(event, context):
            return {"ok": event["n"] + 1}
    """))
    functions = {name: Function(name=name, logical_id=name, handler=f"slow_step.{entry}", code_path=tmp_path,
                                environment={}, timeout_seconds=0.2)
                 for name, entry in (("Slow", "handler"), ("Quick", "quick"))}
    lambdas = InProcessLambdas(functions)
    try:
        assert lambdas("Quick", {"n": 1}) == ({"ok": 2}, None)
        payload, error = lambdas("Slow", {})
        assert error == "Sandbox.Timedout"
        assert payload["errorType"] == "Sandbox.Timedout"
        assert payload["errorMessage"].startswith("RequestId: ")
        assert payload["errorMessage"].endswith("Error: Task timed out after 0.20 seconds")
        progress = sys.modules["slow_step"].progress
        deadline = time.monotonic() + 2
        while any(t.name == "lambda:Slow" for t in threading.enumerate()) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not any(t.name == "lambda:Slow" for t in threading.enumerate()), "the timed-out invocation still runs"
        stopped_at = len(progress)
        time.sleep(0.05)
        assert len(progress) == stopped_at
        assert lambdas.invocations[-1] == ("Slow", "Sandbox.Timedout")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slow_step", None)


def test_a_step_that_times_out_once_is_retried_and_the_handoff_activates_once(runtime: EmbeddedRuntime,
                                                                               faults: FaultPlan) -> None:
    sync = function_named(runtime, "sync_customer")
    fault = faults.inject("lambda", "Invoke", "Sandbox.Timedout", times=1, matching=sync)
    # Lambda throttling the invocation itself (Step Functions' own call): retried by the same policy.
    throttled = faults.inject("lambda", "Invoke", "TooManyRequestsException", times=2,
                              matching=function_named(runtime, "create_project"))
    publish(runtime, "fault-timeout-1")
    record = record_of(runtime, "fault-timeout-1")
    assert fault.fired == 1 and throttled.fired == 2
    assert record.status == "ACTIVATED", record.exceptions
    failed = failed_tasks(runtime, "fault-timeout-1")
    assert [f["error"] for f in failed] == ["Sandbox.Timedout", "Lambda.TooManyRequestsException",
                                            "Lambda.TooManyRequestsException"]
    failed = failed[:1]
    cause = json.loads(failed[0]["cause"])
    assert cause["errorType"] == "Sandbox.Timedout"
    assert cause["errorMessage"].endswith("Task timed out after 120.00 seconds")
    # The first attempt did its work before "timing out": the retry found it, nothing twice.
    assert record.customer is not None
    assert [t.step for t in record.timeline].count("SyncCustomerMaster") == 1
    runs = [fn for fn, _ in runtime.lambdas.invocations if fn == sync]
    assert len(runs) >= 2


# --- DynamoDB under concurrency ---------------------------------------------------------------------------
def test_transaction_conflicts_and_throttles_are_retried_never_a_lost_race(runtime: EmbeddedRuntime,
                                                                           faults: FaultPlan) -> None:
    conflict = faults.inject("dynamodb", "TransactWriteItems", "TransactionConflict", times=1,
                             matching="fault-conflict-1")
    # As many throttles in a row as the SDK makes attempts on DynamoDB (1 + 9 retries): the step
    # fails with Store.Transient and the state machine retries it.
    throttle = faults.inject("dynamodb", "TransactWriteItems", "ThrottlingException", times=10,
                             matching="fault-conflict-1")
    publish(runtime, "fault-conflict-1")
    record = record_of(runtime, "fault-conflict-1")
    assert conflict.fired == 1 and throttle.fired == 10
    assert record.status == "ACTIVATED", record.exceptions
    errors = [f["error"] for f in failed_tasks(runtime, "fault-conflict-1")]
    assert errors.count("Store.Transient") == 2, errors
    # One execution did the work; the conflicted AcceptEvent was retried, not taken for a duplicate.
    assert len(executions_of(runtime, "fault-conflict-1")) == 1
    assert [t.step for t in record.timeline].count("AcceptEvent") == 1
    assert record.project is not None


def test_a_handoff_through_random_throttles_and_conflicts_activates_once(runtime: EmbeddedRuntime,
                                                                         faults: FaultPlan) -> None:
    table = runtime.env("HANDOFF_TABLE")
    faults.inject("dynamodb", "*", "ThrottlingException", rate=0.1, matching=table)
    faults.inject("dynamodb", "TransactWriteItems", "TransactionConflict", rate=0.2, matching=table)
    faults.inject("lambda", "Invoke", "TooManyRequestsException", rate=0.1)
    publish(runtime, "fault-chaos-1")
    faults.clear()
    record = record_of(runtime, "fault-chaos-1")
    assert record.status == "ACTIVATED", (record.exceptions, faults.fired)
    assert len(faults.fired) >= 3
    steps = [t.step for t in record.timeline]
    assert len(steps) == len(set(steps))
    assert record.project is not None and len(record.staffing_requests) == 2


# --- a retried step does nothing twice ----------------------------------------------------------------
RETRIED_STEPS = ("request_approval", "sync_customer", "create_project", "setup_billing", "request_staffing",
                 "raise_requisitions", "assemble_launch_packet", "activate_handoff")


def test_every_step_timing_out_after_its_work_is_retried_and_nothing_happens_twice(runtime: EmbeddedRuntime,
                                                                                    faults: FaultPlan) -> None:
    from handoff.adapters.ledger.inspector import LedgerInspector

    opportunity = "fault-retried-1"
    event = load_raw("closed-won", "emea-milestone-erp-rollout")
    event["detail"]["opportunity"]["id"] = opportunity
    event["detail"]["eventId"] = f"evt-{opportunity}"
    injected = {module: faults.inject("lambda", "Invoke", "Sandbox.Timedout", times=1,
                                      matching=function_named(runtime, module)) for module in RETRIED_STEPS}
    mails_before = len(runtime.emails())
    runtime.publish([event])
    runtime.wait_settled()
    # The approval requests: three kinds, one timed out after storing and mailing its approval.
    approvals = record_of(runtime, opportunity).approvals
    assert sorted(a.kind for a in approvals) == ["compliance", "finance", "procurement"], approvals
    mails = [m for m in runtime.emails()[mails_before:] if opportunity in m.subject]
    assert len(mails) == 3, [m.subject for m in mails]
    runtime.decide_all("approve")

    record = record_of(runtime, opportunity)
    assert record.status == "ACTIVATED", record.exceptions
    assert {m: f.fired for m, f in injected.items()} == dict.fromkeys(RETRIED_STEPS, 1)
    assert sorted(f["error"] for f in failed_tasks(runtime, opportunity)) == ["Sandbox.Timedout"] * len(RETRIED_STEPS)
    assert len(record.approvals) == 3 and all(a.decision == "APPROVED" for a in record.approvals)

    ledger = LedgerInspector(runtime.session.resource("dynamodb", region_name=REGION).Table(runtime.env("LEDGER_TABLE")))
    code = record.project.code

    def mine(items: list[dict]) -> list[dict]:
        return [i for i in items if opportunity in json.dumps(i, default=str) or code in json.dumps(i, default=str)]

    assert len(mine(ledger.projects())) == 1
    assert len(mine(ledger.billing_schedules())) == 1
    assert len(ledger.staffing_requests(opportunity)) == len(event["detail"]["staffing"])
    assert len(mine(ledger.requisitions())) == len(event["detail"]["subcontractors"])
    assert len(mine(ledger.crm_writebacks())) == 1
    assert len(record.purchase_requisitions) == len(event["detail"]["subcontractors"])
    mails = [m for m in runtime.emails()[mails_before:] if opportunity in m.subject or code in m.subject]
    assert sum(m.subject.startswith("Launch packet ready") for m in mails) == 1
    steps = [t.step for t in record.timeline if not t.step.startswith("Approval")]
    assert len(steps) == len(set(steps)), steps


def test_a_throttled_approval_request_is_retried_and_the_runtime_settles_on_the_approvals(
        runtime: EmbeddedRuntime, faults: FaultPlan) -> None:
    """Approval requests whose invocations are throttled are retried: the runtime still sees the
    handoff paused on its approvals, settles, and the approvals decide it. (Counting submissions
    less endings, as many failed attempts as tokens handed out read as "nothing waits": the wait
    went on until its timeout, the fault-injection run's occasional hang.)"""
    throttled = faults.inject("lambda", "Invoke", "TooManyRequestsException", times=3,
                              matching=function_named(runtime, "request_approval"))
    runtime.publish([closed_won("emea-milestone-erp-rollout", "fault-approval-1", "evt-fault-approval-1")])
    runtime.wait_settled(timeout=30)  # progress stops when the approvals wait: settled, not timed out
    assert throttled.fired == 3
    [execution] = executions_of(runtime, "fault-approval-1")
    assert execution["status"] == "RUNNING" and runtime._paused_on_approval(execution)
    assert record_of(runtime, "fault-approval-1").status == "AWAITING_APPROVAL"
    assert [f["error"] for f in failed_tasks(runtime, "fault-approval-1")] == ["Lambda.TooManyRequestsException"] * 3

    runtime.decide_all("approve")
    assert record_of(runtime, "fault-approval-1").status == "ACTIVATED"

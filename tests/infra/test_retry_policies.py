"""The retry policies are defined once (infra/retry_policies.py) and every Task of the deployed
workflow uses one of them, so a Lambda timeout, throttle or service error is retried on AWS."""

import json

import pytest

from infra.retry_policies import (
    LAMBDA_SERVICE_ERRORS,
    POLICIES,
    STORE_TRANSIENT,
    UnknownRetryPolicy,
    expand,
    tasks,
)
from tests.infra.test_stack import ROOT, resources

AWS_RECOMMENDED = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                   "Lambda.ClientExecutionTimeoutException", "Lambda.TooManyRequestsException"}
INTEGRATION_STEPS = {"Sync customer master", "Create project shell", "Set up billing schedule", "Request staffing",
                     "Raise purchase requisitions", "Assemble launch packet and notify delivery",
                     "Mark handoff activated"}


def _deployed(template: dict) -> dict:
    machine = next(iter(resources(template, "AWS::StepFunctions::StateMachine").values()))["Properties"]
    definition = machine["DefinitionString"]
    text = definition if isinstance(definition, str) else "".join(
        p if isinstance(p, str) else "\"x\"" for p in definition["Fn::Join"][1])
    return json.loads(text)


def _retried(retriers: list[dict], error: str) -> bool:
    """Does the first retrier that matches `error` retry it (as Step Functions picks it)?"""
    for retrier in retriers:
        if error in retrier["ErrorEquals"] or "States.ALL" in retrier["ErrorEquals"]:
            return retrier.get("MaxAttempts", 3) > 0
    return False


def test_every_task_of_the_deployed_workflow_uses_one_named_policy(template: dict) -> None:
    deployed = _deployed(template)
    policies = [json.dumps(p, sort_keys=True) for p in POLICIES.values()]
    named = json.loads((ROOT / "statemachines" / "handoff.asl.json").read_text())
    on_disk = dict(tasks(named["States"]))
    found = dict(tasks(deployed["States"]))
    assert len(found) == 13 and set(found) == set(on_disk)
    for name, state in found.items():
        assert json.dumps(state["Retry"], sort_keys=True) in policies, name
        assert state["Retry"] == POLICIES[on_disk[name]["Retry"]], name
    assert {n for n, s in on_disk.items() if s["Retry"] == "SystemOfRecordCall"} == INTEGRATION_STEPS


def test_a_timed_out_throttled_or_failing_lambda_is_retried_by_every_task(template: dict) -> None:
    assert set(LAMBDA_SERVICE_ERRORS) == AWS_RECOMMENDED
    for name, state in tasks(_deployed(template)["States"]):
        for error in (*AWS_RECOMMENDED, "Sandbox.Timedout", "Lambda.Unknown", STORE_TRANSIENT):
            assert _retried(state["Retry"], error), (name, error)
        # No Task sets TimeoutSeconds: States.Timeout is only the approval deadline, never retried.
        assert "TimeoutSeconds" not in state
        if name in INTEGRATION_STEPS:
            assert _retried(state["Retry"], "Integration.Transient"), name
        if "States.ALL" not in json.dumps(state["Retry"]):
            assert not _retried(state["Retry"], "States.Timeout"), name
            assert not _retried(state["Retry"], "Integration.Permanent"), name


def test_a_task_without_a_named_policy_is_refused() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "x", "End": True,
                                                   "Retry": [{"ErrorEquals": ["States.ALL"]}]}}}
    with pytest.raises(UnknownRetryPolicy, match="'A'"):
        expand(definition)
    definition["States"]["A"]["Retry"] = "NoSuchPolicy"
    with pytest.raises(UnknownRetryPolicy, match="NoSuchPolicy"):
        expand(definition)


def _longest_wait(retrier: dict) -> float:
    """The most a retrier waits in all (full jitter waits anything up to each interval)."""
    interval, total = float(retrier.get("IntervalSeconds", 1)), 0.0
    for _ in range(retrier.get("MaxAttempts", 3)):
        total += min(interval, retrier.get("MaxDelaySeconds", interval))
        interval *= retrier.get("BackoffRate", 2.0)
    return total


def test_a_lambda_throttle_is_retried_long_enough_for_a_burst_to_drain(template: dict) -> None:
    """docs/capacity.md: a quarter-end burst keeps the functions' concurrency and the SES sending
    rate busy for minutes; every Task's first retrier, for Lambda's throttle and SES's, waits up to
    8 minutes (about 4 on average with full jitter); other Lambda service errors keep AWS's
    shorter budget."""
    for name, state in tasks(_deployed(template)["States"]):
        throttle = next(r for r in state["Retry"] if "Lambda.TooManyRequestsException" in r["ErrorEquals"])
        assert throttle["ErrorEquals"] == ["Lambda.TooManyRequestsException", "Mail.Throttled"], name
        assert throttle["JitterStrategy"] == "FULL" and 8 * 60 <= _longest_wait(throttle) <= 10 * 60, name
        service = next(r for r in state["Retry"] if "Lambda.ServiceException" in r["ErrorEquals"])
        assert _longest_wait(service) <= 3 * 60, name

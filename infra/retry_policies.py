"""The state machine's retry policies, defined once. Each Task of statemachines/handoff.asl.json
names its policy (`"Retry": "SystemOfRecordCall"`); `expand` replaces the name with the policy's
retriers when the stack loads the workflow, so the deployed definition is plain ASL and the file
stays readable as policy. Unknown names and Tasks without a named policy are refused at synth.

What a Lambda Task meets on AWS (Step Functions' optimized `lambda:invoke`):
- Lambda service errors, `Lambda.<code>`: AWS recommends retrying `Lambda.ServiceException`,
  `Lambda.AWSLambdaException`, `Lambda.SdkClientException` and
  `Lambda.ClientExecutionTimeoutException`; `Lambda.TooManyRequestsException` is Lambda's throttle.
- A function error is named by the payload's `errorType`: an invocation that runs past the
  function's timeout is `Sandbox.Timedout` (the Cause holds `{"errorType", "errorMessage": "...
  Task timed out after N.00 seconds"}`); with no errorType (older runtimes' timeouts, out of
  memory) Step Functions reports `Lambda.Unknown`. No Task sets TimeoutSeconds, so a slow step is
  never `States.Timeout`.
- Our named errors: `Integration.Transient` (a system of record busy or down) and
  `Store.Transient` (DynamoDB throttled us or a transaction met another one).
Every step is idempotent (a retry finds what the first attempt did), so all of these are retried.
"""

import json
from collections.abc import Iterator
from typing import Any

LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                         "Lambda.ClientExecutionTimeoutException", "Lambda.TooManyRequestsException"]
TIMED_OUT = ["Sandbox.Timedout", "Lambda.Unknown"]
STORE_TRANSIENT = "Store.Transient"
INTEGRATION_TRANSIENT = "Integration.Transient"

LAMBDA_THROTTLED = "Lambda.TooManyRequestsException"
MAIL_THROTTLED = "Mail.Throttled"  # SES over the account's sending rate (handoff/adapters/mailer.py)
# A throttle lasts as long as the burst that causes it (the functions' concurrency or the SES
# sending rate is taken by the burst's other executions), so it gets the longest budget: 12
# attempts, 2 s doubling to a 60 s cap with full jitter, up to 8 minutes (about 4 on average).
# Sized in docs/capacity.md: 10,000 handoffs of 0.7 s of Lambda time each drain through 30
# concurrent executions in 4 minutes.
_LAMBDA_THROTTLED = {"ErrorEquals": [LAMBDA_THROTTLED, MAIL_THROTTLED], "IntervalSeconds": 2, "MaxAttempts": 12,
                     "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"}
_LAMBDA_SERVICE = {"ErrorEquals": [e for e in LAMBDA_SERVICE_ERRORS if e != LAMBDA_THROTTLED], "IntervalSeconds": 2,
                   "MaxAttempts": 6, "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"}

# Timeouts, our table's transients and the systems of record's: 6 retries. Sized for a quarter of a
# step's attempts failing at once (the fault-injection run at 0.3: a tenth of invocations time out,
# 15 % of transactions conflict): 0.25^7, about 6 in 100,000 steps, run out, where 3 retries left
# about 1 in 250 (a handoff of the four examples FAILED in a few percent of runs). Worst case
# before giving up: about 1.5 minutes (2 s doubling, 30 s cap) or 3 (5 s doubling, 60 s cap).
TRANSIENT_ATTEMPTS = 6

POLICIES: dict[str, list[dict[str, Any]]] = {
    # Steps that touch only our own table, mail and queues.
    "WorkflowStep": [
        _LAMBDA_THROTTLED,
        _LAMBDA_SERVICE,
        {"ErrorEquals": [*TIMED_OUT, STORE_TRANSIENT], "IntervalSeconds": 2, "MaxAttempts": TRANSIENT_ATTEMPTS,
         "BackoffRate": 2, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"},
    ],
    # Steps that call a system of record: it may be busy for longer, so wait longer.
    "SystemOfRecordCall": [
        _LAMBDA_THROTTLED,
        _LAMBDA_SERVICE,
        {"ErrorEquals": [INTEGRATION_TRANSIENT, STORE_TRANSIENT, *TIMED_OUT], "IntervalSeconds": 5,
         "MaxAttempts": TRANSIENT_ATTEMPTS, "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
    ],
    # Recording how a handoff ended must not be lost: anything is retried.
    "RecordOutcome": [
        _LAMBDA_THROTTLED,
        _LAMBDA_SERVICE,
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": TRANSIENT_ATTEMPTS, "BackoffRate": 2,
         "MaxDelaySeconds": 30, "JitterStrategy": "FULL"},
    ],
}


class UnknownRetryPolicy(ValueError):
    pass


def tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Task state, nested ones (Map, Parallel) included: (name, state)."""
    for name, state in states.items():
        if state.get("Type") == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from tasks(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from tasks(processor["States"])


def expand(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every Task's policy name replaced by the policy's retriers (in place)."""
    for name, state in tasks(definition["States"]):
        policy = state.get("Retry")
        if not isinstance(policy, str) or policy not in POLICIES:
            raise UnknownRetryPolicy(f"Task {name!r}: Retry must name one of {sorted(POLICIES)}, got {policy!r}")
        state["Retry"] = json.loads(json.dumps(POLICIES[policy]))
    return definition


def expanded_text(text: str) -> str:
    """The ASL text of a workflow file with its policies expanded."""
    return json.dumps(expand(json.loads(text)), indent=2)

"""Fault injection for the embedded runtime: make AWS calls fail the way AWS does, with AWS's own
error codes, HTTP statuses and wire shapes, so that the SDK's retries, the handlers' error handling
and the state machine's Retry and Catch meet what they would meet on AWS.

    plan = runtime.faults                                    # a FaultPlan, installed by MotoBridge
    plan.inject("dynamodb", "TransactWriteItems", "TransactionConflict", times=2)
    plan.inject("dynamodb", "*", "ThrottlingException", rate=0.05, matching="HandoffTable")
    plan.inject("lambda", "Invoke", "TooManyRequestsException", times=6, matching="SyncCustomer")
    plan.inject("lambda", "Invoke", "Sandbox.Timedout", times=1, matching="RequestApproval")
    plan.inject("ses", "SendRawEmail", "Throttling", times=1)
    plan.fired                                               # what was injected, in order
    plan.clear()

- `service`: the botocore service id as in its event names (`dynamodb`, `lambda`, `ses`, `sesv2`,
  `sfn` (alias `stepfunctions`), `events`, `sqs`, `s3`, `secrets-manager` (alias
  `secretsmanager`)), or `*`. `operation`: the API operation (`PutItem`, `Invoke`, ...) or `*`.
- `times=N` fails the next N matching calls; `rate=R` fails each matching call with probability R
  (drawn from the plan's `random.Random(seed)`, so a run is reproducible); `times` and `rate`
  together: at most N calls, each with probability R.
- `matching`: a substring the request must contain (its URL or body: a table or function name),
  for Lambda function errors the function name or the event.
- API errors are answered before moto sees the call (nothing is written), in the service's
  protocol: JSON (`__type`, `x-amzn-ErrorType`) for DynamoDB, Lambda, Step Functions, EventBridge,
  SQS; XML `ErrorResponse` for query services such as SES; XML `Error` for S3. Known codes carry
  AWS's status and message (`ThrottlingException` 400, `TooManyRequestsException` 429,
  `ServiceException` 500, ...); `TransactionConflict` answers a DynamoDB transaction with
  `TransactionCanceledException` whose CancellationReasons name `TransactionConflict`, one reason
  per item, as DynamoDB does. The SDK then retries what it retries on AWS (botocore's retry waits
  are scaled like Step Functions' Retry).
- Lambda function errors (`Sandbox.Timedout`) are not API errors: the function runs (its side
  effects happen) and the invocation is then reported as timed out, with the payload Lambda
  returns, `{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: ... Error: Task timed
  out after N.00 seconds"}` (N: the function's deployed timeout). Step Functions names the error
  `Sandbox.Timedout` and puts that payload in the Cause. This is the timeout that hurts: after the
  work, before the answer.
"""

import json
import random
import threading
import uuid
from dataclasses import dataclass, field

# Errors a function reports through the Invoke response (X-Amz-Function-Error), not the API.
FUNCTION_ERRORS = {"Sandbox.Timedout"}

_ALIASES = {"stepfunctions": "sfn", "states": "sfn", "secretsmanager": "secrets-manager", "eventbridge": "events"}

# code -> (HTTP status, message) as AWS sends them; unknown codes: 400, or 500 for *ServiceException.
_KNOWN: dict[str, tuple[int, str]] = {
    "ThrottlingException": (400, "Rate of requests exceeds the allowed throughput."),
    "ProvisionedThroughputExceededException": (400, "The level of configured provisioned throughput for the table "
                                                    "was exceeded. Consider increasing your provisioning level with "
                                                    "the UpdateTable API."),
    "RequestLimitExceeded": (400, "Throughput exceeds the current throughput limit for your account. Please contact "
                                  "AWS Support at https://aws.amazon.com/support request a limit increase"),
    "TransactionInProgressException": (400, "Transaction is ongoing for the item"),
    "InternalServerError": (500, "Internal server error"),
    "TooManyRequestsException": (429, "Rate Exceeded."),
    "ServiceException": (500, "Lambda was unable to complete the request because of an internal error."),
    "AWSLambdaException": (500, "An error occurred in AWS Lambda."),
    "EC2ThrottledException": (502, "Lambda was throttled by Amazon EC2 during Lambda function initialization."),
    "Throttling": (400, "Maximum sending rate exceeded."),
    "ServiceUnavailable": (503, "Service Unavailable"),
    "ServiceUnavailableException": (503, "Service Unavailable"),
    "InternalFailure": (500, "The request processing has failed because of an unknown error."),
    "SlowDown": (503, "Please reduce your request rate."),
}


@dataclass
class Fault:
    service: str
    operation: str
    error: str
    times: int | None = None
    rate: float | None = None
    matching: str | None = None
    message: str | None = None
    fired: int = 0

    def matches(self, service: str, operation: str, text: str) -> bool:
        return (self.service in ("*", service) and self.operation in ("*", operation)
                and (self.matching is None or self.matching in text)
                and (self.times is None or self.fired < self.times))


@dataclass(frozen=True)
class Injected:
    service: str
    operation: str
    error: str


@dataclass
class FaultPlan:
    """The faults to inject, consulted by the embedded runtime on every AWS call. Thread-safe."""

    seed: int = 0
    faults: list[Fault] = field(default_factory=list)
    fired: list[Injected] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def inject(self, service: str, operation: str, error: str, *, times: int | None = None,
               rate: float | None = None, matching: str | None = None, message: str | None = None) -> Fault:
        """Fail matching calls with `error` (an AWS error code, `TransactionConflict`, or a function
        error such as `Sandbox.Timedout`): the next `times` of them, or each with probability `rate`;
        `times=1` when neither is given."""
        if rate is not None and not 0 < rate <= 1:
            raise ValueError(f"rate must be in (0, 1], got {rate}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        fault = Fault(_ALIASES.get(service.lower(), service.lower()), operation, error,
                      times=times if times is not None or rate is not None else 1, rate=rate,
                      matching=matching, message=message)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def draw(self, service: str, operation: str, text: str, *, function_error: bool) -> Fault | None:
        """The fault this call meets, if any (and count it)."""
        service = _ALIASES.get(service.lower(), service.lower())
        with self._lock:
            for fault in self.faults:
                if (fault.error in FUNCTION_ERRORS) != function_error or not fault.matches(service, operation, text):
                    continue
                if fault.rate is not None and self._random.random() >= fault.rate:
                    continue
                fault.fired += 1
                self.fired.append(Injected(service, operation, fault.error))
                return fault
        return None


def _status_and_message(code: str, message: str | None) -> tuple[int, str]:
    status, default = _KNOWN.get(code, (500 if code.endswith("ServiceException") else 400, code))
    return status, message or default


def api_error(fault: Fault, service: str, body: bytes | str | None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the error `fault` stands for, in the service's wire protocol."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    request_id = str(uuid.uuid4())
    code, message = fault.error, fault.message
    extra: dict = {}
    if code == "TransactionConflict":
        # DynamoDB cancels the whole transaction and gives one reason per item, in request order.
        try:
            items = len(json.loads(text).get("TransactItems", [])) or 1
        except ValueError:
            items = 1
        reasons = ["TransactionConflict"] + ["None"] * (items - 1)
        extra["CancellationReasons"] = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} if r != "None"
            else {"Code": "None"} for r in reasons]
        code = "TransactionCanceledException"
        message = message or ("Transaction cancelled, please refer cancellation reasons for specific reasons "
                              f"[{', '.join(reasons)}]")
    status, message = _status_and_message(code, message)
    headers = {"x-amzn-RequestId": request_id}
    if service == "s3":
        headers["Content-Type"] = "application/xml"
        xml = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        return status, headers, xml.encode()
    if text.startswith("Action=") or "&Action=" in text:
        headers["Content-Type"] = "text/xml"
        xml = (f"<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
               f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return status, headers, xml.encode()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    headers["x-amzn-ErrorType"] = code
    payload = {"__type": (f"com.amazonaws.dynamodb.v20120810#{code}" if service == "dynamodb" else code),
               "message": message, **extra}
    if service == "dynamodb" and "CancellationReasons" in extra:
        payload["Message"] = payload.pop("message")
    return status, headers, json.dumps(payload).encode()


def function_error_payload(fault: Fault, timeout_seconds: float, request_id: str) -> dict:
    """The payload Lambda returns for a function error `fault` stands for."""
    if fault.error == "Sandbox.Timedout":
        return timed_out_payload(timeout_seconds, request_id)
    raise ValueError(f"not a function error: {fault.error}")


def timed_out_payload(timeout_seconds: float, request_id: str) -> dict:
    """What Lambda returns when an invocation runs past the function's timeout."""
    return {"errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds"}

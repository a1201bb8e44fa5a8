"""What a handoff would be billed for, counted on the embedded runtime: the AWS API calls the
product makes (handlers' calls, and Step Functions' Lambda invocations), DynamoDB request units,
Lambda invocations with their duration and memory (GB-seconds), and state transitions.

`MotoBridge.meter` (local/moto_bridge.py) is told of every AWS call that crosses moto's botocore
stubber and `InProcessLambdas.meter` (local/lambdas.py) of every invocation. Who made a call is
told by its thread: handler code runs in threads named `lambda:<function>`; the runtime's own
bookkeeping (publishing, waiting, reading records) is counted apart as `runtime`.

DynamoDB request units are estimated from the bytes on the wire, as DynamoDB bills them: a write
is one WRU per KB of item (two for a transaction's), a read one RRU per 4 KB (half that when
eventually consistent; two for a transaction's). Item sizes are taken from the JSON request or
response, which is close to but not DynamoDB's own item-size formula."""

import json
import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "Query", "Scan", "BatchGetItem"}


@dataclass
class Meter:
    calls: Counter = field(default_factory=Counter)  # (origin, service, operation) -> calls
    units: Counter = field(default_factory=Counter)  # "dynamodb.wru" / "dynamodb.rru" -> units (product's)
    table_units: Counter = field(default_factory=Counter)  # (table, "wru" / "rru") -> units (product's)
    invocations: Counter = field(default_factory=Counter)  # function -> invocations
    gb_seconds: Counter = field(default_factory=Counter)  # function -> GB-seconds (billed in 1 ms steps)
    cpu_seconds: Counter = field(default_factory=Counter)  # function -> the handler thread's CPU time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def origin() -> str:
        name = threading.current_thread().name
        return "handler" if name.startswith("lambda:") else "runtime"

    def api_call(self, service: str, operation: str, request_body: Any, response_body: bytes | None) -> None:
        origin = self.origin()
        if service == "lambda" and operation == "Invoke" and origin == "runtime":
            origin = "stepfunctions"  # a Lambda task of an execution (moto's worker threads)
        with self._lock:
            self.calls[(origin, service, operation)] += 1
            if origin == "handler" and service == "dynamodb":
                units = dynamodb_units(operation, request_body, response_body)
                for key, amount in units.items():
                    self.units[key] += amount
                    self.table_units[(_table_of(request_body), key.rsplit(".", 1)[-1])] += amount

    def invocation(self, function: str, seconds: float, memory_mb: int, cpu_seconds: float = 0.0) -> None:
        """One invocation: its wall duration here (inflated by moto in-process and the machine's
        load: an upper bound of Lambda's billed duration) and its thread's CPU time (handler code
        and the moto calls it made, which run in its thread)."""
        billed = math.ceil(seconds * 1000) / 1000
        with self._lock:
            self.invocations[function] += 1
            self.gb_seconds[function] += billed * memory_mb / 1024
            self.cpu_seconds[function] += cpu_seconds

    def product_calls(self) -> Counter:
        """(service, operation) -> calls made by the product (handlers, and Step Functions' tasks)."""
        found: Counter = Counter()
        for (origin, service, operation), count in self.calls.items():
            if origin != "runtime":
                found[(service, operation)] += count
        return found

    def summary(self) -> dict[str, Any]:
        calls = self.product_calls()
        by_service: Counter = Counter()
        for (service, _operation), count in calls.items():
            by_service[service] += count
        return {
            "lambda_invocations": sum(self.invocations.values()),
            "lambda_gb_seconds": round(sum(self.gb_seconds.values()), 4),
            "lambda_handler_cpu_seconds": round(sum(self.cpu_seconds.values()), 4),
            "calls_by_service": dict(sorted(by_service.items())),
            "calls": {f"{s}.{o}": c for (s, o), c in sorted(calls.items())},
            "dynamodb_wru": round(self.units["dynamodb.wru"], 1),
            "dynamodb_rru": round(self.units["dynamodb.rru"], 1),
            "dynamodb_units_by_table": {f"{table} {kind}": round(amount, 1)
                                        for (table, kind), amount in sorted(self.table_units.items())},
        }


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body if isinstance(body, str) else ""


def dynamodb_units(operation: str, request_body: Any, response_body: bytes | None) -> dict[str, float]:
    """Estimated request units of one DynamoDB call (see the module's doc)."""
    try:
        request = json.loads(_text(request_body) or "{}")
    except json.JSONDecodeError:
        request = {}
    if operation in WRITES:
        return {"dynamodb.wru": _kb(request.get("Item") or request)}
    if operation == "TransactWriteItems":
        return {"dynamodb.wru": sum(2 * _kb(next(iter(entry.values()), {})) for entry in request.get("TransactItems", []))}
    if operation == "BatchWriteItem":
        return {"dynamodb.wru": sum(_kb(next(iter(w.values()), {})) for writes in request.get("RequestItems", {}).values()
                                    for w in writes)}
    if operation in READS or operation == "TransactGetItems":
        size = len(response_body or b"")
        factor = 2.0 if operation == "TransactGetItems" else 1.0 if request.get("ConsistentRead") else 0.5
        return {"dynamodb.rru": max(1, math.ceil(size / 4096)) * factor}
    return {}


def _table_of(request_body: Any) -> str:
    """The table a DynamoDB request is for (a transaction's first item's), without its generated suffix."""
    try:
        request = json.loads(_text(request_body) or "{}")
    except json.JSONDecodeError:
        return "?"
    name = request.get("TableName")
    if name is None:
        items = request.get("TransactItems") or [{}]
        name = next(iter(items[0].values()), {}).get("TableName") if items[0] else None
    if name is None:
        name = next(iter(request.get("RequestItems") or {"?": 0}))
    return str(name).rstrip("0123456789abcdefABCDEF-") or str(name)


def _kb(value: Any) -> int:
    return max(1, math.ceil(len(json.dumps(value)) / 1024))

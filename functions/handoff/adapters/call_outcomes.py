"""Outcome of every call to a system of record, kept with the handoff it was for: one CALL# item
per call (system, operation, SUCCEEDED or FAILED with the error's name, seconds). The facts stream
turns each into a `system_call` fact, so integration failure rates come from what really happened,
retries included. Calls not made for a handoff (pipeline stage changes) are not kept here."""

import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from handoff.adapters import business_metrics
from handoff.contracts.timestamps import iso

logger = logging.getLogger(__name__)
_FOR_HANDOFF = re.compile(r"^(?P<handoff>ho-[0-9a-f]{16}):(?P<step>.+)$")


class CallLog:
    def __init__(self, table: Any, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._table, self._clock = table, clock

    def record(self, idempotency_key: str | None, system: str, operation: str, outcome: str,
               seconds: float, error: str | None = None) -> None:
        match = _FOR_HANDOFF.match(idempotency_key or "")
        if match is None:
            return
        at = self._clock()
        item = {"pk": f"HANDOFF#{match['handoff']}", "sk": f"CALL#{iso(at)}#{uuid.uuid4().hex[:8]}",
                "step": match["step"], "system": system, "operation": operation, "outcome": outcome,
                "at": iso(at), "durationSeconds": Decimal(str(round(seconds, 3)))}
        if error:
            item["error"] = error
        try:
            self._table.put_item(Item=item)
        except Exception:
            logger.warning("call outcome not recorded", extra={"system": system, "operation": operation}, exc_info=True)


def _step(idempotency_key: str | None) -> str:
    """The step a call was made for (a metric dimension); calls outside a handoff are the pipeline's."""
    match = _FOR_HANDOFF.match(idempotency_key or "")
    return match["step"] if match else "pipeline"


class RecordedPort:
    """A port whose public calls are recorded in the CallLog; results and errors pass through."""

    def __init__(self, port: Any, system: str, log: CallLog):
        self._port, self._system, self._log = port, system, log

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._port, name)
        if name.startswith("_") or not callable(attr):
            return attr

        @wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            key = kwargs.get("idempotency_key")
            try:
                result = attr(*args, **kwargs)
            except Exception as exc:
                self._log.record(key, self._system, name, "FAILED", time.monotonic() - started, type(exc).__name__)
                business_metrics.integration_call(self._system, _step(key), failed=True)
                raise
            self._log.record(key, self._system, name, "SUCCEEDED", time.monotonic() - started)
            business_metrics.integration_call(self._system, _step(key), failed=False)
            return result

        return call

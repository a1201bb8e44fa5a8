"""Run a Lambda handler in-process: resolve its handler string against its asset path and call it
with that function's own environment. Environment variables are process-global, so each
invocation sees its function's variables through a context-local overlay on os.environ.

The function's deployed timeout is enforced in wall-clock time, as Lambda does: the handler runs in
a worker thread; when it is still running at the deadline, the invocation ends with Lambda's
timeout answer (errorType `Sandbox.Timedout`, "Task timed out after N.00 seconds") and the worker
is stopped at its next Python instruction (an exception it cannot catch as `Exception`). Unlike
Lambda, a worker blocked inside a C call stops only when that call returns."""

import contextvars
import ctypes
import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from local.faults import timed_out_payload
from local.moto_bridge import error_payload
from local.provision import ACCOUNT, REGION, Function

_overlay: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("lambda_env", default=None)


class _OverlayEnviron(MutableMapping):
    """os.environ with the current invocation's variables on top."""

    def __init__(self, base: MutableMapping):
        self.base = base

    def __getitem__(self, key: str) -> str:
        overlay = _overlay.get()
        if overlay is not None and key in overlay:
            return overlay[key]
        return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = _overlay.get()
        if overlay is not None:
            overlay[key] = value
        else:
            self.base[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = _overlay.get()
        if overlay is not None and key in overlay:
            del overlay[key]
        else:
            del self.base[key]

    def __iter__(self) -> Iterator[str]:
        overlay = _overlay.get() or {}
        yield from overlay
        yield from (k for k in self.base if k not in overlay)

    def __len__(self) -> int:
        return len(set(self.base) | set(_overlay.get() or {}))

    def copy(self) -> dict[str, str]:
        return dict(self)


def install_environ_overlay() -> None:
    if not isinstance(os.environ, _OverlayEnviron):
        os.environ = _OverlayEnviron(os.environ)  # type: ignore[assignment]


@contextmanager
def function_environment(variables: dict[str, str]) -> Iterator[None]:
    token = _overlay.set(dict(variables))
    try:
        yield
    finally:
        _overlay.reset(token)


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    deadline: float = 0.0

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class SandboxKilled(BaseException):
    """Raised inside an invocation that ran past its function's timeout."""


def _stop(thread: threading.Thread) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(SandboxKilled))


class InProcessLambdas:
    def __init__(self, functions: dict[str, Function], *, extra_environment: dict[str, str] | None = None):
        self.functions = functions
        self.extra = extra_environment or {}
        self.invocations: list[tuple[str, str | None]] = []  # (function, error type) for tests and stats
        self.meter: Any = None  # a local.metering.Meter told of each invocation's duration, when set
        install_environ_overlay()
        for path in {str(f.code_path) for f in functions.values()}:
            if path not in sys.path:
                sys.path.insert(0, path)

    def __call__(self, function_name: str, event: Any) -> tuple[Any, str | None]:
        fn = self.functions[function_name]
        module_name, handler_name = fn.handler.rsplit(".", 1)
        environment = {**fn.environment, **self.extra, "AWS_LAMBDA_FUNCTION_NAME": fn.name,
                       "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
        # The deployed timeout: handlers see the remaining time they would on AWS, and it is enforced.
        context = LambdaContext(function_name=fn.name, memory_limit_in_mb=fn.memory_mb,
                                deadline=time.monotonic() + fn.timeout_seconds)
        outcome: list[tuple[Any, str | None]] = []

        def run() -> None:
            started, cpu = time.perf_counter(), time.thread_time()
            with function_environment(environment):
                try:
                    handler = getattr(importlib.import_module(module_name), handler_name)
                    outcome.append((handler(event, context), None))
                except SandboxKilled:
                    pass
                except Exception as exc:
                    outcome.append((error_payload(exc), type(exc).__name__))
            if self.meter is not None:
                self.meter.invocation(fn.name, time.perf_counter() - started, fn.memory_mb, time.thread_time() - cpu)

        worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True,
                                  name=f"lambda:{fn.name}")
        worker.start()
        worker.join(fn.timeout_seconds)
        if worker.is_alive() or not outcome:
            _stop(worker)
            self.invocations.append((function_name, "Sandbox.Timedout"))
            return timed_out_payload(fn.timeout_seconds, context.aws_request_id), "Sandbox.Timedout"
        result, error_type = outcome[0]
        self.invocations.append((function_name, error_type))
        return result, error_type

    def timeout_of(self, function_name: str) -> float:
        return self.functions[function_name].timeout_seconds

"""How the recovery commands (`redrive`, `replay`) reach the operators' API: `--api URL` (a deployed
stage or a running local one), or a fresh embedded stack that first runs the FILE(s) given, with
their approvals decided, then takes the command."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from local.operators_client import embedded, remote


def run(command: Callable[..., int], *, api: str | None, files: list[Path], decide: str,
        read_events: Callable[[Path], list[dict]], input_error: type[Exception],
        quiet: Callable[[], None], prepare_stdout: Callable[[], TextIO]) -> int:
    if api:
        return command(remote(api), sys.stdout)
    try:
        events = [event for path in files for event in read_events(path)]
    except input_error as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from local.runtime import EmbeddedRuntime

    quiet()
    out = prepare_stdout()
    try:
        with EmbeddedRuntime() as runtime:
            _settle(runtime, events, decide)
            return command(embedded(runtime), out, lambda: _settle(runtime, [], decide))
    finally:
        out.flush()


def _settle(runtime: Any, events: list[dict], decide: str) -> None:
    if events:
        runtime.publish(events)
    runtime.wait_settled()
    if decide != "none":
        runtime.decide_all(decide)

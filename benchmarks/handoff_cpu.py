"""CPU of one handoff on the embedded runtime, and what it builds per invocation.

    python benchmarks/handoff_cpu.py [--handoffs N]

Runs one handoff to warm the process (as a warm Lambda), then N handoffs one after another
(us-fixed-fee-advisory: no approvals, every provisioning step), and reports the process CPU time
(all threads: handlers, moto, Step Functions) per handoff, the Lambda invocations, and how many
boto3 sessions, clients and Powertools persistence layers handler code built per invocation. Writes
benchmarks/results/handoff_cpu.json."""

import argparse
import copy
import json
import platform
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
RESULTS = ROOT / "benchmarks" / "results"


class Counter:
    """Counts calls of a method made by handler code (the runtime runs each invocation in a thread
    named lambda:<function>) while the benchmark runs; wraps it and calls through."""

    def __init__(self, owner: Any, name: str):
        self.owner, self.name, self.calls = owner, name, 0
        self.original = getattr(owner, name)
        counter = self

        def counted(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name.startswith("lambda:"):
                counter.calls += 1
            return counter.original(*args, **kwargs)

        setattr(owner, name, counted)

    def restore(self) -> None:
        setattr(self.owner, self.name, self.original)


def bench(handoffs: int) -> dict[str, Any]:
    import logging
    import warnings

    import boto3.session
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from local.runtime import EmbeddedRuntime

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    raw = json.loads((ROOT / "tests/fixtures/closed-won/us-fixed-fee-advisory.json").read_text())

    def event(n: int) -> dict:
        copied = copy.deepcopy(raw)
        copied["detail"]["opportunity"]["id"] = f"cpu-{n}"
        copied["detail"]["eventId"] = f"cpu-evt-{n}"
        return copied

    with EmbeddedRuntime(ROOT / ".local" / "bench-cpu") as runtime:
        runtime.publish([event(0)])
        runtime.wait_settled(timeout=300)
        counters = {"boto3 sessions": Counter(boto3.session.Session, "__init__"),
                    "boto3 clients": Counter(boto3.session.Session, "client"),
                    "persistence layers": Counter(DynamoDBPersistenceLayer, "__init__")}
        invocations_before = len(runtime.lambdas.invocations)
        samples = []
        try:
            for n in range(1, handoffs + 1):
                cpu, wall = time.process_time(), time.monotonic()
                runtime.publish([event(n)])
                runtime.wait_settled(timeout=300)
                samples.append((time.process_time() - cpu, time.monotonic() - wall))
        finally:
            for counter in counters.values():
                counter.restore()
        invocations = len(runtime.lambdas.invocations) - invocations_before
        statuses = sorted({r.status for r in runtime.records() if r.opportunity_id.startswith("cpu-")})
    return {
        "handoffs": handoffs, "statuses": statuses,
        "cpu_s_per_handoff": {"median": round(statistics.median(c for c, _ in samples), 3),
                              "min": round(min(c for c, _ in samples), 3)},
        "wall_s_per_handoff_median": round(statistics.median(w for _, w in samples), 3),
        "lambda_invocations_per_handoff": round(invocations / handoffs, 1),
        "built_per_invocation": {name: round(c.calls / invocations, 2) for name, c in counters.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handoffs", type=int, default=5)
    args = parser.parse_args()
    from local.cli import _quiet_stdout

    out = _quiet_stdout()
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
               "at": datetime.now(UTC).isoformat(timespec="seconds")}
    document = {"benchmark": "handoff_cpu", "machine": machine, "result": bench(args.handoffs)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "handoff_cpu.json").write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, indent=2), file=out, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Scale benchmarks on the embedded runtime (run by benchmarks/run.py, one process each so that
peak memory is each one's own):

  single        N handoffs one after another (us-fixed-fee-advisory: no approvals, every
                provisioning step): received to activated, execution start to stop, CPU
  single-floor  the same with the engine's floor: the same template and workflow, handlers that
                do nothing (they answer what the next state needs and touch nothing)
  burst         N events of the realistic mix (local/burst.py) at once, approvals decided over
                HTTP (GET the page, POST the form, 10 s client timeout), then the check that
                nothing was lost or duplicated
  burst-floor   the same events with the floor's handlers (no approvals: the floor's readiness
                asks for none)
  counts        each closed-won example once, metered (local/metering.py): state transitions,
                Lambda invocations and GB-seconds, DynamoDB request units, S3/SES/SQS/... calls

CPU is the process's (all threads: handlers, moto, Step Functions); wall figures depend on what
else the machine runs (`uptime` is recorded with each result)."""

import copy
import json
import os
import resource
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "us-fixed-fee-advisory"


def _quiet() -> None:
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _example(name: str = EXAMPLE) -> dict:
    return json.loads((ROOT / "tests/fixtures/closed-won" / f"{name}.json").read_text())


def _own(raw: dict, opportunity: str) -> dict:
    event = copy.deepcopy(raw)
    event["detail"]["opportunity"]["id"] = opportunity
    event["detail"]["eventId"] = f"evt-{opportunity}"
    return event


class FloorHandlers:
    """The engine's floor: every function answers at once with what the next state reads, and
    touches nothing. AcceptEvent tells a new event, a redelivered one (duplicate) and one that
    fails its contract (Event.Invalid) apart by a lookup, as the real one would by its checks;
    CheckReadiness blocks the events known to need a fix and asks for no approval."""

    def __init__(self, invalid: set[str] = frozenset(), blocked: set[str] = frozenset()):  # type: ignore[assignment]
        self.invalid, self.blocked = set(invalid), set(blocked)
        self.seen: set[str] = set()
        self.modules: dict[str, str] = {}

    def install(self, runtime: Any) -> None:
        self.modules = {name: f.handler.rsplit(".", 2)[-2] for name, f in runtime.lambdas.functions.items()}
        runtime.bridge.invoker = self

    def __call__(self, function_name: str, event: Any) -> tuple[Any, str | None]:
        module = self.modules.get(function_name, "")
        if module == "accept_event":
            detail = (event.get("event") or {}).get("detail") or {}
            event_id = str(detail.get("eventId"))
            if event_id in self.invalid:
                return {"errorType": "Event.Invalid", "errorMessage": "floor", "stackTrace": []}, "Event.Invalid"
            action = "duplicate" if event_id in self.seen else "new"
            self.seen.add(event_id)
            opportunity = str((detail.get("opportunity") or {}).get("id"))
            return {"handoffId": f"ho-{opportunity}", "action": action, "resumeAt": None}, None
        if module == "check_readiness":
            handoff = str(event.get("handoffId", ""))
            return {"ready": handoff.removeprefix("ho-") not in self.blocked, "approvals": []}, None
        return {"projectCode": "FLOOR-0001"}, None  # what Create project shell's ResultSelector reads


def bench_single(handoffs: int, floor: bool) -> dict[str, Any]:
    from local.runtime import EmbeddedRuntime

    _quiet()
    with EmbeddedRuntime(ROOT / ".local" / ("bench-single-floor" if floor else "bench-single")) as runtime:
        if floor:
            FloorHandlers().install(runtime)
        sfn = runtime.client("stepfunctions")
        samples = []
        for n in range(handoffs + 1):  # the first warms the process, as a warm Lambda
            opportunity = f"single-{n}"
            cpu, wall = time.process_time(), time.monotonic()
            runtime.publish([_own(_example(), opportunity)])
            runtime.wait_settled()
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            execution = max(runtime.executions(), key=lambda e: e["startDate"])  # one at a time: the latest
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            run_s = (described["stopDate"] - described["startDate"]).total_seconds()
            activated = None
            if not floor:
                record = next(r for r in runtime.records() if r.opportunity_id == opportunity)
                assert record.status == "ACTIVATED", record.status
                activated = float(record.duration_seconds or 0)
            if n:
                samples.append({"cpu_s": cpu, "wall_s": wall, "execution_s": run_s, "received_to_activated_s": activated})

    def median(key: str) -> float | None:
        values = [s[key] for s in samples if s[key] is not None]
        return round(statistics.median(values), 3) if values else None

    return {"handoffs": handoffs, "floor": floor, "load_average": load(),
            "received_to_activated_p50_s": median("received_to_activated_s"),
            "execution_start_to_stop_p50_s": median("execution_s"),
            "cpu_s_per_handoff_p50": median("cpu_s"), "wall_s_per_handoff_p50": median("wall_s"),
            "peak_rss_mib": peak_rss_mib()}


def bench_burst(events: int, seed: int, floor: bool) -> dict[str, Any]:
    from local.burst import check, generate
    from local.metering import Meter
    from local.runtime import EmbeddedRuntime

    _quiet()
    burst = generate(events, seed)
    kinds = dict(zip((e["detail"]["eventId"] for e in burst.events), burst.kinds, strict=True))
    with EmbeddedRuntime(ROOT / ".local" / ("bench-burst-floor" if floor else "bench-burst")) as runtime:
        meter = Meter()
        runtime.bridge.meter = runtime.lambdas.meter = meter
        if floor:
            FloorHandlers(invalid={i for i, k in kinds.items() if k == "invalid"},
                          blocked=set(burst.opportunities("needs_fix"))).install(runtime)
        decisions: list[float] = []
        decide = runtime.decide

        def timed_decide(link: str, decision: str, comment: str = "") -> tuple[int, str]:
            started = time.monotonic()
            try:
                return decide(link, decision, comment)
            finally:
                decisions.append(time.monotonic() - started)

        runtime.decide = timed_decide  # type: ignore[method-assign]
        before = load()
        cpu, wall = time.process_time(), time.monotonic()
        runtime.publish(burst.events)
        runtime.wait_settled()
        settled_wall, settled_cpu = time.monotonic() - wall, time.process_time() - cpu
        decided, failure = 0, None
        try:
            decided = 0 if floor else runtime.decide_all("approve")
        except Exception as exc:  # recorded with the figures: a failed approval is a finding, not a crash
            failure = f"{type(exc).__name__}: {exc}"
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        after = load()
        executions = len(runtime.executions())
        outcome = None if floor else check(runtime, burst)
        statuses = Counter(e["status"] for e in runtime.executions())
    return {
        "events": events, "seed": seed, "floor": floor, "mix": burst.counts(),
        "load_average_before_after": [before, after],
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "until_paused_on_approvals": {"wall_s": round(settled_wall, 1), "cpu_s": round(settled_cpu, 1)},
        "executions": executions, "execution_statuses": dict(statuses),
        "cpu_s_per_execution": round(cpu / max(1, executions), 3),
        "approvals_decided_over_http": decided, "approval_failure": failure,
        "approval_http_seconds": {"median": round(statistics.median(decisions), 3), "max": round(max(decisions), 3)}
        if decisions else None,
        "lambda_invocations": sum(meter.invocations.values()),
        "peak_rss_mib": peak_rss_mib(),
        "check": outcome.to_json() if outcome else None,
    }


def bench_counts() -> dict[str, Any]:
    """Each closed-won example once, one after another, metered; approvals approved over HTTP."""
    from local.metering import Meter
    from local.runtime import EmbeddedRuntime

    _quiet()
    per_example: dict[str, Any] = {}
    with EmbeddedRuntime(ROOT / ".local" / "bench-counts") as runtime:
        runtime.publish([_own(_example(), "counts-warm-up")])
        runtime.wait_settled()
        for path in sorted((ROOT / "tests/fixtures/closed-won").glob("*.json")):
            meter = Meter()
            runtime.bridge.meter = runtime.lambdas.meter = meter
            opportunity = f"counts-{path.stem}"
            runtime.publish([_own(json.loads(path.read_text()), opportunity)])
            runtime.wait_settled()
            approvals = runtime.decide_all("approve")
            runtime.wait_settled()
            runtime.bridge.meter = runtime.lambdas.meter = None
            record = next(r for r in runtime.records() if r.opportunity_id == opportunity)
            execution = max(runtime.executions(), key=lambda e: e["startDate"])  # one at a time: the latest
            history = runtime.history(execution["executionArn"])
            summary = meter.summary()
            per_example[path.stem] = {
                "status": record.status, "approvals": approvals,
                "state_transitions": sum(1 for e in history if e["type"].endswith("StateEntered")),
                "history_events": len(history),
                "lambda_invocations_by_step_functions": sum(c for (o, s, op), c in meter.calls.items()
                                                            if o == "stepfunctions" and s == "lambda"),
                **summary,
                "emails": summary["calls"].get("ses.SendRawEmail", 0),
                "s3_puts": summary["calls"].get("s3.PutObject", 0),
            }
    per_example.update(_other_kinds(runtime_dir=ROOT / ".local" / "bench-counts-kinds"))
    keys = ["state_transitions", "lambda_invocations", "lambda_gb_seconds", "lambda_handler_cpu_seconds",
            "dynamodb_wru", "dynamodb_rru", "emails", "s3_puts"]
    closed_won = [v for k, v in per_example.items() if not k.startswith("(")]
    mean = {k: round(statistics.mean(float(v[k]) for v in closed_won), 3) for k in keys}
    return {"per_example": per_example, "mean_of_examples": mean, "load_average": load()}


def _other_kinds(runtime_dir: Path) -> dict[str, Any]:
    """What an event that is not a new closed-won deal costs: invalid, a redelivered duplicate,
    a needs-fix deal (blocked), a stage change."""
    from local.metering import Meter
    from local.runtime import EmbeddedRuntime

    invalid = json.loads((ROOT / "tests/fixtures/invalid/missing-opportunity-id.json").read_text())
    invalid["detail"]["eventId"] = "evt-kinds-invalid"
    needs_fix = _own(json.loads((ROOT / "tests/fixtures/needs-fix/missing-tax-id.json").read_text()), "kinds-needs-fix")
    stage = _own(json.loads((ROOT / "tests/fixtures/stage-changed/emea-erp-negotiation.json").read_text()), "kinds-stage")
    first = _own(_example(), "kinds-duplicate")
    found: dict[str, Any] = {}
    with EmbeddedRuntime(runtime_dir) as runtime:
        runtime.publish([first])
        runtime.wait_settled()
        for name, event in [("(invalid)", invalid), ("(duplicate)", first), ("(needs fix)", needs_fix),
                            ("(stage change)", stage)]:
            meter = Meter()
            runtime.bridge.meter = runtime.lambdas.meter = meter
            started = len(runtime.executions())
            runtime.publish([event])
            runtime.wait_settled()
            runtime.bridge.meter = runtime.lambdas.meter = None
            executions = runtime.executions()
            transitions = 0
            if len(executions) > started:
                latest = max(executions, key=lambda e: e["startDate"])
                transitions = sum(1 for e in runtime.history(latest["executionArn"]) if e["type"].endswith("StateEntered"))
            summary = meter.summary()
            found[name] = {"state_transitions": transitions, **summary, "approvals": 0,
                           "emails": summary["calls"].get("ses.SendRawEmail", 0),
                           "s3_puts": summary["calls"].get("s3.PutObject", 0)}
    return found

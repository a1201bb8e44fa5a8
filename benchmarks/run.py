"""Benchmarks with recorded results (`make bench`): what a handoff costs in CPU, memory and state
payload, measured rather than asserted by timed tests.

  domain   the pure work of one handoff (parse, playbook, readiness, contract analysis, approvals,
           billing), per example, with tracemalloc's peak
  starts   the embedded runtime started and closed N times in one process (what each test module
           with its own runtime pays)
  runtime  N handoffs through the embedded runtime (the stack's own template on moto): wall time,
           received-to-activated latency, peak RSS, and the largest state payload Step Functions
           carried (AWS caps it at 256 KiB)
  single, single-floor, burst, burst-floor, counts   see benchmarks/scale.py: one handoff's latency
           and CPU, the 1,000-event burst of the realistic mix, each against the engine's floor,
           and the per-handoff counts docs/capacity.md's model is built from

Each benchmark runs in its own process (peak memory is its own) when several are asked for.

Results go to benchmarks/results/<name>.json and are summarised in benchmarks/RESULTS.md."""

import argparse
import copy
import json
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT), str(ROOT / "benchmarks")]
RESULTS = ROOT / "benchmarks" / "results"
STATE_PAYLOAD_LIMIT = 256 * 1024


def _examples() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "tests/fixtures/closed-won").glob("*.json"))}


def _timed(work: Callable[[], Any], repeat: int) -> dict[str, float]:
    work()  # warm caches (playbook files, pydantic validators), as a warm Lambda would
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1e6)
    tracemalloc.start()
    work()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"median_us": round(statistics.median(samples), 1), "p95_us": round(sorted(samples)[int(0.95 * len(samples))], 1),
            "peak_kib": round(peak / 1024, 1)}


def bench_domain(repeat: int) -> dict[str, Any]:
    from handoff.adapters.configuration import load_approver_directory
    from handoff.adapters.playbook_files import load_playbook
    from handoff.contracts import parse_event
    from handoff.domain.approvals import estimate_margin, required_approvals
    from handoff.domain.billing import build_billing_schedule
    from handoff.domain.offline_analyser import OfflineAnalyser
    from handoff.domain.readiness import check_readiness

    directory = load_approver_directory()
    today = datetime(2026, 11, 25, tzinfo=UTC).date()
    results: dict[str, Any] = {}
    for name, raw in _examples().items():
        def handoff(raw: dict = raw) -> None:
            deal = parse_event(raw)
            detail = deal.detail
            playbook = load_playbook(detail.opportunity.service_line, region=detail.opportunity.region,
                                     country=detail.account.country, contract_type=detail.contract.type)
            check_readiness(deal, playbook, today=today)
            analysis = OfflineAnalyser().analyse(deal, max_payment_terms_days=playbook.billing.max_payment_terms_days)
            required_approvals(deal, playbook.approvals, directory,
                               non_standard_clauses=[f.clause_id for f in analysis.findings if not f.standard],
                               estimated_margin=estimate_margin(deal, playbook.cost_rates, playbook.default_cost_rate,
                                                                playbook.cost_rate_currency))
            build_billing_schedule(detail.contract, detail.staffing, rules=playbook.billing,
                                   tax=playbook.tax_rule(detail.account.country),
                                   customer_country=detail.account.country,
                                   supplier_country=playbook.supplier_country(detail.account.country))

        parse = _timed(lambda raw=raw: parse_event(raw), repeat)
        results[name] = {"parse_event": parse, "whole_domain": _timed(handoff, repeat)}
    return results


def _largest_state_payload(runtime: Any) -> tuple[int, str]:
    largest, where = 0, ""
    for execution in runtime.executions():
        for event in runtime.history(execution["executionArn"]):
            for key, details in event.items():
                if not key.endswith("EventDetails") or not isinstance(details, dict):
                    continue
                for field in ("input", "output"):
                    size = len(str(details.get(field) or "").encode())
                    if size > largest:
                        largest, where = size, f"{event['type']} {details.get('name', '')}".strip()
    return largest, where


def bench_runtime(copies: int) -> dict[str, Any]:
    import logging
    import warnings

    from local.runtime import EmbeddedRuntime

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    events = []
    for round_ in range(copies):
        for name, raw in _examples().items():
            event = copy.deepcopy(raw)
            event["detail"]["opportunity"]["id"] = f"bench-{round_}-{name}"
            event["detail"]["eventId"] = f"bench-evt-{round_}-{name}"
            events.append(event)
    started = time.monotonic()
    with EmbeddedRuntime(ROOT / ".local" / "bench") as runtime:
        provisioned = time.monotonic()
        runtime.publish(events)
        runtime.wait_settled(timeout=600)
        runtime.decide_all("approve", timeout=600)
        finished = time.monotonic()
        records = runtime.records()
        latencies = sorted(float(r.duration_seconds) for r in records if r.duration_seconds is not None)
        largest, where = _largest_state_payload(runtime)
        statuses: dict[str, int] = {}
        for record in records:
            statuses[record.status] = statuses.get(record.status, 0) + 1
    return {
        "handoffs": len(events),
        "statuses": statuses,
        "provisioning_s": round(provisioned - started, 2),
        "handoffs_wall_s": round(finished - provisioned, 2),
        "handoffs_per_minute": round(len(events) / (finished - provisioned) * 60, 1),
        "received_to_activated_s": {"median": round(statistics.median(latencies), 2),
                                    "max": round(max(latencies), 2)} if latencies else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "largest_state_payload_bytes": largest,
        "largest_state_payload_at": where,
        "largest_state_payload_share_of_limit": f"{largest / STATE_PAYLOAD_LIMIT:.1%}",
    }


def bench_starts(starts: int) -> dict[str, Any]:
    """The embedded runtime started (provisioned from the template) and closed `starts` times in one
    process, as the test suite does once per module: the first start pays for imports and loading,
    the others are what each further module pays."""
    import logging
    import tempfile
    import warnings

    from local.runtime import EmbeddedRuntime

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    samples = []
    for _ in range(starts):
        wall, cpu = time.perf_counter(), time.process_time()
        with EmbeddedRuntime(Path(tempfile.mkdtemp(prefix="bench-start-"))):
            started_wall, started_cpu = time.perf_counter() - wall, time.process_time() - cpu
        samples.append({"start_s": round(started_wall, 3), "start_cpu_s": round(started_cpu, 3),
                        "start_and_close_s": round(time.perf_counter() - wall, 3)})
    later = samples[1:] or samples
    return {"starts": starts, "first": samples[0],
            "later_median": {key: round(statistics.median(s[key] for s in later), 3) for key in samples[0]},
            "samples": samples}


BENCHMARKS = ["domain", "runtime", "starts", "counts", "single", "single-floor", "burst", "burst-floor"]


def run_one(which: str, args: argparse.Namespace) -> dict[str, Any]:
    import scale

    if which == "domain":
        return bench_domain(args.repeat)
    if which == "runtime":
        return bench_runtime(args.copies)
    if which == "starts":
        return bench_starts(args.starts)
    if which in ("single", "single-floor"):
        return scale.bench_single(args.handoffs, floor=which.endswith("floor"))
    if which in ("burst", "burst-floor"):
        return scale.bench_burst(args.events, args.seed, floor=which.endswith("floor"))
    return scale.bench_counts()


def ratios() -> dict[str, Any]:
    """Our figures over the engine's floor, from the results on disk."""
    def result(name: str) -> dict[str, Any] | None:
        path = RESULTS / f"{name}.json"
        return json.loads(path.read_text())["result"] if path.exists() else None

    found: dict[str, Any] = {}
    single, single_floor = result("single"), result("single-floor")
    if single and single_floor:
        found["single_execution_start_to_stop"] = round(single["execution_start_to_stop_p50_s"]
                                                        / single_floor["execution_start_to_stop_p50_s"], 2)
        found["single_cpu_per_handoff"] = round(single["cpu_s_per_handoff_p50"] / single_floor["cpu_s_per_handoff_p50"], 2)
    burst, burst_floor = result("burst"), result("burst-floor")
    if burst and burst_floor:
        found["burst_cpu"] = round(burst["cpu_s"] / burst_floor["cpu_s"], 2)
        found["burst_wall"] = round(burst["wall_s"] / burst_floor["wall_s"], 2)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=200, help="domain: timed runs per example")
    parser.add_argument("--copies", type=int, default=5, help="runtime: copies of each closed-won example")
    parser.add_argument("--starts", type=int, default=8, help="starts: runtimes started and closed in one process")
    parser.add_argument("--handoffs", type=int, default=10, help="single: handoffs one after another")
    parser.add_argument("--events", type=int, default=1000, help="burst: events of the mix")
    parser.add_argument("--seed", type=int, default=14, help="burst: the mix's seed")
    args = parser.parse_args()
    unknown = set(args.which) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    chosen = args.which or BENCHMARKS
    RESULTS.mkdir(parents=True, exist_ok=True)
    if len(chosen) > 1:  # one process each: peak memory and warm caches are each benchmark's own
        import subprocess

        options = [f"--repeat={args.repeat}", f"--copies={args.copies}", f"--starts={args.starts}", f"--handoffs={args.handoffs}",
                   f"--events={args.events}", f"--seed={args.seed}"]
        for which in chosen:
            done = subprocess.run([sys.executable, __file__, which, *options], check=False)
            if done.returncode:
                return done.returncode
        print(json.dumps({"ratios_to_the_engine_floor": ratios()}, indent=2), flush=True)
        return 0
    from local.cli import _quiet_stdout

    out = _quiet_stdout()  # handler logs go to .local/lambda.log, results to stdout
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
               "at": datetime.now(UTC).isoformat(timespec="seconds")}
    which = chosen[0]
    result = run_one(which, args)
    document = {"benchmark": which, "machine": machine, "result": result}
    (RESULTS / f"{which}.json").write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, indent=2), file=out, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

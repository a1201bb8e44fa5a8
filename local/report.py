"""python -m local report: run events on the embedded runtime (or read facts kept earlier), then
report the process metrics as one JSON object and, with --html, a self-contained page.

Facts come from the handoff table's DynamoDB stream (moto's, read through local/moto_bridge.py),
turned into facts by the same code as the Facts function (handoff.adapters.stream_facts) and
written as JSON lines under <runtime folder>/facts/dt=YYYY-MM-DD/, as Firehose writes them to S3.
The metrics are the SQL of analytics/ on DuckDB (docs/metrics.md)."""

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO


class ReportInputError(Exception):
    pass


def collect_facts(runtime: Any) -> list[Any]:
    """Every fact of the runtime's handoff table so far, from its stream."""
    from handoff.adapters.stream_facts import facts_from_record
    from local.moto_bridge import stream_records

    table = next(lid for lid in runtime.resources.streams if lid.startswith("Handoffs"))
    records = stream_records(runtime.session, runtime.resources.streams[table])
    return [fact for record in records for fact in facts_from_record(record)]


def write_facts(facts: list[Any], folder: Path) -> list[Path]:
    """JSON lines, one file per date partition and batch (named by its content: writing the same
    batch again replaces the file, and the queries keep one copy of each fact anyway)."""
    by_day: dict[str, list[str]] = defaultdict(list)
    for fact in facts:
        by_day[fact.dt].append(json.dumps(fact.to_row(), separators=(",", ":")))
    written = []
    for day, lines in sorted(by_day.items()):
        text = "\n".join(lines) + "\n"
        path = folder / f"dt={day}" / f"facts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def report_on(folder: Path) -> dict[str, Any]:
    from analytics.engine import FactsDb, FactsUnreadable
    from handoff.logic.process_metrics import compute

    try:
        with FactsDb(folder) as db:
            return compute(db)
    except FactsUnreadable as error:
        raise ReportInputError(str(error)) from None


def check_facts_dir(folder: Path) -> None:
    if not folder.exists():
        raise ReportInputError(f"{folder}: cannot read: no such directory")
    if not folder.is_dir():
        raise ReportInputError(f"{folder}: cannot read: not a directory")
    try:
        next(folder.iterdir(), None)
    except OSError as exc:
        raise ReportInputError(f"{folder}: cannot read: {exc.strerror}") from None


def run_events(events: list[dict], decide: str) -> tuple[dict[str, Any], Path]:
    from local.runtime import EmbeddedRuntime

    with EmbeddedRuntime() as runtime:
        runtime.publish(events)
        runtime.wait_settled()
        if decide != "none":
            runtime.decide_all(decide)
        folder = runtime.workdir / "facts"
        write_facts(collect_facts(runtime), folder)
    return report_on(folder), folder


def emit(report: dict[str, Any], as_json: bool, html_dir: Path | None, out: TextIO) -> None:
    if html_dir is not None:
        from local.report_html import write_html

        write_html(report, html_dir)
    if as_json:
        json.dump(report, out, indent=2, sort_keys=False)
        out.write("\n")
        return
    out.write(summary_text(report))


def summary_text(report: dict[str, Any]) -> str:
    cycle = report["cycleTimeSeconds"]
    lines = [report.get("notice", ""),
             f"{report['handoffs']} handoff(s): " + ", ".join(f"{k} {v}" for k, v in report["byStatus"].items()),
             f"first-time-right {report['firstTimeRight']}, exception rate {report['exceptionRate']}, "
             f"rework rate {report['reworkRate']}",
             f"closed-won to activated p50 {cycle['closedWonToActivated']['p50']} s, "
             f"p90 {cycle['closedWonToActivated']['p90']} s; received to activated p50 "
             f"{cycle['receivedToActivated']['p50']} s, p90 {cycle['receivedToActivated']['p90']} s",
             "exceptions: " + (", ".join(f"{k} {v}" for k, v in report["exceptionsByCode"].items()) or "none")]
    return "\n".join(line for line in lines if line) + "\n"


def main(files: list[Path], facts_dir: Path | None, decide: str, as_json: bool, html_dir: Path | None, *,
         read_events: Any, input_error: type[Exception], prepare_stdout: Any) -> int:
    """Exit 0 when it reported; 2 with a one-line message naming the FILE or DIR that is unreadable."""
    try:
        if facts_dir is not None:
            if files:
                raise ReportInputError("give event FILEs or --facts DIR, not both")
            check_facts_dir(facts_dir)
            events = None
        else:
            if not files:
                raise ReportInputError("give event FILEs, or --facts DIR")
            events = [event for path in files for event in read_events(path)]
    except (ReportInputError, input_error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = prepare_stdout()
    try:
        report = report_on(facts_dir) if events is None else run_events(events, decide)[0]
        emit(report, as_json, html_dir, out)
    except ReportInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        out.flush()
    return 0

"""python -m local: run closed-won events on the embedded runtime."""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from local.handler_log import HandlerLog
from local.template import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


class InputError(Exception):
    pass


def read_events(path: Path, refused: list[str] | None = None) -> list[dict]:
    """A file holds one event or a JSON array of events; each must meet its contract (closed-won,
    or Opportunity Stage Changed by its detail-type). With `refused` (a list), an event of an array
    that fails its contract is kept, to be sent and quarantined as the bus would be sent it by a
    CRM (a burst is a realistic mix), and what is wrong with it is appended to `refused`."""
    sys.path.insert(0, str(ROOT / "functions"))
    from handoff.contracts import ContractError, parse_event, parse_stage_changed

    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    events = data if isinstance(data, list) else [data]
    for index, event in enumerate(events):
        where = f"{path}[{index}]" if isinstance(data, list) else str(path)
        stage_changed = isinstance(event, dict) and event.get("detail-type") == "Opportunity Stage Changed"
        try:
            (parse_stage_changed if stage_changed else parse_event)(event)
        except ContractError as exc:
            if refused is None or not isinstance(data, list) or not isinstance(event, dict):
                raise InputError(f"{where}: {exc}") from None
            refused.append(f"{where}: {exc}")
    return events


def _quiet_logs() -> None:
    """moto logs every failed state at ERROR with the whole state tree; the record says it better."""
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="aws_lambda_powertools")


def _quiet_stdout() -> TextIO:
    """Handlers log (Powertools) to stdout; keep stdout for our output and send the rest to a log."""
    log_dir = ROOT / ".local"
    log_dir.mkdir(exist_ok=True)
    real = os.fdopen(os.dup(1), "w")
    log = HandlerLog(log_dir / "lambda.log")
    os.dup2(log.fileno(), 1)  # what writes to the descriptor itself lands in the log too
    sys.stdout = log
    return real


def run(events: list[dict], decide: str, as_json: bool, out: TextIO, injection: Any = None,
        refused: list[str] | None = None) -> int:
    """`injection`: a local.inject_faults.FaultInjection for --inject-faults. `refused`: events of
    the input that fail their contract (sent all the same: the workflow quarantines them)."""
    from local.burst import check, classify
    from local.runtime import EmbeddedRuntime

    started = time.monotonic()
    with injection.runtime() if injection else EmbeddedRuntime() as runtime:
        runtime.publish(events)
        runtime.wait_settled(*([injection.settle_seconds] if injection else []))
        if decide != "none":
            injection.decide_all(runtime, decide) if injection else runtime.decide_all(decide)
        if injection:
            injection.stop_faults()
        records = runtime.records()
        if as_json:
            json.dump([r.to_json_dict() for r in records], out, indent=2)
            out.write("\n")
        else:
            print_summary(records, out, runtime)
            print_pipeline(events, records, out, runtime)
            out.write(f"\n{len(events)} event(s), {len(records)} handoff(s) in {time.monotonic() - started:.1f} s; "
                      f"emails in {runtime.outbox.folder}\n")
            for problem in refused or []:
                out.write(f"quarantined (fails its contract): {problem}\n")
            outcome = check(runtime, classify(events), decided=decide)
            out.write("nothing lost, nothing duplicated\n" if not outcome.problems else
                      f"{len(outcome.problems)} problem(s):\n" + "".join(f"  {p}\n" for p in outcome.problems))
            if injection:
                out.write(injection.summary())
    return 0


def print_pipeline(events: list[dict], records: list[Any], out: TextIO, runtime: Any) -> None:
    """Staffing requests of deals that only sent stage changes (no handoff yet), from the ledger."""
    from handoff.adapters.ledger.inspector import LedgerInspector

    with_handoff = {r.opportunity_id for r in records}
    pipeline = [e["detail"]["opportunity"]["id"] for e in events
                if e.get("detail-type") == "Opportunity Stage Changed"]
    ledger = LedgerInspector(runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE")))
    for opportunity in dict.fromkeys(o for o in pipeline if o not in with_handoff):
        requests = ledger.staffing_requests(opportunity)
        out.write(f"\n== {opportunity} (pipeline, no handoff yet): {len(requests)} staffing request(s)\n")
        for request in requests:
            out.write(f"   staffing  {request['role']}: {request['hours']} h from {request['startDate']} in "
                      f"{request['location']} [{request['status']}]\n")


def print_summary(records: list[Any], out: TextIO, runtime: Any = None) -> None:
    for record in records:
        out.write(f"\n== {record.opportunity_id} ({record.service_line}, {record.region}): {record.status}\n")
        if record.project:
            out.write(f"   project {record.project.code}  {record.project.name}  cost center "
                      f"{record.project.cost_center}  tax {record.project.tax_treatment}\n")
        if record.customer:
            out.write(f"   customer {record.customer.erp_customer_id} ({record.customer.match}) "
                      f"{record.customer.legal_name}\n")
        schedule = record.billing_schedule
        if schedule:
            out.write(f"   billing ({schedule.contract_type}), {len(schedule.lines)} lines:\n")
            for line in schedule.lines:
                when = line.due_date.isoformat() if line.due_date else line.trigger
                out.write(f"     {line.seq:>2}. {when}  {line.amount:>12} {schedule.currency}  tax {line.tax}"
                          f"  {line.description}\n")
            total = sum((line.amount for line in schedule.lines), start=type(schedule.total)(0))
            out.write(f"     total {schedule.total} {schedule.currency} (lines sum to {total})\n")
        for request in record.staffing_requests:
            out.write(f"   staffing  {request.role}: {request.hours} h from {request.start_date} in "
                      f"{request.location} [{request.status}]\n")
        for requisition in record.purchase_requisitions:
            out.write(f"   requisition  {requisition.vendor}: {requisition.amount} {requisition.currency} "
                      f"cost center {requisition.cost_center}\n")
        for approval in record.approvals:
            out.write(f"   approval  {approval.kind}: {approval.decision} by {approval.decided_by or approval.approver}\n")
        for exception in record.exceptions:
            out.write(f"   exception {exception.severity} {exception.code} at {exception.field or exception.step}: "
                      f"{exception.message}\n")
        if record.duration_seconds is not None:
            out.write(f"   activated in {record.duration_seconds:.2f} s\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="send the events in FILE(s) to a fresh embedded stack")
    run_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run_cmd.add_argument("--decide", choices=["approve", "reject", "none"], default="approve")
    run_cmd.add_argument("--json", action="store_true", help="print the handoff records as one JSON array")
    run_cmd.add_argument("--inject-faults", metavar="RATE", help="fail this share (0..1) of calls transiently")
    run_cmd.add_argument("--seed", type=int, default=0, help="the seed of --inject-faults (default 0)")
    commands.add_parser("demo", help="every closed-won example, approved through the approval links")
    burst_cmd = commands.add_parser("burst", help="write a seeded burst of events with a realistic mix (for run)")
    burst_cmd.add_argument("--events", type=int, default=1000)
    burst_cmd.add_argument("--seed", type=int, default=14)
    burst_cmd.add_argument("--out", type=Path, required=True, metavar="FILE")
    console_cmd = commands.add_parser("console", help="run the events, then serve the operations console")
    console_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    console_cmd.add_argument("--decide", choices=["approve", "reject", "none"], default="approve")
    console_cmd.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    console_cmd.add_argument("--facts", type=Path, metavar="DIR",
                             help="the metrics page shows the facts in DIR (e.g. from `history`), not these events'")
    ingest_cmd = commands.add_parser("ingest", help="what Salesforce or HubSpot sends, through the CRM intake")
    ingest_cmd.add_argument("crm", choices=["salesforce", "hubspot"])
    ingest_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest_cmd.add_argument("--crm-records", required=True, type=Path, metavar="RECORDS",
                            help="the CRM's records as its REST API returns them, served by a fake CRM")
    ingest_cmd.add_argument("--decide", choices=["approve", "reject", "none"], default="approve")
    ingest_cmd.add_argument("--json", action="store_true", help="print the handoff records as one JSON array")
    report_cmd = commands.add_parser("report", help="process metrics of the events in FILE(s), or of facts in --facts DIR")
    report_cmd.add_argument("files", nargs="*", type=Path, metavar="FILE")
    report_cmd.add_argument("--facts", type=Path, metavar="DIR", help="report on facts written earlier")
    report_cmd.add_argument("--decide", choices=["approve", "reject", "none"], default="approve")
    report_cmd.add_argument("--json", action="store_true", help="print the report as one JSON object")
    report_cmd.add_argument("--html", type=Path, metavar="DIR", help="write DIR/index.html")
    history_cmd = commands.add_parser("history", help="write a seeded SYNTHETIC history of handoffs as facts")
    history_cmd.add_argument("--seed", type=int, required=True)
    history_cmd.add_argument("--out", type=Path, required=True, metavar="DIR")
    history_cmd.add_argument("--handoffs", type=int, default=300)
    history_cmd.add_argument("--months", type=int, default=6)
    recovery_commands(commands)
    args = parser.parse_args(argv)
    if args.command in ("redrive", "replay", "retry", "requeue"):
        return run_recovery_command(args)
    if args.command == "burst":
        from local import burst

        return burst.main(args.events, args.seed, args.out)
    if args.command == "history":
        from local import history

        return history.main(args.seed, args.out, args.handoffs, args.months)
    if args.command == "report":
        from local import report

        _quiet_logs()
        return report.main(args.files, args.facts, args.decide, args.json, args.html, read_events=read_events,
                           input_error=InputError, prepare_stdout=_quiet_stdout)

    if args.command == "ingest":
        from local.ingest import main as ingest

        return ingest(args.crm, args.files, args.crm_records, args.decide, args.json)

    if args.command == "demo":
        files = sorted((FIXTURES / "closed-won").glob("*.json"))
        decide, as_json = "approve", False
    else:
        files, decide, as_json = args.files, args.decide, getattr(args, "json", False)
    injection = None
    if args.command == "run" and args.inject_faults is not None:
        from local.inject_faults import FaultInjection, RateRefused, parse_rate

        try:
            injection = FaultInjection(parse_rate(args.inject_faults), args.seed)
        except RateRefused as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    refused: list[str] | None = [] if args.command == "run" else None
    try:
        events = [event for path in files for event in read_events(path, refused)]
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if getattr(args, "facts", None) is not None:
        from local.report import ReportInputError, check_facts_dir

        try:
            check_facts_dir(args.facts)
        except ReportInputError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    _quiet_logs()
    out = _quiet_stdout()
    try:
        if args.command == "console":
            from local.console import serve

            return serve(events, args.decide, args.port, out, args.facts)
        code = run(events, decide, as_json, out, injection, refused)
        if args.command == "demo":
            out.write("\nOpen the console on these handoffs (then http://127.0.0.1:8765/):\n  .venv/bin/python -m local "
                      "console tests/fixtures/closed-won/*.json tests/fixtures/needs-fix/*.json\n")
        return code
    finally:
        out.flush()


def recovery_commands(commands: Any) -> None:
    """`redrive`, `replay`, `retry` and `requeue`: the operators' API from the command line
    (local/redrive.py, local/replay.py, local/retry.py, local/requeue.py)."""
    where = dict(metavar="URL", help="a deployed stage (https://<api-id>.execute-api.<region>.amazonaws.com/v1, "
                                     "SigV4-signed with your AWS credentials) or a running local API; default: a "
                                     "fresh embedded stack that runs FILE(s) first")
    redrive_cmd = commands.add_parser("redrive", help="redrive dead-letter queues to their sources")
    redrive_cmd.add_argument("files", nargs="*", type=Path, metavar="FILE", help="events to run first (embedded)")
    redrive_cmd.add_argument("--queue", metavar="NAME", help="one queue (as GET /dead-letters names it); default: "
                                                             "every queue holding messages")
    redrive_cmd.add_argument("--dry-run", action="store_true", help="list what would move; change nothing")
    redrive_cmd.add_argument("--json", action="store_true", help="print the reports as one JSON object")
    redrive_cmd.add_argument("--api", **where)
    replay_cmd = commands.add_parser("replay", help="replay a time window of the bus archive onto the bus")
    replay_cmd.add_argument("files", nargs="*", type=Path, metavar="FILE", help="events to run first (embedded)")
    replay_cmd.add_argument("--start", required=True, metavar="TIME", help="UTC ISO 8601, e.g. 2026-12-02T00:00:00Z")
    replay_cmd.add_argument("--end", default="now", metavar="TIME",
                            help="UTC ISO 8601, after --start, not in the future (default: now)")
    replay_cmd.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                            help="follow the replay until it completes, at most this long (default 600; 0: do not wait)")
    replay_cmd.add_argument("--json", action="store_true", help="print the replay as one JSON object")
    replay_cmd.add_argument("--api", **where)
    retry_cmd = commands.add_parser("retry", help="resume FAILED handoffs from the step that failed")
    retry_cmd.add_argument("files", nargs="*", type=Path, metavar="FILE", help="events to run first (embedded)")
    retry_cmd.add_argument("--handoff", action="append", default=[], metavar="ID", help="a FAILED handoff (repeatable)")
    retry_cmd.add_argument("--failed", action="store_true", help="every handoff the search lists as FAILED")
    retry_cmd.add_argument("--json", action="store_true", help="print what was retried and refused as one JSON object")
    retry_cmd.add_argument("--api", **where)
    requeue_cmd = commands.add_parser("requeue", help="re-ingest quarantined events that meet the contract now")
    requeue_cmd.add_argument("files", nargs="*", type=Path, metavar="FILE", help="events to run first (embedded)")
    requeue_cmd.add_argument("--key", metavar="KEY", help="one quarantined event (quarantine/<date>/<eventId>.json)")
    requeue_cmd.add_argument("--event", type=Path, metavar="FILE", help="with --key: the corrected event (JSON)")
    requeue_cmd.add_argument("--dry-run", action="store_true", help="say what would be requeued; change nothing")
    requeue_cmd.add_argument("--json", action="store_true", help="print the report as one JSON object")
    requeue_cmd.add_argument("--api", **where)


def run_recovery_command(args: argparse.Namespace) -> int:
    from local import operator_command
    from local.redrive import redrive
    from local.replay import replay
    from local.requeue import EventFileInvalid, read_event, requeue
    from local.retry import retry

    correction = None
    if args.command == "retry" and not (args.handoff or args.failed):
        print("error: retry: name a handoff (--handoff ID) or ask for every FAILED one (--failed)", file=sys.stderr)
        return 2
    if args.command == "requeue" and args.event is not None:
        if args.key is None:
            print("error: --event: a corrected event replaces one quarantined event: give its --key", file=sys.stderr)
            return 2
        try:
            correction = read_event(args.event)
        except EventFileInvalid as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    def command(api: Any, out: TextIO, settle: Any = lambda: None) -> int:
        if args.command == "replay":
            return replay(api, args.start, args.end, args.wait, args.json, out, sys.stderr, settle)
        if args.command == "retry":
            return retry(api, args.handoff, args.failed, args.json, out, sys.stderr, settle)
        if args.command == "requeue":
            return requeue(api, args.key, correction, args.dry_run, args.json, out, sys.stderr, settle)
        return redrive(api, args.queue, args.dry_run, args.json, out, sys.stderr)

    return operator_command.run(command, api=args.api, files=args.files, decide="approve", read_events=read_events,
                                input_error=InputError, quiet=_quiet_logs, prepare_stdout=_quiet_stdout)

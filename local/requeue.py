"""`python -m local requeue [FILE...] [--key KEY [--event FILE]] [--dry-run] [--json] [--api URL]`:
re-ingest quarantined events that meet the contract now, through the operators' recovery API
(POST /quarantine/requeue). `--key` takes one quarantined event; with `--event`, a corrected event
(a JSON file) replaces it. A dry run says which would go and why the others stay.

Exit 0 when everything asked for went (or, for a dry run, was listed); 1 when an event is still
invalid (it stays, with the fields at fault) or the API refused; 2 for bad usage or an unreadable
--event file."""

import json
from pathlib import Path
from typing import Any, TextIO

from local.operators_client import Call, refusal


class EventFileInvalid(ValueError):
    pass


def read_event(path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EventFileInvalid(f"--event: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise EventFileInvalid(f"--event: {path} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(event, dict):
        raise EventFileInvalid(f"--event: {path} must hold one event, a JSON object")
    return event


def requeue(api: Call, key: str | None, event: dict[str, Any] | None, dry_run: bool, as_json: bool, out: TextIO,
            err: TextIO, settle: Any = lambda: None) -> int:
    body: dict[str, Any] = {"dryRun": dry_run}
    if key is not None:
        body["key"] = key
    if event is not None:
        body["event"] = event
    status, report = api("POST", "/quarantine/requeue", body)
    if status not in (200, 202):
        err.write(refusal("POST /quarantine/requeue", status, report))
        return 1
    if not dry_run:
        settle()
    if as_json:
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        verb = "would be requeued" if dry_run else "requeued"
        for entry in report["requeued"]:
            out.write(f"{entry['key']}: {verb} ({entry['detailType']}, eventId {entry['eventId']})\n")
        for entry in report["stillInvalid"]:
            fields = ", ".join(f"{p['field']} ({p['message']})" for p in entry["problems"])
            out.write(f"{entry['key']}: still invalid, stays: {fields}\n")
        if not report["requeued"] and not report["stillInvalid"]:
            out.write("Nothing quarantined" + (f" under {key}" if key else "") + ".\n")
    missing = key is not None and not report["requeued"] and not report["stillInvalid"]
    return 1 if report["stillInvalid"] or missing else 0

"""`python -m local redrive [FILE...] [--queue NAME] [--dry-run] [--json] [--api URL]`: redrive
dead-letter queues to their sources through the operators' recovery API (GET /dead-letters, then
POST /dead-letters/{queue}/redrive for each queue holding messages, or the one --queue names).
A dry run lists what would move (count, message ids, a summary per message) and changes nothing.

Exit 0 when everything asked went; 1 when a message could not go (it stays in its queue) or the
API refused; 2 for a bad --queue (the names are listed) or an unreadable FILE."""

import json
from typing import Any, TextIO
from urllib.parse import quote

from local.operators_client import Call, refusal


def redrive(api: Call, queue: str | None, dry_run: bool, as_json: bool, out: TextIO, err: TextIO) -> int:
    status, listed = api("GET", "/dead-letters", None)
    if status != 200:
        err.write(refusal("GET /dead-letters", status, listed))
        return 1
    queues = listed["queues"]
    if queue is not None:
        chosen = [q for q in queues if queue in (q["queue"], q["queueName"])]
        if not chosen:
            err.write(f"error: --queue: no dead-letter queue {queue!r}; one of "
                      f"{', '.join(q['queue'] for q in queues)}\n")
            return 2
    else:
        chosen = [q for q in queues if q["count"] > 0]
    reports: list[dict[str, Any]] = []
    code = 0
    for entry in chosen:
        status, report = api("POST", f"/dead-letters/{quote(entry['queue'], safe='')}/redrive", {"dryRun": dry_run})
        if status not in (200, 202):
            err.write(f"error: {entry['queue']}: {status} {report.get('message', '')}\n")
            code = 1
            continue
        code = code or (1 if report.get("failed") else 0)
        reports.append(report)
    if as_json:
        json.dump({"dryRun": dry_run, "queues": reports}, out, indent=2)
        out.write("\n")
    else:
        _print(queues, reports, dry_run, out)
    return code


def _print(queues: list[dict], reports: list[dict], dry_run: bool, out: TextIO) -> None:
    done = {r["queue"] for r in reports}
    for report in reports:
        if dry_run:
            out.write(f"{report['queue']}: {report['count']} message(s) would be {report['method']} "
                      f"({report['destination']})\n")
            for message in report["messages"]:
                error = f"  [{message['error']}]" if message.get("error") else ""
                out.write(f"  {message['messageId']}  {message['summary']}{error}\n")
        else:
            out.write(f"{report['queue']}: {report['redriven']} of {report['count']} redriven, {report['method']}"
                      + (f", task {report['taskHandle']}" if report.get("taskHandle") else "")
                      + f"; {report['remaining']} left\n")
            for message in report["messages"]:
                out.write(f"  {message['messageId']} -> {message['to']}\n")
            for failure in report["failed"]:
                out.write(f"  {failure['messageId']} stays: {failure['error']}\n")
    untouched = [q["queue"] for q in queues if q["queue"] not in done and q["count"] == 0]
    if not reports:
        out.write("No dead letters waiting.\n")
    elif untouched:
        out.write(f"empty: {', '.join(untouched)}\n")

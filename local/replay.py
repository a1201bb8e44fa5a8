"""`python -m local replay --start T [--end T|now] [FILE...] [--json] [--api URL]`: replay a time window
of the bus archive onto the bus through the operators' recovery API (POST /replays), then follow it
(GET /replays/{name}) until it completes. T is a UTC time in ISO 8601 (2026-12-02T00:00:00Z).

Exit 0 when the replay completed (or, on AWS, started: --wait 0); 1 when it failed or the API
refused; 2 for a bad window, naming the flag (--start or --end)."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import quote

from local.operators_client import Call, refusal

FINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def replay(api: Call, start: str, end: str, wait_seconds: float, as_json: bool, out: TextIO, err: TextIO,
           settle: Callable[[], None] = lambda: None) -> int:
    if end.strip().lower() == "now":
        end = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, started = api("POST", "/replays", {"start": start, "end": end})
    if status == 422:
        for problem in started.get("problems", []):
            err.write(f"error: --{problem['field']}: {problem['message']}\n")
        return 2
    if status != 202:
        err.write(refusal("POST /replays", status, started))
        return 1
    state = {"state": started["state"]}
    deadline = time.monotonic() + wait_seconds
    while state.get("state") not in FINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        _status, state = api("GET", f"/replays/{quote(started['replayName'], safe='')}", None)
    settle()  # the embedded stack: until what the replay started has run
    answer = {**started, **{k: v for k, v in state.items() if v is not None}}
    if as_json:
        json.dump(answer, out, indent=2)
        out.write("\n")
    else:
        out.write(f"replay {answer['replayName']} of {answer['start']} to {answer['end']} "
                  f"(archive {answer['archive']}, kept {answer['retentionDays']} days): {answer['state']}\n")
    return 1 if answer["state"] in ("FAILED", "CANCELLED") else 0

"""`python -m local retry [FILE...] (--handoff ID [--handoff ID ...] | --failed) [--json] [--api URL]`:
resume FAILED handoffs from the step that failed, through the operators' API
(POST /handoffs/{handoffId}/retry), once the cause is fixed. `--failed` retries every handoff the
search lists as FAILED (GET /handoffs?status=FAILED, every page).

Exit 0 when every retry started; 1 when one was refused (not FAILED any more: 409; unknown: 404) or
the API failed; 2 for bad usage."""

import json
from typing import Any, TextIO
from urllib.parse import quote, urlencode

from local.operators_client import Call, refusal

PAGE = 100  # the search's largest page


def failed_handoffs(api: Call) -> list[str] | tuple[int, dict]:
    """Every FAILED handoff's id, or the search's refusal (status, body)."""
    found: list[str] = []
    cursor: str | None = None
    while True:
        query = {"status": "FAILED", "limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
        status, page = api("GET", f"/handoffs?{urlencode(query)}", None)
        if status != 200:
            return status, page
        found += [item["handoffId"] for item in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            return found


def retry(api: Call, handoffs: list[str], every_failed: bool, as_json: bool, out: TextIO, err: TextIO,
          settle: Any = lambda: None) -> int:
    if every_failed:
        listed = failed_handoffs(api)
        if isinstance(listed, tuple):
            err.write(refusal("GET /handoffs?status=FAILED", *listed))
            return 1
        handoffs = [*handoffs, *(h for h in listed if h not in handoffs)]
    started: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for handoff_id in handoffs:
        status, body = api("POST", f"/handoffs/{quote(handoff_id, safe='')}/retry", None)
        if status == 202:
            started.append(body)
        else:
            refused.append({"handoffId": handoff_id, "httpStatus": status, "message": body.get("message", ""),
                            **({"status": body["status"]} if "status" in body else {})})
    settle()
    if as_json:
        json.dump({"retried": started, "refused": refused}, out, indent=2)
        out.write("\n")
    else:
        for body in started:
            out.write(f"{body['handoffId']}: retry {body['retry']} resumes at {body['resumeAt']!r} "
                      f"(execution {body['executionName']})\n")
        for body in refused:
            out.write(f"{body['handoffId']}: refused ({body['httpStatus']}): {body['message']}\n")
        if not handoffs:
            out.write("No FAILED handoffs.\n")
    return 1 if refused else 0

"""Search the handoffs (GET /handoffs and the console's handoff list): filters, sort, cursor pages.

Entry points, for any caller in the functions' process:

    params = parse_search_parameters({"status": "BLOCKED", "limit": "10"})   # SearchRefused names the field
    page = search_handoffs(params, DynamoHandoffIndex(table), now)           # a SearchPage
    page.to_json_dict()  # {"items": [...], "nextCursor": "..." | None, "count": n}

How it reads: one index partition is chosen from the filters (the owner's email, else the status,
else the service line, else every year of reception), queried in search-key order (receivedAt,
then handoffId) and the other filters are applied to what it yields. Never a Scan.

- sort=receivedAt streams: a page reads the partition from the cursor's key until limit + 1 items
  match, so the cursor is a position in the index (no duplicates, no gaps, whatever is added meanwhile).
- any other sort (amount, status, updatedAt, names) reads every match of the partition within the
  time window, sorts, and pages by keyset (sort value, search key) after the cursor. That is bounded
  by MAX_SORTED matches; a broader search is refused, naming `sort`, and asks for a narrower one.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from handoff.contracts.errors import describe_validation_error
from handoff.contracts.search import HandoffListing, HandoffSummary, SearchPage, SearchParameters
from handoff.contracts.timestamps import iso
from handoff.ports.search import HandoffIndex, IndexedHandoff, IndexPath

MAX_SORTED = 5000
_ABOVE_ANY_ID = "#~"  # after "receivedAt#" every handoff id ([a-z0-9-]) sorts below "~"
_CURSOR_VERSION = 1


class SearchRefused(ValueError):
    """Parameters the search cannot take; `problems` name each parameter."""

    def __init__(self, problems: list[dict[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))


def parse_search_parameters(query: Mapping[str, str | list[str]] | None) -> SearchParameters:
    """Query-string parameters as received (a value or a list of values) into SearchParameters."""
    problems = []
    single: dict[str, str] = {}
    for name, value in (query or {}).items():
        values = value if isinstance(value, list) else [value]
        if len(values) != 1:
            problems.append({"field": name, "message": "give this parameter once"})
        else:
            single[name] = values[0]
    try:
        params = SearchParameters.model_validate(single)
    except ValidationError as error:
        problems += [_name_parameter(p) for p in describe_validation_error(error).problems]
    if problems:
        raise SearchRefused(problems)
    return params


def _name_parameter(problem: dict[str, str]) -> dict[str, str]:
    field = {"from_": "from"}.get(problem["field"], problem["field"])
    message = problem["message"]
    if message == "Extra inputs are not permitted":
        message = f"unknown parameter (known: {', '.join(_known_parameters())})"
    return {"field": field, "message": message}


def _known_parameters() -> list[str]:
    return [f.alias or name for name, f in SearchParameters.model_fields.items()]


def search_handoffs(params: SearchParameters, index: HandoffIndex, now: datetime) -> SearchPage:
    after = _decode_cursor(params)
    if params.sort == "receivedAt":
        rows, more = _streamed(params, index, after)
    else:
        rows, more = _sorted(params, index, after)
    items = [_summary(row, now) for row in rows]
    next_cursor = _encode_cursor(params, _position(params, rows[-1])) if more and rows else None
    return SearchPage(items=items, next_cursor=next_cursor, count=len(items))


# --- reading the index ------------------------------------------------------------------------------
def _access_path(params: SearchParameters) -> tuple[IndexPath, str] | None:
    """The narrowest partition the filters allow; None: every year of reception."""
    if params.owner and "@" in params.owner:
        return "owner", params.owner.casefold()
    if params.status:
        return "status", params.status.value
    if params.service_line:
        return "serviceLine", params.service_line
    return None


def _window(params: SearchParameters) -> tuple[str | None, str | None]:
    lower = iso(params.from_) if params.from_ else None
    upper = iso(params.to) + _ABOVE_ANY_ID if params.to else None
    return lower, upper


def _candidates(params: SearchParameters, index: HandoffIndex, *, forward: bool, after: str | None,
                batch: int) -> Iterator[IndexedHandoff]:
    """Matching handoffs in search-key order, strictly after `after` in that order."""
    lower, upper = _window(params)
    if after is not None:  # the cursor narrows the window; its own row is dropped below
        if forward:
            lower = max(lower or after, after)
        else:
            upper = min(upper or after, after)
    path = _access_path(params)
    partitions: list[tuple[IndexPath, str]]
    if path is None:
        partitions = [("year", y) for y in sorted(_years(index, lower, upper), reverse=not forward)]
    else:
        partitions = [path]
    matches = _matcher(params)
    for kind, value in partitions:
        for row in index.handoffs(kind, value, forward=forward, lower=lower, upper=upper, batch=batch):
            if row.search_key != after and matches(row):
                yield row


def _years(index: HandoffIndex, lower: str | None, upper: str | None) -> list[str]:
    return [y for y in index.received_years() if (lower is None or y >= lower[:4]) and (upper is None or y <= upper[:4])]


def _matcher(params: SearchParameters) -> Callable[[IndexedHandoff], bool]:
    tests: list[Callable[[HandoffListing], bool]] = []
    if params.status:
        tests.append(lambda h: h.status == params.status)
    if params.service_line:
        tests.append(lambda h: h.service_line == params.service_line)
    if params.region:
        tests.append(lambda h: h.region == params.region)
    if params.owner:
        owner = params.owner.casefold()
        tests.append(lambda h: h.owner is not None and owner in (h.owner.email.casefold(), h.owner.name.casefold()))
    if params.customer:
        customer = params.customer.casefold()
        tests.append(lambda h: h.customer_id == params.customer or _fold(h.customer_name) == customer)
    if params.q:
        text = params.q.casefold()
        tests.append(lambda h: text in _fold(h.opportunity_name) or text in _fold(h.customer_name))
    return lambda row: all(test(row.handoff) for test in tests)


def _fold(text: str | None) -> str:
    return (text or "").casefold()


def _streamed(params: SearchParameters, index: HandoffIndex, after: Any) -> tuple[list[IndexedHandoff], bool]:
    forward = params.order == "asc"
    filtered = any((params.region, params.customer, params.q, params.owner)) or sum(
        bool(f) for f in (params.status, params.service_line)) > 1
    batch = 200 if filtered else params.limit + 1
    rows: list[IndexedHandoff] = []
    for row in _candidates(params, index, forward=forward, after=after, batch=batch):
        rows.append(row)
        if len(rows) > params.limit:
            return rows[:-1], True
    return rows, False


# Each sort's value as the cursor keeps it (updatedAt as the index's ISO text).
_SORT_VALUES: dict[str, Callable[[HandoffListing], Any]] = {
    "updatedAt": lambda h: iso(h.updated_at) if h.updated_at else None,
    "amount": lambda h: (h.amount.value, h.amount.currency) if h.amount else None,
    "status": lambda h: h.status.value,
    "opportunityName": lambda h: _fold(h.opportunity_name) or None,
    "customerName": lambda h: _fold(h.customer_name) or None,
}


def _sort_key(sort: str, row: IndexedHandoff) -> tuple[Any, ...]:
    value = _SORT_VALUES[sort](row.handoff)
    # Handoffs without the value sort before all others ascending (after them descending).
    return (value is not None, value if value is not None else "", row.search_key)


def _sorted(params: SearchParameters, index: HandoffIndex, after: Any) -> tuple[list[IndexedHandoff], bool]:
    rows = []
    for row in _candidates(params, index, forward=True, after=None, batch=500):
        rows.append(row)
        if len(rows) > MAX_SORTED:
            raise SearchRefused([{"field": "sort", "message": (
                f"more than {MAX_SORTED} handoffs match; sorting by {params.sort} needs a narrower search "
                "(a status, service line, owner or from/to window), or sort by receivedAt")}])
    descending = params.order == "desc"
    rows.sort(key=lambda r: _sort_key(params.sort, r), reverse=descending)
    if after is not None:
        rows = [r for r in rows if (_sort_key(params.sort, r) < after if descending else _sort_key(params.sort, r) > after)]
    return rows[:params.limit], len(rows) > params.limit


def _position(params: SearchParameters, row: IndexedHandoff) -> Any:
    return row.search_key if params.sort == "receivedAt" else _sort_key(params.sort, row)


# --- the answer -------------------------------------------------------------------------------------
def _summary(row: IndexedHandoff, now: datetime) -> HandoffSummary:
    age = max(0, int((now - row.handoff.received_at) // timedelta(seconds=1)))
    return HandoffSummary(**dict(row.handoff), age_seconds=age)


# --- the cursor: opaque to callers, bound to the search it came from ------------------------------------
def _fingerprint(params: SearchParameters) -> str:
    """The search without its page size and position: a cursor only continues the same search."""
    fields = params.model_dump(mode="json", exclude={"cursor", "limit"})
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _encode_cursor(params: SearchParameters, position: Any) -> str:
    data = {"v": _CURSOR_VERSION, "s": _fingerprint(params), "p": _to_json(position)}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(params: SearchParameters) -> Any:
    if params.cursor is None:
        return None
    refused = SearchRefused([{"field": "cursor", "message": "not a cursor this API returned"}])
    try:
        text = params.cursor + "=" * (-len(params.cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(text.encode()))
        if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION:
            raise refused
        position = _from_json(params.sort, data["p"])
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError, InvalidOperation, UnicodeDecodeError):
        raise refused from None
    if data.get("s") != _fingerprint(params):
        raise SearchRefused([{"field": "cursor", "message": (
            "the cursor belongs to another search: keep every parameter but limit and cursor as on the first page")}])
    return position


def _to_json(position: Any) -> Any:
    if isinstance(position, str):
        return position
    present, value, search_key = position
    if isinstance(value, tuple):  # an amount
        value = [str(value[0]), value[1]]
    return [present, value, search_key]


def _from_json(sort: str, data: Any) -> Any:
    if sort == "receivedAt":
        if not isinstance(data, str):
            raise ValueError("not a search key")
        return data
    present, value, search_key = data
    if not isinstance(present, bool) or not isinstance(search_key, str):
        raise ValueError("not a position")
    if sort == "amount" and present:
        value = (Decimal(value[0]), str(value[1]))
    elif not isinstance(value, str):
        raise ValueError("not a position")
    return (present, value, search_key)

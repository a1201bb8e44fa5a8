"""A fake ERP/PSA/CRM over HTTP on 127.0.0.1 for contract tests of the REST adapters.

In-memory state behind the canonical endpoints, Idempotency-Key honoured (same key on the same path
= the first successful response again, nothing created twice; refusals are not kept), optional
API-key or OAuth2 bearer auth with a token endpoint, per-path fault injection, and a record of every request.

    with FakeErp(api_key="k") as erp:
        erp.fault("/projects", throttle=2, retry_after="1")
        ... RestSystemConfig(base_url=erp.base_url, ...) ...
        assert erp.requests_to("/projects")[0].header("Idempotency-Key") == "..."
        assert erp.injected[("/projects", "throttle")] == 2
"""

import base64
import collections
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote

TOKEN_PATH = "/oauth/token"
Response = tuple[int, Any]


@dataclass
class Fault:
    """Faults for one path. Counters are consumed one request at a time, in the order listed."""

    latency: float = 0.0  # seconds added to every request
    throttle: int = 0  # the next N requests get 429 with Retry-After
    retry_after: str = "1"  # delta-seconds or an HTTP-date
    errors: int = 0  # the next N get 500
    reject: Any = None  # every request gets `reject_status` with this JSON detail
    reject_status: int = 400
    timeouts: int = 0  # the next N are processed, but answered only after hang_seconds
    hang_seconds: float = 0.6  # keep it above the client's timeout and short
    malformed: int = 0  # the next N are processed, but answered with a broken JSON body


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _State:
    customers: dict[str, dict] = field(default_factory=dict)
    projects: dict[str, dict] = field(default_factory=dict)
    schedules: dict[str, dict] = field(default_factory=dict)
    staffing: dict[str, dict] = field(default_factory=dict)
    requisitions: dict[str, dict] = field(default_factory=dict)
    crm: dict[str, str] = field(default_factory=dict)


def _norm_tax(value: str | None) -> str | None:
    return re.sub(r"[\s.\-]", "", value).upper() if value else None


class FakeErp:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_key_header: str = "X-Api-Key",
        client_id: str | None = None,
        client_secret: str | None = None,
        token_ttl: int = 3600,
    ):
        self.api_key, self.api_key_header = api_key, api_key_header
        self.client_id, self.client_secret, self.token_ttl = client_id, client_secret, token_ttl
        self.requests: list[RecordedRequest] = []
        self.faults: dict[str, Fault] = {}
        self.state = _State()
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.injected: collections.Counter[tuple[str, str]] = collections.Counter()  # (path, fault kind) -> hits
        self._responses: dict[tuple[str, str], Response] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._port: int | None = None  # kept after stop(): a stopped fake is a refused connection
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[re.Pattern, Callable[..., Response]]] = [
            (re.compile(r"/customers/match-or-create"), self._customer),
            (re.compile(r"/projects"), self._project),
            (re.compile(r"/billing-schedules"), self._schedule),
            (re.compile(r"/staffing-requests/soft"), self._soft_staffing),
            (re.compile(r"/staffing-requests/firm"), self._firm_staffing),
            (re.compile(r"/staffing-requests/release"), self._release),
            (re.compile(r"/requisitions"), self._requisitions),
            (re.compile(r"/crm/opportunities/(?P<opportunity_id>[^/]+)/project"), self._crm),
        ]

    # Lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> "FakeErp":
        handler = type("Handler", (_Handler,), {"erp": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._port, "start the fake first"
        return f"http://127.0.0.1:{self._port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    # Test helpers ----------------------------------------------------------------------------
    def fault(self, path: str, **settings: Any) -> Fault:
        with self._lock:
            self.faults[path] = Fault(**settings)
            return self.faults[path]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def revoke_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    # Request handling ------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[Response, Fault]:
        """Returns the response and the path's fault (for the late/malformed delivery faults)."""
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body))
            fault = self.faults.setdefault(path, Fault())
        if fault.latency:
            time.sleep(fault.latency)
        with self._lock:
            early = self._early_fault(path, fault)
        if early:
            return early, fault
        if path == TOKEN_PATH:
            return self._token(headers, body), fault
        with self._lock:
            early = self._unauthorised(headers)
            if early:
                return early, fault
            key = headers.get("idempotency-key")
            if not key:
                return (400, {"error": "missing_idempotency_key"}), fault
            replay = self._responses.get((path, key))
            if replay is None:
                replay = self._route(method, path, key, body)
                if 200 <= replay[0] < 300:
                    # Only what was done is kept under the key: a refusal (409 conflict) created
                    # nothing, so the same key after the cause is fixed is processed anew.
                    self._responses[(path, key)] = replay
            return replay, fault

    def _early_fault(self, path: str, fault: Fault) -> Response | None:
        if fault.latency:
            self.injected[(path, "latency")] += 1
        if fault.throttle:
            fault.throttle -= 1
            self.injected[(path, "throttle")] += 1
            return 429, {"error": "too_many_requests", "retryAfter": fault.retry_after}
        if fault.errors:
            fault.errors -= 1
            self.injected[(path, "error")] += 1
            return 500, {"error": "internal"}
        if fault.reject is not None:
            self.injected[(path, "reject")] += 1
            return fault.reject_status, fault.reject
        return None

    def delivery_faults(self, path: str, fault: Fault, status: int) -> tuple[bool, bool]:
        """After processing: (answer late, answer with a broken body), consuming the counters."""
        with self._lock:
            if status >= 300:
                return False, False
            if fault.timeouts:
                fault.timeouts -= 1
                self.injected[(path, "timeout")] += 1
                return True, False
            if fault.malformed:
                fault.malformed -= 1
                self.injected[(path, "malformed")] += 1
                return False, True
            return False, False

    def _unauthorised(self, headers: dict[str, str]) -> Response | None:
        if self.api_key and headers.get(self.api_key_header.lower()) != self.api_key:
            return 401, {"error": "invalid_api_key"}
        if self.client_id and headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return 401, {"error": "invalid_token"}
        return None

    def _route(self, method: str, path: str, key: str, body: bytes) -> Response:
        if method != "POST":
            return 405, {"error": "method_not_allowed"}
        for pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match:
                try:
                    payload = json.loads(body)
                except ValueError:
                    return 400, {"error": "invalid_json"}
                return handler(payload, key, **{k: unquote(v) for k, v in match.groupdict().items()})
        return 404, {"error": "not_found", "path": path}

    def _token(self, headers: dict[str, str], body: bytes) -> Response:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        client = base64.b64decode(value).decode() if scheme == "Basic" else ""
        form = parse_qs(body.decode())
        if client != f"{self.client_id}:{self.client_secret}" or form.get("grant_type") != ["client_credentials"]:
            return 401, {"error": "invalid_client"}
        with self._lock:
            self.tokens_issued += 1
            token = f"tok-{self.tokens_issued}"
            self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}

    def _next(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    # Systems of record (called under the lock) ------------------------------------------------
    def _customer(self, account: dict, key: str) -> Response:
        customers = self.state.customers
        tax, name, country = _norm_tax(account.get("taxId")), account["legalName"].casefold(), account["country"]
        found = customers.get(account.get("erpCustomerId") or "")
        found = found or next((c for c in customers.values() if tax and c["taxKey"] == tax), None)
        found = found or next((c for c in customers.values() if (c["nameKey"], c["country"]) == (name, country)), None)
        if found and found["country"] != country:
            detail = f"{found['erpCustomerId']} is in {found['country']}"
            return 409, {"error": "master_data_conflict", "detail": detail}
        if found:
            return 200, {**_public(found), "match": "existing"}
        cid = account.get("erpCustomerId") or self._next("C")
        customers[cid] = {
            "erpCustomerId": cid, "legalName": account["legalName"], "country": country, "taxKey": tax, "nameKey": name
        }
        return 201, {**_public(customers[cid]), "match": "created", "createdBy": key}

    def _project(self, body: dict, key: str) -> Response:
        project = body["project"]
        if project["code"] in self.state.projects:
            return 409, {"error": "duplicate_project_code", "code": project["code"]}
        self.state.projects[project["code"]] = {**project, "customer": body["customer"]}
        # Extra fields a real PSA adds; the adapter must ignore them.
        return 201, {**project, "id": self._next("P"), "status": "created"}

    def _schedule(self, body: dict, key: str) -> Response:
        sid = self._next("BS")
        self.state.schedules[sid] = body
        return 201, {"scheduleId": sid}

    # Staffing: one request per requestId; soft never downgrades firm, release never touches firm.
    def _staffing_of(self, opportunity_id: str) -> list[dict]:
        return [r for r in self.state.staffing.values() if r["opportunityId"] == opportunity_id]

    def _upsert(self, opportunity_id: str, requests: list[dict], status: str, **extra: Any) -> list[dict]:
        wanted = {r["requestId"] for r in requests}
        for request in requests:
            if self.state.staffing.get(request["requestId"], {}).get("status") == "FIRM" and status == "SOFT":
                continue
            self.state.staffing[request["requestId"]] = {**request, "status": status, "opportunityId": opportunity_id,
                                                         **extra}
        for record in self._staffing_of(opportunity_id):
            if record["requestId"] not in wanted and record["status"] in {"SOFT", status}:
                record["status"] = "RELEASED"
        return [{k: v for k, v in r.items() if k != "opportunityId"} for r in self._staffing_of(opportunity_id)]

    def _soft_staffing(self, body: dict, key: str) -> Response:
        return 200, {"requests": self._upsert(body["opportunityId"], body["requests"], "SOFT")}

    def _firm_staffing(self, body: dict, key: str) -> Response:
        firm = self._upsert(body["opportunityId"], body["requests"], "FIRM", projectCode=body["projectCode"])
        return 200, {"requests": firm}

    def _release(self, body: dict, key: str) -> Response:
        soft = [r for r in self._staffing_of(body["opportunityId"]) if r["status"] == "SOFT"]
        for request in soft:
            request["status"] = "RELEASED"
        return 200, {"released": len(soft)}

    def _requisitions(self, body: dict, key: str) -> Response:
        out = []
        for req in body["requisitions"]:
            rid = self._next("PR")
            self.state.requisitions[rid] = {**req, "requisitionId": rid, "projectCode": body["projectCode"]}
            out.append(self.state.requisitions[rid])
        return 201, {"requisitions": out}

    def _crm(self, body: dict, key: str, *, opportunity_id: str) -> Response:
        self.state.crm[opportunity_id] = body["projectCode"]
        return 204, None


def _public(customer: dict) -> dict:
    return {k: customer[k] for k in ("erpCustomerId", "legalName", "country")}


class _Handler(BaseHTTPRequestHandler):
    erp: FakeErp

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        (status, payload), fault = self.erp.handle(self.command, self.path, headers, body)
        data = b"" if payload is None else json.dumps(payload).encode()
        late, broken = self.erp.delivery_faults(self.path, fault, status)
        if late:
            time.sleep(fault.hang_seconds)  # the client has timed out: its retry must not create twice
        if broken:
            data = b'{"truncated": '
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", payload["retryAfter"])
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

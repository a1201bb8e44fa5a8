"""A fake CRM on 127.0.0.1 that answers as Salesforce's and HubSpot's REST APIs do, from records
given as those APIs return them, and records every write-back.

Salesforce: POST /services/oauth2/token (JWT bearer grant, RS256 assertion verified with the
connected app's certificate key), GET /services/data/vXX.X/query?q=SOQL (SELECT fields, dotted
relationship fields, FROM one sObject, WHERE field = 'x' / IN ('x', 'y') joined by AND, LIMIT),
PATCH /services/data/vXX.X/sobjects/{type}/{id}. Records: {"Opportunity": [...], "Account": [...],
"User": [...], "Contract": [...], "OpportunityLineItem": [...], ...}, each with `attributes`;
relationships resolve through <Name>Id / <Name>__c lookups (Owner -> User) unless nested.

HubSpot: GET /crm/v3/objects/{type}/{id}?properties=&associations=, POST
/crm/v3/objects/{type}/batch/read, GET /crm/v3/owners/{id}, GET /crm/v3/pipelines/deals, PATCH
/crm/v3/objects/deals/{id}, with the private app token as Bearer. Records: {"deals": [...],
"companies": [...], "line_items": [...], "owners": [...], "pipelines": [...] (optional)}.

`throttle(n, retry_after)` makes the next n API calls answer 429 with Retry-After, as both CRMs do
under their rate limits. JSON numbers are kept exact (Decimal in, the same digits out)."""

import json
import re
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

_NUMBER = "\u0000N:"
DEFAULT_PIPELINES = [{
    "id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": False,
    "stages": [
        {"id": "appointmentscheduled", "label": "Appointment Scheduled", "displayOrder": 0,
         "metadata": {"isClosed": "false", "probability": "0.2"}},
        {"id": "qualifiedtobuy", "label": "Qualified To Buy", "displayOrder": 1,
         "metadata": {"isClosed": "false", "probability": "0.4"}},
        {"id": "presentationscheduled", "label": "Presentation Scheduled", "displayOrder": 2,
         "metadata": {"isClosed": "false", "probability": "0.6"}},
        {"id": "decisionmakerboughtin", "label": "Decision Maker Bought-In", "displayOrder": 3,
         "metadata": {"isClosed": "false", "probability": "0.8"}},
        {"id": "contractsent", "label": "Contract Sent", "displayOrder": 4,
         "metadata": {"isClosed": "false", "probability": "0.9"}},
        {"id": "closedwon", "label": "Closed Won", "displayOrder": 5, "metadata": {"isClosed": "true", "probability": "1.0"}},
        {"id": "closedlost", "label": "Closed Lost", "displayOrder": 6,
         "metadata": {"isClosed": "true", "probability": "0.0"}},
    ],
}]
# Relationship name -> sObject type, where it is not the relationship's own name.
RELATIONSHIP_TYPES = {"Owner": "User", "CreatedBy": "User", "LastModifiedBy": "User", "CustomerSigned": "Contact",
                      "CompanySigned": "User", "ActivatedBy": "User"}


def exact_json(value: Any) -> bytes:
    """JSON with Decimals written as the same digits (json.dumps would need a float)."""
    def mark(v: Any) -> Any:
        if isinstance(v, Decimal):
            return _NUMBER + format(v, "f")
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v
    text = json.dumps(mark(value))
    return re.sub(r'"\\u0000N:(-?[0-9.]+)"', r"\1", text).encode()


class SoqlError(ValueError):
    pass


_SOQL = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<type>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
                   r"(?:\s+ORDER\s+BY\s+(?P<order>[\w.]+(?:\s+(?:ASC|DESC))?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
                   re.IGNORECASE | re.DOTALL)
_CONDITION = re.compile(r"^\s*(?P<field>[\w.]+)\s*(?:(?P<eq>=)\s*(?P<value>'(?:[^'\\]|\\.)*')|"
                        r"(?P<in>IN)\s*\((?P<values>[^)]*)\))\s*$", re.IGNORECASE | re.DOTALL)
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")


def parse_soql(soql: str) -> dict[str, Any]:
    found = _SOQL.match(soql)
    if not found:
        raise SoqlError(f"unexpected token in query: {soql[:80]!r}")
    fields = [f.strip() for f in found["fields"].split(",")]
    if not all(re.fullmatch(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*", f) for f in fields):
        raise SoqlError(f"invalid field list {found['fields']!r}")
    conditions = []
    if found["where"]:
        for part in re.split(r"\s+AND\s+", found["where"], flags=re.IGNORECASE):
            condition = _CONDITION.match(part)
            if not condition:
                raise SoqlError(f"unsupported condition {part.strip()!r}")
            if condition["eq"]:
                values = [_STRING.fullmatch(condition["value"])[1]]
            else:
                values = _STRING.findall(condition["values"])
            conditions.append((condition["field"], [v.replace("\\'", "'") for v in values]))
    return {"fields": fields, "type": found["type"], "conditions": conditions,
            "limit": int(found["limit"]) if found["limit"] else None}


class FakeCrm:
    def __init__(self, records: dict[str, Any], *, kind: str, public_key: str | None = None,
                 client_id: str = "", username: str = "", token: str = "", api_version: str = "62.0",
                 integration_user_id: str = "005000000000INTAAA"):
        self.kind = kind  # "salesforce" or "hubspot"
        self.records = records
        self.public_key, self.client_id, self.username = public_key, client_id, username
        self.token = token or f"00D!{uuid.uuid4().hex}"
        self.api_version, self.integration_user_id = api_version, integration_user_id
        self.writes: list[dict[str, Any]] = []  # every PATCH, in order
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.queries: list[str] = []
        self._throttled, self._retry_after = 0, "1"
        self._lock = threading.Lock()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                crm._serve(self, "GET")

            def do_POST(self) -> None:
                crm._serve(self, "POST")

            def do_PATCH(self) -> None:
                crm._serve(self, "PATCH")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeCrm":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def throttle(self, calls: int, retry_after: str = "1") -> None:
        """The next `calls` API requests answer 429 with this Retry-After."""
        with self._lock:
            self._throttled, self._retry_after = calls, retry_after

    # --- HTTP ------------------------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        try:
            status, payload, headers = self._route(method, url.path, parse_qs(url.query), body, request.headers)
        except SoqlError as exc:
            status, payload, headers = 400, [{"message": str(exc), "errorCode": "MALFORMED_QUERY"}], {}
        data = b"" if payload is None else exact_json(payload)
        request.send_response(status)
        for key, value in {"Content-Type": "application/json;charset=UTF-8", **headers}.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
               headers: Any) -> tuple[int, Any, dict[str, str]]:
        if method == "POST" and path == "/services/oauth2/token":
            return self._token(body)
        authorised = headers.get("Authorization") == f"Bearer {self.token}"
        if not authorised:
            if self.kind == "salesforce":
                return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
            return 401, {"status": "error", "message": "Authentication credentials not found.",
                         "category": "INVALID_AUTHENTICATION"}, {}
        with self._lock:
            self.requests.append((method, path))
            if self._throttled > 0:
                self._throttled -= 1
                if self.kind == "salesforce":
                    return 429, [{"message": "Request limit exceeded", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], {
                        "Retry-After": self._retry_after}
                return 429, {"status": "error", "message": "You have reached your secondly limit.",
                             "errorType": "RATE_LIMIT", "policyName": "SECONDLY"}, {
                    "Retry-After": self._retry_after, "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                    "X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "0"}
        if self.kind == "salesforce":
            return self._salesforce(method, path, query, body)
        return self._hubspot(method, path, query, body)

    # --- Salesforce --------------------------------------------------------------------------------
    def _token(self, body: bytes) -> tuple[int, Any, dict[str, str]]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, {}
        try:
            claims = jwt.decode(form.get("assertion", ""), self.public_key, algorithms=["RS256"],
                                audience=self.base_url, issuer=self.client_id, options={"require": ["exp"]})
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"invalid assertion: {exc}"}, {}
        if claims.get("sub") != self.username:
            return 400, {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}, {}
        return 200, {"access_token": self.token, "scope": "api", "instance_url": self.base_url,
                     "id": f"{self.base_url}/id/00D000000000001/{self.integration_user_id}", "token_type": "Bearer"}, {}

    def _salesforce(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any, dict]:
        prefix = f"/services/data/v{self.api_version}"
        if method == "GET" and path == f"{prefix}/query":
            soql = unquote(query.get("q", [""])[0])
            self.queries.append(soql)
            return 200, self.query(soql), {}
        found = re.fullmatch(rf"{re.escape(prefix)}/sobjects/(\w+)/(\w+)", path)
        if method == "PATCH" and found:
            record = self._find(found[1], found[2])
            if record is None:
                return 404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}], {}
            fields = json.loads(body, parse_float=Decimal)
            with self._lock:
                record.update(fields)
                record["LastModifiedDate"] = _sf_now()
                record["LastModifiedById"] = self.integration_user_id
                self.writes.append({"crm": "salesforce", "object": found[1], "id": found[2], "fields": fields})
            return 204, None, {}
        return 404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}], {}

    def _find(self, sobject: str, record_id: str) -> dict | None:
        return next((r for r in self.records.get(sobject, []) if _same_id(r.get("Id"), record_id)), None)

    def _by_id(self, record_id: str, hint: str | None) -> tuple[str, dict] | None:
        for sobject in ([hint] if hint else []) + list(self.records):
            record = self._find(sobject, record_id) if sobject in self.records else None
            if record is not None:
                return sobject, record
        return None

    def query(self, soql: str) -> dict[str, Any]:
        parsed = parse_soql(soql)
        sobject = parsed["type"]
        rows = [r for r in self.records.get(sobject, [])
                if all(any(_same_id(self._value(r, f), v) for v in values)
                       for f, values in parsed["conditions"])]
        if parsed["limit"] is not None:
            rows = rows[:parsed["limit"]]
        result = [self._project(sobject, r, parsed["fields"]) for r in rows]
        return {"totalSize": len(result), "done": True, "records": result}

    def _related(self, record: dict, name: str) -> tuple[str, dict] | None:
        nested = record.get(name)
        if isinstance(nested, dict):
            return str((nested.get("attributes") or {}).get("type") or RELATIONSHIP_TYPES.get(name, name)), nested
        lookup = record.get(name[:-3] + "__c") if name.endswith("__r") else record.get(f"{name}Id")
        if not lookup:
            return None
        return self._by_id(str(lookup), RELATIONSHIP_TYPES.get(name, name))

    def _value(self, record: dict, path: str) -> Any:
        *relationships, name = path.split(".")
        for relationship in relationships:
            related = self._related(record, relationship)
            if related is None:
                return None
            record = related[1]
        return record.get(name)

    def _project(self, sobject: str, record: dict, fields: list[str]) -> dict:
        out: dict[str, Any] = {"attributes": self._attributes(sobject, record)}
        for path in fields:
            node, current_type, current = out, sobject, record
            *relationships, name = path.split(".")
            for relationship in relationships:
                related = self._related(current, relationship)
                if related is None:
                    node[relationship] = None
                    break
                current_type, current = related
                child = node.get(relationship)
                if not isinstance(child, dict):
                    child = node[relationship] = {"attributes": self._attributes(current_type, current)}
                node = child
            else:
                node[name] = current.get(name)
        return out

    def _attributes(self, sobject: str, record: dict) -> dict[str, str]:
        return {"type": sobject, "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{record.get('Id')}"}

    # --- HubSpot ------------------------------------------------------------------------------------
    def _hubspot(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any, dict]:
        if method == "GET" and path == "/crm/v3/pipelines/deals":
            return 200, {"results": self.records.get("pipelines") or DEFAULT_PIPELINES}, {}
        owner = re.fullmatch(r"/crm/v3/owners/(\w+)", path)
        if method == "GET" and owner:
            found = next((o for o in self.records.get("owners", []) if str(o.get("id")) == owner[1]), None)
            return (200, found, {}) if found else _hubspot_missing(owner[1])
        batch = re.fullmatch(r"/crm/v3/objects/(\w+)/batch/read", path)
        if method == "POST" and batch:
            request = json.loads(body or b"{}")
            wanted = request.get("properties") or []
            results = [self._hubspot_object(batch[1], o, wanted, []) for i in request.get("inputs") or []
                       if (o := self._hubspot_find(batch[1], str(i.get("id")))) is not None]
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            return 200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}, {}
        single = re.fullmatch(r"/crm/v3/objects/(\w+)/(\w+)", path)
        if single and method == "GET":
            found = self._hubspot_find(single[1], single[2])
            if found is None:
                return _hubspot_missing(single[2])
            properties = ",".join(query.get("properties", [])).split(",")
            associations = [a for a in ",".join(query.get("associations", [])).split(",") if a]
            return 200, self._hubspot_object(single[1], found, properties, associations), {}
        if single and method == "PATCH":
            found = self._hubspot_find(single[1], single[2])
            if found is None:
                return _hubspot_missing(single[2])
            properties = json.loads(body or b"{}").get("properties") or {}
            with self._lock:
                found.setdefault("properties", {}).update(properties)
                found["properties"]["hs_lastmodifieddate"] = found["updatedAt"] = _hs_now()
                self.writes.append({"crm": "hubspot", "object": single[1], "id": single[2], "fields": properties})
            return 200, self._hubspot_object(single[1], found, list(properties), []), {}
        return 404, {"status": "error", "message": f"No route for {method} {path}", "category": "OBJECT_NOT_FOUND"}, {}

    def _hubspot_find(self, kind: str, object_id: str) -> dict | None:
        return next((o for o in self.records.get(kind, []) if str(o.get("id")) == object_id), None)

    def _hubspot_object(self, kind: str, found: dict, properties: list[str], associations: list[str]) -> dict:
        stored = found.get("properties") or {}
        always = ("hs_object_id", "createdate", "hs_lastmodifieddate")
        out = {"id": str(found["id"]),
               "properties": {p: stored.get(p) for p in dict.fromkeys([*always, *(p for p in properties if p)])},
               "createdAt": found.get("createdAt"), "updatedAt": found.get("updatedAt"),
               "archived": bool(found.get("archived", False))}
        linked = {k: v for k, v in (found.get("associations") or {}).items() if k in associations}
        if linked:
            out["associations"] = linked
        return out


def _hubspot_missing(object_id: str) -> tuple[int, Any, dict]:
    return 404, {"status": "error", "message": f"Object not found. objectId are usually numeric. ({object_id})",
                 "category": "OBJECT_NOT_FOUND"}, {}


def _same_id(a: Any, b: Any) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        return a == b
    return a == b or (len(a) >= 15 and len(b) >= 15 and a[:15] == b[:15] and re.fullmatch(r"\w{15,18}", a) is not None)


def _sf_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}+0000"


def _hs_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

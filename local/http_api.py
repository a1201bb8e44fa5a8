"""The approval API on 127.0.0.1: real HTTP in, an API Gateway REST proxy event to the same
Lambda handler that API Gateway would invoke, its response out."""

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Invoke = Callable[[str, dict], tuple[Any, str | None]]


class _Route:
    def __init__(self, method: str, pattern: str, function: str):
        self.method = method
        self.pattern = pattern
        names = re.findall(r"\{(\w+)\+?\}", pattern)
        regex = re.sub(r"\{\w+\+\}", "(.+)", pattern)
        regex = re.sub(r"\{\w+\}", "([^/]+)", regex)
        self.regex = re.compile(f"^{regex}$")
        self.names = names
        self.function = function

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.regex.match(path)
        return dict(zip(self.names, found.groups(), strict=True)) if found else None


class LocalApi:
    def __init__(self, routes: list[tuple[str, str, str]], stage: str, invoke: Invoke, port: int = 0):
        self.routes = [_Route(*r) for r in routes]
        self.stage = stage
        self.invoke = invoke
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._serve(self, "GET")

            def do_POST(self) -> None:
                api._serve(self, "POST")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        # shutdown() waits for the serving loop's next look: 0.5 s by default, at every runtime's close.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def set_routes(self, routes: list[tuple[str, str, str]], stage: str) -> None:
        self.routes = [_Route(*r) for r in routes]
        self.stage = stage

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "LocalApi":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        path = url.path
        prefix = f"/{self.stage}" if self.stage else ""  # no stage: served at the root (the local console)
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return self._reply(request, 403, {"content-type": "application/json"}, b'{"message":"Forbidden"}')
        resource_path = path[len(prefix):] or "/"
        for route in self.routes:
            params = route.match(method, resource_path)
            if params is None:
                continue
            length = int(request.headers.get("Content-Length") or 0)
            body = request.rfile.read(length) if length else b""
            event = self._event(request, method, route, resource_path, params, url.query, body)
            payload, error = self.invoke(route.function, event)
            if error:
                return self._reply(request, 502, {"content-type": "application/json"},
                                   b'{"message": "Internal server error"}')
            headers: list[tuple[str, str]] = [(k.lower(), v) for k, v in (payload.get("headers") or {}).items()]
            for key, values in (payload.get("multiValueHeaders") or {}).items():
                headers += [(key.lower(), v) for v in values if (key.lower(), v) not in headers]
            raw = payload.get("body") or ""
            data = base64.b64decode(raw) if payload.get("isBase64Encoded") else raw.encode()
            return self._reply(request, int(payload.get("statusCode", 200)), headers, data)
        self._reply(request, 404, {"content-type": "application/json"}, b'{"message":"Missing Authentication Token"}')

    def _event(self, request: BaseHTTPRequestHandler, method: str, route: _Route, path: str,
               params: dict[str, str], query: str, body: bytes) -> dict:
        pairs = parse_qsl(query, keep_blank_values=True)
        headers = dict(request.headers.items())
        text_body = body.decode("utf-8", errors="replace")
        return {
            "resource": route.pattern,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": dict(pairs) or None,
            "multiValueQueryStringParameters": {k: [v for kk, v in pairs if kk == k] for k, _ in pairs} or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "body": text_body or None,
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": route.pattern,
                "httpMethod": method,
                "path": f"/{self.stage}{path}" if self.stage else path,
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(datetime.now(UTC).timestamp() * 1000),
                "identity": {"sourceIp": request.client_address[0], "userAgent": headers.get("User-Agent", ""),
                             **_iam_identity(headers)},
                "domainName": request.headers.get("Host", ""),
                "apiId": "localapi",
            },
        }

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | list[tuple[str, str]],
               body: bytes) -> None:
        request.send_response(status)
        for key, value in headers.items() if isinstance(headers, dict) else headers:
            if key != "content-length":
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


# IAM (SigV4) is not emulated: a local caller names its identity in this header, and the server puts
# it where API Gateway puts the verified one (requestContext.identity.userArn / caller).
CALLER_HEADER = "X-Local-Caller-Arn"


def _iam_identity(headers: dict[str, str]) -> dict[str, str]:
    arn = next((v for k, v in headers.items() if k.lower() == CALLER_HEADER.lower()), None)
    return {"userArn": arn, "caller": arn.rsplit("/", 1)[-1]} if arn else {}


def parse_json(body: bytes) -> Any:
    return json.loads(body)

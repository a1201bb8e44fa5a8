"""The operators' API as a CLI calls it: `--api URL` is a deployed stage
(https://<api-id>.execute-api.<region>.amazonaws.com/v1, requests signed with SigV4 from the
caller's AWS credentials, as IAM authorization needs) or a running local one (the operators' API
`python -m local console` prints; the caller is named in a header, IAM is not emulated). Without
`--api`, the calls go to the EmbeddedRuntime given."""

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

# (method, path under the stage, JSON body or None) -> (HTTP status, JSON answer)
Call = Callable[[str, str, dict | None], tuple[int, dict]]
LOCAL_OPERATOR = "arn:aws:iam::123456789012:user/local-operator"


def refusal(request: str, status: int, answer: dict) -> str:
    """The error line for an answer a command cannot go on with: the API's message, and its problems
    (field: message) when they say more than the message does."""
    message = answer.get("message", "")
    problems = answer.get("problems", [])
    if problems and [p.get("message") for p in problems] != [message]:
        message += " (" + "; ".join(f"{p.get('field')}: {p.get('message')}" for p in problems) + ")"
    return f"error: {request} answered {status}: {message}\n"


def remote(base_url: str) -> Call:
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or ""

    def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        url = base + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if host.endswith(".amazonaws.com") and ".execute-api." in host:
            headers = _signed(method, url, data, headers, region=host.split(".")[2])
        else:
            from local.http_api import CALLER_HEADER

            headers[CALLER_HEADER] = os.environ.get("LOCAL_CALLER_ARN", LOCAL_OPERATOR)
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            text = error.read() or b"{}"
            try:
                return error.code, json.loads(text)
            except json.JSONDecodeError:
                return error.code, {"message": text.decode("utf-8", "replace")[:300]}

    return call


def _signed(method: str, url: str, data: bytes | None, headers: dict[str, str], *, region: str) -> dict[str, str]:
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials to sign the request with (aws configure, or AWS_PROFILE)")
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def embedded(runtime: Any) -> Call:
    return lambda method, path, body=None: runtime.api_call(method, path, body)

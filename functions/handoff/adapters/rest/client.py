"""One REST system of record: JSON over HTTP with an Idempotency-Key on every request, timeouts,
and retries with exponential backoff on 429, 5xx, timeouts and connection errors.

Errors: retries exhausted -> IntegrationTransient (the state machine may retry later with the same
key); any other 4xx -> IntegrationPermanent with the status and the response detail. A 2xx whose
body is not JSON (cut off by a proxy, a maintenance page) is retried like a 5xx: the request may
have taken effect, and the Idempotency-Key makes the retry replay it instead of repeating it. A
server that keeps answering garbage exhausts the attempts and ends as IntegrationTransient."""

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import urllib3

from handoff.adapters.credentials import AuthProvider, NoAuth
from handoff.adapters.rest.config import RestSystemConfig
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient

USER_AGENT = "closed-won-handoff/1"
DETAIL_LIMIT = 500


def full_jitter(delay: float) -> float:
    """AWS "full jitter": spreads retries of many handoffs hitting the same throttled system."""
    return random.uniform(0, delay)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _detail(data: bytes) -> Any:
    """The response detail for an error: parsed JSON if small, else text, truncated."""
    text = data.decode(errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:DETAIL_LIMIT]
    return parsed if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT]


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class _Unauthorised(Exception):
    def __init__(self, error: IntegrationPermanent):
        super().__init__(str(error))
        self.error = error


class RestClient:
    def __init__(
        self,
        config: RestSystemConfig,
        *,
        auth: AuthProvider | None = None,
        http: urllib3.PoolManager | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[float], float] = full_jitter,
    ):
        self.config = config
        self.system = config.name
        self._auth = auth or NoAuth()
        self._http = http or urllib3.PoolManager()
        self._sleep, self._now, self._jitter = sleep, now, jitter
        self._timeout = urllib3.Timeout(connect=config.timeout_seconds, read=config.timeout_seconds)

    def url(self, operation: str, **params: str) -> str:
        path = self.config.path(operation).format(**{k: quote(v, safe="") for k, v in params.items()})
        return str(self.config.base_url).rstrip("/") + path

    def post(self, operation: str, body: Any, *, idempotency_key: str, **params: str) -> Any:
        """POST JSON; returns the parsed JSON response (None for an empty body)."""
        return self.request("POST", self.url(operation, **params), operation, body=body,
                            idempotency_key=idempotency_key)

    def request(self, method: str, url: str, operation: str, *, body: Any = None, idempotency_key: str | None = None,
                parse_float: Callable[[str], Any] | None = None) -> Any:
        """Any method on a full URL with the same retries, backoff and re-authorisation as `post`.
        `parse_float=Decimal` keeps JSON numbers exact (CRM amounts)."""
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        attempt, reauthorised = 1, False
        while True:
            try:
                return self._attempt(url, payload, idempotency_key, operation, method, parse_float)
            except _Unauthorised as exc:
                # A 401 with cached credentials: refresh them once, free of charge, then it is final.
                if reauthorised or not self._auth.invalidate():
                    raise exc.error from None
                reauthorised = True
            except _Retry as exc:
                if attempt >= self.config.max_attempts:
                    raise IntegrationTransient(
                        f"{self.system}: {operation} failed after {attempt} attempts: {exc.reason}"
                    ) from None
                self._sleep(self._wait(exc, attempt, operation))
                attempt += 1

    def _wait(self, retry: _Retry, attempt: int, operation: str) -> float:
        cfg = self.config
        if retry.wait is None:
            return self._jitter(min(cfg.backoff_max_seconds, cfg.backoff_base_seconds * 2 ** (attempt - 1)))
        if retry.wait > cfg.backoff_max_seconds:
            # Longer than this Lambda should wait: leave it to the state machine's Retry.
            raise IntegrationTransient(
                f"{self.system}: {operation} got Retry-After {retry.wait:g}s, more than "
                f"{cfg.backoff_max_seconds:g}s ({retry.reason})"
            )
        return retry.wait

    def _attempt(self, url: str, payload: bytes | None, idempotency_key: str | None, operation: str,
                 method: str = "POST", parse_float: Callable[[str], Any] | None = None) -> Any:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            headers.update(self._auth.headers())
            response = self._http.request(
                method, url, body=payload, headers=headers, timeout=self._timeout, retries=False, redirect=False
            )
        except IntegrationTransient as exc:  # the token endpoint is down: same budget as the API
            raise _Retry(str(exc)) from exc
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of TimeoutError in urllib3 2
            raise _Retry(f"connection error ({exc.__class__.__name__})") from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise _Retry(f"timeout after {self.config.timeout_seconds:g}s") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Retry(f"connection error ({type(exc).__name__})") from exc
        status = response.status
        if 200 <= status < 300:
            return self._parse(response.data, status, parse_float)
        if status == 429 or status >= 500:
            wait = retry_after_seconds(response.headers.get("Retry-After"), self._now())
            raise _Retry(f"HTTP {status}", wait)
        detail = _detail(response.data)
        error = IntegrationPermanent(
            f"{self.system}: {operation} refused with HTTP {status}: {json.dumps(detail)[:DETAIL_LIMIT]}",
            system=self.system,
            status=status,
            detail=detail,
        )
        if status == 401:
            raise _Unauthorised(error)
        raise error

    def _parse(self, data: bytes, status: int, parse_float: Callable[[str], Any] | None = None) -> Any:
        if not data.strip():
            return None
        try:
            return json.loads(data, parse_float=parse_float)
        except ValueError:
            raise _Retry(f"HTTP {status} with a malformed response") from None

"""Credentials for REST systems: secrets from AWS Secrets Manager through Powertools Parameters (its
SecretsProvider and cache: a warm Lambda does not call Secrets Manager per request yet picks up a
rotation within the cache's max age); OAuth2 client-credentials tokens, cached until shortly before
they expire. Secret values never reach logs or error messages."""

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import boto3
import urllib3
from aws_lambda_powertools.utilities.parameters import GetParameterError, SecretsProvider
from aws_lambda_powertools.utilities.parameters.base import ExpirableValue
from botocore.exceptions import BotoCoreError, ClientError

from handoff.adapters.built_once import BuiltOnce
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient

Clock = Callable[[], float]
_TRANSIENT_SECRET_ERRORS = frozenset({"InternalServiceError", "ThrottlingException", "RequestLimitExceeded"})


class _ClockedSecretsProvider(SecretsProvider):
    """Powertools' SecretsProvider and its cache, with the cache's age read from `clock` (monotonic
    seconds) instead of the wall clock: a warm Lambda's cache is not fooled by a clock step, and a
    test can move time."""

    def __init__(self, client: Any, clock: Clock):
        super().__init__(boto3_client=client)
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.min + timedelta(seconds=self._clock())

    def has_not_expired_in_cache(self, key: tuple[Any, ...]) -> bool:
        return key in self.store and self.store[key].ttl >= self._now()

    def add_to_cache(self, key: tuple[Any, ...], value: Any, max_age: int) -> None:
        if max_age > 0:
            self.store[key] = ExpirableValue(value, self._now() + timedelta(seconds=max_age))


class SecretCache:
    """JSON secrets by id, each re-read after `ttl_seconds`; Secrets Manager's errors become named
    integration errors (throttling and its internal errors transient, the rest permanent)."""

    def __init__(
        self,
        client: Any = None,
        *,
        ttl_seconds: int = 300,
        clock: Clock = time.monotonic,
        make_client: Callable[[], Any] = lambda: boto3.client("secretsmanager"),
    ):
        # Without a client, one is made on first use: systems without secrets need none.
        self._provider = BuiltOnce(
            lambda: _ClockedSecretsProvider(client if client is not None else make_client(), clock)
        )
        self._ttl = ttl_seconds
        self._stale: set[str] = set()  # invalidated: re-read at the next get
        self._lock = threading.Lock()

    def get(self, secret_id: str, key: str | None = None) -> dict[str, Any]:
        """The secret's JSON object, or with `key` the object under that key (one secret, many systems)."""
        value = self._fetch(secret_id)
        if key is None:
            return value
        part = value.get(key)
        if not isinstance(part, dict):
            raise IntegrationPermanent(f"secret {secret_id} has no JSON object under {key!r}")
        return part

    def invalidate(self, secret_id: str) -> None:
        with self._lock:
            self._stale.add(secret_id)

    def _fetch(self, secret_id: str) -> dict[str, Any]:
        with self._lock:
            force = secret_id in self._stale
            self._stale.discard(secret_id)
        try:
            text = self._provider().get(secret_id, max_age=self._ttl, force_fetch=force)
        except GetParameterError as exc:
            # Powertools wraps whatever the call raised (as the exception's context): the cause is
            # what decides transient or permanent, and what callers have always been given.
            cause = exc.__context__
            if cause is None:
                raise
            named = _named_error(secret_id, cause)
            raise named from (None if named is cause else cause)
        value = _json_object(text)
        if value is None:
            self.invalidate(secret_id)  # a secret that cannot be used is not kept: its fix is read at once
            what = "is not a JSON object" if isinstance(text, str) else "has no SecretString"
            raise IntegrationPermanent(f"secret {secret_id} {what}")
        return value


def _json_object(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _named_error(secret_id: str, cause: BaseException) -> BaseException:
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code", "")
        error = IntegrationTransient if code in _TRANSIENT_SECRET_ERRORS else IntegrationPermanent
        return error(f"secret {secret_id}: Secrets Manager {code}")
    if isinstance(cause, BotoCoreError):
        return IntegrationTransient(f"secret {secret_id}: {type(cause).__name__}")
    if isinstance(cause, KeyError):  # neither SecretString nor SecretBinary in the answer
        return IntegrationPermanent(f"secret {secret_id} has no SecretString")
    return cause


def _field(secret: dict[str, Any], name: str, secret_id: str) -> str:
    value = secret.get(name)
    if not isinstance(value, str) or not value:
        raise IntegrationPermanent(f"secret {secret_id} lacks the string field {name!r}")
    return value


class AuthProvider(Protocol):
    def headers(self) -> dict[str, str]: ...

    def invalidate(self) -> bool:
        """Forget cached credentials after a 401; True when a retry with fresh ones may help."""
        ...


class NoAuth:
    def headers(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> bool:
        return False


class ApiKeyAuth:
    def __init__(self, secrets: SecretCache, *, secret_id: str, header: str, secret_key: str | None = None):
        self._secrets, self._secret_id, self._header, self._key = secrets, secret_id, header, secret_key

    def headers(self) -> dict[str, str]:
        return {self._header: _field(self._secrets.get(self._secret_id, self._key), "api_key", self._secret_id)}

    def invalidate(self) -> bool:
        self._secrets.invalidate(self._secret_id)  # the key may have been rotated
        return True


class OAuth2ClientCredentials:
    """Client-credentials grant with HTTP Basic client authentication (RFC 6749 2.3.1, 4.4)."""

    def __init__(
        self,
        secrets: SecretCache,
        *,
        token_url: str,
        secret_id: str,
        secret_key: str | None = None,
        scope: str | None = None,
        http: urllib3.PoolManager | None = None,
        timeout_seconds: float = 8.0,
        system: str = "oauth2",
        clock: Clock = time.monotonic,
    ):
        self._secrets, self._secret_id, self._key = secrets, secret_id, secret_key
        self._token_url, self._scope, self._system = token_url, scope, system
        self._http = http or urllib3.PoolManager()
        self._timeout = urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds)
        self._clock = clock
        self._token: tuple[float, str] | None = None
        self._lock = threading.Lock()
        self.fetches = 0  # how many tokens were requested (observability and tests)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def token(self) -> str:
        with self._lock:
            if self._token and self._token[0] > self._clock():
                return self._token[1]
            access_token, expires_in = self._fetch()
            # Refresh a little early so a token never expires in flight.
            self._token = (self._clock() + expires_in - min(60.0, expires_in / 10), access_token)
            return access_token

    def _fetch(self) -> tuple[str, float]:
        secret = self._secrets.get(self._secret_id, self._key)
        client_id = _field(secret, "client_id", self._secret_id)
        client_secret = _field(secret, "client_secret", self._secret_id)
        basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()).decode()
        form = {"grant_type": "client_credentials", **({"scope": self._scope} if self._scope else {})}
        self.fetches += 1
        try:
            response = self._http.request(
                "POST",
                self._token_url,
                body=urlencode(form).encode(),
                headers={
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
                timeout=self._timeout,
                retries=False,
                redirect=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise IntegrationTransient(f"{self._system}: token endpoint unreachable ({type(exc).__name__})") from exc
        if response.status == 429 or response.status >= 500:
            raise IntegrationTransient(f"{self._system}: token endpoint returned HTTP {response.status}")
        if response.status >= 300:
            self._secrets.invalidate(self._secret_id)  # a rotated client secret shows up here
            raise IntegrationPermanent(
                f"{self._system}: token endpoint refused the client (HTTP {response.status})",
                system=self._system,
                status=response.status,
                detail=response.data[:300].decode(errors="replace"),
            )
        try:
            body = json.loads(response.data)
            return str(body["access_token"]), float(body.get("expires_in") or 300)
        except (ValueError, KeyError, TypeError):
            raise IntegrationPermanent(
                f"{self._system}: malformed token response", system=self._system, status=response.status
            ) from None


"""Credentials for REST systems: secrets from AWS Secrets Manager, cached with a TTL so a warm Lambda
does not call Secrets Manager per request yet picks up a rotation; OAuth2 client-credentials tokens,
cached until shortly before they expire. Secret values never reach logs or error messages."""

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import boto3
import urllib3
from botocore.exceptions import BotoCoreError, ClientError

from handoff.domain.errors import IntegrationPermanent, IntegrationTransient

Clock = Callable[[], float]
_TRANSIENT_SECRET_ERRORS = frozenset({"InternalServiceError", "ThrottlingException", "RequestLimitExceeded"})


class SecretCache:
    def __init__(
        self,
        client: Any = None,
        *,
        ttl_seconds: float = 300.0,
        clock: Clock = time.monotonic,
        make_client: Callable[[], Any] = lambda: boto3.client("secretsmanager"),
    ):
        # Without a client, one is made on first use: systems without secrets need none.
        self._client, self._make_client = client, make_client
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, secret_id: str, key: str | None = None) -> dict[str, Any]:
        """The secret's JSON object, or with `key` the object under that key (one secret, many systems)."""
        with self._lock:
            cached = self._cache.get(secret_id)
        if cached and cached[0] > self._clock():
            value = cached[1]
        else:
            value = self._fetch(secret_id)
            with self._lock:
                self._cache[secret_id] = (self._clock() + self._ttl, value)
        if key is None:
            return value
        part = value.get(key)
        if not isinstance(part, dict):
            raise IntegrationPermanent(f"secret {secret_id} has no JSON object under {key!r}")
        return part

    def invalidate(self, secret_id: str) -> None:
        with self._lock:
            self._cache.pop(secret_id, None)

    def _fetch(self, secret_id: str) -> dict[str, Any]:
        if self._client is None:
            self._client = self._make_client()
        try:
            text = self._client.get_secret_value(SecretId=secret_id)["SecretString"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            error = IntegrationTransient if code in _TRANSIENT_SECRET_ERRORS else IntegrationPermanent
            raise error(f"secret {secret_id}: Secrets Manager {code}") from exc
        except BotoCoreError as exc:
            raise IntegrationTransient(f"secret {secret_id}: {type(exc).__name__}") from exc
        except KeyError:
            raise IntegrationPermanent(f"secret {secret_id} has no SecretString") from None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise IntegrationPermanent(f"secret {secret_id} is not a JSON object")
        return value


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


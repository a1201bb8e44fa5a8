"""Who is signed in to the console: a Cognito user pool's ID token (hosted UI, OAuth 2.0
authorization code flow with PKCE), kept in an HttpOnly Secure SameSite cookie and verified on
every request against the pool's JWKS (fetched once per process and key id). Cognito groups are
the owner groups. CSRF: every form carries an HMAC of the session under a secret key.

Locally (CONSOLE_AUTH=local, set only by the embedded runtime) a fixed operator who belongs to
every group is signed in; the deployed stack sets CONSOLE_AUTH=cognito."""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from handoff.domain.work_items import OWNER_GROUPS

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"
CLOCK_SKEW_SECONDS = 60


class NotSignedIn(Exception):
    """No session, or one that does not verify (the message says why; never shown to the user)."""


@dataclass(frozen=True)
class Operator:
    email: str
    name: str
    groups: tuple[str, ...]
    verified_by: str  # how the identity was verified: "cognito", or "local" on the embedded runtime
    session: str = field(default="", repr=False)  # what the CSRF token is bound to

    def member_of(self, group: str) -> bool:
        return group in self.groups


LOCAL_OPERATOR = Operator(email="operator@example.com", name="Local operator", groups=OWNER_GROUPS,
                          verified_by="local", session="local-operator")


@dataclass(frozen=True)
class CognitoConfig:
    region: str
    user_pool_id: str
    client_id: str
    domain: str  # https://<prefix>.auth.<region>.amazoncognito.com

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"


def _http_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


class JwksCache:
    """The pool's signing keys, fetched once per process; fetched again only for an unknown key id
    (Cognito rotates by adding a key), at most once a minute."""

    def __init__(self, fetch: Callable[[str], dict] = _http_json):
        self._fetch = fetch
        self._keys: dict[str, KeySet] = {}
        self._fetched_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def keys(self, url: str, kid: str) -> KeySet:
        with self._lock:
            known = self._keys.get(url)
            if known is not None and any(k.kid == kid for k in known.keys):
                return known
            if known is not None and time.monotonic() - self._fetched_at[url] < 60:
                return known
            self._keys[url] = KeySet.import_key_set(self._fetch(url))
            self._fetched_at[url] = time.monotonic()
            self.fetches += 1
            return self._keys[url]


_JWKS = JwksCache()


def verify_id_token(token: str, config: CognitoConfig, *, now: float | None = None,
                    jwks: JwksCache | None = None) -> Operator:
    """The operator an ID token names, after checking its RS256 signature against the pool's keys,
    issuer, audience (the console's app client), token use and expiry."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        kid = str(header.get("kid", ""))
        if header.get("alg") != "RS256":
            raise NotSignedIn("token not signed with RS256")
        decoded = jwt.decode(token, (jwks or _JWKS).keys(config.jwks_url, kid), algorithms=["RS256"])
    except NotSignedIn:
        raise
    except (JoseError, ValueError, IndexError) as error:
        raise NotSignedIn(f"token does not verify: {type(error).__name__}") from None
    claims = decoded.claims
    at = time.time() if now is None else now
    if claims.get("iss") != config.issuer:
        raise NotSignedIn("token from another issuer")
    if claims.get("aud") != config.client_id:
        raise NotSignedIn("token for another client")
    if claims.get("token_use") != "id":
        raise NotSignedIn("not an ID token")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] + CLOCK_SKEW_SECONDS < at:
        raise NotSignedIn("token expired")
    if not claims.get("email"):
        raise NotSignedIn("token without an email")
    groups = tuple(g for g in claims.get("cognito:groups", []) if g in OWNER_GROUPS)
    return Operator(email=str(claims["email"]).lower(), name=str(claims.get("name") or claims["email"]),
                    groups=groups, verified_by="cognito", session=f"{claims.get('sub')}:{claims.get('iat')}")


def csrf_token(operator: Operator, key: bytes) -> str:
    return hmac.new(key, f"csrf|{operator.session}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(operator: Operator, key: bytes, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(operator, key), token or "")


def cookies(header: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found.setdefault(name, value)
    return found


def cookie(name: str, value: str, *, path: str, max_age: int) -> str:
    return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax"


# --- the OAuth 2.0 authorization code flow with PKCE --------------------------------------------------
@dataclass(frozen=True)
class LoginStart:
    redirect: str
    cookie_value: str  # state and PKCE verifier, for the callback


def start_login(config: CognitoConfig, callback_url: str) -> LoginStart:
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urllib.parse.urlencode({"response_type": "code", "client_id": config.client_id,
                                    "redirect_uri": callback_url, "scope": "openid email profile", "state": state,
                                    "code_challenge": challenge, "code_challenge_method": "S256"})
    return LoginStart(f"{config.domain}/oauth2/authorize?{query}", f"{state}.{verifier}")


def finish_login(config: CognitoConfig, callback_url: str, code: str, state: str, login_cookie: str,
                 post: Callable[..., dict] = _http_json) -> str:
    """The ID token for an authorization code, once the state matches the login cookie's."""
    expected, _, verifier = login_cookie.partition(".")
    if not code or not expected or not hmac.compare_digest(expected, state or ""):
        raise NotSignedIn("sign-in state does not match")
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "client_id": config.client_id, "code": code,
                                   "redirect_uri": callback_url, "code_verifier": verifier}).encode()
    tokens = post(f"{config.domain}/oauth2/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
    if "id_token" not in tokens:
        raise NotSignedIn("the token endpoint returned no ID token")
    return str(tokens["id_token"])


def logout_url(config: CognitoConfig, signed_out_url: str) -> str:
    return f"{config.domain}/logout?" + urllib.parse.urlencode({"client_id": config.client_id,
                                                                "logout_uri": signed_out_url})


"""Console sign-in: the ID token's RS256 signature is checked against the pool's JWKS (fetched once
per process and key id), with issuer, audience, token use and expiry; Cognito groups become owner
groups; CSRF tokens are bound to the session; the login flow checks its state and sends PKCE."""

import urllib.parse
from collections.abc import Callable

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from handoff.adapters import console_auth as auth

CONFIG = auth.CognitoConfig(region="eu-west-1", user_pool_id="eu-west-1_AbCdEf", client_id="console-client",
                            domain="https://ops.auth.eu-west-1.amazoncognito.com")
KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
NOW = 1_800_000_000


def token(key: RSAKey = KEY, **claims: object) -> str:
    body = {"iss": CONFIG.issuer, "aud": CONFIG.client_id, "token_use": "id", "exp": NOW + 3600, "iat": NOW,
            "sub": "0f1e", "email": "Ana.Lima@Firm.Example", "name": "Ana Lima",
            "cognito:groups": ["finance", "legal", "admins"]} | claims
    return jwt.encode({"alg": "RS256", "kid": "key-1"}, body, key)


def jwks() -> auth.JwksCache:
    calls: list[str] = []

    def fetch(url: str) -> dict:
        calls.append(url)
        return {"keys": [KEY.as_dict(private=False)]}

    cache = auth.JwksCache(fetch)
    cache.calls = calls  # type: ignore[attr-defined]
    return cache


def test_a_valid_id_token_names_the_operator_and_their_owner_groups() -> None:
    cache = jwks()
    operator = auth.verify_id_token(token(), CONFIG, now=NOW, jwks=cache)
    assert (operator.email, operator.name, operator.groups, operator.verified_by) == (
        "ana.lima@firm.example", "Ana Lima", ("finance", "legal"), "cognito")
    auth.verify_id_token(token(), CONFIG, now=NOW, jwks=cache)
    assert cache.calls == [CONFIG.jwks_url]  # cached per process


@pytest.mark.parametrize(("bad", "why"), [
    (lambda: token(OTHER), "does not verify"),
    (lambda: token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), "another issuer"),
    (lambda: token(aud="another-client"), "another client"),
    (lambda: token(token_use="access"), "not an ID token"),
    (lambda: token(exp=NOW - 120), "expired"),
    (lambda: token().rsplit(".", 1)[0] + ".AAAA", "does not verify"),
    (lambda: "not-a-token", "does not verify"),
])
def test_a_token_that_does_not_verify_signs_no_one_in(bad: Callable[[], str], why: str) -> None:
    with pytest.raises(auth.NotSignedIn, match=why):
        auth.verify_id_token(bad(), CONFIG, now=NOW, jwks=jwks())


def test_csrf_tokens_are_bound_to_the_session_and_the_key() -> None:
    ana = auth.verify_id_token(token(), CONFIG, now=NOW, jwks=jwks())
    later = auth.verify_id_token(token(iat=NOW + 10), CONFIG, now=NOW, jwks=jwks())
    key = b"k" * 32
    assert auth.csrf_ok(ana, key, auth.csrf_token(ana, key))
    assert not auth.csrf_ok(ana, key, auth.csrf_token(later, key))  # another session
    assert not auth.csrf_ok(ana, b"x" * 32, auth.csrf_token(ana, key))
    assert not auth.csrf_ok(ana, key, None) and not auth.csrf_ok(ana, key, "")


def test_the_login_sends_pkce_and_the_callback_checks_the_state() -> None:
    start = auth.start_login(CONFIG, "https://console.example/console/auth/callback")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start.redirect).query))
    assert start.redirect.startswith(f"{CONFIG.domain}/oauth2/authorize?")
    assert (query["response_type"], query["client_id"], query["code_challenge_method"]) == (
        "code", "console-client", "S256")
    state, verifier = start.cookie_value.split(".", 1)
    assert query["state"] == state and query["code_challenge"] != verifier
    posted: list[dict] = []

    def post(url: str, body: bytes, headers: dict) -> dict:
        posted.append({"url": url, **dict(urllib.parse.parse_qsl(body.decode()))})
        return {"id_token": "the-id-token", "access_token": "x"}

    assert auth.finish_login(CONFIG, "https://cb", "code-1", state, start.cookie_value, post) == "the-id-token"
    assert posted == [{"url": f"{CONFIG.domain}/oauth2/token", "grant_type": "authorization_code",
                       "client_id": "console-client", "code": "code-1", "redirect_uri": "https://cb",
                       "code_verifier": verifier}]
    with pytest.raises(auth.NotSignedIn, match="state"):
        auth.finish_login(CONFIG, "https://cb", "code-1", "forged", start.cookie_value, post)


def test_session_cookies_are_httponly_secure_and_same_site() -> None:
    cookie = auth.cookie(auth.SESSION_COOKIE, "t", path="/console/", max_age=3600)
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/console/"} <= {p.strip() for p in cookie.split(";")}
    assert auth.cookies("a=1; console_session=tok.en; b=") == {"a": "1", "console_session": "tok.en", "b": ""}

"""HubSpot's v3 request signature (X-HubSpot-Signature-v3): base64 of HMAC-SHA256, keyed with the
app's client secret, over method + URI + body + timestamp (X-HubSpot-Request-Timestamp, epoch ms).
Requests older than five minutes are refused (replays); the comparison is constant-time."""

import base64
import hashlib
import hmac

# HubSpot signs the URI with these characters decoded.
_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
            "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
MAX_AGE_MS = 5 * 60 * 1000


class SignatureRejected(Exception):
    """Not a request from HubSpot (or a replay): answer 401, process nothing."""


def _decoded(uri: str) -> str:
    for encoded, char in _DECODED.items():
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    return uri


def sign(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    source = method.upper().encode() + _decoded(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def verify(secret: str, *, method: str, uri: str, body: bytes, timestamp: str | None, signature: str | None,
           now_ms: int, max_age_ms: int = MAX_AGE_MS) -> None:
    if not signature:
        raise SignatureRejected("X-HubSpot-Signature-v3 is missing")
    if not timestamp or not timestamp.strip().isdigit():
        raise SignatureRejected("X-HubSpot-Request-Timestamp is missing or not epoch milliseconds")
    age = now_ms - int(timestamp)
    if age > max_age_ms:
        raise SignatureRejected(f"the request is {age // 1000} s old, more than {max_age_ms // 1000} s")
    if age < -max_age_ms:
        raise SignatureRejected("the request timestamp is in the future")
    expected = sign(secret, method, uri, body, timestamp.strip())
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureRejected("X-HubSpot-Signature-v3 does not match")

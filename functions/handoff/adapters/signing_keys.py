"""Keys from Secrets Manager, through Powertools Parameters: one SecretsProvider (one client, one
cache) per process, each secret re-read after MAX_AGE_SECONDS. The link-signing secret holds a key
ring (handoff.domain.signing_keys); the console's secret a bare key.

The cache never extends a key's life: the ring carries the previous key's validUntil, checked at
every verification. A kid the cached ring does not know may be a key rotated in since it was read:
the secret is then re-read at once, at most once per REFRESH_SECONDS, so a stream of made-up kids
costs one read per interval and is answered like any bad signature."""

import threading
import time

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from handoff.adapters import aws
from handoff.adapters.built_once import BuiltOnce
from handoff.domain.signing_keys import KeyDocumentError, KeyRing, parse_key_document

# A key retired by hand (an emergency rotation) stops working within this; a scheduled rotation's
# previous key keeps working until its validUntil whatever the cache holds.
MAX_AGE_SECONDS = 60
REFRESH_SECONDS = 30.0

_secrets = BuiltOnce(lambda: SecretsProvider(boto3_client=aws.client("secretsmanager")))
_refreshed: dict[str, float] = {}
_lock = threading.Lock()  # guards _refreshed


def forget() -> None:
    """Drop the cached keys (tests, and the embedded runtime when it starts afresh)."""
    _secrets.forget()
    with _lock:
        _refreshed.clear()


def _ring(secret_arn: str, force: bool) -> KeyRing:
    # The stage named, not implied: the ring is AWSCURRENT's (moto 5.2.5 would otherwise answer with the
    # secret's first version after a rotation moved the label).
    text = str(_secrets().get(secret_arn, max_age=MAX_AGE_SECONDS, force_fetch=force, VersionStage="AWSCURRENT"))
    try:
        return parse_key_document(text)
    except KeyDocumentError as exc:
        raise KeyDocumentError(f"the signing key in {secret_arn}: {exc}") from None


def key_ring(secret_arn: str, *, kid: str | None = None) -> KeyRing:
    """The ring in the secret (its AWSCURRENT version). `kid`: the key id a link names; when the
    cached ring does not know it, the secret is re-read (rate-limited) before the link is judged."""
    ring = _ring(secret_arn, force=False)
    if kid is None or ring.knows(kid):
        return ring
    with _lock:
        now = time.monotonic()
        if now - _refreshed.get(secret_arn, -REFRESH_SECONDS) < REFRESH_SECONDS:
            return ring
        _refreshed[secret_arn] = now
    return _ring(secret_arn, force=True)


def secret_key(secret_arn: str) -> bytes:
    """A bare key (the console's CSRF key): the secret's current key."""
    return key_ring(secret_arn).current.secret

"""Link-signing keys and their rotation: each key has an id (kid) that every new link carries; the
ring holds the current key and, until its window ends, the previous one. Pure: the secret's text
comes in and goes out as a string (handoff.adapters.signing_keys reads it, the rotation Lambda writes it).

The secret's document (JSON):

    {"kid": "k20261202-1a2b3c4d", "key": "<64 random characters>", "createdAt": "2026-12-02T01:00:00Z",
     "previous": {"kid": "k0", "key": "...", "validUntil": "2027-03-02T01:00:00Z"}}

The previous key travels inside the current version, so one read gives a consistent pair and a
cached pair can never outlive `validUntil`: the ring refuses a retired key whatever the cache's age.
A secret written before key ids (a bare string, or {"key": ...}) is the key `k0` (LEGACY_KID)."""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

LEGACY_KID = "k0"  # the key of a secret without a kid; links without a kid were signed with it
KID = re.compile(r"[A-Za-z0-9-]{1,40}")  # no "." (the link's sig is "<kid>.<mac>") and no "_"
MIN_KEY_BYTES = 32


class KeyDocumentError(ValueError):
    """The secret does not hold a usable key document; the message names what is wrong, never a key."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: bytes = field(repr=False)
    valid_until: datetime | None = None  # None: no end set (the current key)

    def accepted_at(self, now: datetime) -> bool:
        return self.valid_until is None or now < self.valid_until


@dataclass(frozen=True)
class KeyRing:
    """The keys a link may be signed with: the current one (new links) and the previous one until
    its validUntil. Any other kid, or the previous one after its window, is unknown."""

    current: SigningKey
    previous: SigningKey | None = None

    def find(self, kid: str, now: datetime) -> SigningKey | None:
        for key in (self.current, self.previous):
            if key is not None and key.kid == kid and key.accepted_at(now):
                return key
        return None

    def knows(self, kid: str) -> bool:
        """Whether the kid is in this ring at all (retired or not): a kid it does not know may be a
        newer key than a cached ring holds."""
        return kid in {self.current.kid, self.previous.kid if self.previous else None}


def as_ring(keys: "KeyRing | SigningKey | bytes") -> KeyRing:
    """A bare key (bytes) is the unversioned key LEGACY_KID."""
    if isinstance(keys, KeyRing):
        return keys
    return KeyRing(keys if isinstance(keys, SigningKey) else SigningKey(LEGACY_KID, keys))


def _key_bytes(value: object, where: str) -> bytes:
    if not isinstance(value, str) or len(value.encode()) < MIN_KEY_BYTES:
        raise KeyDocumentError(f"{where}: the key is missing or shorter than {MIN_KEY_BYTES} bytes")
    return value.encode()


def _kid(value: object, where: str) -> str:
    if not isinstance(value, str) or not KID.fullmatch(value):
        raise KeyDocumentError(f"{where}: kid must be 1 to 40 letters, digits or '-'")
    return value


def _time(value: object, where: str) -> datetime:
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise KeyDocumentError(f"{where}: validUntil is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise KeyDocumentError(f"{where}: validUntil needs a time zone")
    return at.astimezone(UTC)


def parse_key_document(text: str) -> KeyRing:
    """The ring a secret's text describes. A document without `previous` has no previous key: an
    operator who writes one by hand (an emergency rotation) retires the old key at once."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):  # a bare string: the legacy, unversioned key
        return KeyRing(SigningKey(LEGACY_KID, _key_bytes(text, "secret")))
    current = SigningKey(_kid(document.get("kid", LEGACY_KID), "kid"), _key_bytes(document.get("key"), "key"))
    found = document.get("previous")
    if found is None:
        return KeyRing(current)
    if not isinstance(found, dict):
        raise KeyDocumentError("previous: must be an object with kid, key and validUntil")
    previous = SigningKey(_kid(found.get("kid"), "previous.kid"), _key_bytes(found.get("key"), "previous.key"),
                          _time(found.get("validUntil"), "previous.validUntil"))
    if previous.kid == current.kid:
        raise KeyDocumentError("previous.kid: must differ from kid")
    return KeyRing(current, previous)


def new_kid(now: datetime, version_id: str) -> str:
    """A kid that says when the key was made and which secret version holds it."""
    suffix = re.sub(r"[^A-Za-z0-9]", "", version_id)[:8] or "0"
    return f"k{now.astimezone(UTC):%Y%m%d}-{suffix}"


def rotated_document(ring: KeyRing, kid: str, secret: str, now: datetime, window: timedelta) -> str:
    """The next version's document: a new current key, the current one kept as previous for `window`
    (at least as long as the longest link it signed may live)."""
    if kid == ring.current.kid:
        raise KeyDocumentError("the new kid must differ from the current one")
    _key_bytes(secret, "key")
    return json.dumps({
        "kid": kid, "key": secret, "createdAt": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "previous": {"kid": ring.current.kid, "key": ring.current.secret.decode(),
                     "validUntil": (now + window).astimezone(UTC).isoformat().replace("+00:00", "Z")},
    })

"""Signing keys with ids, and links under a rotating key ring (pure: no AWS)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from handoff.domain.approvals import LinkCheck, check_link, sign, signature_kid
from handoff.domain.packet_link import check_packet_link, packet_link
from handoff.domain.signing_keys import (
    LEGACY_KID,
    KeyDocumentError,
    KeyRing,
    SigningKey,
    new_kid,
    parse_key_document,
    rotated_document,
)

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
OLD = "o" * 64
NEW = "n" * 64
ID, WHO = "ho-1.abcdefgh", "legal@example.com"
EXPIRES = T0 + timedelta(hours=48)
EXP = str(int(EXPIRES.timestamp()))


def _rotated(window: timedelta = timedelta(days=90)) -> KeyRing:
    return parse_key_document(rotated_document(parse_key_document(OLD), "k20261202-abcd", NEW, T0, window))


def test_a_secret_without_a_kid_is_the_unversioned_key_k0() -> None:
    for text in (OLD, json.dumps({"key": OLD})):
        ring = parse_key_document(text)
        assert (ring.current.kid, ring.current.secret, ring.previous) == (LEGACY_KID, OLD.encode(), None)
    assert "o" * 8 not in repr(parse_key_document(OLD))  # the key never shows in a repr


@pytest.mark.parametrize(("text", "names"), [
    ("short", "shorter than 32 bytes"),
    (json.dumps({"kid": "k1"}), "key"),
    (json.dumps({"kid": "has.dot", "key": NEW}), "kid"),
    (json.dumps({"kid": "k1", "key": NEW, "previous": {"kid": "k1", "key": OLD, "validUntil": "2027-01-01T00:00Z"}}),
     "previous.kid"),
    (json.dumps({"kid": "k1", "key": NEW, "previous": {"kid": "k0", "key": OLD, "validUntil": "soon"}}),
     "previous.validUntil"),
    (json.dumps({"kid": "k1", "key": NEW, "previous": {"kid": "k0", "key": OLD, "validUntil": "2027-01-01T00:00"}}),
     "time zone"),
])
def test_a_bad_key_document_is_refused_naming_the_field_not_the_key(text: str, names: str) -> None:
    with pytest.raises(KeyDocumentError, match=names) as raised:
        parse_key_document(text)
    assert OLD not in str(raised.value) and NEW not in str(raised.value)


def test_a_rotation_makes_a_new_current_key_and_keeps_the_old_one_for_the_window() -> None:
    ring = _rotated()
    assert ring.current == SigningKey("k20261202-abcd", NEW.encode())
    assert ring.previous == SigningKey(LEGACY_KID, OLD.encode(), T0 + timedelta(days=90))
    assert ring.find("k20261202-abcd", T0 + timedelta(days=400)) == ring.current
    assert ring.find(LEGACY_KID, T0 + timedelta(days=90) - timedelta(seconds=1)) == ring.previous
    assert ring.find(LEGACY_KID, T0 + timedelta(days=90)) is None  # retired: whatever cached this ring
    assert ring.find("k-unknown", T0) is None
    with pytest.raises(KeyDocumentError):
        rotated_document(ring, ring.current.kid, "x" * 64, T0, timedelta(days=1))  # a kid is never reused
    assert new_kid(T0, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") == "k20261202-0f1e2d3c"


def test_every_new_link_names_its_key_and_verifies_under_the_current_or_previous_key() -> None:
    ring = _rotated()
    new_sig = sign(ID, WHO, EXPIRES, ring.current)
    old_sig = sign(ID, WHO, EXPIRES, parse_key_document(OLD).current)  # signed before the rotation
    assert new_sig.startswith("k20261202-abcd.") and old_sig.startswith("k0.")
    assert signature_kid(new_sig) == "k20261202-abcd"
    assert check_link(ID, WHO, EXP, new_sig, ring, T0) is LinkCheck.OK
    assert check_link(ID, WHO, EXP, old_sig, ring, T0) is LinkCheck.OK
    short = _rotated(timedelta(hours=1))
    assert check_link(ID, WHO, EXP, old_sig, short, T0 + timedelta(minutes=59)) is LinkCheck.OK
    assert check_link(ID, WHO, EXP, old_sig, short, T0 + timedelta(hours=1)) is LinkCheck.TAMPERED
    assert check_link(ID, WHO, EXP, new_sig, short, T0 + timedelta(hours=1)) is LinkCheck.OK


def test_an_unversioned_link_is_the_k0_key_while_it_is_accepted_then_refused() -> None:
    """Links mailed before key ids: `sig` is the bare MAC over the v1 message."""
    import base64
    import hashlib
    import hmac

    message = f"v1\n{ID}\n{WHO}\n{EXP}".encode()
    legacy = base64.urlsafe_b64encode(hmac.new(OLD.encode(), message, hashlib.sha256).digest()).rstrip(b"=").decode()
    assert signature_kid(legacy) is None
    assert check_link(ID, WHO, EXP, legacy, parse_key_document(OLD), T0) is LinkCheck.OK  # before any rotation
    short = _rotated(timedelta(hours=1))
    assert check_link(ID, WHO, EXP, legacy, short, T0) is LinkCheck.OK  # the previous key, in its window
    assert check_link(ID, WHO, EXP, legacy, short, T0 + timedelta(hours=1)) is LinkCheck.TAMPERED
    assert check_link(ID, WHO, EXP, legacy, _rotated(), T0 + timedelta(days=91)) is LinkCheck.TAMPERED


def test_a_swapped_unknown_or_malformed_kid_is_a_bad_signature() -> None:
    ring = _rotated()
    sig = sign(ID, WHO, EXPIRES, ring.current)
    mac = sig.split(".", 1)[1]
    for bad in (f"k0.{mac}", f"k-made-up.{mac}", mac, f"{'k' * 41}.{mac}", f"k_0.{mac}", f".{mac}", f"k1..{mac}"):
        assert check_link(ID, WHO, EXP, bad, ring, T0) is LinkCheck.TAMPERED
    # the kid is inside the MAC: the old key's MAC relabelled as the new key's kid does not verify
    old_mac = sign(ID, WHO, EXPIRES, ring.previous).split(".", 1)[1]
    assert check_link(ID, WHO, EXP, f"k20261202-abcd.{old_mac}", ring, T0) is LinkCheck.TAMPERED


def test_launch_packet_links_rotate_with_the_same_ring() -> None:
    ring = _rotated(timedelta(days=1))
    link = packet_link("https://api.example.com/v1", "ho-0123456789abcdef", EXPIRES, parse_key_document(OLD).current)
    sig, exp = link.split("sig=")[1], link.split("exp=")[1].split("&")[0]
    assert sig.startswith("k0.")
    assert check_packet_link("ho-0123456789abcdef", exp, sig, ring, T0) is LinkCheck.OK
    assert check_packet_link("ho-0123456789abcdef", exp, sig, ring, T0 + timedelta(days=1)) is LinkCheck.TAMPERED

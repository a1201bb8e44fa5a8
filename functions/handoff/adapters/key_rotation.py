"""The link-signing key's rotation in Secrets Manager: the four steps Secrets Manager asks a rotation
function for, each safe to run again (Secrets Manager retries a step that failed or timed out).

- createSecret: a new key with a new kid, the current key kept as `previous` with its validUntil,
  stored as the AWSPENDING version named by the request token (nothing if that version exists).
- setSecret: nothing to set elsewhere: the key is only ours (links are signed and checked here).
- testSecret: the pending version parses, has a new kid and a key long enough, keeps the current
  key as previous for the window, and signs and verifies a link.
- finishSecret: AWSCURRENT moves to the pending version (Secrets Manager moves AWSPREVIOUS to the
  version it leaves) and AWSPENDING is removed; nothing if it is already there."""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from handoff.domain.approvals import LinkCheck, check_link, sign
from handoff.domain.signing_keys import KeyDocumentError, KeyRing, new_kid, parse_key_document, rotated_document

Step = Literal["createSecret", "setSecret", "testSecret", "finishSecret"]
STEPS: tuple[Step, ...] = ("createSecret", "setSecret", "testSecret", "finishSecret")
KEY_CHARACTERS = 64  # as the secret's first value (64 characters, no punctuation)

log = logging.getLogger(__name__)


class RotationRefused(RuntimeError):
    """The secret or the version is not in a state this step can work on; Secrets Manager reports
    the rotation as failed and AWSCURRENT is untouched."""


@dataclass(frozen=True)
class KeyRotation:
    client: Any  # boto3 Secrets Manager
    secret_id: str
    window: timedelta  # how long the previous key keeps verifying links after a rotation

    def run(self, step: Step, token: str, now: datetime | None = None) -> None:
        at = now or datetime.now(UTC)
        stages = self._stages(token)
        if "AWSCURRENT" in stages:
            log.info("rotation already finished", extra={"step": step})
            return  # a step redelivered after finishSecret: nothing left to do
        {"createSecret": self.create, "setSecret": self.set, "testSecret": self.test,
         "finishSecret": self.finish}[step](token, at)

    def _stages(self, token: str) -> list[str]:
        versions = self.client.describe_secret(SecretId=self.secret_id).get("VersionIdsToStages", {})
        stages = versions.get(token)
        # Secrets Manager lists the request's version as AWSPENDING before it calls createSecret.
        if stages is not None and "AWSCURRENT" not in stages and "AWSPENDING" not in stages:
            raise RotationRefused(f"version {token} is neither pending nor current")
        return list(stages or [])

    def _text(self, **version: str) -> str:
        return str(self.client.get_secret_value(SecretId=self.secret_id, **version)["SecretString"])

    def _pending(self, token: str) -> str | None:
        try:
            return self._text(VersionId=token, VersionStage="AWSPENDING")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def create(self, token: str, now: datetime) -> None:
        current = parse_key_document(self._text(VersionStage="AWSCURRENT"))
        if self._pending(token) is not None:
            log.info("pending key already created")
            return
        document = rotated_document(current, new_kid(now, token), secrets.token_urlsafe(48)[:KEY_CHARACTERS], now,
                                    self.window)
        self.client.put_secret_value(SecretId=self.secret_id, ClientRequestToken=token, SecretString=document,
                                     VersionStages=["AWSPENDING"])
        log.info("pending key created", extra={"kid": parse_key_document(document).current.kid})

    def set(self, token: str, now: datetime) -> None:
        if self._pending(token) is None:
            raise RotationRefused(f"no pending version {token}: createSecret has not run")

    def test(self, token: str, now: datetime) -> None:
        text = self._pending(token)
        if text is None:
            raise RotationRefused(f"no pending version {token}: createSecret has not run")
        current = parse_key_document(self._text(VersionStage="AWSCURRENT"))
        try:
            pending = parse_key_document(text)
        except KeyDocumentError as exc:
            raise RotationRefused(f"the pending key is not usable: {exc}") from None
        _check(current, pending, now, self.window)

    def finish(self, token: str, now: datetime) -> None:
        versions = self.client.describe_secret(SecretId=self.secret_id)["VersionIdsToStages"]
        current = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
        if current == token:
            return
        self.client.update_secret_version_stage(SecretId=self.secret_id, VersionStage="AWSCURRENT",
                                                MoveToVersionId=token, RemoveFromVersionId=current)
        # Done: no version is left pending (the label would otherwise stay beside AWSCURRENT).
        self.client.update_secret_version_stage(SecretId=self.secret_id, VersionStage="AWSPENDING",
                                                RemoveFromVersionId=token)
        log.info("rotation finished: the new key is current")


def _check(current: KeyRing, pending: KeyRing, now: datetime, window: timedelta) -> None:
    if pending.current.kid == current.current.kid:
        raise RotationRefused("the pending key has the current key's kid")
    previous = pending.previous
    if previous is None or previous.kid != current.current.kid or previous.secret != current.current.secret:
        raise RotationRefused("the pending version does not keep the current key as previous")
    if previous.valid_until is None or previous.valid_until < now + window - timedelta(days=1):
        raise RotationRefused("the previous key's window is shorter than configured")
    expires = now + timedelta(hours=1)
    exp = str(int(expires.timestamp()))
    for key in (pending.current, previous):  # both verify under the pending ring, the new key signs
        sig = sign("rotation-test", "rotation@invalid", expires, key)
        if check_link("rotation-test", "rotation@invalid", exp, sig, pending, now) is not LinkCheck.OK:
            raise RotationRefused(f"a link signed with {key.kid} does not verify under the pending keys")

"""Emails the handlers sent through SES, as readable .eml files, and the links in them."""

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Email:
    message_id: str
    path: Path
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"]).strip()

    @property
    def subject(self) -> str:
        return str(self.message["Subject"]).strip()

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""

    def links(self) -> list[str]:
        return list(dict.fromkeys(LINK.findall(self.text())))


class Outbox:
    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seen: dict[str, Email] = {}

    def collect(self, raw_messages: list[tuple[str, str]]) -> list[Email]:
        """Write new messages as .eml files; return every message so far, oldest first."""
        for message_id, raw in raw_messages:
            if message_id in self._seen:
                continue
            path = self.folder / f"{len(self._seen) + 1:04d}-{message_id}.eml"
            path.write_text(raw)
            parsed = email.message_from_string(raw, policy=email.policy.default)
            self._seen[message_id] = Email(message_id, path, parsed)  # type: ignore[arg-type]
        return list(self._seen.values())

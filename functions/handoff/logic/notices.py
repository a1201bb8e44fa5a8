"""Notices a retried step must not repeat: an email, or exceptions on the exceptions queue, once per
handoff and key. At least once: a crash between sending and recording sends again on the retry,
which beats never sending."""

from email.message import EmailMessage

from handoff.adapters.from_settings import exceptions_queue, mailer, store
from handoff.adapters.ses_feedback import MESSAGE_TAGS_HEADER, message_tags
from handoff.clock import now
from handoff.contracts import ExceptionEntry
from handoff.observability import logger


def notify_once(handoff_id: str, key: str, message: EmailMessage) -> str | None:
    """Email a notice once per handoff and key; returns the SES message id, None when it was
    already sent."""
    records = store()
    if MESSAGE_TAGS_HEADER not in message:
        message[MESSAGE_TAGS_HEADER] = message_tags(handoff_id, key)  # bounces name the handoff and notice
    if records.notice_sent(handoff_id, key):
        logger.info("notice already sent", extra={"handoff_id": handoff_id, "notice": key})
        return None
    message_id = mailer().send(message)
    records.mark_notice_sent(handoff_id, key, message_id, now())
    return message_id


def queue_exceptions_once(handoff_id: str, key: str, status: str, exceptions: list[ExceptionEntry], *,
                          priority: int = 0, owner: str | None = None,
                          resolution: dict[str, str] | None = None, fix_round: int | None = None) -> str | None:
    """Put a handoff's exceptions on the exceptions queue once per handoff and key (a retried step
    finds them queued); returns the SQS message id, None when already queued."""
    records = store()
    notice = f"exceptions#{key}"
    if records.notice_sent(handoff_id, notice):
        logger.info("exceptions already queued", extra={"handoff_id": handoff_id, "key": key})
        return None
    message_id = exceptions_queue().publish(handoff_id, status, exceptions, priority=priority, owner=owner,
                                            resolution=resolution, fix_round=fix_round)
    records.mark_notice_sent(handoff_id, notice, message_id, now())
    return message_id

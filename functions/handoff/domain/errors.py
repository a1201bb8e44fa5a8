"""Named errors. The class name is what Lambda reports as errorType, so Retry and Catch in the
state machine read like policy: Integration.Transient is retried, the rest is caught."""

from typing import Any, ClassVar


class HandoffError(Exception):
    error_name: ClassVar[str] = "Handoff.Error"

    def __init_subclass__(cls, error_name: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if error_name:
            cls.error_name = error_name
            # Lambda runtimes report type(exc).__name__ as errorType.
            cls.__name__ = error_name


class EventInvalid(HandoffError, error_name="Event.Invalid"):
    """The event does not meet the canonical contract; it has been quarantined."""


class ReadinessBlocked(HandoffError, error_name="Readiness.Blocked"):
    """Blocking readiness exceptions; the deal owner has been asked to fix them."""


class ApprovalRejected(HandoffError, error_name="Approval.Rejected"):
    pass


class ApprovalTimedOut(HandoffError, error_name="Approval.TimedOut"):
    pass


class IntegrationTransient(HandoffError, error_name="Integration.Transient"):
    """A system of record is unavailable or throttling: retrying may succeed."""


class IntegrationPermanent(HandoffError, error_name="Integration.Permanent"):
    """A system of record refused the request: retrying will not help."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None, detail: Any = None):
        super().__init__(message)
        self.system = system
        self.status = status
        self.detail = detail


class MasterDataConflict(IntegrationPermanent, error_name="Integration.MasterDataConflict"):
    """The customer master holds conflicting data; it is never overwritten."""


class EventTooLarge(HandoffError, error_name="Event.TooLarge"):
    """The event is over what the bus takes; retrying cannot help. `size` and `limit` in bytes."""

    def __init__(self, message: str, *, size: int, limit: int):
        super().__init__(message)
        self.size = size
        self.limit = limit


class HandoffNotFound(HandoffError, LookupError, error_name="Handoff.NotFound"):
    """No handoff with this id."""


class ResubmissionRefused(HandoffError, error_name="Resubmission.Refused"):
    """A resubmission that cannot continue the handoff. `status` is the handoff's current status;
    `field` names the request field at fault, if one is."""

    def __init__(self, message: str, *, status: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.field = field


class HandoffNotBlocked(ResubmissionRefused, error_name="Resubmission.NotBlocked"):
    """Only a BLOCKED handoff waits for a fix; any other status would start work twice."""


class EventAlreadyReceived(ResubmissionRefused, error_name="Resubmission.EventAlreadyReceived"):
    """The corrected event reuses an eventId this handoff already took: it would be ignored as a duplicate."""


class OtherOpportunity(ResubmissionRefused, error_name="Resubmission.OtherOpportunity"):
    """The corrected event belongs to another opportunity (or CRM) than the handoff it was sent to."""


class HandoffNotFailed(ResubmissionRefused, error_name="Retry.NotFailed"):
    """Only a FAILED handoff is retried; any other status is running, waiting or finished."""


class StoreTransient(HandoffError, error_name="Store.Transient"):
    """Our own table throttled a request or a transaction met another one: retrying may pass."""


class MailThrottled(HandoffError, error_name="Mail.Throttled"):
    """SES refused a send over the account's sending rate: nothing was sent, retrying later passes."""


class MailQuotaExceeded(HandoffError, error_name="Mail.DailyQuotaExceeded"):
    """SES's 24-hour sending quota is used up: nothing was sent, and retrying within minutes cannot
    pass. The step is not retried; the handoff fails, named, and is retried once the quota resets or
    is raised (POST /handoffs/{id}/retry)."""

"""The adapters of the handoff's own AWS resources, built from the settings, in one place: the handoff
store and its search indexes, the documents bucket, the event bus, the workflow, the exceptions queue, the mailer, the
approval store and the approvals each round required, the task callback and the link-signing keys.
They hold no state of their own; the boto3 clients and tables under them are built once per process
(handoff.adapters.aws), the keys read through one cached SecretsProvider (handoff.adapters.signing_keys)."""

from handoff.adapters import aws
from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.documents import Documents
from handoff.adapters.event_bus import EventBus
from handoff.adapters.exceptions_queue import ExceptionsQueue
from handoff.adapters.handoff_index import DynamoHandoffIndex
from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.mailer import Mailer
from handoff.adapters.required_approvals import RequiredApprovals
from handoff.adapters.signing_keys import key_ring
from handoff.adapters.task_callback import TaskCallback
from handoff.adapters.task_tokens import TaskTokens
from handoff.adapters.workflow import Workflow
from handoff.domain.approvals import signature_kid
from handoff.domain.signing_keys import KeyRing, SigningKey
from handoff.settings import settings


def store() -> HandoffStore:
    return HandoffStore(aws.table(settings().handoff_table))


def handoff_index() -> DynamoHandoffIndex:
    return DynamoHandoffIndex(aws.table(settings().handoff_table))


def documents() -> Documents:
    return Documents(aws.client("s3"), settings().documents_bucket)


def event_bus() -> EventBus:
    return EventBus(aws.client("events"), settings().event_bus_name)


def workflow() -> Workflow:
    return Workflow(aws.client("stepfunctions"), settings().state_machine_arn)


def exceptions_queue() -> ExceptionsQueue:
    return ExceptionsQueue(aws.client("sqs"), settings().exceptions_queue_url)


def mailer() -> Mailer:
    return Mailer(aws.client("ses"), settings().mail_from)


def approvals() -> ApprovalStore:
    """The approval store for reading and deciding (no task token is written)."""
    return ApprovalStore(aws.table(settings().handoff_table))


def approval_requests() -> ApprovalStore:
    """The approval store of the request step, which puts each task token in the task-token table."""
    return ApprovalStore(aws.table(settings().handoff_table), _task_tokens())


def approval_rounds() -> RequiredApprovals:
    """The approval kinds each round of a handoff required (the carry-over of a correction)."""
    return RequiredApprovals(aws.table(settings().handoff_table))


def task_callback() -> TaskCallback:
    return TaskCallback(aws.client("stepfunctions"), _task_tokens())


def _task_tokens() -> TaskTokens:
    return TaskTokens(aws.table(settings().task_tokens_table))


def link_keys(sig: str | None = None) -> KeyRing:
    """The keys that verify a link; `sig`: its signature, whose kid may be newer than the cached keys."""
    return key_ring(settings().approval_secret_arn, kid=signature_kid(sig))


def link_key() -> SigningKey:
    """The key that signs new links."""
    return link_keys().current

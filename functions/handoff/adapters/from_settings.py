"""The adapters of the handoff's own AWS resources, built from the settings: the handoff store, the
documents bucket, the event bus, the workflow and the exceptions queue. They hold no state of their
own; the boto3 clients and tables under them are built once per process (handoff.adapters.aws)."""

from handoff.adapters import aws
from handoff.adapters.documents import Documents
from handoff.adapters.event_bus import EventBus
from handoff.adapters.exceptions_queue import ExceptionsQueue
from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.mailer import Mailer
from handoff.adapters.workflow import Workflow
from handoff.settings import settings


def store() -> HandoffStore:
    return HandoffStore(aws.table(settings().handoff_table))


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

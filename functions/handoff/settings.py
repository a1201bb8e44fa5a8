"""The functions' settings: typed, named once, read from the environment. The environment variable
names are the deployment's interface (infra/wiring.py sets them): each is named here (the CRM
adapters' secrets and settings, adapters.crm, still read theirs where they are used).

`settings()` builds a `Settings` once per environment: on Lambda once per process; in the embedded
runtime, where several functions share one process and each invocation sees its own variables
(local/lambdas.py), once per function's environment; a test that changes a variable gets new
settings without resetting anything. A required setting that is not set raises
`ConfigurationError` naming its variable when it is used, not when the settings are built: each
function is given only the variables it needs."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Self, overload

from handoff.config import ConfigurationError


class Variable:
    """A setting from one environment variable: its value, else its default; a required one with
    neither (or set empty) raises ConfigurationError naming the variable; an optional one is ""."""

    def __init__(self, name: str, default: str | None = None, *, optional: bool = False) -> None:
        self.name, self.default, self.optional = name, default, optional

    @overload
    def __get__(self, settings: None, owner: Any) -> Self: ...
    @overload
    def __get__(self, settings: "Settings", owner: Any) -> str: ...
    def __get__(self, settings: "Settings | None", owner: Any) -> "Self | str":
        if settings is None:
            return self
        if self.optional:
            return settings.values.get(self.name) or self.default or ""
        value = settings.values.get(self.name, self.default)
        if value is None or value == "":
            raise ConfigurationError(f"environment variable {self.name} is not set")
        return value


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, str]

    # Stores, buses, queues and buckets
    handoff_table = Variable("HANDOFF_TABLE")
    ledger_table = Variable("LEDGER_TABLE")
    idempotency_table = Variable("IDEMPOTENCY_TABLE")
    work_items_table = Variable("WORK_ITEMS_TABLE")
    task_tokens_table = Variable("TASK_TOKENS_TABLE")  # only the functions that hold task tokens
    documents_bucket = Variable("DOCUMENTS_BUCKET")
    event_bus_name = Variable("EVENT_BUS_NAME")
    state_machine_arn = Variable("STATE_MACHINE_ARN")
    exceptions_queue_url = Variable("EXCEPTIONS_QUEUE_URL")
    hubspot_queue_url = Variable("HUBSPOT_QUEUE_URL")
    facts_delivery_stream = Variable("FACTS_DELIVERY_STREAM")
    dead_letter_queues = Variable("DEAD_LETTER_QUEUES", "{}")  # JSON: queue name -> URL
    # The recovery API (infra/recovery.py): dead-letter queues with their sources, the bus archive.
    redrive_queues = Variable("REDRIVE_QUEUES", "{}")  # JSON: queue name -> [url, kind, source]
    sqs_message_move = Variable("SQS_MESSAGE_MOVE", "move-task")  # or receive-send (no move tasks: moto)
    archive_name = Variable("ARCHIVE_NAME")
    archive_arn = Variable("ARCHIVE_ARN")
    event_bus_arn = Variable("EVENT_BUS_ARN")
    replay_name_prefix = Variable("REPLAY_NAME_PREFIX", "replay")

    # Mail and links
    mail_from = Variable("MAIL_FROM")
    approval_secret_arn = Variable("APPROVAL_SECRET_ARN")
    previous_key_valid_days = Variable("PREVIOUS_KEY_VALID_DAYS")  # the rotation function only
    approval_base_url = Variable("APPROVAL_BASE_URL")
    console_url = Variable("CONSOLE_URL", "-")  # "-": no console deployed

    # The operators' console (infra/console.py): sign-in through Cognito, or "local" in the embedded runtime
    console_auth = Variable("CONSOLE_AUTH", "cognito")  # cognito | local
    console_secret_arn = Variable("CONSOLE_SECRET_ARN")  # the key of its CSRF tokens
    cognito_user_pool_id = Variable("COGNITO_USER_POOL_ID")
    cognito_client_id = Variable("COGNITO_CLIENT_ID")
    cognito_domain = Variable("COGNITO_DOMAIN")
    work_queue_emails = Variable("WORK_QUEUE_EMAILS", "{}")  # JSON: owner group -> mailbox
    work_queue_sla_hours = Variable("WORK_QUEUE_SLA_HOURS", "{}")  # JSON: owner group -> hours

    # Configuration in Parameter Store (adapters.configuration): the parameters' names
    approvers_parameter = Variable("APPROVERS_PARAMETER", optional=True)
    delivery_leads_parameter = Variable("DELIVERY_LEADS_PARAMETER", optional=True)
    delivery_leads_email = Variable("DELIVERY_LEADS_EMAIL", optional=True)  # before the parameter existed
    playbooks_parameter_path = Variable("PLAYBOOKS_PARAMETER_PATH", optional=True)
    systems_config_parameter = Variable("SYSTEMS_CONFIG_PARAMETER", optional=True)
    config_max_age_seconds = Variable("CONFIG_MAX_AGE_SECONDS", optional=True)

    # Process metrics (the console's metrics page): the Athena workgroup and Glue database in AWS;
    # in the local runtime a folder of fact files DuckDB reads instead (LOCAL_ONLY)
    analytics_workgroup = Variable("ANALYTICS_WORKGROUP")
    analytics_database = Variable("ANALYTICS_DATABASE")
    metrics_facts_dir = Variable("METRICS_FACTS_DIR", optional=True)

    # Systems of record and CRMs
    systems_config = Variable("SYSTEMS_CONFIG", optional=True)  # JSON; overrides the parameter
    systems_secret_arn = Variable("SYSTEMS_SECRET_ARN", optional=True)
    salesforce_event_sources = Variable("SALESFORCE_EVENT_SOURCES", optional=True)  # comma-separated

    # Contract analysis, mail feedback, metrics
    contract_analyser = Variable("CONTRACT_ANALYSER", "offline", optional=True)  # offline | bedrock
    bedrock_model_id = Variable("BEDROCK_MODEL_ID", optional=True)
    ses_configuration_set = Variable("SES_CONFIGURATION_SET", optional=True)
    metrics_namespace = Variable("POWERTOOLS_METRICS_NAMESPACE", "ClosedWonHandoff", optional=True)

    # Set by Lambda itself
    function_name = Variable("AWS_LAMBDA_FUNCTION_NAME", optional=True)
    aws_region = Variable("AWS_REGION")

    def given(self, variable: Variable) -> str | None:
        """A required setting's value, None when unset: for code that also runs without it."""
        return self.values.get(variable.name) or None


# Set by the embedded runtime only (local/), never by the stack.
LOCAL_ONLY = ("METRICS_FACTS_DIR",)
VARIABLES = tuple(sorted({v.name for v in vars(Settings).values() if isinstance(v, Variable)}))


def settings() -> Settings:
    """The settings of this environment (built once per distinct set of values)."""
    return _built(tuple(os.environ.get(name) for name in VARIABLES))


@lru_cache(maxsize=64)
def _built(values: tuple[str | None, ...]) -> Settings:
    return Settings(MappingProxyType({n: v for n, v in zip(VARIABLES, values, strict=True) if v is not None}))

"""Shared by the provisioning steps: the ports from configuration, Powertools idempotency keyed
by handoff and step (a retried or redriven execution reuses what exists), and the playbook."""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from handoff.adapters import aws
from handoff.adapters.call_outcomes import CallLog, RecordedPort
from handoff.adapters.configuration import playbook, systems_config_text
from handoff.adapters.registry import PORT_NAMES, Ports, build_ports
from handoff.contracts import ClosedWonEvent
from handoff.domain.playbooks import Playbook
from handoff.handlers._invocation import current_lambda_context
from handoff.settings import Settings, settings

T = TypeVar("T")

_ports: dict[tuple[str, str, str], Ports] = {}
_ports_lock = threading.Lock()
_backoff_sleep: Callable[[float], None] = time.sleep


def ports() -> Ports:
    """The adapters, built once per process (a warm Lambda keeps its credential and OAuth token
    caches and its HTTP connections) for each configuration: a process that sees another
    SYSTEMS_CONFIG or table (tests, the local runtime) gets adapters of its own."""
    config, table = systems_config_text(), settings().ledger_table
    secret = settings().systems_secret_arn
    key = (config, table, secret)
    with _ports_lock:
        built = _ports.get(key)
        if built is None:
            built = _ports[key] = _recorded(build_ports(
                config, table_name=table, dynamodb=aws.resource("dynamodb"), secretsmanager=aws.client("secretsmanager"),
                sleep=lambda seconds: _backoff_sleep(seconds), default_secret_id=secret or None))
        return built


def _recorded(built: Ports) -> Ports:
    """Every call's outcome is kept with its handoff (integration failure rates, see docs/metrics.md)."""
    table = settings().given(Settings.handoff_table)
    if not table:  # a process without the handoff table (a unit test of the adapters) keeps no outcomes
        return built
    log = CallLog(aws.table(table))
    return Ports(**{name: RecordedPort(getattr(built, name), name, log) for name in PORT_NAMES})


def use_backoff_sleep(sleep: Callable[[float], None]) -> Callable[[float], None]:
    """Replace how the REST connector waits between retries (the embedded runtime scales it as it
    scales Step Functions' Retry); returns the previous one. Forgets the cached adapters."""
    global _backoff_sleep
    with _ports_lock:
        previous, _backoff_sleep = _backoff_sleep, sleep
        _ports.clear()
    return previous


def idempotency_key(handoff_id: str, step: str) -> str:
    return f"{handoff_id}:{step}"


_persistence: dict[tuple[str, str], DynamoDBPersistenceLayer] = {}
_persistence_lock = threading.Lock()


def persistence_layer() -> DynamoDBPersistenceLayer:
    """One Powertools persistence layer per process, on the shared boto3 client: building one
    builds a boto3 session and client (tens of ms on Lambda). Keyed by table and function, because
    the layer keeps the function's name for its record keys (the local runtime runs several
    functions in one process, each with its own)."""
    key = (settings().idempotency_table, settings().function_name)
    with _persistence_lock:
        layer = _persistence.get(key)
        if layer is None:
            layer = _persistence[key] = DynamoDBPersistenceLayer(table_name=key[0], boto3_client=aws.client("dynamodb"))
        return layer


def forget_persistence_layers() -> None:
    with _persistence_lock:
        _persistence.clear()


def once(handoff_id: str, step: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` once per (handoff, step); a retry gets the stored result back."""
    persistence = persistence_layer()
    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=7 * 24 * 3600)
    context = current_lambda_context()
    if context is not None:
        # Without it an invocation that times out leaves its record IN_PROGRESS for the whole
        # expiry (7 days) and every retry of the step fails as "already in progress".
        config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def run(request: dict[str, str]) -> dict[str, Any]:
        return work()

    return run(request={"key": idempotency_key(handoff_id, step)})


def playbook_for(deal: ClosedWonEvent) -> Playbook:
    detail = deal.detail
    return playbook(detail.opportunity.service_line, region=detail.opportunity.region,
                    country=detail.account.country, contract_type=detail.contract.type)

"""The ports to the systems of record (customer master, projects, billing, staffing, procurement,
CRM), built from the systems configuration once per process and configuration, every call's outcome
kept with its handoff."""

import time
from collections.abc import Callable

from handoff.adapters import aws
from handoff.adapters.built_once import BuiltOncePer
from handoff.adapters.call_outcomes import CallLog, RecordedPort
from handoff.adapters.configuration import systems_config_text
from handoff.adapters.registry import PORT_NAMES, Ports, build_ports
from handoff.settings import Settings, settings

_backoff_sleep: Callable[[float], None] = time.sleep


def ports() -> Ports:
    """The adapters, built once per process (a warm Lambda keeps its credential and OAuth token
    caches and its HTTP connections) for each configuration: a process that sees another
    SYSTEMS_CONFIG or table (tests, the local runtime) gets adapters of its own."""
    return _ports((systems_config_text(), settings().ledger_table, settings().systems_secret_arn))


def _build(key: tuple[str, str, str]) -> Ports:
    config, table, secret = key
    return _recorded(build_ports(
        config, table_name=table, dynamodb=aws.resource("dynamodb"), secretsmanager=aws.client("secretsmanager"),
        sleep=backoff_sleep, default_secret_id=secret or None))


_ports = BuiltOncePer(_build)


def _recorded(built: Ports) -> Ports:
    """Every call's outcome is kept with its handoff (integration failure rates, see docs/metrics.md)."""
    table = settings().given(Settings.handoff_table)
    if not table:  # a process without the handoff table (a unit test of the adapters) keeps no outcomes
        return built
    log = CallLog(aws.table(table))
    return Ports(**{name: RecordedPort(getattr(built, name), name, log) for name in PORT_NAMES})


def backoff_sleep(seconds: float) -> None:
    """How connectors wait between retries; one function for the adapters' cache key, calling the
    sleep in force (the embedded runtime scales it)."""
    _backoff_sleep(seconds)


def use_backoff_sleep(sleep: Callable[[float], None]) -> Callable[[float], None]:
    """Replace how the REST connector waits between retries (the embedded runtime scales it as it
    scales Step Functions' Retry); returns the previous one. Forgets the cached adapters."""
    global _backoff_sleep
    previous, _backoff_sleep = _backoff_sleep, sleep
    _ports.forget()
    return previous

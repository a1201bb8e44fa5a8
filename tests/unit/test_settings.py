"""The functions' typed settings: the environment variable names are the deployment's interface."""

import re
from pathlib import Path

import pytest

from handoff.config import ConfigurationError
from handoff.settings import LOCAL_ONLY, VARIABLES, Settings, settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_setting_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_TABLE", "handoffs-a")
    monkeypatch.setenv("MAIL_FROM", "Handoff <handoff@example.com>")
    assert settings().handoff_table == "handoffs-a"
    assert settings().mail_from == "Handoff <handoff@example.com>"
    monkeypatch.setenv("HANDOFF_TABLE", "handoffs-b")  # a test (or another function) with other values
    assert settings().handoff_table == "handoffs-b"


def test_settings_are_built_once_per_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_TABLE", "handoffs-a")
    first = settings()
    assert settings() is first
    monkeypatch.setenv("HANDOFF_TABLE", "handoffs-b")
    assert settings() is not first
    monkeypatch.setenv("HANDOFF_TABLE", "handoffs-a")
    assert settings() is first


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_required_setting_names_its_variable_when_used(monkeypatch: pytest.MonkeyPatch,
                                                                 value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("EXCEPTIONS_QUEUE_URL", raising=False)
    else:
        monkeypatch.setenv("EXCEPTIONS_QUEUE_URL", value)
    current = settings()  # building never fails: each function is given only the variables it needs
    with pytest.raises(ConfigurationError, match="environment variable EXCEPTIONS_QUEUE_URL is not set"):
        _ = current.exceptions_queue_url
    assert current.given(Settings.exceptions_queue_url) is None


def test_defaults_and_optional_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORK_QUEUE_SLA_HOURS", "CONSOLE_URL", "SYSTEMS_SECRET_ARN", "SALESFORCE_EVENT_SOURCES"):
        monkeypatch.delenv(name, raising=False)
    assert settings().work_queue_sla_hours == "{}"
    assert settings().console_url == "-"
    assert settings().systems_secret_arn == ""
    assert settings().salesforce_event_sources == ""
    monkeypatch.setenv("WORK_QUEUE_SLA_HOURS", '{"sales_ops": 4}')
    assert settings().work_queue_sla_hours == '{"sales_ops": 4}'


# Read but never set by the stack: Lambda's own; the cache age and the local SYSTEMS_CONFIG override
# (operators' and tests' knobs); the delivery leads' address of deployments before its parameter.
NOT_SET_BY_THE_STACK = {"AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "CONFIG_MAX_AGE_SECONDS", "SYSTEMS_CONFIG",
                        "DELIVERY_LEADS_EMAIL"}


def test_the_variable_names_are_those_the_stack_sets() -> None:
    """Every other variable is set on some function by the stack (infra/), by name or through the
    parameters' names of adapters.configuration."""
    from handoff.adapters import configuration

    infra = "\n".join(p.read_text() for p in (ROOT / "infra").glob("*.py"))
    through_parameters = {getattr(configuration, n) for n in ("APPROVERS", "DELIVERY_LEADS", "PLAYBOOKS", "SYSTEMS")
                          if f"runtime_config.{n}" in infra}
    missing = [name for name in VARIABLES if name not in NOT_SET_BY_THE_STACK | set(LOCAL_ONLY) | through_parameters
               and f'"{name}"' not in infra]
    assert missing == []


def test_handlers_use_cases_and_adapters_read_the_environment_only_through_settings() -> None:
    # The CRM adapters read their secrets' and settings' variables where they use them.
    functions = ROOT / "functions/handoff"
    allowed = {"adapters/crm/factory.py", "adapters/crm/settings.py"}
    readers = [p.relative_to(functions).as_posix()
               for folder in ("handlers", "logic", "adapters", "domain") for p in (functions / folder).rglob("*.py")
               if p.relative_to(functions).as_posix() not in allowed
               and re.search(r'os\.environ|getenv|setting\("', p.read_text())]
    assert readers == []

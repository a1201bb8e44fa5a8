"""The ports of the provisioning steps: built once per process and configuration, with a backoff
sleep the embedded runtime can scale."""

import json
from collections.abc import Iterator
from unittest.mock import MagicMock

import pytest

from handoff.adapters import idempotency, system_ports
from tests.support.fake_erp import FakeErp


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("LEDGER_TABLE", "ledger")
    monkeypatch.setenv("SYSTEMS_CONFIG", "{}")
    monkeypatch.delenv("SYSTEMS_SECRET_ARN", raising=False)
    monkeypatch.setattr(system_ports.aws, "resource", lambda service: MagicMock())
    monkeypatch.setattr(system_ports.aws, "client", lambda service: MagicMock())
    previous = system_ports.use_backoff_sleep(system_ports.time.sleep)
    yield monkeypatch
    system_ports.use_backoff_sleep(previous)


def test_ports_are_built_once_per_process_and_configuration(environment: pytest.MonkeyPatch) -> None:
    first = system_ports.ports()
    assert system_ports.ports() is first  # a warm Lambda keeps its adapters (and their caches)

    environment.setenv("LEDGER_TABLE", "another-ledger")
    other = system_ports.ports()
    assert other is not first and other.staffing is not first.staffing
    environment.setenv("LEDGER_TABLE", "ledger")
    assert system_ports.ports() is first


def test_the_backoff_sleep_is_replaceable_and_forgets_cached_ports(environment: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    with FakeErp() as erp:
        erp.fault("/crm/opportunities/OPP-1/project", errors=1)
        environment.setenv("SYSTEMS_CONFIG", json.dumps({"crm": {"adapter": "rest", "base_url": erp.base_url,
                                                                 "backoff_base_seconds": 4}}))
        before = system_ports.ports()
        system_ports.use_backoff_sleep(slept.append)
        after = system_ports.ports()
        after.crm.project_created("OPP-1", "P", idempotency_key="k")

    assert after is not before
    assert len(slept) == 1 and 0 <= slept[0] <= 4  # full jitter below the 4 s base, and no real wait
    assert erp.state.crm == {"OPP-1": "P"} and erp.injected[("/crm/opportunities/OPP-1/project", "error")] == 1


def test_an_in_progress_step_expires_with_its_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step killed by its Lambda timeout must not lock out its retries for the record's 7 days:
    the IN_PROGRESS record carries the invocation's deadline."""
    import time as clock

    import boto3
    from moto import mock_aws

    from handoff.handlers._step import step_handler
    from local.lambdas import LambdaContext
    from tests.support.aws import create_idempotency_table, forget_aws_clients

    forget_aws_clients()  # clients and persistence layers are per process: this test has its own region
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
        create_idempotency_table("idempotency", "eu-west-1")
        table = boto3.resource("dynamodb", region_name="eu-west-1").Table("idempotency")
        seen: list[dict] = []

        def work() -> dict:
            seen.extend(table.scan()["Items"])
            return {"done": True}

        handler = step_handler(None)(lambda event: idempotency.once("ho-1", "CreateProject", work))
        started_ms = clock.time() * 1000
        assert handler({}, LambdaContext(function_name="f", deadline=clock.monotonic() + 30)) == {"done": True}
        [in_progress] = seen
        assert in_progress["status"] == "INPROGRESS"
        assert started_ms + 25_000 <= int(in_progress["in_progress_expiration"]) <= clock.time() * 1000 + 30_000
        # Outside a handler (no context) the step still runs once.
        assert idempotency.once("ho-1", "CreateProject", work) == {"done": True} and len(seen) == 1


def test_the_persistence_layer_and_its_client_are_built_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a Powertools persistence layer builds a boto3 session and client: tens of ms per
    invocation on Lambda, about half a handoff's CPU on the embedded runtime (benchmarks/RESULTS.md)."""
    import boto3
    import boto3.session
    from moto import mock_aws

    from tests.support.aws import create_idempotency_table, forget_aws_clients

    forget_aws_clients()
    sessions: list[object] = []
    real_init = boto3.session.Session.__init__

    def counting_init(self: object, *args: object, **kwargs: object) -> None:
        sessions.append(self)
        real_init(self, *args, **kwargs)

    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "CreateProject")
        create_idempotency_table("idempotency", "eu-west-1")
        assert idempotency.once("ho-1", "CreateProject", lambda: {"n": 1}) == {"n": 1}
        layer = idempotency.persistence_layer()
        monkeypatch.setattr(boto3.session.Session, "__init__", counting_init)
        for n in range(2, 6):  # warm invocations: other handoffs, and a retry that gets the stored result
            assert idempotency.once(f"ho-{n}", "CreateProject", lambda n=n: {"n": n}) == {"n": n}
        assert idempotency.once("ho-1", "CreateProject", lambda: {"n": 99}) == {"n": 1}
        assert sessions == []
        assert idempotency.persistence_layer() is layer
        # Another function in the same process (the embedded runtime) keeps its own record keys.
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "SetupBilling")
        assert idempotency.persistence_layer() is not layer
    forget_aws_clients()

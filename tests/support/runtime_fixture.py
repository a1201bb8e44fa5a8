"""One embedded runtime per test module (provisioning is the slow part); every test uses events
with their own opportunity ids or reads only what it sent."""

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from handoff.adapters.registry import PORT_NAMES
from local.runtime import EmbeddedRuntime
from tests.support.fake_erp import FakeErp


def _quiet() -> None:
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="aws_lambda_powertools")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRuntime]:
    _quiet()
    with EmbeddedRuntime(tmp_path_factory.mktemp("runtime")) as started:
        yield started


@contextmanager
def runtime_over_rest(erp: FakeErp, api_key: str, workdir: Path) -> Iterator[EmbeddedRuntime]:
    """A runtime whose systems of record are all `erp` over REST, as a deployment's SYSTEMS_CONFIG
    would point them: its API key in the stack's SystemsCredentials secret (no secret_id), 0.5 s
    timeouts."""
    _quiet()
    system = {"adapter": "rest", "name": "Fake ERP", "base_url": erp.base_url,
              "auth": {"type": "api_key", "secret_key": "erp"}, "timeout_seconds": 0.5}
    config = json.dumps(dict.fromkeys(PORT_NAMES, system))
    with EmbeddedRuntime(workdir, environment={"SYSTEMS_CONFIG": config}) as started:
        started.client("secretsmanager").put_secret_value(
            SecretId=started.env("SYSTEMS_SECRET_ARN"), SecretString=json.dumps({"erp": {"api_key": api_key}}))
        yield started

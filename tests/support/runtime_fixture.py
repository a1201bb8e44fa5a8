"""One embedded runtime per test module (provisioning is the slow part); every test uses events
with their own opportunity ids or reads only what it sent."""

import logging
import warnings
from collections.abc import Iterator

import pytest

from local.runtime import EmbeddedRuntime


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRuntime]:
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="aws_lambda_powertools")
    with EmbeddedRuntime(tmp_path_factory.mktemp("runtime")) as started:
        yield started

"""boto3 clients, created once per process. boto3's default session is not thread-safe to create
clients from, and Step Functions' Parallel branches can run in one process (the local runtime)."""

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})
_LOCK = threading.Lock()


@cache
def client(service: str) -> Any:
    with _LOCK:
        return boto3.client(service, config=_CONFIG)


@cache
def table(name: str) -> Any:
    with _LOCK:
        return boto3.resource("dynamodb", config=_CONFIG).Table(name)


@cache
def resource(service: str) -> Any:
    with _LOCK:
        return boto3.resource(service, config=_CONFIG)

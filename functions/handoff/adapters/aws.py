"""boto3 clients, created once per process. boto3's default session is not thread-safe to create
clients from, and Step Functions' Parallel branches can run in one process (the local runtime)."""

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# The SDK retries throttling and 5xx with backoff before the state machine's Retry sees anything:
# 4 retries (5 attempts) for every service, 9 (10 attempts) for DynamoDB, as AWS SDKs do by default
# for it (its throttles come in bursts on hot keys). Sized with `--inject-faults 0.3` (README).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4})
_DYNAMODB_CONFIG = Config(retries={"mode": "standard", "max_attempts": 9})
_LOCK = threading.Lock()


@cache
def client(service: str) -> Any:
    with _LOCK:
        return boto3.client(service, config=_DYNAMODB_CONFIG if service == "dynamodb" else _CONFIG)


@cache
def table(name: str) -> Any:
    with _LOCK:
        return boto3.resource("dynamodb", config=_DYNAMODB_CONFIG).Table(name)


@cache
def resource(service: str) -> Any:
    with _LOCK:
        return boto3.resource(service, config=_DYNAMODB_CONFIG if service == "dynamodb" else _CONFIG)

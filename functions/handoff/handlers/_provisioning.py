"""Shared by the provisioning steps: the ports from configuration, Powertools idempotency keyed
by handoff and step (a retried or redriven execution reuses what exists), and the playbook."""

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from handoff.adapters import aws
from handoff.adapters.registry import Ports, build_ports
from handoff.config import setting
from handoff.contracts import ClosedWonEvent
from handoff.domain.playbooks import Playbook, load_playbook

T = TypeVar("T")


def ports() -> Ports:
    return build_ports(os.environ.get("SYSTEMS_CONFIG") or "{}", table_name=setting("LEDGER_TABLE"),
                       dynamodb=aws.resource("dynamodb"), secretsmanager=aws.client("secretsmanager"))


def idempotency_key(handoff_id: str, step: str) -> str:
    return f"{handoff_id}:{step}"


def once(handoff_id: str, step: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` once per (handoff, step); a retry gets the stored result back."""
    persistence = DynamoDBPersistenceLayer(table_name=setting("IDEMPOTENCY_TABLE"))
    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=7 * 24 * 3600)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def run(request: dict[str, str]) -> dict[str, Any]:
        return work()

    return run(request={"key": idempotency_key(handoff_id, step)})


def playbook_for(deal: ClosedWonEvent) -> Playbook:
    detail = deal.detail
    return load_playbook(detail.opportunity.service_line, region=detail.opportunity.region,
                         country=detail.account.country, contract_type=detail.contract.type)

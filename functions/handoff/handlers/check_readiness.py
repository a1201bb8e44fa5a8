"""Validate readiness: playbook rules and contract analysis; blocking problems go back to the deal
owner (status BLOCKED), otherwise the approvals the deal needs are computed for the Map (the use
case handoff.logic.validate_readiness)."""

from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic import validate_readiness


def validate(request: HandoffRef) -> dict:
    return validate_readiness.validate(request.handoffId)


handler = step_handler(HandoffRef)(validate)

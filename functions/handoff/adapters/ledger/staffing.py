"""Staffing demand on the ledger: one item per request id, reconciled by the domain's rules
(soften, firm_up, release_soft) and written all or nothing."""

from collections.abc import Callable
from typing import Any

from handoff.adapters.ledger.store import SYSTEM, LedgerAdapter
from handoff.contracts import StaffingRequest
from handoff.domain.errors import IntegrationTransient
from handoff.domain.staffing import RELEASED, firm_up, release_soft, soften

_FIELDS = frozenset(f.alias or name for name, f in StaffingRequest.model_fields.items())


def _pk(opportunity_id: str) -> str:
    return f"OPPORTUNITY#{opportunity_id}"


def _request(item: dict[str, Any]) -> StaffingRequest:
    return StaffingRequest.model_validate({k: v for k, v in item.items() if k in _FIELDS})


def _ids(requests: list[StaffingRequest]) -> list[str]:
    missing = [r.role for r in requests if not r.request_id]
    if missing:
        # Ids come from handoff.domain.staffing.request_id; without one a retry would duplicate.
        raise ValueError(f"staffing requests need a request_id: {missing}")
    return [r.request_id for r in requests if r.request_id]


class LedgerStaffing(LedgerAdapter):
    def open_soft(
        self, opportunity_id: str, requests: list[StaffingRequest], *, idempotency_key: str
    ) -> list[StaffingRequest]:
        order = _ids(requests)
        result = self._reconcile("open_soft_staffing", opportunity_id, None, idempotency_key,
                                 lambda existing: soften(existing, requests), order)
        return [StaffingRequest.model_validate(r) for r in result["requests"]]

    def firm(
        self, opportunity_id: str, project_code: str, requests: list[StaffingRequest], *, idempotency_key: str
    ) -> list[StaffingRequest]:
        order = _ids(requests)
        result = self._reconcile("firm_staffing", opportunity_id, project_code, idempotency_key,
                                 lambda existing: firm_up(existing, requests), order)
        return [StaffingRequest.model_validate(r) for r in result["requests"]]

    def release(self, opportunity_id: str, *, idempotency_key: str) -> int:
        result = self._reconcile("release_staffing", opportunity_id, None, idempotency_key, release_soft, [])
        return int(result["released"])

    def _reconcile(
        self,
        operation: str,
        opportunity_id: str,
        project_code: str | None,
        idempotency_key: str,
        decide: Callable[[list[StaffingRequest]], list[StaffingRequest]],
        order: list[str],
    ) -> dict[str, Any]:
        """Read the opportunity's requests, let `decide` say what they become, write what changed.
        Each write is conditional on the status read, so a concurrent change fails the whole
        transaction (transient: the retry reads again) instead of being overwritten."""
        store = self._store

        def build() -> tuple[list[dict], dict[str, Any]]:
            items = {i["requestId"]: i for i in store.query(_pk(opportunity_id), "STAFFING#")}
            after = decide([_request(i) for i in items.values()])
            now, actions, released = store.now(), [], 0
            for request in after:
                before = items.get(request.request_id or "")
                code = project_code or (before or {}).get("projectCode")
                if before is not None and _request(before) == request and before.get("projectCode") == code:
                    continue
                released += request.status == RELEASED
                item = {
                    "pk": _pk(opportunity_id),
                    "sk": f"STAFFING#{request.request_id}",
                    "type": "staffing_request",
                    **request.to_json_dict(),
                    "opportunityId": opportunity_id,
                    "projectCode": code,
                    "idempotencyKey": idempotency_key,
                    "createdAt": (before or {}).get("createdAt", now),
                    "updatedAt": now,
                }
                actions.append(store.put_new(item) if before is None else store.put_if(
                    item, "#status = :was", {"#status": "status"}, {":was": before["status"]}))
            rank = {rid: i for i, rid in enumerate(order)}
            after.sort(key=lambda r: rank.get(r.request_id or "", len(rank)))
            return actions, {"requests": [r.to_json_dict() for r in after], "released": released}

        def raced() -> Exception:
            return IntegrationTransient(f"{SYSTEM}: staffing of {opportunity_id} changed during {operation}; retry")

        return store.once(operation, idempotency_key, build, raced)

"""Staffing demand on the ledger: open soft or firm requests, firm up by request id, release."""

from typing import Any

from handoff.adapters.ledger.store import SYSTEM, LedgerStore, derived_id, refused
from handoff.contracts import StaffingRequest
from handoff.domain.errors import IntegrationTransient

SOFT, FIRM, RELEASED = "soft", "firm", "released"


def _pk(opportunity_id: str) -> str:
    return f"OPPORTUNITY#{opportunity_id}"


class LedgerStaffing:
    def __init__(self, store: LedgerStore):
        self._store = store

    def open_requests(
        self,
        opportunity_id: str,
        project_code: str | None,
        requests: list[StaffingRequest],
        *,
        firm: bool,
        idempotency_key: str,
    ) -> list[StaffingRequest]:
        """Requests without an id are opened; those with one (opened soft before) are firmed up."""
        store, status = self._store, FIRM if firm else SOFT
        known = [r.request_id for r in requests if r.request_id]

        def build():
            actions: list[dict[str, Any]] = []
            opened: list[StaffingRequest] = []
            for seq, request in enumerate(requests, start=1):
                if request.request_id:
                    actions.append(self._firm_up(opportunity_id, request.request_id, project_code, status))
                    opened.append(request.model_copy(update={"status": status}))
                    continue
                rid = derived_id("SR", "open_staffing_requests", idempotency_key, seq)
                new = request.model_copy(update={"status": status, "request_id": rid})
                actions.append(
                    store.put_new(
                        {
                            "pk": _pk(opportunity_id),
                            "sk": f"STAFFING#{rid}",
                            "type": "staffing_request",
                            **new.to_json_dict(),
                            "opportunityId": opportunity_id,
                            "projectCode": project_code,
                            "idempotencyKey": idempotency_key,
                            "createdAt": store.now(),
                        }
                    )
                )
                opened.append(new)
            return actions, [r.to_json_dict() for r in opened]

        conflict = refused(
            f"staffing requests {', '.join(known)} of opportunity {opportunity_id} cannot become {status}: "
            "unknown, released, or firm already"
        )
        result = store.once("open_staffing_requests", idempotency_key, build, conflict)
        return [StaffingRequest.model_validate(r) for r in result]

    def _firm_up(self, opportunity_id: str, request_id: str, project_code: str | None, status: str) -> dict:
        # Only soft requests move: firm -> soft would silently drop a commitment, released is final.
        values = {":status": status, ":soft": SOFT, ":now": self._store.now()}
        expression = "SET #status = :status, updatedAt = :now"
        if project_code:  # soft demand is often opened before the project exists
            expression += ", projectCode = :code"
            values[":code"] = project_code
        return self._store.update(
            _pk(opportunity_id),
            f"STAFFING#{request_id}",
            expression,
            "attribute_exists(pk) AND (#status = :soft OR #status = :status)",
            {"#status": "status"},
            values,
        )

    def release(self, opportunity_id: str, *, idempotency_key: str) -> int:
        """Releases every open request of the opportunity; a repeat reports the same count."""
        store = self._store

        def build():
            open_ = [r for r in store.query(_pk(opportunity_id), "STAFFING#") if r.get("status") != RELEASED]
            actions = [
                store.update(
                    r["pk"],
                    r["sk"],
                    "SET #status = :released, updatedAt = :now",
                    "#status = :was",
                    {"#status": "status"},
                    {":released": RELEASED, ":was": r["status"], ":now": store.now()},
                )
                for r in open_
            ]
            return actions, len(open_)

        def raced() -> Exception:
            return IntegrationTransient(f"{SYSTEM}: staffing of {opportunity_id} changed during release; retry")

        return store.once("release_staffing", idempotency_key, build, raced)

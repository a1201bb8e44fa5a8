"""The systems of record over REST, one adapter per port (customer master, projects, billing,
staffing, procurement, CRM write-back): canonical JSON in (camelCase, amounts as decimal strings),
contract models out."""

from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from handoff.adapters.rest.client import RestClient
from handoff.contracts import Account, BillingSchedule, CustomerRef, ProjectShell, PurchaseRequisition, StaffingRequest
from handoff.domain.errors import IntegrationPermanent, MasterDataConflict

M = TypeVar("M", bound=BaseModel)


def _known_fields(model: type[BaseModel], data: Any) -> Any:
    """Drop fields the contract does not know: systems of record add their own, and our record
    models forbid extras. Recurses into nested models and lists of them."""
    if not isinstance(data, dict):
        return data
    kept = {}
    for name, field in model.model_fields.items():
        for key in (field.alias, name):
            if key and key in data:
                nested = next((a for a in (field.annotation, *get_args(field.annotation)) if _is_model(a)), None)
                value = data[key]
                if nested is not None:
                    value = [_known_fields(nested, v) for v in value] if isinstance(value, list) else (
                        _known_fields(nested, value)
                    )
                kept[key] = value
                break
    return kept


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def load(client: RestClient, model: type[M], data: Any, operation: str) -> M:
    try:
        return model.model_validate(_known_fields(model, data))
    except ValidationError as exc:
        raise IntegrationPermanent(
            f"{client.system}: {operation} response does not match {model.__name__}: {exc.error_count()} problems",
            system=client.system,
            detail=exc.errors(include_url=False, include_input=False),
        ) from None


def _field(client: RestClient, data: Any, name: str, operation: str) -> Any:
    if not isinstance(data, dict) or name not in data:
        raise IntegrationPermanent(
            f"{client.system}: {operation} response lacks {name!r}", system=client.system, detail=data
        )
    return data[name]


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


class RestAdapter:
    """A port's adapter over REST: each calls its system through one RestClient."""

    def __init__(self, client: RestClient):
        self._client = client


class RestCustomerMaster(RestAdapter):
    def match_or_create(self, account: Account, *, idempotency_key: str) -> CustomerRef:
        op = "match_or_create_customer"
        try:
            data = self._client.post(op, _json(account), idempotency_key=idempotency_key)
        except IntegrationPermanent as exc:
            if exc.status != 409:
                raise
            # 409 is how a customer master says "conflicting master data"; it stays untouched.
            raise MasterDataConflict(str(exc), system=exc.system, status=exc.status, detail=exc.detail) from None
        return load(self._client, CustomerRef, data, op)


class RestProjects(RestAdapter):
    def create_project(self, shell: ProjectShell, customer: CustomerRef, *, idempotency_key: str) -> ProjectShell:
        body = {"project": _json(shell), "customer": _json(customer)}
        data = self._client.post("create_project", body, idempotency_key=idempotency_key)
        return load(self._client, ProjectShell, data, "create_project")


class RestBilling(RestAdapter):
    def create_schedule(
        self, project_code: str, customer: CustomerRef, schedule: BillingSchedule, *, idempotency_key: str
    ) -> str:
        op = "create_billing_schedule"
        body = {"projectCode": project_code, "customer": _json(customer), "schedule": _json(schedule)}
        data = self._client.post(op, body, idempotency_key=idempotency_key)
        return str(_field(self._client, data, "scheduleId", op))


class RestStaffing(RestAdapter):
    """The resource-management system applies the reconciliation rules (see the Staffing port);
    every call sends the requests with their request ids and gets the opportunity's requests back."""

    def open_soft(
        self, opportunity_id: str, requests: list[StaffingRequest], *, idempotency_key: str
    ) -> list[StaffingRequest]:
        body = {"opportunityId": opportunity_id, "requests": [_json(r) for r in requests]}
        return self._requests("open_soft_staffing", body, idempotency_key)

    def firm(
        self, opportunity_id: str, project_code: str, requests: list[StaffingRequest], *, idempotency_key: str
    ) -> list[StaffingRequest]:
        body = {"opportunityId": opportunity_id, "projectCode": project_code, "requests": [_json(r) for r in requests]}
        return self._requests("firm_staffing", body, idempotency_key)

    def release(self, opportunity_id: str, *, idempotency_key: str) -> int:
        op = "release_staffing"
        data = self._client.post(op, {"opportunityId": opportunity_id}, idempotency_key=idempotency_key)
        return int(_field(self._client, data, "released", op))

    def _requests(self, op: str, body: dict[str, Any], idempotency_key: str) -> list[StaffingRequest]:
        data = self._client.post(op, body, idempotency_key=idempotency_key)
        return [load(self._client, StaffingRequest, r, op) for r in _field(self._client, data, "requests", op)]


class RestProcurement(RestAdapter):
    def raise_requisitions(
        self, project_code: str, requisitions: list[PurchaseRequisition], *, idempotency_key: str
    ) -> list[PurchaseRequisition]:
        op = "raise_requisitions"
        body = {"projectCode": project_code, "requisitions": [_json(r) for r in requisitions]}
        data = self._client.post(op, body, idempotency_key=idempotency_key)
        return [
            load(self._client, PurchaseRequisition, r, op) for r in _field(self._client, data, "requisitions", op)
        ]


class RestCrmWriteback(RestAdapter):
    def project_created(self, opportunity_id: str, project_code: str, *, idempotency_key: str, source: str = "",
                        status: str = "ACTIVATED", launch_packet: str | None = None) -> None:
        self._client.post(
            "crm_project_created",
            {"projectCode": project_code},
            idempotency_key=idempotency_key,
            opportunity_id=opportunity_id,
        )


# Port name -> adapter class; the registry picks from here, never by if-chains.
REST_ADAPTERS = {
    "customer_master": RestCustomerMaster,
    "projects": RestProjects,
    "billing": RestBilling,
    "staffing": RestStaffing,
    "procurement": RestProcurement,
    "crm": RestCrmWriteback,
}

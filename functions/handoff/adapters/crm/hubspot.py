"""HubSpot over the CRM v3 API (private app token in Secrets Manager): the deal with its
associations (company, line items), its owner, the pipeline's stages (stage ids differ per
portal, so "won" is the stage's metadata or hs_is_closed_won, never a stage name), and PATCH
/crm/v3/objects/deals/{id} for the write-back. Amounts arrive as strings and stay exact."""

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from handoff.adapters.credentials import SecretCache
from handoff.adapters.crm.settings import HubSpotSettings
from handoff.adapters.crm.throttle import RateLimiter
from handoff.adapters.rest.client import RestClient
from handoff.domain.crm_intake import DealState
from handoff.domain.crm_mapping import CrmMapping
from handoff.domain.errors import IntegrationPermanent

PIPELINES_TTL_SECONDS = 300.0
# Always read: what the intake decides on.
DEAL_PROPERTIES = ("dealname", "dealstage", "pipeline", "hs_is_closed_won", "hs_is_closed", "hubspot_owner_id",
                   "hs_lastmodifieddate", "hs_object_id")


class BearerToken:
    """AuthProvider: the private app's access token, {"access_token": "..."} in its secret."""

    def __init__(self, secrets: SecretCache, secret_id: str):
        self._secrets, self._secret_id = secrets, secret_id

    def headers(self) -> dict[str, str]:
        token = self._secrets.get(self._secret_id).get("access_token")
        if not isinstance(token, str) or not token:
            raise IntegrationPermanent(f"secret {self._secret_id} lacks 'access_token'", system="HubSpot")
        return {"Authorization": f"Bearer {token}"}

    def invalidate(self) -> bool:
        self._secrets.invalidate(self._secret_id)  # a rotated token
        return True


def deal_id(value: Any) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise IntegrationPermanent(f"HubSpot: {value!r} is not an object id", system="HubSpot")
    return text


class HubSpotApi:
    def __init__(self, client: RestClient, settings: HubSpotSettings, limiter: RateLimiter,
                 clock: Callable[[], float] = time.monotonic):
        self._client, self._settings, self._limiter, self._clock = client, settings, limiter, clock
        self._pipelines: tuple[float, dict[str, dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, operation: str, body: Any = None) -> Any:
        self._limiter.acquire()
        url = str(self._settings.base_url).rstrip("/") + path
        return self._client.request(method, url, operation, body=body, parse_float=Decimal)

    def deal(self, object_id: str, properties: Iterable[str], associations: Iterable[str]) -> dict[str, Any]:
        query = f"properties={quote(','.join(sorted(set(properties))))}&associations={','.join(associations)}"
        return self._call("GET", f"/crm/v3/objects/deals/{deal_id(object_id)}?{query}", "read deal")

    def object(self, kind: str, object_id: str, properties: Iterable[str]) -> dict[str, Any]:
        query = f"properties={quote(','.join(sorted(set(properties))))}"
        return self._call("GET", f"/crm/v3/objects/{kind}/{deal_id(object_id)}?{query}", f"read {kind}")

    def batch_read(self, kind: str, ids: list[str], properties: Iterable[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        body = {"properties": sorted(set(properties)), "inputs": [{"id": deal_id(i)} for i in ids]}
        data = self._call("POST", f"/crm/v3/objects/{kind}/batch/read", f"read {kind}", body) or {}
        by_id = {str(r.get("id")): r for r in data.get("results") or []}
        return [by_id[i] for i in ids if i in by_id]  # in the deal's order

    def owner(self, owner_id: str) -> dict[str, Any]:
        return self._call("GET", f"/crm/v3/owners/{deal_id(owner_id)}", "read owner")

    def stages(self) -> dict[str, dict[str, Any]]:
        """Deal stages of every pipeline by stage id (cached for five minutes)."""
        with self._lock:
            if self._pipelines and self._pipelines[0] > self._clock():
                return self._pipelines[1]
        data = self._call("GET", "/crm/v3/pipelines/deals", "read pipelines") or {}
        stages = {str(s["id"]): {**s, "pipelineId": p.get("id")} for p in data.get("results") or []
                  for s in p.get("stages") or []}
        with self._lock:
            self._pipelines = (self._clock() + PIPELINES_TTL_SECONDS, stages)
        return stages

    def update_deal(self, object_id: str, properties: dict[str, Any]) -> None:
        self._call("PATCH", f"/crm/v3/objects/deals/{deal_id(object_id)}", "update deal", {"properties": properties})


def _properties(mapping: CrmMapping, obj: str) -> set[str]:
    """HubSpot properties are flat: a nested path reads its top property."""
    return {path.split(".")[0] for path in mapping.fields_read(obj)}


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _probability(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError):
        return None


def _timestamp(value: Any) -> datetime:
    text = str(value or "").strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _associated(deal: dict[str, Any], kind: str) -> list[str]:
    results = ((deal.get("associations") or {}).get(kind) or {}).get("results") or []
    return list(dict.fromkeys(str(r["id"]) for r in results if r.get("id") is not None))


class HubSpotDeals:
    """The intake's reader and the write-back, one adapter for HubSpot."""

    def __init__(self, api: HubSpotApi, mapping: CrmMapping):
        self.api, self.mapping = api, mapping

    def read(self, deal_ids: Iterable[str]) -> list[DealState]:
        stages = self.api.stages()
        states = []
        for object_id in sorted({deal_id(i) for i in deal_ids}):
            deal = self.api.deal(object_id, {*DEAL_PROPERTIES, *_properties(self.mapping, "deal")},
                                 ("companies", "line_items"))
            props = dict(deal.get("properties") or {})
            stage = stages.get(str(props.get("dealstage")), {})
            metadata = stage.get("metadata") or {}
            props["dealstage_label"] = stage.get("label") or props.get("dealstage")
            if props.get("hs_deal_stage_probability") in (None, "") and metadata.get("probability") is not None:
                props["hs_deal_stage_probability"] = metadata["probability"]
            probability = _probability(props.get("hs_deal_stage_probability"))
            closed = _true(props.get("hs_is_closed")) or _true(metadata.get("isClosed"))
            won = _true(props.get("hs_is_closed_won")) or (_true(metadata.get("isClosed")) and probability == 1)
            companies = _associated(deal, "companies")
            company = None
            if companies:
                company = self.api.object("companies", companies[0], _properties(self.mapping, "company")
                                          | {"name"}).get("properties")
            lines = self.api.batch_read("line_items", _associated(deal, "line_items"),
                                        _properties(self.mapping, "line_items") | {"name"})
            owner = None
            if props.get("hubspot_owner_id"):
                found = self.api.owner(str(props["hubspot_owner_id"]))
                name = " ".join(p for p in (found.get("firstName"), found.get("lastName")) if p)
                owner = {"name": name or found.get("email"), "email": found.get("email"), "id": found.get("id")}
            records = {"deal": props, "company": company, "owner": owner,
                       "line_items": [line.get("properties") or {} for line in lines]}
            states.append(DealState(
                opportunity_id=str(deal.get("id") or object_id), account_id=companies[0] if companies else None,
                records=records, won=won, closed=closed,
                modified_at=_timestamp(props.get("hs_lastmodifieddate") or deal.get("updatedAt"))))
        return states

    def write_back(self, opportunity_id: str, values: dict[str, str | None]) -> None:
        properties = {self.mapping.writeback[k]: v for k, v in values.items() if k in self.mapping.writeback}
        self.api.update_deal(opportunity_id, properties)

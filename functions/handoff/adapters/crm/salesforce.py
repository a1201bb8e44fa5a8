"""Salesforce over its REST API: OAuth 2.0 JWT bearer flow (RS256 assertion, key in Secrets
Manager), SOQL reads of a won opportunity with its account, owner, contract and line items, and
PATCH sobjects/Opportunity/{id} for the write-back. JSON numbers are read as Decimal."""

import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import jwt
import urllib3

from handoff.adapters.credentials import SecretCache
from handoff.adapters.crm.settings import SalesforceSettings
from handoff.adapters.crm.throttle import RateLimiter
from handoff.adapters.rest.client import RestClient
from handoff.domain.crm_intake import DealState
from handoff.domain.crm_mapping import CrmMapping
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 180  # Salesforce accepts an exp at most 3 minutes ahead
TOKEN_REUSE_SECONDS = 15 * 60  # the bearer flow returns no expiry; a 401 refreshes sooner
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
# Always read: what the intake decides on and how the records hang together.
OPPORTUNITY_FIELDS = ("Id", "IsWon", "IsClosed", "StageName", "Probability", "AccountId", "ContractId", "OwnerId",
                      "LastModifiedDate", "LastModifiedById")


def record_id(value: str) -> str:
    """Salesforce ids are 15 or 18 letters and digits; anything else never reaches a SOQL string."""
    if not isinstance(value, str) or not _ID.match(value):
        raise IntegrationPermanent(f"Salesforce: {value!r} is not a record id", system="Salesforce")
    return value


class SalesforceJwtBearer:
    """AuthProvider for the REST client; also knows the org's instance URL from the token response."""

    def __init__(self, secrets: SecretCache, *, secret_id: str, settings: SalesforceSettings,
                 http: urllib3.PoolManager, clock: Callable[[], float] = time.time):
        self._secrets, self._secret_id, self._settings = secrets, secret_id, settings
        self._http, self._clock = http, clock
        self._timeout = urllib3.Timeout(connect=settings.timeout_seconds, read=settings.timeout_seconds)
        self._session: tuple[float, str, str] | None = None  # (expires, token, instance url)
        self._lock = threading.Lock()
        self.fetches = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._current()[1]}"}

    def instance_url(self) -> str:
        return self._current()[2]

    def invalidate(self) -> bool:
        with self._lock:
            self._session = None
        return True

    def _current(self) -> tuple[float, str, str]:
        with self._lock:
            if self._session is None or self._session[0] <= self._clock():
                token, instance = self._fetch()
                self._session = (self._clock() + TOKEN_REUSE_SECONDS, token, instance)
            return self._session

    def assertion(self, private_key: str) -> str:
        audience = str(self._settings.login_url).rstrip("/")
        claims = {"iss": self._settings.client_id, "sub": self._settings.username, "aud": audience,
                  "exp": int(self._clock()) + ASSERTION_SECONDS}
        return jwt.encode(claims, private_key, algorithm="RS256")

    def _fetch(self) -> tuple[str, str]:
        secret = self._secrets.get(self._secret_id)
        key = secret.get("private_key")
        if not isinstance(key, str) or "PRIVATE KEY" not in key:
            raise IntegrationPermanent(f"secret {self._secret_id} lacks a PEM 'private_key'", system="Salesforce")
        url = str(self._settings.login_url).rstrip("/") + "/services/oauth2/token"
        self.fetches += 1
        try:
            response = self._http.request(
                "POST", url, body=urlencode({"grant_type": GRANT_TYPE, "assertion": self.assertion(key)}).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                timeout=self._timeout, retries=False, redirect=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise IntegrationTransient(f"Salesforce: token endpoint unreachable ({type(exc).__name__})") from exc
        if response.status == 429 or response.status >= 500:
            raise IntegrationTransient(f"Salesforce: token endpoint returned HTTP {response.status}")
        import json

        try:
            body = json.loads(response.data)
        except ValueError:
            body = {}
        if response.status != 200 or "access_token" not in body:
            self._secrets.invalidate(self._secret_id)
            raise IntegrationPermanent(
                f"Salesforce: the JWT bearer grant was refused (HTTP {response.status}: "
                f"{body.get('error', '')} {body.get('error_description', '')})".rstrip(),
                system="Salesforce", status=response.status)
        return str(body["access_token"]), str(body.get("instance_url") or "").rstrip("/")


class SalesforceApi:
    def __init__(self, client: RestClient, auth: SalesforceJwtBearer, settings: SalesforceSettings,
                 limiter: RateLimiter):
        self._client, self._auth, self._settings, self._limiter = client, auth, settings, limiter

    def _url(self, path: str) -> str:
        return f"{self._auth.instance_url()}/services/data/v{self._settings.api_version}{path}"

    def _call(self, method: str, url: str, operation: str, body: Any = None) -> Any:
        self._limiter.acquire()
        return self._client.request(method, url, operation, body=body, parse_float=Decimal)

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query, following nextRecordsUrl until done."""
        url = self._url("/query?q=" + quote(soql, safe=""))
        records: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", url, "query") or {}
            records += page.get("records") or []
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return records
            url = self._auth.instance_url() + page["nextRecordsUrl"]

    def update(self, sobject: str, record: str, fields: dict[str, Any]) -> None:
        self._call("PATCH", self._url(f"/sobjects/{sobject}/{record_id(record)}"), f"update {sobject}", fields)


def _in(ids: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{record_id(i)}'" for i in sorted(set(ids))) + ")"


def _fields_of(mapping: CrmMapping, obj: str) -> list[str]:
    """The SOQL field list of one object: every path the mapping reads under `obj.`."""
    return sorted(mapping.fields_read(obj))


def _timestamp(value: Any) -> datetime:
    text = str(value)
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00")).astimezone(UTC)


class SalesforceDeals:
    """The intake's reader and the write-back, one adapter for Salesforce."""

    def __init__(self, api: SalesforceApi, mapping: CrmMapping):
        self.api, self.mapping = api, mapping

    def read(self, opportunity_ids: Iterable[str]) -> list[DealState]:
        ids = sorted({record_id(i) for i in opportunity_ids})
        if not ids:
            return []
        fields = sorted(set(OPPORTUNITY_FIELDS) | set(_fields_of(self.mapping, "Opportunity")))
        opportunities = self.api.query(f"SELECT {', '.join(fields)} FROM Opportunity WHERE Id IN {_in(ids)}")
        contract_ids = {o["ContractId"] for o in opportunities if o.get("ContractId")}
        contracts: dict[str, dict] = {}
        contract_fields = sorted({"Id", *_fields_of(self.mapping, "Contract")})
        if contract_ids:
            found = self.api.query(f"SELECT {', '.join(contract_fields)} FROM Contract WHERE Id IN {_in(contract_ids)}")
            contracts = {c["Id"]: c for c in found}
        lines: dict[str, list[dict]] = {}
        line_fields = sorted({"Id", "OpportunityId", *_fields_of(self.mapping, "OpportunityLineItem")})
        if len(line_fields) > 2:
            for line in self.api.query(f"SELECT {', '.join(line_fields)} FROM OpportunityLineItem "
                                       f"WHERE OpportunityId IN {_in(ids)}"):
                lines.setdefault(line["OpportunityId"], []).append(line)
        states = []
        for opportunity in opportunities:
            records = {"Opportunity": opportunity, "Contract": contracts.get(opportunity.get("ContractId") or ""),
                       "OpportunityLineItem": lines.get(opportunity["Id"], [])}
            states.append(DealState(
                opportunity_id=opportunity["Id"], account_id=opportunity.get("AccountId"), records=records,
                won=opportunity.get("IsWon") is True, closed=opportunity.get("IsClosed") is True,
                modified_at=_timestamp(opportunity["LastModifiedDate"])))
        return states

    def write_back(self, opportunity_id: str, values: dict[str, str | None]) -> None:
        fields = {self.mapping.writeback[k]: v for k, v in values.items() if k in self.mapping.writeback}
        self.api.update("Opportunity", opportunity_id, fields)

"""The CRM adapters, built once per process and configuration (tokens, pipeline stages, HTTP
connections and the rate limiter stay with a warm Lambda), and the write-back port over them."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3

from handoff.adapters.built_once import BuiltOncePer
from handoff.adapters.credentials import SecretCache
from handoff.adapters.crm.hubspot import BearerToken, HubSpotApi, HubSpotDeals
from handoff.adapters.crm.mapping_file import load_mapping
from handoff.adapters.crm.salesforce import SalesforceApi, SalesforceDeals, SalesforceJwtBearer
from handoff.adapters.crm.settings import ENV_VAR, CrmSettings, crm_settings
from handoff.adapters.crm.throttle import RateLimiter
from handoff.adapters.rest.client import RestClient
from handoff.adapters.rest.config import RestSystemConfig

SALESFORCE_KEY_SECRET = "SALESFORCE_KEY_SECRET_ARN"  # {"private_key": "-----BEGIN PRIVATE KEY-----..."}
HUBSPOT_TOKEN_SECRET = "HUBSPOT_TOKEN_SECRET_ARN"  # {"access_token": "pat-..."}
HUBSPOT_APP_SECRET = "HUBSPOT_APP_SECRET_ARN"  # {"app_secret": "..."}


class CrmNotConfigured(RuntimeError):
    pass


def _secret_id(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CrmNotConfigured(f"environment variable {name} is not set")
    return value


def _client(name: str, base_url: str, settings: Any, sleep: Callable[[float], None],
            http: urllib3.PoolManager, auth: Any) -> RestClient:
    config = RestSystemConfig(name=name, base_url=base_url, timeout_seconds=settings.timeout_seconds,
                              max_attempts=settings.max_attempts)
    return RestClient(config, auth=auth, http=http, sleep=sleep)


@dataclass(frozen=True)
class _Wanted:
    """What tells one built adapter from another; the clients it is built with ride along unkeyed."""

    crm: str
    settings_json: str
    salesforce_key_secret: str | None
    hubspot_token_secret: str | None
    sleep: Callable[[float], None]
    settings: CrmSettings = field(compare=False)
    secretsmanager: Any = field(compare=False)


def _build(wanted: _Wanted) -> SalesforceDeals | HubSpotDeals:
    crm, settings, sleep = wanted.crm, wanted.settings, wanted.sleep
    http = urllib3.PoolManager()
    secrets = SecretCache(wanted.secretsmanager) if wanted.secretsmanager is not None else SecretCache()
    if crm == "salesforce":
        if settings.salesforce is None:
            raise CrmNotConfigured(f"{ENV_VAR} has no salesforce settings")
        sf = settings.salesforce
        auth = SalesforceJwtBearer(secrets, secret_id=_secret_id(SALESFORCE_KEY_SECRET), settings=sf, http=http)
        client = _client("Salesforce", str(sf.login_url), sf, sleep, http, auth)
        return SalesforceDeals(SalesforceApi(client, auth, sf, RateLimiter(sf.requests_per_second, sleep=sleep)),
                               load_mapping("salesforce"))
    if crm == "hubspot":
        if settings.hubspot is None:
            raise CrmNotConfigured(f"{ENV_VAR} has no hubspot settings")
        hs = settings.hubspot
        client = _client("HubSpot", str(hs.base_url), hs, sleep, http,
                         BearerToken(secrets, _secret_id(HUBSPOT_TOKEN_SECRET)))
        return HubSpotDeals(HubSpotApi(client, hs, RateLimiter(hs.requests_per_second, sleep=sleep)),
                            load_mapping("hubspot"))
    raise CrmNotConfigured(f"no intake adapter for CRM {crm!r}")


_adapters: BuiltOncePer[_Wanted, SalesforceDeals | HubSpotDeals] = BuiltOncePer(_build)


def crm_deals(crm: str, *, secretsmanager: Any = None, sleep: Callable[[float], None] = time.sleep,
              settings: CrmSettings | None = None) -> SalesforceDeals | HubSpotDeals:
    """The adapter of one CRM (`salesforce` or `hubspot`), reading deals and writing back."""
    settings = settings or crm_settings()
    return _adapters(_Wanted(crm, settings.model_dump_json(), os.environ.get(SALESFORCE_KEY_SECRET),
                             os.environ.get(HUBSPOT_TOKEN_SECRET), sleep, settings, secretsmanager))


class CrmIntakeWriteback:
    """The `crm` port for deals that came through a CRM intake: project code, status and launch
    packet go back to the record the deal came from (source crm.salesforce or crm.hubspot); deals
    from any other source go to `fallback` (the ledger by default)."""

    def __init__(self, fallback: Any, *, secretsmanager: Any = None, sleep: Callable[[float], None] = time.sleep):
        self._fallback, self._secretsmanager, self._sleep = fallback, secretsmanager, sleep

    def project_created(self, opportunity_id: str, project_code: str, *, idempotency_key: str, source: str = "",
                        status: str = "ACTIVATED", launch_packet: str | None = None) -> None:
        crm = source.removeprefix("crm.")
        configured = crm_settings()
        if crm not in ("salesforce", "hubspot") or getattr(configured, crm) is None:
            self._fallback.project_created(opportunity_id, project_code, idempotency_key=idempotency_key,
                                           source=source, status=status, launch_packet=launch_packet)
            return
        # Setting fields is idempotent: a retried step writes the same values again.
        crm_deals(crm, secretsmanager=self._secretsmanager, sleep=self._sleep).write_back(
            opportunity_id, {"projectCode": project_code, "status": status, "launchPacket": launch_packet})

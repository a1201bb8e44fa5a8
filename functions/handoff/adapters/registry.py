"""Which adapter serves which port is configuration per deployment, not code.

SYSTEMS_CONFIG (JSON) maps a port to its system; a port left out uses the built-in ledger:
  {"customer_master": {"adapter": "rest", "name": "SAP S/4HANA", "base_url": "https://erp.example",
                       "auth": {"type": "api_key", "header": "X-Api-Key", "secret_key": "erp"}},
   "crm": {"adapter": "ledger"}}
An auth setting without `secret_id` reads the stack's SystemsCredentials secret (SYSTEMS_SECRET_ARN),
the one secret the functions are granted; `secret_key` picks the system's object inside it.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import urllib3
from pydantic import ValidationError

from handoff.adapters.credentials import AuthProvider, SecretCache
from handoff.adapters.ledger import LEDGER_ADAPTERS, LedgerStore
from handoff.adapters.rest import REST_ADAPTERS, RestClient, RestSystemConfig
from handoff.ports import Billing, CrmWriteback, CustomerMaster, Procurement, Projects, Staffing
from handoff.settings import settings as current_settings

ENV_VAR = "SYSTEMS_CONFIG"
DEFAULT_ADAPTER = "ledger"


@dataclass(frozen=True)
class Ports:
    customer_master: CustomerMaster
    projects: Projects
    billing: Billing
    staffing: Staffing
    procurement: Procurement
    crm: CrmWriteback


PORT_NAMES = tuple(Ports.__dataclass_fields__)


@dataclass
class _Shared:
    """AWS clients, the HTTP pool and credential caches, made once and only when a port needs them."""

    table_name: str | None
    session: Any
    dynamodb: Any
    secretsmanager: Any
    http: urllib3.PoolManager | None
    sleep: Callable[[float], None]
    default_secret_id: str | None = None
    _store: LedgerStore | None = None
    _secrets: SecretCache | None = None
    _auth: dict[str, AuthProvider] = field(default_factory=dict)

    def store(self, port: str) -> LedgerStore:
        if self._store is None:
            if not self.table_name:
                raise ValueError(f"{ENV_VAR}: port {port!r} uses the ledger, but no ledger table name was given")
            self._store = LedgerStore(self.table_name, self.dynamodb or self._session().resource("dynamodb"))
        return self._store

    def pool(self) -> urllib3.PoolManager:
        if self.http is None:
            self.http = urllib3.PoolManager()
        return self.http

    def auth(self, config: RestSystemConfig) -> AuthProvider:
        # One provider per distinct auth setting: ports of the same system share one cached token.
        key = config.auth.model_dump_json()
        if key not in self._auth:
            if self._secrets is None:
                self._secrets = SecretCache(
                    self.secretsmanager, make_client=lambda: self._session().client("secretsmanager")
                )
            self._auth[key] = config.auth.provider(self._secrets, self.pool(), config.timeout_seconds, config.name)
        return self._auth[key]

    def _session(self) -> Any:
        if self.session is None:
            self.session = boto3.session.Session()
        return self.session


def _ledger(port: str, settings: dict[str, Any], shared: _Shared) -> Any:
    if settings:
        raise ValueError(f"{ENV_VAR}.{port}: the ledger adapter takes no settings, got {sorted(settings)}")
    return LEDGER_ADAPTERS[port](shared.store(port))


def _rest(port: str, settings: dict[str, Any], shared: _Shared) -> Any:
    try:
        config = RestSystemConfig.model_validate({"name": port, **settings})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ValueError(f"{ENV_VAR}.{port}: {problems}") from None
    if getattr(config.auth, "secret_id", "") is None:
        if not shared.default_secret_id:
            raise ValueError(f"{ENV_VAR}.{port}.auth: no secret_id, and no default secret (SYSTEMS_SECRET_ARN) is set")
        config = config.model_copy(update={"auth": config.auth.model_copy(update={"secret_id": shared.default_secret_id})})
    client = RestClient(config, auth=shared.auth(config), http=shared.pool(), sleep=shared.sleep)
    return REST_ADAPTERS[port](client)


def _crm_intake(port: str, settings: dict[str, Any], shared: _Shared) -> Any:
    """The write-back to the CRM a deal came from (Salesforce, HubSpot; CRM_CONFIG), else the ledger."""
    if port != "crm" or settings:
        raise ValueError(f"{ENV_VAR}.{port}: the crm_intake adapter serves the crm port only and takes no settings")
    from handoff.adapters.crm.factory import CrmIntakeWriteback

    return CrmIntakeWriteback(_ledger(port, {}, shared), secretsmanager=shared.secretsmanager, sleep=shared.sleep)


# Adapter name -> factory(port, settings, shared). Add an adapter here, not in an if-chain.
ADAPTER_FACTORIES: dict[str, Callable[[str, dict[str, Any], _Shared], Any]] = {
    "ledger": _ledger,
    "rest": _rest,
    "crm_intake": _crm_intake,
}


def load_config(config: dict[str, Any] | str | None = None) -> dict[str, dict[str, Any]]:
    """The systems configuration from a dict, a JSON string, or the SYSTEMS_CONFIG variable."""
    if config is None:
        config = current_settings().systems_config
    if isinstance(config, str):
        try:
            config = json.loads(config) if config.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"{ENV_VAR} is not valid JSON: {exc}") from None
    # Configuration mistakes are ValueError throughout, whatever their kind.
    if not isinstance(config, dict):
        raise ValueError(
            f"{ENV_VAR} must be a JSON object keyed by port: {', '.join(PORT_NAMES)}"
        )
    unknown = sorted(set(config) - set(PORT_NAMES))
    if unknown:
        raise ValueError(f"{ENV_VAR} names unknown systems {unknown}; known: {', '.join(PORT_NAMES)}")
    for port, settings in config.items():
        if not isinstance(settings, dict):
            raise ValueError(
                f"{ENV_VAR}.{port} must be an object such as {{\"adapter\": \"ledger\"}}"
            )
    return config


def build_ports(
    config: dict[str, Any] | str | None = None,
    *,
    table_name: str | None = None,
    session: Any = None,
    dynamodb: Any = None,
    secretsmanager: Any = None,
    http: urllib3.PoolManager | None = None,
    sleep: Callable[[float], None] = time.sleep,
    default_secret_id: str | None = None,
) -> Ports:
    """`dynamodb` is a boto3 DynamoDB resource and `secretsmanager` a client; either defaults to
    `session` (or a new boto3 Session), made only if some port needs it. `sleep` waits between
    retries of REST calls; `default_secret_id` serves auth settings that name no secret."""
    systems = load_config(config)
    shared = _Shared(table_name, session, dynamodb, secretsmanager, http, sleep, default_secret_id)
    adapters = {}
    for port in PORT_NAMES:
        settings = dict(systems.get(port) or {"adapter": DEFAULT_ADAPTER})
        name = settings.pop("adapter", DEFAULT_ADAPTER)
        factory = ADAPTER_FACTORIES.get(name)
        if factory is None:
            raise ValueError(
                f"{ENV_VAR}.{port}: unknown adapter {name!r}; known: {', '.join(sorted(ADAPTER_FACTORIES))}"
            )
        adapters[port] = factory(port, settings, shared)
    return Ports(**adapters)

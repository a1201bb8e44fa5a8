"""How to reach each CRM (CRM_CONFIG, JSON from the deployment's context; secrets by ARN from the
stack). Nothing here is secret: keys and tokens stay in Secrets Manager."""

import json
import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

ENV_VAR = "CRM_CONFIG"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class SalesforceSettings(_Settings):
    # login.salesforce.com, test.salesforce.com (sandboxes) or the org's My Domain: the JWT audience.
    login_url: HttpUrl = Field(default=HttpUrl("https://login.salesforce.com"), alias="loginUrl")
    client_id: str = Field(default="", alias="clientId")  # the connected app's consumer key
    username: str = ""  # the integration user the JWT is issued for
    api_version: str = Field(default="62.0", alias="apiVersion", pattern=r"^\d+\.\d$")
    # Changes this user makes (our own write-backs) start no intake.
    integration_user_id: str = Field(default="", alias="integrationUserId")
    requests_per_second: float = Field(default=5.0, gt=0, alias="requestsPerSecond")
    timeout_seconds: float = Field(default=8.0, gt=0, alias="timeoutSeconds")
    max_attempts: int = Field(default=4, ge=1, le=10, alias="maxAttempts")
    # Platform events and change events the rules let through (EventBridge detail-type).
    detail_types: tuple[str, ...] = Field(default=("Closed_Won_Handoff__e", "OpportunityChangeEvent"),
                                          alias="detailTypes")


class HubSpotSettings(_Settings):
    base_url: HttpUrl = Field(default=HttpUrl("https://api.hubapi.com"), alias="baseUrl")
    app_id: int | None = Field(default=None, alias="appId")
    portal_ids: tuple[int, ...] = Field(default=(), alias="portalIds")  # empty: every portal of the app
    # The URL configured in the app's webhook settings, as HubSpot signs it (else rebuilt from the request).
    webhook_url: str | None = Field(default=None, alias="webhookUrl")
    max_age_seconds: int = Field(default=300, gt=0, alias="maxAgeSeconds")
    # Private apps: 100 requests per 10 s (190 on Professional/Enterprise); stay below.
    requests_per_second: float = Field(default=9.0, gt=0, alias="requestsPerSecond")
    timeout_seconds: float = Field(default=8.0, gt=0, alias="timeoutSeconds")
    max_attempts: int = Field(default=4, ge=1, le=10, alias="maxAttempts")


class CrmSettings(_Settings):
    salesforce: SalesforceSettings | None = None
    hubspot: HubSpotSettings | None = None


def parse_settings(text: str) -> CrmSettings:
    try:
        return CrmSettings.model_validate(json.loads(text or "{}"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{ENV_VAR} is not valid JSON: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ValueError(f"{ENV_VAR}: {problems}") from None


@cache
def _cached(text: str) -> CrmSettings:
    return parse_settings(text)


def crm_settings() -> CrmSettings:
    return _cached(os.environ.get(ENV_VAR) or "{}")


CrmName = Literal["salesforce", "hubspot"]

"""Configuration of one system of record reached over REST (one per port, per deployment)."""

from typing import Annotated, Literal

import urllib3
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from handoff.adapters.credentials import ApiKeyAuth, AuthProvider, NoAuth, OAuth2ClientCredentials, SecretCache

# Operation -> default path; a deployment overrides any of them. {placeholders} are URL-quoted.
DEFAULT_PATHS: dict[str, str] = {
    "match_or_create_customer": "/customers/match-or-create",
    "create_project": "/projects",
    "create_billing_schedule": "/billing-schedules",
    "open_soft_staffing": "/staffing-requests/soft",
    "firm_staffing": "/staffing-requests/firm",
    "release_staffing": "/staffing-requests/release",
    "raise_requisitions": "/requisitions",
    "crm_project_created": "/crm/opportunities/{opportunity_id}/project",
}


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiKeyAuthConfig(_Config):
    """The secret is JSON {"api_key": "..."} (or that object under `secret_key` of a shared secret);
    the key goes in `header`. Without `secret_id`, the stack's SystemsCredentials secret."""

    type: Literal["api_key"]
    header: str = "X-Api-Key"
    secret_id: str | None = None
    secret_key: str | None = None

    def provider(self, secrets: SecretCache, http: urllib3.PoolManager, timeout: float, system: str) -> AuthProvider:
        assert self.secret_id, "the registry fills in the default secret"
        return ApiKeyAuth(secrets, secret_id=self.secret_id, header=self.header, secret_key=self.secret_key)


class OAuth2ClientCredentialsConfig(_Config):
    """The secret is JSON {"client_id": "...", "client_secret": "..."} (or that object under
    `secret_key` of a shared secret); RFC 6749 section 4.4. Without `secret_id`, the stack's
    SystemsCredentials secret."""

    type: Literal["oauth2_client_credentials"]
    token_url: HttpUrl
    secret_id: str | None = None
    secret_key: str | None = None
    scope: str | None = None

    def provider(self, secrets: SecretCache, http: urllib3.PoolManager, timeout: float, system: str) -> AuthProvider:
        assert self.secret_id, "the registry fills in the default secret"
        return OAuth2ClientCredentials(
            secrets,
            token_url=str(self.token_url),
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            scope=self.scope,
            http=http,
            timeout_seconds=timeout,
            system=system,
        )


class NoAuthConfig(_Config):
    """For systems behind a private network or a signing proxy."""

    type: Literal["none"]

    def provider(self, secrets: SecretCache, http: urllib3.PoolManager, timeout: float, system: str) -> AuthProvider:
        return NoAuth()


AuthConfig = Annotated[ApiKeyAuthConfig | OAuth2ClientCredentialsConfig | NoAuthConfig, Field(discriminator="type")]


class RestSystemConfig(_Config):
    # The name errors and metrics use, e.g. "SAP S/4HANA"; the registry defaults it to the port name.
    name: str = "rest"
    base_url: HttpUrl
    paths: dict[str, str] = Field(default_factory=dict)
    auth: AuthConfig = NoAuthConfig(type="none")
    timeout_seconds: float = Field(default=8.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    # Also the longest Retry-After obeyed in-process; a longer one is left to the state machine's Retry.
    backoff_max_seconds: float = Field(default=8.0, ge=0)

    @field_validator("paths")
    @classmethod
    def _known_operations(cls, paths: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(paths) - set(DEFAULT_PATHS))
        if unknown:
            raise ValueError(f"unknown operations {unknown}; known: {sorted(DEFAULT_PATHS)}")
        bad = sorted(op for op, path in paths.items() if not path.startswith("/"))
        if bad:
            raise ValueError(f"paths must start with '/': {bad}")
        return {**DEFAULT_PATHS, **paths}

    def path(self, operation: str) -> str:
        return self.paths.get(operation) or DEFAULT_PATHS[operation]

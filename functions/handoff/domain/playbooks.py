"""Playbooks: one backbone, controlled variants per service line, geography and contract type.

Each service line is a YAML file in handoff/playbooks/ (`<service-line>.yaml`). `_common.yaml`, when
present, holds what every line shares (tax rules, exception policy ...); the line file overrides it
key by key. A file may declare `variants:`, each `{name, when: {region, country, contractType},
overrides}`; every variant whose conditions all match (country is the customer's) is applied in
file order. Overrides merge into mappings and replace lists and scalars, and may only touch keys the
base declares: a variant tunes the standard, it cannot invent policy. Everything is validated at
load; an unknown key anywhere raises PlaybookError naming the file and the key path.

This module is the schema (pure pydantic models and the errors). Reading a playbook from its YAML
texts, variants applied, is handoff.domain.playbook_parsing (pure); finding the texts, in the
functions' files or Parameter Store, is handoff.adapters.playbook_files and adapters.configuration."""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from handoff.contracts.event import ContractType
from handoff.contracts.money import is_currency
from handoff.contracts.record import ExceptionCode, Severity
from handoff.domain.policy import ApprovalRules, BillingRules, TaxRule
from handoff.domain.project import WbsTemplatePhase, project_code

Region = Literal["AMER", "EMEA", "APAC"]
SERVICE_LINE = re.compile(r"[a-z0-9][a-z0-9-]*")
_FIELD_PATH = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*")



class PlaybookError(ValueError):
    """A playbook that cannot be used; `file` and `key` (dotted path, or None) say where."""

    def __init__(self, message: str, *, file: str, key: str | None = None):
        self.file = file
        self.key = key
        self.reason = message
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


class UnknownServiceLine(PlaybookError):
    """The deal names a service line no playbook covers: the deal is wrong, not the playbooks."""


def _country(code: str) -> str:
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
PositiveDecimal = Annotated[Decimal, Field(gt=0)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class PlaybookModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CostCenters(PlaybookModel):
    default: str = Field(min_length=1)
    by_region: dict[Region, str] = Field(default_factory=dict)
    by_country: dict[CountryCode, str] = Field(default_factory=dict)


class Compliance(PlaybookModel):
    # Where customer data must stay, by customer country or region (country wins): EEA, US, AU ...
    data_residency: dict[str, str] = Field(default_factory=dict)
    # Countries where processing personal data needs a data processing agreement.
    dpa_required_countries: list[CountryCode] = Field(default_factory=list)
    # Sanctioned or export-controlled: no delivery, staffing or subcontracting without clearance.
    restricted_countries: list[CountryCode] = Field(default_factory=list)
    record_retention_years: int = Field(default=10, ge=1)

    def residency(self, region: str, country: str) -> str | None:
        return self.data_residency.get(country, self.data_residency.get(region))


DEFAULT_SEVERITIES: dict[str, Severity] = {
    **dict.fromkeys(
        ["MISSING_FIELD", "CONTRACT_NOT_SIGNED", "MILESTONES_MISMATCH", "AMOUNT_MISMATCH", "CURRENCY_MISMATCH",
         "INVALID_TAX_ID", "DATES_INCOHERENT", "RATE_CARD_GAP", "INTEGRATION_FAILURE", "APPROVAL_TIMEOUT",
         "MASTER_DATA_CONFLICT", "UNKNOWN_PLAYBOOK", "PROCESSING_FAILURE", "APPROVAL_EMAIL_BOUNCED",
         "FIX_REQUEST_EMAIL_BOUNCED"],
        "BLOCKING",
    ),
    **dict.fromkeys(["NON_STANDARD_CLAUSE", "SCOPE_MISMATCH", "UNKNOWN_VENDOR"], "WARNING"),
}
DEFAULT_OWNER_GROUPS: dict[str, str] = {
    **dict.fromkeys(
        ["MISSING_FIELD", "AMOUNT_MISMATCH", "DATES_INCOHERENT", "SCOPE_MISMATCH", "UNKNOWN_PLAYBOOK",
         "APPROVAL_TIMEOUT", "APPROVAL_EMAIL_BOUNCED", "FIX_REQUEST_EMAIL_BOUNCED"],
        "deal-desk",
    ),
    **dict.fromkeys(["CONTRACT_NOT_SIGNED", "NON_STANDARD_CLAUSE"], "legal"),
    **dict.fromkeys(["MILESTONES_MISMATCH", "CURRENCY_MISMATCH", "RATE_CARD_GAP"], "finance"),
    "INVALID_TAX_ID": "tax",
    "UNKNOWN_VENDOR": "procurement",
    **dict.fromkeys(["INTEGRATION_FAILURE", "PROCESSING_FAILURE"], "integration-ops"),
    "MASTER_DATA_CONFLICT": "data-steward",  # the customer master is theirs; resolving the item retries the handoff
}
DEFAULT_SLA_HOURS: dict[str, int] = {"BLOCKING": 24, "WARNING": 72}


class ExceptionPolicy(PlaybookModel):
    """How exceptions are graded and routed. Maps given here are merged over the defaults."""

    severities: dict[ExceptionCode, Severity] = Field(default_factory=dict, validate_default=True)
    owner_groups: dict[ExceptionCode, str] = Field(default_factory=dict, validate_default=True)
    sla_hours: dict[Severity, Annotated[int, Field(gt=0)]] = Field(default_factory=dict, validate_default=True)
    # Prioritisation: revenue at risk is converted (roughly, for ranking only) to the reference
    # currency; the revenue part of the score is full at this amount. Unlisted currencies count 1:1.
    reference_currency: CurrencyCode = "USD"
    revenue_full_score_at: PositiveDecimal = Decimal(10_000_000)
    fx_to_reference: dict[CurrencyCode, PositiveDecimal] = Field(default_factory=dict)
    # Customer risk (handoff.domain.customer_risk): points 0..30 for deals in these countries.
    country_risk: dict[CountryCode, Annotated[int, Field(ge=0, le=30)]] = Field(default_factory=dict)

    @field_validator("severities")
    @classmethod
    def _severity_defaults(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        return {**DEFAULT_SEVERITIES, **value}

    @field_validator("owner_groups")
    @classmethod
    def _owner_defaults(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_OWNER_GROUPS, **value}

    @field_validator("sla_hours")
    @classmethod
    def _sla_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        return {**DEFAULT_SLA_HOURS, **value}


class StaffingRules(PlaybookModel):
    # Open deals at or above this probability may get soft (tentative) staffing requests before
    # closing; closed-won deals get firm requests.
    soft_request_min_probability: int = Field(default=70, ge=0, le=100)


class ContractingEntity(PlaybookModel):
    name: str = Field(min_length=1)
    country: CountryCode


class ContractingEntities(PlaybookModel):
    """Our legal entity that contracts with a customer, by customer country: decides whether EU
    VAT is cross-border (reverse charge) or domestic."""

    default: ContractingEntity
    by_country: dict[CountryCode, ContractingEntity] = Field(default_factory=dict)


class Playbook(PlaybookModel):
    service_line: str = Field(pattern=SERVICE_LINE.pattern)
    name: str = Field(min_length=1)
    description: str = ""
    # Dotted camelCase paths into the event detail that must be present and non-empty.
    required_fields: list[str] = Field(default_factory=list)
    wbs_template: list[WbsTemplatePhase] = Field(min_length=1)
    cost_centers: CostCenters
    # str.format over the placeholders of handoff.domain.project.project_code: {line}, {service_line},
    # {country}, {region}, {year}, {seq}, {opportunity_id}, {hash}; e.g. "{line}-{country}-{year}-{seq:04d}".
    project_code_scheme: str
    approvals: ApprovalRules = ApprovalRules()
    billing: BillingRules = BillingRules()
    tax_rules: dict[CountryCode, TaxRule]  # by customer country; `country` defaults to the key
    contracting_entities: ContractingEntities
    # Standard cost per hour by role (case-insensitive), for margin; roles not listed cost the default.
    cost_rate_currency: CurrencyCode
    default_cost_rate: PositiveDecimal
    cost_rates: dict[str, PositiveDecimal] = Field(default_factory=dict)
    compliance: Compliance = Compliance()
    exceptions: ExceptionPolicy = ExceptionPolicy()
    staffing: StaffingRules = StaffingRules()
    variants_applied: tuple[str, ...] = ()  # set by the loader, never in YAML

    @field_validator("required_fields")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not _FIELD_PATH.fullmatch(path):
                raise ValueError(f"{path!r} is not a dotted camelCase path such as 'account.taxId'")
        return value

    @field_validator("project_code_scheme")
    @classmethod
    def _renders(cls, value: str) -> str:
        try:
            sample = project_code(value, service_line="erp-implementation", country="DE", region="EMEA",
                                  year=2027, seq=1, opportunity_id="006SAMPLE")
        except (ValueError, KeyError, IndexError) as exc:
            raise ValueError(f"cannot be rendered: {exc}") from None
        if "{seq" not in value and "{hash" not in value and "{opportunity_id" not in value:
            raise ValueError("must contain {seq}, {hash} or {opportunity_id} so that codes are unique")
        if not sample.strip():
            raise ValueError("renders an empty code")
        return value

    @field_validator("tax_rules", mode="before")
    @classmethod
    def _country_from_key(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: {"country": k, **v} if isinstance(v, Mapping) else v for k, v in value.items()}
        return value

    @field_validator("tax_rules")
    @classmethod
    def _keys_match_rules(cls, value: dict[str, TaxRule]) -> dict[str, TaxRule]:
        for key, rule in value.items():
            if rule.country != key:
                raise ValueError(f"the rule under {key} declares country {rule.country}")
        return value

    def tax_rule(self, country: str) -> TaxRule:
        """The customer country's rule; readiness blocks deals whose country has none."""
        rule = self.tax_rules.get(country)
        if rule is None:
            file = f"{self.service_line}.yaml"
            raise PlaybookError(f"no tax rule for {country}", file=file, key=f"tax_rules.{country}")
        return rule

    def has_tax_rule(self, country: str) -> bool:
        return country in self.tax_rules

    def supplier_country(self, customer_country: str) -> str:
        return self.contracting_entity(customer_country).country

    def contracting_entity(self, customer_country: str) -> ContractingEntity:
        entities = self.contracting_entities
        return entities.by_country.get(customer_country, entities.default)

    def cost_center_for(self, region: str, country: str) -> str:
        centers = self.cost_centers
        return centers.by_country.get(country) or centers.by_region.get(cast(Region, region)) or centers.default

    def cost_rate(self, role: str) -> Decimal:
        wanted = role.strip().casefold()
        rates = (rate for name, rate in self.cost_rates.items() if name.casefold() == wanted)
        return next(rates, self.default_cost_rate)

    def severity(self, code: str) -> Severity:
        return self.exceptions.severities.get(cast(ExceptionCode, code), "BLOCKING")

    def owner_group(self, code: str) -> str:
        return self.exceptions.owner_groups.get(cast(ExceptionCode, code), "deal-desk")


class VariantWhen(PlaybookModel):
    model_config = ConfigDict(populate_by_name=True)

    region: Annotated[list[Region], BeforeValidator(_as_list)] | None = None
    country: Annotated[list[CountryCode], BeforeValidator(_as_list)] | None = None
    contract_type: Annotated[list[ContractType], BeforeValidator(_as_list)] | None = Field(
        default=None, alias="contractType"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> "VariantWhen":
        if self.region is None and self.country is None and self.contract_type is None:
            raise ValueError("needs at least one of region, country, contractType")
        return self

    def matches(self, region: str, country: str, contract_type: str) -> bool:
        return all(
            wanted is None or actual in wanted
            for wanted, actual in ((self.region, region), (self.country, country), (self.contract_type, contract_type))
        )


class Variant(PlaybookModel):
    name: str | None = None
    when: VariantWhen
    overrides: dict[str, Any] = Field(min_length=1)

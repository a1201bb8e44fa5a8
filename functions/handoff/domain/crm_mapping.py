"""Which CRM field feeds which contract field: a declarative mapping (config/crm/<crm>.yaml),
validated when loaded. This module is the mapping's schema and the contract fields it must cover;
handoff.domain.crm_mapper applies it to the records a CRM's REST API returned, with the value
conversions of handoff.domain.crm_values."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from handoff.contracts.money import is_currency

INTAKE_KEY = "crmIntake"  # the detail's extension naming the CRM fields (unknown fields are kept)

# Contract leaf paths the mapping must cover (the adapter fills opportunity.id and account.crmId).
REQUIRED: tuple[str, ...] = (
    "opportunity.name", "opportunity.stage", "opportunity.probability", "opportunity.amount",
    "opportunity.closeDate", "opportunity.owner.name", "opportunity.owner.email", "opportunity.serviceLine",
    "opportunity.region", "opportunity.deliveryModel",
    "account.legalName", "account.country", "account.billingAddress.line1", "account.billingAddress.city",
    "account.billingAddress.postalCode", "account.billingAddress.country", "account.billingContact.name",
    "account.billingContact.email",
    "contract.id", "contract.status", "contract.type", "contract.value", "contract.startDate",
    "contract.endDate", "contract.paymentTermsDays",
)
# Optional: left out when the CRM has nothing. Lists default to empty (the playbook's required
# fields decide whether that blocks, and the exception then names the CRM field too).
OPTIONAL: tuple[str, ...] = (
    "account.taxId", "account.erpCustomerId", "account.billingAddress.line2", "account.billingAddress.region",
    "contract.milestones", "contract.rateCard", "contract.notToExceed", "contract.monthlyFee", "contract.clauses",
    "contract.signedAt", "scope.summary", "scope.countries", "scope.phases", "staffing", "subcontractors",
)
LIST_DEFAULTS: dict[str, Any] = {"scope.summary": "", "scope.countries": [], "scope.phases": [], "staffing": []}
# What a contract type cannot go without (the contract model refuses the event otherwise).
TERMS_FOR_TYPE = {"milestone": "contract.milestones", "time_and_materials": "contract.rateCard",
                  "retainer": "contract.monthlyFee"}

FieldType = Literal["string", "email", "integer", "percent", "date", "datetime", "money", "json", "list", "lines"]


class MappingError(ValueError):
    """The mapping configuration is wrong (a deployment problem, never the deal's)."""


class FieldSpec(BaseModel):
    """One contract field: where it comes from in the CRM and how to read it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    source: str | None = Field(default=None, alias="from")  # "Object.Field" or "Object.Relationship.Field"
    type: FieldType = "string"
    currency: str | None = None  # money: path of the currency code; else the mapping's default currency
    values: dict[str, Any] | None = None  # picklist value -> contract value; other values are invalid
    default: Any = None  # a constant when the CRM field is empty
    scale: Decimal | None = None  # percent: multiply first (HubSpot keeps 0..1, Salesforce 0..100)
    line: Literal[1, 2] | None = None  # 1: first line of a multi-line street, 2: the rest
    fields: dict[str, "FieldSpec"] | None = None  # lines: each item's fields, relative to the item
    when: dict[str, str] | None = None  # only when other contract fields have these values

    @model_validator(mode="after")
    def _complete(self) -> "FieldSpec":
        if self.source is None and self.default is None:
            raise ValueError("needs `from` (the CRM field) or a `default`")
        if self.type == "lines" and not self.fields:
            raise ValueError("type `lines` needs `fields`")
        return self


class CrmMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    crm: Literal["salesforce", "hubspot"]
    label: str  # how people call the CRM: "Salesforce", "HubSpot"
    main_object: str = Field(alias="mainObject")  # "Opportunity", "deal"
    default_currency: str = Field(alias="defaultCurrency")
    fields: dict[str, FieldSpec]
    placeholders: dict[str, Any] = Field(default_factory=dict)
    # Our own write-back fields: never watched, so writing them back triggers no intake.
    writeback: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _covers_contract(self) -> "CrmMapping":
        unknown = sorted(set(self.fields) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise ValueError(f"unknown contract fields {unknown}")
        uncovered = [p for p in REQUIRED if p not in self.fields]
        if uncovered:
            raise ValueError(f"no mapping for required contract fields {uncovered}")
        if not is_currency(self.default_currency):
            raise ValueError(f"defaultCurrency {self.default_currency!r} is not an ISO 4217 currency")
        literal = ("opportunity.region", "opportunity.deliveryModel", "contract.status", "contract.type")
        lacking = [p for p in literal if p not in self.placeholders]
        if lacking:
            raise ValueError(f"placeholders needed for {lacking} (used only while a blocked deal lacks them)")
        return self

    def watched_fields(self) -> set[str]:
        """Fields of the main object the mapping reads: a change to any other (our write-backs
        included) starts no intake."""
        prefix = f"{self.main_object}."
        found = {s.removeprefix(prefix).split(".")[0] for s in _sources(self.fields.values()) if s.startswith(prefix)}
        return found - set(self.writeback.values())

    def fields_read(self, obj: str) -> set[str]:
        """What the mapping reads of one CRM object: the paths under `obj.` (and the fields of its
        line items when `obj` holds lines), for the adapter to ask the CRM's API for."""
        found: set[str] = set()
        for spec in self.fields.values():
            if spec.type == "lines" and spec.source == obj and spec.fields:
                found |= set(_sources(spec.fields.values()))
            found |= {path[len(obj) + 1:] for path in (spec.source, spec.currency) if path and path.startswith(obj + ".")}
        return found

    def describe(self, source: str | None) -> str:
        """A CRM field as its admin finds it: "Service_Line__c on the Opportunity" (Salesforce API
        names), "the deal property service_line" (HubSpot internal names)."""
        if not source:
            return "(no field)"
        parts = source.split(".")
        if len(parts) == 1:
            return f"the {self.main_object}'s {source} records"
        *objects, name = parts
        if self.crm == "hubspot":
            if objects == ["owner"]:
                return f"the deal owner's {name}"
            return f"the {objects[-1].rstrip('s')} property {name}"
        owner = objects[0] if len(objects) == 1 else f"{objects[0]}'s {' '.join(objects[1:])}"
        return f"{name} on the {owner}"

    def crm_field(self, path: str) -> str | None:
        """The CRM field that feeds a contract path (or its nearest mapped parent)."""
        parts = path.replace("[", ".[").split(".")
        while parts:
            spec = self.fields.get(".".join(p for p in parts if not p.startswith("[")))
            if spec is not None and spec.source:
                return spec.source
            parts.pop()
        return None


def _sources(specs: Any) -> Iterator[str]:
    for spec in specs:
        if spec.source:
            yield spec.source
        if spec.currency:
            yield spec.currency

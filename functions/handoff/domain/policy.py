"""Policy models shared by playbooks (which declare them as data) and the domain functions that
apply them. Kept small and declarative: YAML in handoff/playbooks/ fills them in."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaxRule(PolicyModel):
    """Tax for one customer country."""

    country: str
    rate: Decimal  # 0.19 for 19 %
    name: str = "VAT"  # VAT, GST, sales tax ...
    tax_id_required: bool = False
    tax_id_scheme: Literal["EU_VAT", "GB_VAT", "AU_ABN", "US_EIN", "NONE"] = "NONE"
    # Cross-border EU B2B: the customer self-accounts; we charge 0 and note "reverse charge".
    reverse_charge_cross_border: bool = False


class BillingRules(PolicyModel):
    fixed_fee_installments: int = Field(default=3, ge=1)
    # When fixed-fee installments fall due: evenly spread across the term, first on start date.
    invoice_timing: Literal["start_of_period", "end_of_period"] = "end_of_period"
    rounding: Literal["ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN"] = "ROUND_HALF_UP"
    max_payment_terms_days: int = 60


class ApprovalDeadlines(PolicyModel):
    """Hours an approver has, a reminder before the deadline, and the escalation approver's time."""

    respond_within_hours: Decimal = Decimal(48)
    remind_before_hours: Decimal = Decimal(12)
    escalation_within_hours: Decimal = Decimal(24)


class ApprovalRules(PolicyModel):
    legal_on_non_standard_clauses: bool = True
    finance_deal_value_over: Decimal | None = None  # in the deal currency's units, see finance_currency
    finance_currency: str = "USD"
    finance_margin_below: Decimal | None = None  # 0.25 for 25 %
    # Units of finance_currency per one unit of another currency, to compare a deal with the threshold.
    # A deal in a currency with no rate here is routed to finance (it cannot be shown to be under).
    finance_fx_rates: dict[str, Decimal] = Field(default_factory=dict)
    compliance_personal_data_eu: bool = True
    compliance_restricted_countries: list[str] = Field(default_factory=list)
    procurement_on_subcontractors: bool = True
    deadlines: ApprovalDeadlines = ApprovalDeadlines()

"""The approver directory: who approves which kind of approval, by region and service line, and who is
escalated to. Pure: handoff.adapters.configuration loads it (Parameter Store, or the repo's file)."""

from pydantic import Field, model_validator

from handoff.domain.approvals.verification import DEFAULT_VERIFICATION, Verification
from handoff.domain.approvals.vocabulary import KINDS, ApprovalKind, Contact, _Model


class ApproverRoute(_Model):
    region: str = "*"
    service_line: str = "*"
    approver: Contact
    escalation: Contact

    @model_validator(mode="after")
    def _distinct(self) -> "ApproverRoute":
        if self.approver.email.casefold() == self.escalation.email.casefold():
            raise ValueError(f"escalation for {self.approver.email} must be someone else")
        return self

    def matches(self, region: str, service_line: str) -> bool:
        return self.region in ("*", region) and self.service_line in ("*", service_line)

    @property
    def specificity(self) -> int:
        return (self.region != "*") * 2 + (self.service_line != "*")


class ApproverDirectory(_Model):
    """Approvers per kind; the most specific route wins (region + service line, region, service
    line, then "*"). Every kind needs a "*"/"*" route so routing never comes up empty."""

    approvers: dict[ApprovalKind, list[ApproverRoute]]
    # How each kind's decisions are bound to the approver (link | code | signin); a kind left out
    # gets DEFAULT_VERIFICATION's.
    verification: dict[ApprovalKind, Verification] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> "ApproverDirectory":
        for kind in KINDS:
            routes = self.approvers.get(kind, [])
            if not any(r.region == "*" and r.service_line == "*" for r in routes):
                raise ValueError(f"approvers.{kind} needs a route with region '*' and serviceLine '*'")
            keys = [(r.region, r.service_line) for r in routes]
            if len(keys) != len(set(keys)):
                raise ValueError(f"approvers.{kind} has two routes for the same region and service line")
        return self

    def verification_for(self, kind: ApprovalKind) -> Verification:
        return self.verification.get(kind, DEFAULT_VERIFICATION[kind])

    def route(self, kind: ApprovalKind, region: str, service_line: str) -> ApproverRoute:
        candidates = [r for r in self.approvers[kind] if r.matches(region, service_line)]
        return max(candidates, key=lambda r: r.specificity)

"""Contract intelligence behind one port: what an analysis reports (clause findings and WARNING
exceptions) and the port every analyser meets. Findings route a legal or compliance approval; they
never block, approve or change money. The rules are in clause_rules, mentions and mismatches; the
default analyser in offline_analyser; what an AI review may add in ai_review."""

from typing import Literal, Protocol

from pydantic import Field

from handoff.contracts import ClosedWonEvent, ExceptionEntry
from handoff.contracts.base import RecordModel
from handoff.domain.clause_rules import ClauseCategory

STEP = "AnalyseContract"



# Priority points a non-standard clause adds: a rough proxy for revenue at risk.
CLAUSE_WEIGHT: dict[str, int] = {
    "unlimited_liability": 40,
    "liability_cap": 30,  # a liability clause without a cap
    "ip_ownership": 30,
    "penalties_liquidated_damages": 25,
    "payment_terms": 15,
    "termination_for_convenience": 15,
    "non_solicitation": 10,
    "data_residency": 10,
    "other": 10,
}


class ClauseFinding(RecordModel):
    clause_id: str
    field: str  # contract.clauses[i]
    category: ClauseCategory
    standard: bool
    explanation: str
    source: Literal["rules", "model"] = "rules"


class Analysis(RecordModel):
    findings: list[ClauseFinding] = Field(default_factory=list)
    exceptions: list[ExceptionEntry] = Field(default_factory=list)  # WARNING only, step AnalyseContract
    data_residency_regions: list[str] = Field(default_factory=list)  # "EEA", "EU" or ISO alpha-2
    priority_boost: int = Field(default=0, ge=0, le=100)
    analyser: str = "offline"
    notes: list[str] = Field(default_factory=list)

    @property
    def has_non_standard_clauses(self) -> bool:
        return any(not f.standard for f in self.findings)


class ContractAnalyser(Protocol):
    def analyse(self, event: ClosedWonEvent, *, max_payment_terms_days: int) -> Analysis:
        """Never raises for content reasons; never emits BLOCKING exceptions."""
        ...


def warning(code: Literal["NON_STANDARD_CLAUSE", "SCOPE_MISMATCH"], message: str, field: str, priority: int
            ) -> ExceptionEntry:
    return ExceptionEntry(code=code, severity="WARNING", message=message, step=STEP, field=field,
                          priority=max(0, min(100, priority)))

"""The default contract analyser: deterministic (rules, no network), and the fallback of every other."""



from handoff.contracts import ClosedWonEvent, ExceptionEntry
from handoff.domain.clause_rules import classify_clause
from handoff.domain.intelligence import CLAUSE_WEIGHT, Analysis, ClauseFinding, warning
from handoff.domain.mismatches import find_mismatches


class OfflineAnalyser:
    """Deterministic rules; the default and the fallback of every other analyser."""

    def analyse(self, event: ClosedWonEvent, *, max_payment_terms_days: int) -> Analysis:
        detail = event.detail
        findings: list[ClauseFinding] = []
        exceptions: list[ExceptionEntry] = []
        regions: list[str] = []
        for i, clause in enumerate(detail.contract.clauses):
            field = f"contract.clauses[{i}]"
            for rule in classify_clause(clause.title, clause.text, detail.contract, max_payment_terms_days):
                findings.append(ClauseFinding(clause_id=clause.id, field=field, category=rule.category,
                                              standard=rule.standard, explanation=rule.explanation))
                regions += [r for r in rule.regions if r not in regions]
                if not rule.standard:
                    exceptions.append(warning(
                        "NON_STANDARD_CLAUSE",
                        f"Clause {clause.id} ({clause.title or rule.category}): {rule.explanation}",
                        field, CLAUSE_WEIGHT[rule.category]))
        exceptions += find_mismatches(detail)
        return Analysis(findings=findings, exceptions=exceptions, data_residency_regions=regions,
                        priority_boost=min(100, sum(e.priority or 0 for e in exceptions)))

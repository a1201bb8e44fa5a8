"""What an AI review of a contract may add to the deterministic analysis, and how it is merged: only
additions, only WARNINGs, each pointing at a real clause or a real quote. A model can neither remove
a finding nor block, approve or touch money; its text is bounded and made one line."""

import re
from typing import cast

from pydantic import BaseModel, ConfigDict, Field

from handoff.contracts import ClosedWonEvent, ExceptionEntry
from handoff.domain.clause_rules import CATEGORIES, ClauseCategory
from handoff.domain.intelligence import CLAUSE_WEIGHT, Analysis, ClauseFinding, warning
from handoff.domain.mismatches import MISMATCH_WEIGHT

MAX_ADDITIONS = 20  # bound what one answer can add to a record
MAX_TEXT = 300


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ClauseAnswer(_Lenient):
    clause_id: str = Field(alias="clauseId")
    category: str = "other"
    non_standard: bool = Field(default=False, alias="nonStandard")
    explanation: str = ""


class MismatchAnswer(_Lenient):
    field: str
    quote: str
    explanation: str = ""


class ModelAnswer(_Lenient):
    """What the model may say. Anything else it says (severity, approve, amounts) is ignored."""

    clauses: list[ClauseAnswer] = Field(default_factory=list)
    mismatches: list[MismatchAnswer] = Field(default_factory=list)
    priority: float = Field(default=0, allow_inf_nan=False)


def merge(offline: Analysis, answer: ModelAnswer, event: ClosedWonEvent, model_id: str) -> Analysis:
    """Offline findings plus what the model adds. Only additions, only WARNINGs."""
    clauses = event.detail.contract.clauses
    index = {c.id: i for i, c in enumerate(clauses)}
    findings = list(offline.findings)
    added: list[ExceptionEntry] = []
    for item in answer.clauses:
        if item.clause_id not in index or len(added) >= MAX_ADDITIONS:
            continue  # a clause the deal does not have
        i = index[item.clause_id]
        category: ClauseCategory = cast(ClauseCategory, item.category) if item.category in CATEGORIES else "other"
        known = [f for f in findings if f.clause_id == item.clause_id]
        if item.non_standard and any(f.category == category and not f.standard for f in known):
            continue  # already reported
        if not item.non_standard and (category == "other" or any(f.category != "other" for f in known)):
            continue  # the model would only relabel a classified clause
        explanation = _clean(item.explanation) or "flagged by AI review"
        # "other" only means no rule matched: the model's category replaces it.
        findings = [f for f in findings if not (f.clause_id == item.clause_id and f.category == "other")]
        findings.append(ClauseFinding(clause_id=item.clause_id, field=f"contract.clauses[{i}]", category=category,
                                      standard=not item.non_standard, explanation=explanation, source="model"))
        if item.non_standard:
            title = clauses[i].title or category
            added.append(warning("NON_STANDARD_CLAUSE", f"AI review ({model_id}): clause {item.clause_id} ({title}): "
                                 f"{explanation}", f"contract.clauses[{i}]", CLAUSE_WEIGHT[category]))
    texts = {"scope.summary": event.detail.scope.summary}
    texts |= {f"contract.clauses[{i}].text": c.text for i, c in enumerate(clauses)}
    for m in answer.mismatches:
        field = m.field if m.field in texts else f"{m.field}.text"
        quote = _clean(m.quote)
        if field not in texts or not quote or _norm(quote) not in _norm(texts[field]) or len(added) >= MAX_ADDITIONS:
            continue  # a quote that is not in the text is not evidence
        if any(e.field == field and _norm(quote) in _norm(e.message) for e in [*offline.exceptions, *added]):
            continue
        added.append(warning("SCOPE_MISMATCH", f'AI review ({model_id}): {field} "{quote}": '
                             f"{_clean(m.explanation) or 'does not match the structured deal'}",
                             field, MISMATCH_WEIGHT["amount"]))
    boost = max(offline.priority_boost + sum(e.priority or 0 for e in added), int(answer.priority))
    return offline.model_copy(update={
        "findings": findings,
        "exceptions": [*offline.exceptions, *added],
        "priority_boost": max(offline.priority_boost, min(100, max(0, boost))),
        "analyser": f"offline+bedrock:{model_id}",
    })


def _clean(text: str) -> str:
    """Model text goes into emails and consoles: one line, bounded."""
    return re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", text)).strip()[:MAX_TEXT]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()

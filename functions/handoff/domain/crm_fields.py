"""Readiness exceptions in the CRM's words: a deal that came through a CRM intake carries, in its
`crmIntake` extension, which CRM field feeds which contract field and which required ones were
empty. Exceptions then name the CRM field to fill in (e.g. the Salesforce API name
Service_Line__c), so the deal owner fixes the deal where it lives and the fix loop runs in the CRM.

Pure: exceptions and the deal's extension in, exceptions out."""

from typing import Any

from handoff.contracts import ExceptionEntry

STEP = "ValidateReadiness"


def intake_of(extra: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `crmIntake` extension of a deal's detail, if it came through a CRM intake."""
    intake = (extra or {}).get("crmIntake")
    return intake if isinstance(intake, dict) and intake.get("crm") else None


def _covers(missing: str, field: str | None) -> bool:
    if not field:
        return False
    return field == missing or field.startswith(missing + ".") or field.startswith(missing + "[")


def _crm_field(fields: dict[str, str], path: str | None) -> str | None:
    """The CRM field of a contract path, or of its nearest mapped parent (milestones[0].amount ->
    the milestones' source)."""
    if not path:
        return None
    candidate = path
    while candidate:
        if candidate in fields:
            return fields[candidate]
        bare = candidate.split("[")[0]
        if bare != candidate and bare in fields:
            return fields[bare]
        candidate = candidate.rpartition(".")[0]
    return None


def in_crm_terms(exceptions: list[ExceptionEntry], intake: dict[str, Any] | None) -> list[ExceptionEntry]:
    """One BLOCKING MISSING_FIELD per required field the CRM left empty (naming the CRM field);
    what readiness said about the placeholders standing in for them is dropped; every other
    exception on a mapped field names its CRM field too."""
    if not intake:
        return exceptions
    crm = str(intake.get("label") or intake["crm"])
    fields: dict[str, str] = intake.get("fields") or {}
    missing = [m for m in intake.get("missing") or [] if isinstance(m, dict) and m.get("field")]
    result = [
        ExceptionEntry(code="MISSING_FIELD", severity="BLOCKING", step=STEP, field=m["field"],
                       message=f"{m['field']} cannot be read from {crm}: {m.get('crmField') or 'its field'} "
                               f"{m.get('problem') or 'is empty'}. Fill in {m.get('crmField') or 'the field'} in "
                               f"{crm} and save the record; the same handoff then continues.")
        for m in missing
    ]
    for entry in exceptions:
        if any(_covers(m["field"], entry.field) for m in missing):
            continue  # about a placeholder, not about the deal
        if entry.code == "UNKNOWN_PLAYBOOK" and any(m["field"] == "opportunity.serviceLine" for m in missing):
            continue
        source = _crm_field(fields, entry.field)
        if source and source not in entry.message:
            entry = entry.model_copy(update={"message": f"{entry.message} (in {crm}: {source})"})
        result.append(entry)
    return result

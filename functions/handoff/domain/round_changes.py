"""What changed between two fix rounds of a deal, and why it matters (pure, offline, deterministic):
a diff of the deal as received in the last round and as corrected, read against the exceptions that
blocked the last round. It informs the people working the handoff; it decides nothing.

Example: "Fix round 1 changed 1 field: account.taxId (none -> DE811907980). It addresses
INVALID_TAX_ID at account.taxId. Why it matters: the customer is matched or created in the
customer master with it."""

from typing import Any

IGNORED = {"eventId", "occurredAt", "schemaVersion"}
# Field prefix -> why a change there matters downstream (first match wins).
WHY = (
    ("contract.value", "the billing schedule and the finance approval are computed from it"),
    ("contract.milestones", "the billing schedule follows the milestones"),
    ("contract.rateCard", "time-and-materials billing and the margin estimate use the rate card"),
    ("contract.monthlyFee", "the retainer's billing lines are computed from it"),
    ("contract.clauses", "legal reviews non-standard clauses before kickoff"),
    ("contract.status", "work cannot start before the contract is signed"),
    ("contract.paymentTermsDays", "long payment terms need finance's approval and raise customer risk"),
    ("contract", "contract terms drive billing and approvals"),
    ("opportunity.amount", "the revenue at risk ranks the handoff's exceptions"),
    ("account.taxId", "the customer is matched or created in the customer master with it"),
    ("account", "the customer master record is matched or created from the account"),
    ("scope.countries", "tax treatment and staffing locations depend on where the work happens"),
    ("scope", "the project's work breakdown follows the scope"),
    ("staffing", "staffing requests are opened from it"),
    ("subcontractors", "purchase requisitions and the procurement approval follow the subcontractors"),
)
LIMIT = 6


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not path and key in IGNORED:
                continue
            out.update(_flatten(item, f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return {path: ", ".join(map(str, value))}
        out = {}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{path}[{i}]"))
        return out
    return {path: value}


def _money_paths(flat: dict[str, Any]) -> dict[str, Any]:
    """Money as one value ("1000.00 EUR"), not two fields."""
    merged = dict(flat)
    for key in [k for k in flat if k.endswith(".value") and k.removesuffix(".value") + ".currency" in flat]:
        base = key.removesuffix(".value")
        merged[base] = f"{flat[key]} {flat[base + '.currency']}"
        merged.pop(key)
        merged.pop(base + ".currency")
    return merged


def _show(value: Any) -> str:
    text = "none" if value is None or value == "" else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field path, before, after) for every field of the deal's detail that differs, sorted."""
    old, new = _money_paths(_flatten(before)), _money_paths(_flatten(after))
    return [(path, old.get(path), new.get(path)) for path in sorted(set(old) | set(new))
            if old.get(path) != new.get(path)]


def _why(path: str) -> str | None:
    return next((reason for prefix, reason in WHY if path == prefix or path.startswith((prefix + ".", prefix + "["))),
                None)


def summarise_round(before: dict[str, Any], after: dict[str, Any], fix_round: int, blocking: list[tuple[str, str | None]]) -> str:
    """Short text: the changed fields, which blocking exceptions (code, field) of the last round
    they touch and which they leave, and why the changes matter downstream."""
    changes = changed_fields(before, after)
    if not changes:
        return (f"Fix round {fix_round} resubmitted the deal unchanged: the fix was made elsewhere (a playbook, "
                "master data), or the same problems will block it again.")
    shown = "; ".join(f"{path} ({_show(old)} -> {_show(new)})" for path, old, new in changes[:LIMIT])
    more = f" and {len(changes) - LIMIT} more" if len(changes) > LIMIT else ""
    parts = [f"Fix round {fix_round} changed {len(changes)} field(s): {shown}{more}."]
    paths = [path for path, _, _ in changes]
    touched = [(code, field) for code, field in blocking
               if field and any(p == field or p.startswith((field + ".", field + "[")) for p in paths)]
    untouched = [(code, field) for code, field in blocking if (code, field) not in touched]
    if touched:
        parts.append("It addresses " + ", ".join(f"{c} at {f}" for c, f in touched) + ".")
    if untouched:
        parts.append("Not changed: " + ", ".join(f"{c} at {f or 'the deal'}" for c, f in untouched)
                     + " (it will block again unless fixed elsewhere).")
    reasons = list(dict.fromkeys(r for r in (_why(p) for p in paths) if r))
    if reasons:
        parts.append("Why it matters: " + "; ".join(reasons[:3]) + ".")
    return " ".join(parts)

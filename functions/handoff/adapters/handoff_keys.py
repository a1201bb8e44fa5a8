"""How a handoff is kept in the handoff table: its id (derived from the opportunity, so the
conditional write dedupes), its partition key and the sort keys of its items."""

import hashlib
import re

RECORD = "RECORD"
DEAL = "DEAL"
PIPELINE = "PIPELINE"  # the newest stage change seen for the opportunity, kept with its handoff
# Complex values are stored as JSON text: amounts stay decimal strings, nothing turns into float.
JSON_FIELDS = ("customer", "project", "billingSchedule", "staffingRequests", "purchaseRequisitions")


_HANDOFF_ID = re.compile(r"ho-[0-9a-f]{16}")


def handoff_id_for(source: str, opportunity_id: str) -> str:
    """One handoff per opportunity: the id is derived from it, so the conditional write dedupes."""
    return "ho-" + hashlib.sha256(f"{source}|{opportunity_id}".encode()).hexdigest()[:16]


def is_handoff_id(text: str) -> bool:
    return _HANDOFF_ID.fullmatch(text) is not None


def pk(handoff_id: str) -> str:
    return f"HANDOFF#{handoff_id}"

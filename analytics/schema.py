"""The facts table's columns (handoff.domain.facts.Fact), for the Glue table (infra/analytics.py) and
DuckDB's reader (analytics/engine.py). A test keeps it equal to the model's fields."""

# Column -> SQL type, in the order of the Glue table (Athena) and of DuckDB's reader. Times are
# epoch seconds (DOUBLE: the same arithmetic in both engines) beside an ISO text for people.
FACT_COLUMNS: dict[str, str] = {
    "fact_id": "string", "schema_version": "int", "seq": "string", "kind": "string", "synthetic": "boolean",
    "handoff_id": "string", "opportunity_id": "string", "occurred_at": "string", "ts": "double", "dt": "string",
    "fix_round": "int", "status": "string", "previous_status": "string", "step": "string",
    "service_line": "string", "region": "string",
    "code": "string", "severity": "string", "field": "string", "owner_group": "string", "priority": "int",
    "approval_id": "string", "approval_kind": "string", "decision": "string",
    "system": "string", "operation": "string", "outcome": "string", "error": "string",
    "duration_seconds": "double",
    "contract_type": "string", "amount": "string", "currency": "string", "lines_total": "string",
    "close_date": "string", "closed_ts": "double", "payment_terms_days": "int", "clauses": "string",
    "subcontractors": "int", "countries": "string", "account_country": "string", "customer_new": "boolean",
    "margin": "double", "margin_floor": "double", "detail": "string",
}

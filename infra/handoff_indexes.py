"""The handoff table's search indexes (GET /handoffs reads them with Query, never Scan). Keys and
projection mirror handoff.adapters.handoff_index; tests/unit/test_search_handoffs.py checks both agree."""

from aws_cdk import aws_dynamodb as dynamodb

SEARCH_KEY = "searchKey"
# index name -> its partition key; every index sorts by searchKey (receivedAt#handoffId).
SEARCH_INDEXES = {
    "byOwner": "ownerKey",
    "byStatus": "status",
    "byServiceLine": "serviceLine",
    "byReceivedYear": "receivedYear",
}
SUMMARY_ATTRIBUTES = (
    "handoffId", "opportunityId", "opportunityName", "customerName", "customerId", "ownerName", "ownerEmail",
    "status", "serviceLine", "region", "amountValue", "amountCurrency", "receivedAt", "updatedAt", "rework",
)


def add_search_indexes(table: dynamodb.Table) -> None:
    # INCLUDE, not ALL: a record carries its step results as JSON; the list needs only the summary.
    for name, partition in SEARCH_INDEXES.items():
        table.add_global_secondary_index(
            index_name=name,
            partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SEARCH_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=[a for a in SUMMARY_ATTRIBUTES if a != partition],
        )

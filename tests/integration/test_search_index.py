"""The search over moto's DynamoDB through the real adapter and the store: what a correction
renews in the indexes, and what it does not move."""

from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws

from handoff.adapters.handoff_index import DynamoHandoffIndex
from handoff.adapters.handoff_store import HandoffStore
from handoff.contracts import HandoffStatus, parse_event
from handoff.logic.search_handoffs import parse_search_parameters, search_handoffs
from tests.support.aws import create_handoff_table
from tests.support.events import closed_won

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@mock_aws
def test_a_correction_renews_what_the_search_shows_and_finds() -> None:
    create_handoff_table("handoffs", "eu-west-1")
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table("handoffs")
    store, index = HandoffStore(table), DynamoHandoffIndex(table)
    event = closed_won("us-fixed-fee-advisory", "opp-renamed")
    registration = store.register(parse_event(event), event, NOW - timedelta(days=1))
    store.set_status(registration.handoff_id, HandoffStatus.BLOCKED)
    corrected = closed_won("us-fixed-fee-advisory", "opp-renamed", "opp-renamed-2")
    corrected["detail"]["opportunity"]["name"] = "Renamed deal"
    corrected["detail"]["opportunity"]["owner"] = {"name": "Dee Park", "email": "dee.park@example-consulting.com"}
    corrected["detail"]["opportunity"]["amount"]["value"] = "90000.00"
    assert store.register(parse_event(corrected), corrected, NOW).action == "resume"

    [found] = search_handoffs(parse_search_parameters({"owner": "DEE.PARK@example-consulting.com"}), index, NOW).items
    assert (found.opportunity_name, str(found.amount), found.status, found.rework) == (
        "Renamed deal", "90000.00 USD", HandoffStatus.VALIDATING, 1)
    assert found.received_at == NOW - timedelta(days=1)  # still where it was received
    assert search_handoffs(parse_search_parameters({"owner": "marcus.reed@example-consulting.com"}), index,
                           NOW).items == []
    assert search_handoffs(parse_search_parameters({"status": "BLOCKED"}), index, NOW).items == []

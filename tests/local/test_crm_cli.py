"""python -m local ingest: unreadable input is refused naming the file and field (exit 2); a run
prints the handoff records as `python -m local run --json` does."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.contracts.record import HandoffRecord
from local.ingest import read_hubspot, read_records, read_salesforce, run
from tests.support.fixtures import CRM_FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def ingest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "local", "ingest", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_unreadable_files_exit_2_naming_the_file_and_field(tmp_path: Path) -> None:
    records = str(CRM_FIXTURES / "salesforce" / "records.json")
    missing = ingest("salesforce", str(tmp_path / "nowhere.json"), "--crm-records", records)
    assert missing.returncode == 2 and "nowhere.json: cannot read events" in missing.stderr
    thin = tmp_path / "no-payload.json"
    thin.write_text(json.dumps({"source": "aws.partner/salesforce.com/x/y", "detail-type": "OpportunityChangeEvent",
                                "detail": {}}))
    refused = ingest("salesforce", str(thin), "--crm-records", records)
    assert refused.returncode == 2 and refused.stderr.strip() == f"error: {thin}: detail.payload: missing or not an object"
    assert len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("content", "message"), [
    ([{"eventId": 1, "subscriptionId": 2, "portalId": 3, "occurredAt": 4, "subscriptionType": "deal.creation"}],
     "[0]: objectId: missing or not an integer"),
    ({"eventId": 1}, "(body): a HubSpot webhook body is a JSON array of events"),
])
def test_a_webhook_body_that_is_not_hubspots_names_the_field(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(content))
    with pytest.raises(Exception, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        read_hubspot(path)


def test_records_must_be_keyed_by_object_type(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"Id": "006"}]))
    with pytest.raises(Exception, match="--crm-records: must be an object"):
        read_records(path)


def test_ingest_prints_the_handoff_records_as_run_does(tmp_path: Path) -> None:
    out = io.StringIO()
    events = read_salesforce(CRM_FIXTURES / "salesforce" / "cdc-closed-lost.json") + read_salesforce(
        CRM_FIXTURES / "salesforce" / "cdc-two-records-won.json")
    records = read_records(CRM_FIXTURES / "salesforce" / "records.json")
    assert run("salesforce", events, records, "none", True, out, workdir=tmp_path / "run") == 0
    handoffs = [HandoffRecord.model_validate(r) for r in json.loads(out.getvalue())]
    by_opportunity = {h.opportunity_id: h for h in handoffs}
    assert sorted(by_opportunity) == ["006Qy00000AbCd1AAK", "006Qy00000LuMn2AAC"]
    assert by_opportunity["006Qy00000AbCd1AAK"].status == "AWAITING_APPROVAL"  # --decide none
    assert by_opportunity["006Qy00000LuMn2AAC"].status == "BLOCKED"

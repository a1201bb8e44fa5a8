"""Data protection: quarantined events are capped and expire, and the launch packet's Markdown cannot be
injected from the deal."""

import json

import boto3
from moto import mock_aws

from handoff.adapters.documents import MAX_QUARANTINED_EVENT_BYTES, Documents
from handoff.domain.launch_packet import md, render_markdown
from infra import security
from tests.integration.test_handoff_api import T0


def test_oversized_rejected_event_is_quarantined_truncated_with_its_field_errors() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="docs")
        problems = [{"field": "detail.scope.summary", "message": "too long"}]
        key = Documents(s3, "docs").quarantine({"detail": {"scope": "y" * 2_000_000}}, problems, T0, "evt-1")
        obj = s3.get_object(Bucket="docs", Key=key)["Body"].read()
    kept = json.loads(obj)
    assert kept["problems"] == problems and kept["truncated"] is True and kept["eventBytes"] > 2_000_000
    assert len(obj) < MAX_QUARANTINED_EVENT_BYTES + 4096


def test_quarantine_and_old_versions_expire(template: dict) -> None:
    bucket = next(r for k, r in template["Resources"].items()
                  if r["Type"] == "AWS::S3::Bucket" and k.startswith("Documents"))
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["QuarantineExpiry"]["Prefix"] == "quarantine/"
    assert rules["QuarantineExpiry"]["ExpirationInDays"] == security.QUARANTINE_DAYS
    assert rules["NoncurrentVersions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == \
        security.NONCURRENT_VERSION_DAYS


def _packet(name: str, scope: str, vendor: str, comment: str) -> dict:
    return {
        "handoffId": "ho-1", "opportunity": {"id": "006", "name": name}, "customer": {"legalName": name},
        "agreed": {"contractId": "C-1", "type": "fixed_fee", "value": {"value": "1.00", "currency": "EUR"},
                   "term": {"start": "2027-01-01", "end": "2027-02-01"}, "paymentTermsDays": 30, "scope": scope},
        "created": {"project": None, "billingSchedule": None, "staffingRequests": [],
                    "purchaseRequisitions": [{"vendor": vendor, "amount": "1", "currency": "EUR", "costCenter": "x"}]},
        "approvals": [{"kind": "legal", "decision": "APPROVED", "approver": "a@b.c", "comment": comment}],
        "unresolved": [],
    }


def test_markdown_injection_from_the_deal_is_escaped_in_the_launch_packet() -> None:
    text = render_markdown(_packet(
        name="Acme [verify here](https://evil.example) <img src=x onerror=alert(1)>",
        scope="ok\n# Approved by the CFO\n| forged | row |",
        vendor="![pixel](https://evil.example/p.png)",
        comment="`code` **bold**",
    ))
    assert "](" not in text and text.count("<img") == text.count("\\<img") == 2
    assert "\n# Approved" not in text and "\n| forged" not in text
    assert "\\[verify here\\]\\(https://evil.example\\)" in text and "\\!\\[pixel\\]" in text
    assert md("a\nb") == "a b"

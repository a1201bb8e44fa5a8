"""Unit tests are pure: whatever touches AWS (moto, boto3, botocore) lives in tests/integration."""

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parent


def test_no_unit_test_touches_aws() -> None:
    aws = re.compile(r"^\s*(from|import)\s+(moto|boto3|botocore)\b", re.M)
    offenders = [p.name for p in sorted(UNIT.glob("*.py")) if aws.search(p.read_text())]
    assert offenders == []

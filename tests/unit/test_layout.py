"""Unit tests are pure: whatever touches AWS (moto, boto3, botocore) lives in tests/integration."""

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parent


def test_no_unit_test_touches_aws() -> None:
    aws = re.compile(r"^\s*(from|import)\s+(moto|boto3|botocore)\b", re.M)
    offenders = [p.name for p in sorted(UNIT.glob("*.py")) if aws.search(p.read_text())]
    assert offenders == []


def test_the_domain_reads_no_files_and_calls_no_aws() -> None:
    """Domain logic is pure: files and AWS are the adapters' (playbooks: adapters.playbook_files)."""
    domain = UNIT.parents[1] / "functions" / "handoff" / "domain"
    io = re.compile(r"^\s*(from|import)\s+(os|pathlib|boto3|botocore|aws_lambda_powertools)\b|\bopen\(|\.read_text\(|"
                    r"^\s*from\s+handoff\.(adapters|handlers|logic)\b", re.M)
    offenders = [p.relative_to(domain).as_posix() for p in sorted(domain.rglob("*.py")) if io.search(p.read_text())]
    assert offenders == []

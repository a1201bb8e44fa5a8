"""The approvals domain is a package of one concept per module, and stays pure: no files, no AWS."""

import re
from pathlib import Path

import handoff.domain.approvals as approvals

PACKAGE = Path(approvals.__file__).resolve().parent
CONCEPTS = {"vocabulary", "directory", "margin", "routing", "summary", "record", "links", "verification"}


def test_one_module_per_concept_none_over_350_lines() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == CONCEPTS
    too_long = {p.name: n for p in PACKAGE.glob("*.py") if (n := len(p.read_text().splitlines())) > 350}
    assert too_long == {}


def test_the_domain_reads_no_files_and_calls_no_aws() -> None:
    io = re.compile(r"\b(read_text|read_bytes|open\(|import yaml|pathlib|boto3|botocore|os\.environ)\b")
    offenders = {p.name: io.findall(p.read_text()) for p in PACKAGE.glob("*.py") if io.search(p.read_text())}
    assert offenders == {}


def test_the_package_re_exports_its_public_names() -> None:
    assert set(approvals.__all__) >= {"ApproverDirectory", "Approval", "required_approvals", "approval_link",
                                      "check_link", "new_approval", "deal_summary", "estimate_margin", "LinkCheck"}
    assert all(getattr(approvals, name) is not None for name in approvals.__all__)

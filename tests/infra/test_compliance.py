"""cdk-nag AwsSolutions, cfn-lint and asl-validator on what `cdk synth` produces."""

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cdk_nag_has_no_unacknowledged_findings(synthesized: dict) -> None:
    # Validation failures make synth raise; the run got here, so check that acknowledgements carry reasons.
    from aws_cdk import Validations  # noqa: F401 - the plugin API used in app.py

    source = (ROOT / "infra" / "nag.py").read_text()
    assert source.count("_ack(") >= 10
    assert "reason" in source
    errors = [m for m in synthesized["messages"] if str(m.level).endswith("ERROR")]
    assert errors == []


def test_cfn_lint_passes(synthesized: dict, tmp_path: Path) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(synthesized["template"]))
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "cfn-lint"), "--regions", "us-east-1",
                             # CDK's own output: redundant DependsOn, and the access-log bucket's ACL.
                             "--ignore-checks", "W3005", "W3045", "--", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_accepts_the_definition() -> None:
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    assert validator.exists(), "npm ci installs asl-validator from package.json"
    result = subprocess.run([str(validator), "--json-path", str(ROOT / "statemachines" / "handoff.asl.json")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert shutil.which("node")

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


def test_asl_validator_accepts_the_deployed_definition(tmp_path: Path) -> None:
    from infra.retry_policies import expanded_text

    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    assert validator.exists(), "npm ci installs asl-validator from package.json"
    deployed = tmp_path / "handoff.asl.json"
    deployed.write_text(expanded_text((ROOT / "statemachines" / "handoff.asl.json").read_text()))
    result = subprocess.run([str(validator), "--json-path", str(deployed)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert shutil.which("node")


def test_bedrock_through_an_inference_profile_is_granted_exactly_and_passes_cdk_nag() -> None:
    """A deployment that turns the Bedrock analyser on with a cross-region inference profile: the
    readiness function may invoke that profile and its one model, and cdk-nag still passes (a
    validation failure makes synth raise)."""
    from app import build_app
    from local.template import LOCAL_CONTEXT, cdk_context

    profile = "eu.anthropic.claude-sonnet-4-20250514-v1:0"
    context = {**cdk_context(), "contractAnalyser": "bedrock", "bedrockModelId": profile,
               "aws:cdk:bundling-stacks": LOCAL_CONTEXT["aws:cdk:bundling-stacks"]}
    app, stack = build_app(context, nag=True)
    artifact = app.synth().get_stack_by_name(stack.stack_name)
    assert [m for m in artifact.messages if str(m.level).endswith("ERROR")] == []
    statements = [s for r in artifact.template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "bedrock:InvokeModel"]
    assert len(statements) == 1
    resources = json.dumps(statements[0]["Resource"])
    assert f"inference-profile/{profile}" in resources
    assert ":bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0" in resources


def test_a_foundation_model_is_granted_in_its_region_only() -> None:
    from infra.stack import bedrock_model_arns

    assert bedrock_model_arns("aws", "eu-central-1", "111122223333", "amazon.nova-pro-v1:0") == [
        "arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-pro-v1:0"]
    assert bedrock_model_arns("aws", "us-east-1", "111122223333", "global.anthropic.claude-x") == [
        "arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.anthropic.claude-x",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-x"]

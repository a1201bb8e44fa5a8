#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy` run this. Tests and the local runtime call build_app()."""

import sys
from pathlib import Path
from typing import Any

# The stack validates deploy-time configuration with the functions' own models (handoff.*).
sys.path.insert(0, str(Path(__file__).resolve().parent / "functions"))

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.nag import acknowledge_findings
from infra.stack import HandoffStack


def build_app(context: dict[str, Any] | None = None, *, nag: bool = True) -> tuple[cdk.App, HandoffStack]:
    app = cdk.App(context=context) if context is not None else cdk.App()
    stack = HandoffStack(app, app.node.try_get_context("stackName") or "ClosedWonHandoff")
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
        acknowledge_findings(stack)
    return app, stack


if __name__ == "__main__":
    built, _ = build_app()
    built.synth()

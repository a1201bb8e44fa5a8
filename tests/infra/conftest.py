"""Synthesize once per session, with cdk.json's context and cdk-nag on (as `cdk synth` does)."""

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synthesized() -> dict:
    from app import build_app
    from local.template import LOCAL_CONTEXT, cdk_context

    # Bundling (pip for the Lambda platform) is skipped here; everything else is what `cdk synth` builds.
    app, stack = build_app({**cdk_context(), "aws:cdk:bundling-stacks": LOCAL_CONTEXT["aws:cdk:bundling-stacks"]},
                           nag=True)
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return {"template": artifact.template, "messages": artifact.messages, "stack": stack,
            "template_path": artifact.template_full_path}


@pytest.fixture(scope="session")
def template(synthesized: dict) -> dict:
    return synthesized["template"]

"""The stack's own CloudFormation template, synthesized in-process (no CDK CLI, no Docker) and
cached by a hash of everything that shapes it."""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".local" / "cache"
SHAPING = ("app.py", "cdk.json", "infra", "statemachines", "analytics")  # analytics: the named queries

# The asset path in each function's metadata points at the real source folder: code edits need
# no new synth, and bundling (pip for the Lambda platform) is skipped.
LOCAL_CONTEXT = {
    "aws:cdk:bundling-stacks": [],
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:disable-asset-staging": True,
}


def cdk_context() -> dict[str, Any]:
    """`python app.py` does not read cdk.json: load its context ourselves."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in SHAPING:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def synthesize(*, nag: bool = False) -> dict[str, Any]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import sys

    sys.path.insert(0, str(ROOT))
    from app import build_app

    app, stack = build_app({**cdk_context(), **LOCAL_CONTEXT}, nag=nag)
    return app.synth().get_stack_by_name(stack.stack_name).template


def load_template() -> dict[str, Any]:
    cached = CACHE / f"template-{_fingerprint()}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    template = synthesize()
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(template))
    return template

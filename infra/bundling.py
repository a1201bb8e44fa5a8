"""Lambda packaging without Docker: pip installs the locked runtime dependencies (exact versions
and hashes, functions/requirements.lock) for the Lambda platform into the asset, next to the
handoff package."""

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import ILocalBundling

from infra.lambda_runtime import pip_target_options

LOCK_FILE = "requirements.lock"
# Deploy-time configuration (approvers, playbooks) is read from SSM Parameter Store; the repo's
# YAML files are the parameters' defaults and stay out of the bundle.
NOT_BUNDLED = ("__pycache__", "*.pyc", "playbooks", "config")


def pip_install_command(source: Path, output_dir: str) -> list[str]:
    # --require-hashes: a wheel whose hash is not the locked one fails the synth; --no-deps: the lock
    # is the whole transitive set, nothing is resolved at bundling time.
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check",
        "--require-hashes", "--no-deps", "--requirement", str(source / LOCK_FILE),
        "--target", output_dir, *pip_target_options(),
    ]


@jsii.implements(ILocalBundling)
class PipBundling:
    def __init__(self, source: Path):
        self._source = source

    def try_bundle(self, output_dir: str, *, image, **_options) -> bool:
        subprocess.run(pip_install_command(self._source, output_dir), check=True)
        shutil.copytree(self._source / "handoff", Path(output_dir) / "handoff",
                        ignore=shutil.ignore_patterns(*NOT_BUNDLED), dirs_exist_ok=True)
        return True

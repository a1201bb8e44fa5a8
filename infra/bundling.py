"""Lambda packaging without Docker: pip installs the pinned runtime dependencies for the Lambda
platform into the asset, next to the handoff package."""

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import ILocalBundling


@jsii.implements(ILocalBundling)
class PipBundling:
    def __init__(self, source: Path, python_version: str, platform: str):
        self._source = source
        self._python_version = python_version
        self._platform = platform

    def try_bundle(self, output_dir: str, *, image, **_options) -> bool:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
                "--requirement", str(self._source / "requirements.txt"),
                "--target", output_dir,
                "--platform", self._platform, "--implementation", "cp",
                "--python-version", self._python_version, "--only-binary=:all:",
            ],
            check=True,
        )
        shutil.copytree(self._source / "handoff", Path(output_dir) / "handoff",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        return True

"""The Lambda runtime and architecture, stated once: the functions, the bundling (pip's platform
tags) and the dependency lock (infra/lock.py) all read them from here."""

from aws_cdk import aws_lambda as lambda_

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = RUNTIME.name.removeprefix("python")  # "3.14"
# Wheels pip may pick for Lambda's Amazon Linux 2023 (glibc 2.34) on Graviton: the newer
# manylinux_2_28 tag first (some projects publish only that one now), then manylinux2014.
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}[ARCHITECTURE.name]
PLATFORM_TAGS = (f"manylinux_2_28_{_MACHINE}", f"manylinux2014_{_MACHINE}")


def pip_target_options() -> list[str]:
    """pip options that select wheels for the Lambda platform instead of this machine's."""
    platforms = [option for tag in PLATFORM_TAGS for option in ("--platform", tag)]
    return [*platforms, "--implementation", "cp", "--python-version", PYTHON_VERSION, "--only-binary=:all:"]

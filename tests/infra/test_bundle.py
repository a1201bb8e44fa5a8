"""The Lambda bundle: the locked transitive set, installed with hashes for the runtime's platform."""

from pathlib import Path

from infra import lambda_runtime
from infra.bundling import LOCK_FILE, pip_install_command
from infra.lock import LOCK, REQUIREMENTS, canonical, locked_hashes, pins
from tests.infra.test_stack import resources


def test_the_lock_pins_every_requirement_at_its_version_with_a_hash() -> None:
    wanted, locked = pins(REQUIREMENTS.read_text()), pins(LOCK.read_text())
    stale = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
    assert not stale, f"functions/requirements.lock is stale (wanted, locked): {stale}; run `make lock`"
    hashes = locked_hashes(LOCK.read_text())
    # The transitive set, not only the direct pins: pydantic's core, boto3's botocore and s3transfer ...
    assert {"pydantic-core", "botocore", "s3transfer", "annotated-types", "jmespath"} <= set(hashes)
    assert all(hashes.values()), [name for name, h in hashes.items() if not h]
    assert canonical("PyYAML") in hashes and canonical("aws_lambda_powertools") in hashes


def test_bundling_installs_the_lock_with_hashes_for_the_lambda_platform() -> None:
    command = pip_install_command(Path("functions"), "/asset-output")
    assert "--require-hashes" in command and "--no-deps" in command
    assert command[command.index("--requirement") + 1] == f"functions/{LOCK_FILE}"
    platforms = [command[i + 1] for i, option in enumerate(command) if option == "--platform"]
    assert platforms == ["manylinux_2_28_aarch64", "manylinux2014_aarch64"]
    assert command[command.index("--python-version") + 1] == "3.14"
    assert "--only-binary=:all:" in command


def test_every_function_runs_the_one_stated_runtime_and_architecture(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function").values()
    assert {f["Properties"]["Runtime"] for f in functions} == {lambda_runtime.RUNTIME.name} == {"python3.14"}
    assert {tuple(f["Properties"]["Architectures"]) for f in functions} == {("arm64",)}
    assert lambda_runtime.PLATFORM_TAGS[0].endswith("aarch64")


def test_the_bundle_holds_the_code_but_not_the_configuration_files(tmp_path: Path, monkeypatch) -> None:
    import subprocess

    from infra.bundling import PipBundling

    commands: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: commands.append(command))
    functions = Path(__file__).resolve().parents[2] / "functions"
    assert PipBundling(functions).try_bundle(str(tmp_path), image=None)
    assert commands == [pip_install_command(functions, str(tmp_path))]
    assert (tmp_path / "handoff" / "handlers" / "check_readiness.py").is_file()
    assert (tmp_path / "handoff" / "config.py").is_file()
    # Approvers and playbooks come from SSM Parameter Store at run time.
    assert not (tmp_path / "handoff" / "playbooks").exists()
    assert not (tmp_path / "handoff" / "config").exists()

"""`make test` alone sets up a fresh Debian machine: .ci/system-packages installs Debian's chromium
(the browser tests drive it) when it is missing, before anything else runs."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "system-packages"


def machine(tmp_path: Path, *, uid: int) -> tuple[dict[str, str], Path]:
    """A PATH with bash and coreutils' dirname, no chromium, and apt-get and id stubs that log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    for tool in ("bash", "dirname", "env"):
        (bin_dir / tool).symlink_to(subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True,
                                                   text=True, check=True).stdout.strip())
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n")
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    for stub in ("apt-get", "id"):
        (bin_dir / stub).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CHROMIUM_PATH"} | {"PATH": str(bin_dir)}
    return env, log


def test_a_machine_without_chromium_gets_debians_package(tmp_path: Path) -> None:
    env, log = machine(tmp_path, uid=0)
    result = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]


def test_nothing_is_installed_when_chromium_is_there_or_configured(tmp_path: Path) -> None:
    env, log = machine(tmp_path, uid=0)
    chromium = tmp_path / "bin" / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    assert subprocess.run([str(SCRIPT)], env=env, capture_output=True).returncode == 0
    chromium.unlink()
    assert subprocess.run([str(SCRIPT)], env=env | {"CHROMIUM_PATH": "/opt/chromium"}, capture_output=True
                          ).returncode == 0
    assert not log.exists()


def test_without_root_or_sudo_it_names_the_package_to_install(tmp_path: Path) -> None:
    env, log = machine(tmp_path, uid=1000)
    result = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "sudo apt-get install -y chromium" in result.stderr
    assert not log.exists()


def test_make_test_installs_system_packages_before_the_suite_and_ci_uses_make_test() -> None:
    plan = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert ".ci/system-packages" in plan
    assert plan.index(".ci/system-packages") < plan.index("pytest")
    assert "make test" in (ROOT / ".ci" / "run").read_text()

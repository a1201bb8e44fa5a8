"""`python -m local console`: runs the events, prints the console's URL as the first line, serves
the console there, and exits 0 on SIGTERM."""

import os
import signal
import subprocess
import sys
import urllib.request

from local.template import ROOT


def test_the_console_command_prints_its_url_first_serves_and_stops_cleanly() -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}"}
    process = subprocess.Popen([sys.executable, "-m", "local", "console",
                                str(ROOT / "tests/fixtures/needs-fix/missing-tax-id.json"), "--port", "0",
                                "--decide", "none"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/") and not url.endswith(":0/"), url
        with urllib.request.urlopen(url + "queue", timeout=30) as response:
            page = response.read().decode()
        assert response.status == 200 and "INVALID_TAX_ID" in page and "Work queue" in page
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_a_facts_folder_that_is_not_there_is_exit_2_naming_it(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}"}
    missing = tmp_path / "no-such-history"
    done = subprocess.run([sys.executable, "-m", "local", "console", str(ROOT / "tests/fixtures/needs-fix/missing-tax-id.json"),
                           "--port", "0", "--facts", str(missing)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == f"error: {missing}: cannot read: no such directory"

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

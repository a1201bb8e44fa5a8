"""`python -m local console`: run events on the embedded runtime, then serve the operations console
at http://127.0.0.1:N/ (the Console function through API Gateway proxy events, routes read from the
template) until interrupted. Locally a fixed operator, member of every group, is signed in.

The metrics page reads DuckDB over fact files (METRICS_FACTS_DIR): the runtime's own facts,
taken from the handoff table's stream afresh for each view of the page (as the report does), or
the facts of a folder given with --facts (e.g. a synthetic history)."""

import shutil
import signal
import threading
from pathlib import Path
from typing import Any, TextIO

from local.http_api import LocalApi

DEFAULT_PORT = 8765


class LocalConsole:
    """The console API of a started EmbeddedRuntime, served at the root of its own port."""

    def __init__(self, runtime: Any, port: int = 0, facts_dir: Path | None = None):
        matches = [api for logical, api in runtime.resources.apis.items() if logical.startswith("ConsoleApi")]
        if len(matches) != 1:
            raise LookupError(f"expected one ConsoleApi in the template, found {len(matches)}")
        _stage, routes = matches[0]
        self.runtime, self.fixed_facts = runtime, facts_dir
        self.facts_dir = facts_dir or runtime.workdir / "console-facts"
        self._facts_lock = threading.Lock()
        self.api = LocalApi(routes, "", self._invoke, port=port)  # the stage is the root here
        self.url = f"{self.api.base_url}/"
        # The fixed local operator; links in emails (the digest) point here.
        runtime.lambdas.extra.update({"CONSOLE_AUTH": "local", "CONSOLE_URL": self.api.base_url,
                                      "METRICS_FACTS_DIR": str(self.facts_dir)})

    def _invoke(self, function_name: str, event: Any) -> Any:
        if self.fixed_facts is None and isinstance(event, dict) and str(event.get("path", "")).startswith("/metrics"):
            self.refresh_facts()
        return self.runtime._invoke(function_name, event)

    def refresh_facts(self) -> None:
        """The runtime's facts so far, written afresh (a folder per snapshot: no stale copies)."""
        from local.report import collect_facts, write_facts

        with self._facts_lock:
            facts = collect_facts(self.runtime)
            staging = self.facts_dir.with_name(self.facts_dir.name + ".new")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            write_facts(facts, staging)
            shutil.rmtree(self.facts_dir, ignore_errors=True)
            staging.rename(self.facts_dir)

    def start(self) -> "LocalConsole":
        self.api.start()
        return self

    def stop(self) -> None:
        self.api.stop()


def serve(events: list[dict], decide: str, port: int, out: TextIO, facts_dir: Path | None = None) -> int:
    """Run the events, print the console's URL as the first line, serve until SIGINT or SIGTERM."""
    from local.runtime import EmbeddedRuntime

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with EmbeddedRuntime() as runtime:
        console = LocalConsole(runtime, port, facts_dir).start()
        try:
            runtime.publish(events)
            runtime.wait_settled()
            if decide != "none":
                runtime.decide_all(decide)
            out.write(console.url + "\n")
            # For the recovery commands: python -m local redrive|replay --api <this>.
            out.write(f"operators' API: {runtime.api.base_url}/{runtime.resources.stage_name}\n")
            out.flush()
            records = runtime.records()
            out.write(f"{len(records)} handoff(s) from {len(events)} event(s); "
                      f"{len(runtime.work_items().open_items())} open work item(s). Ctrl-C stops.\n")
            out.flush()
            stop.wait()
        finally:
            console.stop()
    return 0

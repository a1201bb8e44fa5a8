"""The handlers' log file keeps every line whole when many invocation threads log at once."""

import json
import threading
from pathlib import Path

from local.handler_log import HandlerLog


def test_lines_written_from_many_threads_at_once_are_all_there_and_whole(tmp_path: Path) -> None:
    path = tmp_path / "lambda.log"
    path.write_text('{"before": true}\n')
    log = HandlerLog(path)

    def invocation(n: int) -> None:
        for i in range(4000):
            log.write(json.dumps({"thread": n, "line": i, "pad": "x" * 300}) + "\n")

    threads = [threading.Thread(target=invocation, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.flush()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"before": True}  # appended, not overwritten
    assert log.encoding == "utf-8" and log.writable() and not log.isatty()
    assert sorted((r["thread"], r["line"]) for r in lines[1:]) == [(n, i) for n in range(8) for i in range(4000)]
    log.close()


def test_a_log_past_its_size_is_moved_aside_when_a_run_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "lambda.log"
    path.write_text("old run\n" * 100)
    HandlerLog(path, rotate_at=10_000).close()  # under the limit: appended to
    assert path.read_text().count("old run") == 100
    log = HandlerLog(path, rotate_at=500)
    log.write("new run\n")
    log.close()
    assert path.read_text() == "new run\n"
    assert (tmp_path / "lambda.log.1").read_text().count("old run") == 100

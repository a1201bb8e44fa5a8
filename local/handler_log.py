"""The handlers' log file (`.local/lambda.log`). Every function's Powertools Logger writes to
stdout from the invocation's own thread, and a TextIOWrapper is not thread-safe: under a burst,
concurrent writes dropped lines and once put raw buffer memory into the file. Writes go through
one lock here, each whole. The file is appended to by every run; past `ROTATE_AT` bytes it is
moved aside to `lambda.log.1` (the one before is dropped) when a run opens it."""

import io
import threading
from pathlib import Path

ROTATE_AT = 64 * 1024 * 1024


class HandlerLog(io.TextIOBase):
    def __init__(self, path: Path, rotate_at: int = ROTATE_AT) -> None:
        if path.exists() and path.stat().st_size > rotate_at:
            path.replace(path.with_name(path.name + ".1"))
        self._file = open(path, "a", encoding="utf-8")  # kept open for the process's life
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return self._file.write(text)

    def flush(self) -> None:
        with self._lock:
            self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()

    def writable(self) -> bool:
        return True

    # What code that reads sys.stdout's details finds (TextIOBase would answer None or nothing).
    @property
    def encoding(self) -> str:
        return self._file.encoding

    @property
    def errors(self) -> str | None:
        return self._file.errors

    @property
    def buffer(self) -> io.BufferedIOBase:
        return self._file.buffer

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes through flush() above
            with self._lock:
                self._file.close()

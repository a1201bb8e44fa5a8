"""The handlers' log file (`.local/lambda.log`). Every function's Powertools Logger writes to
stdout from the invocation's own thread, and a TextIOWrapper is not thread-safe: under a burst,
concurrent writes dropped lines and once put raw buffer memory into the file. Writes go through
one lock here, each whole."""

import io
import threading
from pathlib import Path


class HandlerLog(io.TextIOBase):
    def __init__(self, path: Path) -> None:
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

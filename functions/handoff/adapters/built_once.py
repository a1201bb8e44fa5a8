"""A client or provider built at first use and kept for the process (clients are built once per
process, never per invocation); `forget` drops it so the next use builds afresh (tests, and the
embedded runtime when it starts again)."""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class BuiltOnce(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._value = None


K = TypeVar("K")


class BuiltOncePer(Generic[K, T]):
    """One object per key, each built at its first use and kept for the process: for what depends on
    configuration a process may see more than one of (tests, the local runtime's several functions)."""

    def __init__(self, build: Callable[[K], T]) -> None:
        self._build = build
        self._values: dict[K, T] = {}
        self._lock = threading.Lock()

    def __call__(self, key: K) -> T:
        with self._lock:
            if key not in self._values:
                self._values[key] = self._build(key)
            return self._values[key]

    def forget(self) -> None:
        with self._lock:
            self._values.clear()

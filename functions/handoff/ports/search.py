"""What the search of handoffs needs from storage: handoffs read from one index partition, in the
order of their search key (receivedAt, then handoffId)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from handoff.contracts.search import HandoffListing

# The partitions a search can read: every handoff of one owner (by email), one status, one service
# line, or one year of reception.
IndexPath = Literal["owner", "status", "serviceLine", "year"]


@dataclass(frozen=True)
class IndexedHandoff:
    search_key: str  # receivedAt#handoffId: unique, ordered by reception
    handoff: HandoffListing


class HandoffIndex(Protocol):
    def handoffs(self, path: IndexPath, value: str, *, forward: bool, lower: str | None, upper: str | None,
                 batch: int) -> Iterator[IndexedHandoff]:
        """The partition's handoffs with lower <= search_key <= upper (bounds inclusive, None for
        open), ascending when forward else descending; read `batch` at a time."""
        ...

    def received_years(self) -> list[str]:
        """Every year ("2026") in which a handoff was received."""
        ...

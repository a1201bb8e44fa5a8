"""DuckDB over fact files: facts_raw reads every JSON-lines file under a folder (Hive-style
dt=YYYY-MM-DD partitions, as Firehose writes them to S3) with the Glue table's columns, then the
views and queries of analytics/sql run unchanged."""

import tempfile
from pathlib import Path
from typing import Any

import duckdb

from analytics.schema import FACT_COLUMNS
from analytics.sql import queries, views

_DUCK_TYPES = {"string": "VARCHAR", "int": "INTEGER", "double": "DOUBLE", "boolean": "BOOLEAN"}


class FactsUnreadable(Exception):
    pass


def fact_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.jsonl") if p.is_file())


class FactsDb:
    def __init__(self, folder: Path):
        self.connection = duckdb.connect(":memory:")
        columns = ", ".join(f"{name} {_DUCK_TYPES[kind]}" for name, kind in FACT_COLUMNS.items())
        self.connection.execute(f"CREATE TABLE facts_raw ({columns})")
        files = fact_files(folder)
        if files:
            try:
                self._insert_all(files)
            except duckdb.Error:
                self.connection.execute("DELETE FROM facts_raw")
                for path in files:  # again one by one, to name the file that is not facts
                    self._load(path)
        for _name, statement in views():
            self.connection.execute(statement)

    def _insert_all(self, paths: list[Path]) -> None:
        """Every file in one read: DuckDB's cost is per file read (a history has a file per day and
        batch, hundreds), so the files are joined into one temporary file first."""
        with tempfile.TemporaryDirectory(prefix="facts-") as folder:
            joined = Path(folder) / "facts.jsonl"
            with joined.open("wb") as out:
                for path in paths:
                    data = path.read_bytes()
                    out.write(data if data.endswith(b"\n") or not data else data + b"\n")
            self._insert([joined])

    def _insert(self, paths: list[Path]) -> None:
        spec = "{" + ", ".join(f"'{n}': '{_DUCK_TYPES[k]}'" for n, k in FACT_COLUMNS.items()) + "}"
        names = ", ".join(FACT_COLUMNS)
        self.connection.execute(
            f"INSERT INTO facts_raw SELECT {names} FROM read_json(?, format = 'newline_delimited', "
            f"columns = {spec}, hive_partitioning = false)", [[str(p) for p in paths]])

    def _load(self, path: Path) -> None:
        try:
            self._insert([path])
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise FactsUnreadable(f"{path}: not a facts file: {first}") from None

    def query(self, name: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(queries()[name])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "FactsDb":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

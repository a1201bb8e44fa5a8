"""DuckDB over fact files: facts_raw reads every JSON-lines file under a folder (Hive-style
dt=YYYY-MM-DD partitions, as Firehose writes them to S3) with the Glue table's columns, then the
views and queries of analytics/sql run unchanged."""

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
        for path in fact_files(folder):
            self._load(path)
        for _name, statement in views():
            self.connection.execute(statement)

    def _load(self, path: Path) -> None:
        spec = "{" + ", ".join(f"'{n}': '{_DUCK_TYPES[k]}'" for n, k in FACT_COLUMNS.items()) + "}"
        names = ", ".join(FACT_COLUMNS)
        try:
            self.connection.execute(
                f"INSERT INTO facts_raw SELECT {names} FROM read_json(?, format = 'newline_delimited', "
                f"columns = {spec}, hive_partitioning = false)", [str(path)])
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise FactsUnreadable(f"{path}: not a facts file: {first}") from None

    def query(self, name: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(queries()[name])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()

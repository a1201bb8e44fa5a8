"""The one source of the metric SQL: views (created in order) and queries, read from this folder.
Both the DuckDB engine and the Athena named queries (infra/analytics.py) take them from here."""

from pathlib import Path

HERE = Path(__file__).parent


def views() -> list[tuple[str, str]]:
    """(name, CREATE OR REPLACE VIEW statement), in dependency order (file names are numbered)."""
    return [(path.stem.split("_", 1)[1], path.read_text()) for path in sorted((HERE / "views").glob("*.sql"))]


def queries() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted((HERE / "queries").glob("*.sql"))}


def named_queries() -> list[tuple[str, str]]:
    """The Athena workgroup's named queries: "view <name>" for each view, then each query by name
    (the console's Athena adapter finds them by these names)."""
    return [(f"view {name}", text) for name, text in views()] + list(queries().items())

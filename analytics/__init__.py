"""Process analytics: the metric SQL (views/, queries/), run on DuckDB locally and on Athena in
AWS (the same text; tests/unit/test_analytics_sql.py parses every file as Trino SQL)."""

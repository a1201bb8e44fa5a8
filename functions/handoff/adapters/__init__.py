"""Adapters at the edge: AWS services and systems of record."""

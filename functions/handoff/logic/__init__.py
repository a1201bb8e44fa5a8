"""Use cases that operators start (the handoff API, the console): each wires a domain decision to
the adapters it needs, so every entry point runs the same code."""

"""Closed-won to kickoff: the handoff domain, its ports and adapters, and the Lambda handlers."""

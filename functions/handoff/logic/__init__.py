"""Use cases: what a handler asks for, over the ports and the domain."""

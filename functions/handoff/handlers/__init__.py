"""Lambda handlers: parse and validate input, call the domain, return a typed result."""

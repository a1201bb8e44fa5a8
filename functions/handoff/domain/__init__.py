"""Pure domain logic: no AWS calls, no I/O."""

"""Pure business rules: no Qt, no SQL, no clock or randomness (callers pass them in)."""

"""Customer (pole) displays."""

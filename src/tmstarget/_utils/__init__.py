"""Private helpers (may change without notice)."""

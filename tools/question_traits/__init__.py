"""Offline generator of per-question trait scores (see docs/question-traits.md)."""

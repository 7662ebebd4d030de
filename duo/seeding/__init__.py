"""Seed data for tests and benchmarks: one real account (``duo user create``) or many
synthetic ones (``duo populate``)."""

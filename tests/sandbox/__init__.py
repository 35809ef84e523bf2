"""Tests of the local platform sandboxes, driven by the real, unmodified client libraries."""

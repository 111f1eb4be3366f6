"""Synthetic tweet streams with known structure, for the demo, the tests and the benchmark."""

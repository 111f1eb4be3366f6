"""Synthetic tweet streams with known structure, for the demo, the tests and the benchmark."""

from synth.generator import StreamSpec, generate
from synth.truth import ground_truth, write_stream

__all__ = ["StreamSpec", "generate", "ground_truth", "write_stream"]

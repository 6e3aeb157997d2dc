"""Test documents with known contents: synthetic reports (`synth`) and scanned twins (`scan`)."""

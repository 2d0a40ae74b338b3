"""Benchmarks of the emulator: ``.venv/bin/python -m bench.<name>`` (e.g. ``bench.publish``)."""

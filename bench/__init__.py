"""Benchmarks of cvat_sdk against a floor measured in the same run (``python -m bench``).

Results are ratios to the floor, never asserted timings: see ``bench/__main__.py``.
"""

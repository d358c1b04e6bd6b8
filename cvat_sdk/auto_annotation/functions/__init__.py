"""Predefined detection functions, one module each (usable with ``--function-module``)."""

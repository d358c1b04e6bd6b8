"""Repositories and entities of the high-level layer (reached through a ``Client``)."""

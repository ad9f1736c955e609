"""``initscape ntk analyze``."""

from initscape.cli import ntk  # noqa: F401

"""``initscape sbm fit``."""

from initscape.cli import sbm  # noqa: F401

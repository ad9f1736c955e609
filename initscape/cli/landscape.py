"""``initscape sbm landscape`` and ``initscape reproduce sbm``."""

from initscape.cli import reproduce, sbm  # noqa: F401

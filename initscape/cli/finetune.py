"""``initscape ntk finetune`` and ``initscape reproduce ntk``."""

from initscape.cli import ntk, reproduce  # noqa: F401

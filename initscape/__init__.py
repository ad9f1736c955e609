"""initscape: where iterative learning ends depends on where it starts.

Two families of methods, each grounded in a research result:

- ``initscape.sbm``: mean-field variational inference for stochastic block models,
  and the optimisation landscape of its coordinate-ascent updates (Mukherjee,
  Sarkar, Wang and Yan, NeurIPS 2018).
- ``initscape.ntk``: fine-tuning from a pretrained start seen through the empirical
  neural tangent kernel, its spectrum and an early-stopping rule (Sun and Raskutti,
  2026).

The subpackages are imported on first use, so ``import initscape`` stays cheap and
does not load PyTorch.
"""

import importlib
import logging

from initscape.exceptions import ConvergenceWarning

__version__ = "0.1.0"
__all__ = ["ConvergenceWarning", "__version__", "ntk", "sbm"]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name):
    if name in ("sbm", "ntk", "report", "sweep"):
        return importlib.import_module(f"initscape.{name}")
    raise AttributeError(f"module 'initscape' has no attribute {name!r}")

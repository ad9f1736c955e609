"""The empirical neural tangent kernel at a pretrained start.

References
----------
Sun and Raskutti. A theoretical framework for LLM fine-tuning using early stopping
for non-random initialization. 2026.

Raskutti, Wainwright and Yu. Early stopping and non-parametric regression: an
optimal data-dependent stopping rule. JMLR 15 (2014), 335-366.
"""

from initscape.ntk._models import ScalarModel, load_model, tiny_model
from initscape.ntk._tasks import Split, Task, load_task

__all__ = [
    "ScalarModel",
    "Split",
    "Task",
    "load_model",
    "load_task",
    "tiny_model",
]

"""The empirical neural tangent kernel at a pretrained start.

References
----------
Sun and Raskutti. A theoretical framework for LLM fine-tuning using early stopping
for non-random initialization. 2026.

Raskutti, Wainwright and Yu. Early stopping and non-parametric regression: an
optimal data-dependent stopping rule. JMLR 15 (2014), 335-366.
"""

from initscape.ntk._experiments import (
    polynomial_rates,
    sample_size_sweep,
    start_summary,
    stopping_comparison,
    trajectory_comparison,
)
from initscape.ntk._finetune import FinetuneResult, finetune, top_eigenvalue
from initscape.ntk._gd import (
    KernelGDPath,
    gd_filter,
    kernel_gradient_descent,
    kernel_ridge,
)
from initscape.ntk._kernels import EmpiricalNTK, empirical_ntk, jl_bound, ntk_matvec
from initscape.ntk._linearize import (
    KernelDrift,
    LinearizedModel,
    kernel_distance,
    kernel_drift,
    prediction_distance,
)
from initscape.ntk._models import ScalarModel, load_model, tiny_model
from initscape.ntk._reproduce import reproduce
from initscape.ntk._spectrum import DecayFit, Spectrum, fit_decay, spectrum
from initscape.ntk._stopping import (
    StoppingReport,
    StoppingRule,
    local_width,
    noise_from_gcv,
    noise_from_label_range,
    radius_from_ridge,
    stopping_report,
    stopping_step,
)
from initscape.ntk._task_vectors import (
    TaskVectorGrid,
    alpha_grid,
    kernel_task_predictions,
    merge_task_vectors,
    task_interference,
    task_vector_grid,
)
from initscape.ntk._tasks import Split, Task, load_task

__all__ = [
    "DecayFit",
    "EmpiricalNTK",
    "FinetuneResult",
    "KernelDrift",
    "KernelGDPath",
    "LinearizedModel",
    "ScalarModel",
    "Spectrum",
    "Split",
    "StoppingReport",
    "StoppingRule",
    "Task",
    "TaskVectorGrid",
    "alpha_grid",
    "finetune",
    "kernel_distance",
    "kernel_drift",
    "kernel_task_predictions",
    "merge_task_vectors",
    "polynomial_rates",
    "prediction_distance",
    "sample_size_sweep",
    "start_summary",
    "stopping_comparison",
    "task_interference",
    "task_vector_grid",
    "top_eigenvalue",
    "trajectory_comparison",
    "empirical_ntk",
    "fit_decay",
    "gd_filter",
    "jl_bound",
    "kernel_gradient_descent",
    "kernel_ridge",
    "load_model",
    "load_task",
    "local_width",
    "noise_from_gcv",
    "noise_from_label_range",
    "ntk_matvec",
    "radius_from_ridge",
    "reproduce",
    "spectrum",
    "stopping_report",
    "stopping_step",
    "tiny_model",
]

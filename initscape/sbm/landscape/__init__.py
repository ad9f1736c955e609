"""The optimisation landscape of mean-field inference for the two-class SBM.

Everything here reproduces and extends Mukherjee, Sarkar, Wang and Yan, "Mean field
for the stochastic blockmodel: optimization landscape and convergence issues"
(NeurIPS 2018): the constants ``t``, ``lambda`` and ``c``; the population BCAVI map
and its exact reduction to two block averages; the census of its critical points
and 2-cycles; the basins of attraction; where random starts end, with known or
jointly estimated parameters, with the limit law ``P_inf = 1 - (2/pi) arctan|c|``
and the escape threshold ``d*``; figures and a reproducible report.

Examples
--------
>>> from initscape.sbm import landscape
>>> t, lam, c = landscape.constants(0.5, 0.1)
>>> census = landscape.critical_points(100, 0.5, 0.1)
>>> len(census), census.complete
(9, True)
"""

from initscape.sbm.landscape._basins import Basins, basins
from initscape.sbm.landscape._census import (
    Census,
    CriticalPoint,
    TwoCycle,
    critical_points,
)
from initscape.sbm.landscape._population import (
    full_population_jacobian,
    full_population_map,
    map_coefficients,
    population_estimates,
    population_jacobian,
    population_map,
    reduced_elbo,
)
from initscape.sbm.landscape._study import (
    OUTCOMES,
    CorrelationSweep,
    StudyResult,
    classify_outcomes,
    classify_states,
    correlated_starts,
    correlation_sweep,
    draw_starts,
    joint_trajectories,
    random_start_study,
    reduced_start_study,
    study_point,
)
from initscape.sbm.landscape._theory import (
    Constants,
    constants,
    critical_correlation,
    limit_success_probability,
)

__all__ = [
    "OUTCOMES",
    "Basins",
    "Census",
    "Constants",
    "CorrelationSweep",
    "CriticalPoint",
    "StudyResult",
    "TwoCycle",
    "basins",
    "classify_outcomes",
    "classify_states",
    "constants",
    "correlated_starts",
    "correlation_sweep",
    "critical_correlation",
    "critical_points",
    "draw_starts",
    "full_population_jacobian",
    "full_population_map",
    "limit_success_probability",
    "map_coefficients",
    "population_estimates",
    "population_jacobian",
    "population_map",
    "joint_trajectories",
    "random_start_study",
    "reduced_start_study",
    "study_point",
    "reduced_elbo",
]

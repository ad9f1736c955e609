"""Warnings and errors shared by every part of initscape."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at ``max_iter`` before meeting its tolerance.

    Raised at most once per fit, about the result that is returned.
    """

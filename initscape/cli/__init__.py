"""The ``initscape`` command line: a thin layer over the library.

Each module of this package registers its commands on the groups defined here
(``sbm_group``, ``ntk_group``, ``reproduce_group``; named apart from the modules
``sbm`` and ``ntk``, which would otherwise shadow them):
``sbm`` (``sbm fit``), ``landscape`` (``sbm landscape``, ``reproduce sbm``),
``ntk`` (``ntk analyze``) and ``finetune`` (``ntk finetune``, ``reproduce ntk``).
Only this package prints; the library logs.
"""

import importlib
import logging

import click

from initscape import __version__


class _Main(click.Group):
    """The top-level group: a request too large for memory ends in a clear error.

    numpy's MemoryError already says how much it tried to allocate; the user needs
    that line and what to change, not the traceback.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MemoryError as err:
            raise click.ClickException(
                f"out of memory: {err}. Try a smaller problem (fewer nodes, starts "
                "or texts)."
            ) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="initscape")
@click.option("-v", "--verbose", count=True, help="Show library log messages.")
def main(verbose):
    """Where iterative learning ends depends on where it starts."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.group("sbm")
def sbm_group():
    """Mean-field variational inference for stochastic block models."""


@main.group("ntk")
def ntk_group():
    """The empirical NTK of a pretrained model, its spectrum and stopping rule."""


@main.group("reproduce")
def reproduce_group():
    """Rerun a paper's claims and write figures, numbers and an HTML report."""


for _module in ("sbm", "landscape", "ntk", "finetune"):
    importlib.import_module(f"initscape.cli.{_module}")

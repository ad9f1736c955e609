"""``initscape sbm fit``: fit a block model to a real network and summarise it.

The command reads a network (a shipped one by ``--dataset`` or a graph file),
builds the estimator in :func:`_make_model`, fits it with a progress bar, and
prints a summary, or one JSON object with ``--json``. A further model option
(such as ``--degree-corrected``) is one more ``click.option`` on :func:`fit`
whose value :func:`_make_model` passes on; the summary reads only attributes
every estimator has.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
import warnings

import click
import numpy as np

from initscape.cli import sbm_group
from initscape.cli._common import echo_json, progress_bar
from initscape.exceptions import ConvergenceWarning

DEFAULT_DATASET = "football"
_INITS = ("random", "bernoulli", "spectral", "degree")


@sbm_group.command("fit")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--dataset",
    metavar="NAME",
    help=f"A shipped network (see 'initscape sbm datasets'); default "
    f"{DEFAULT_DATASET} when no PATH is given.",
)
@click.option(
    "--label-property",
    metavar="NAME",
    help="For PATH: the vertex property holding ground-truth classes.",
)
@click.option(
    "--directed",
    is_flag=True,
    default=None,
    help="For an edge list PATH: read each line as an arc (other formats say).",
)
@click.option(
    "--blocks",
    "-k",
    "n_blocks",
    type=click.IntRange(min=1),
    help="Number of blocks K; default: the number of ground-truth classes of the "
    "network, else 2.",
)
@click.option(
    "--init",
    type=click.Choice(_INITS),
    default="spectral",
    show_default=True,
    help="How each restart starts. With the parameters estimated, 'random' starts "
    "mostly collapse to the uninformative fixed point (Mukherjee et al. 2018); "
    "'spectral' starts from k-means on leading eigenvectors, jittered per restart.",
)
@click.option(
    "--n-init",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Number of restarts (advanced together); the best ELBO is kept.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seeds every random start: same seed, same output.",
)
@click.option(
    "--block-probs",
    metavar="P",
    help="Known connectivity, held fixed: 'p,q' for two blocks (p within, q "
    "between) or a K x K JSON list such as '[[0.1,0.02],[0.02,0.1]]'. "
    "Default: estimated.",
)
@click.option(
    "--algorithm",
    type=click.Choice(["bcavi", "cavi"]),
    default="bcavi",
    show_default=True,
    help="All coordinates at once (bcavi) or one node at a time (cavi).",
)
@click.option(
    "--degree-corrected",
    is_flag=True,
    help="Fit the degree-corrected SBM (Karrer and Newman 2011) by variational "
    "EM: blocks by community rather than by degree on networks with hubs "
    "(polblogs, adjnoun). Its 'spectral' start is the regularised, "
    "degree-normalised one.",
)
@click.option(
    "--likelihood",
    type=click.Choice(["poisson", "bernoulli"]),
    default="poisson",
    show_default=True,
    help="Edge model of the degree-corrected SBM: Poisson counts, or "
    "P(edge) = 1 - exp(-rate).",
)
@click.option(
    "--max-iter",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Most iterations per restart.",
)
@click.option(
    "--tol",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-8,
    show_default=True,
    help="A restart stops once no responsibility moves by more than this.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the fitted labels as a node,label CSV file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--progress/--no-progress", default=True, help="Draw a progress bar on stderr."
)
def fit(
    path,
    dataset,
    label_property,
    directed,
    n_blocks,
    init,
    n_init,
    seed,
    block_probs,
    algorithm,
    degree_corrected,
    likelihood,
    max_iter,
    tol,
    output,
    as_json,
    progress,
):
    """Fit a stochastic block model by mean-field variational inference.

    PATH is a graph file (.gt, .mtx, .graphml, .gml or an edge list, optionally
    compressed). With neither PATH nor --dataset, fits the shipped football
    network (115 colleges, 12 conferences). --degree-corrected fits the
    degree-corrected SBM instead.
    """
    # Check what needs no network: the output's folder, a finite tolerance.
    _check_output(output)
    if not math.isfinite(tol):
        raise click.BadParameter(
            f"must be a finite number; got {tol!r}.", param_hint="'--tol'"
        )

    # Read the network.
    net = _load(path, dataset, label_property, directed)

    # Settle K and the known connectivity, if any.
    probs = None if block_probs is None else parse_block_probs(block_probs, n_blocks)
    if n_blocks is None:
        n_blocks = len(probs) if probs is not None else (net.n_labels or 2)
    if probs is not None and len(probs) != n_blocks:
        raise click.BadParameter(
            f"must be a {n_blocks} x {n_blocks} matrix to match --blocks "
            f"{n_blocks}; got {len(probs)} x {len(probs)}.",
            param_hint="'--block-probs'",
        )
    if n_blocks > net.n_nodes:
        raise click.BadParameter(
            f"must be at most the number of nodes ({net.n_nodes}); got {n_blocks}.",
            param_hint="'--blocks'",
        )
    if degree_corrected and probs is not None:
        raise click.BadParameter(
            "applies to the plain SBM only; the degree-corrected SBM estimates "
            f"its block rates; got --block-probs {block_probs!r}.",
            param_hint="'--block-probs'",
        )
    if likelihood != "poisson" and not degree_corrected:
        raise click.BadParameter(
            f"applies with --degree-corrected only; got {likelihood!r} without it.",
            param_hint="'--likelihood'",
        )
    if not degree_corrected:
        # the degree-corrected engine runs 'cavi' for any K, directed or not
        _check_cavi(algorithm, n_blocks, probs, net.directed)

    # Fit, with a progress bar over iterations.
    model = _make_model(
        n_blocks=n_blocks,
        block_probs=probs,
        init=init,
        n_init=n_init,
        algorithm=algorithm,
        max_iter=max_iter,
        tol=tol,
        seed=seed,
        directed=net.directed,
        degree_corrected=degree_corrected,
        likelihood=likelihood,
    )
    start = time.perf_counter()
    with (
        progress_bar(f"fit {net.name}", total=max_iter, enabled=progress) as bar,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", ConvergenceWarning)
        model.set_params(callback=bar)
        try:
            model.fit(net.adjacency)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    seconds = time.perf_counter() - start
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)

    # Report.
    summary = summarize(net, model, seconds)
    summary["settings"] = {
        "init": init,
        "n_init": n_init,
        "seed": seed,
        "algorithm": algorithm,
        "max_iter": max_iter,
        "tol": tol,
        "block_probs": "known" if probs is not None else "estimated",
    }
    if degree_corrected:
        summary["settings"].update(degree_corrected=True, likelihood=likelihood)
    if output is not None:
        try:
            write_labels(output, net, model.labels_)
        except OSError as err:
            raise click.BadParameter(
                f"cannot write the labels to {output!r}: {err.strerror or err}.",
                param_hint="'--output'",
            ) from None
        summary["output"] = output
    if as_json:
        echo_json(summary)
    else:
        click.echo(format_summary(summary))


def _check_output(output) -> None:
    """A usage error now, rather than a traceback after the whole fit."""
    if output is None:
        return
    if not output or os.path.isdir(output):
        raise click.BadParameter(
            f"must be the path of a file to write; got {output!r}.",
            param_hint="'--output'",
        )
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise click.BadParameter(
            f"the folder {folder!r} {what}; got {output!r}.",
            param_hint="'--output'",
        )
    if not os.access(folder, os.W_OK):
        raise click.BadParameter(
            f"the folder {folder!r} is not writable; got {output!r}.",
            param_hint="'--output'",
        )


def _check_cavi(algorithm, n_blocks, probs, directed) -> None:
    """``cavi`` runs only on the two-class engine: say so as a usage error."""
    if algorithm != "cavi":
        return
    two_class_probs = probs is None or (
        probs[0][0] == probs[1][1] > probs[0][1] == probs[1][0]
    )
    if n_blocks != 2 or directed or not two_class_probs:
        raise click.BadParameter(
            "'cavi' needs two blocks on an undirected network, with --block-probs "
            f"unset or 'p,q' with p > q; got --blocks {n_blocks}"
            f"{', a directed network' if directed else ''}.",
            param_hint="'--algorithm'",
        )


@sbm_group.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def datasets(as_json):
    """List the shipped networks with their sizes, labels and citations."""
    from initscape.sbm import list_networks, load_network

    rows = []
    for name in list_networks():
        net = load_network(name)
        rows.append(
            {
                "name": name,
                "nodes": net.n_nodes,
                "edges": net.n_edges,
                "directed": net.directed,
                "labels": None if net.label_names is None else list(net.label_names),
                "citation": net.citation,
            }
        )
    if as_json:
        echo_json({"networks": rows})
        return
    click.echo(f"{'name':<14}{'nodes':>7}{'edges':>8}  {'directed':<9}classes")
    for row in rows:
        classes = "-" if row["labels"] is None else str(len(row["labels"]))
        directed = "yes" if row["directed"] else "no"
        click.echo(
            f"{row['name']:<14}{row['nodes']:>7}{row['edges']:>8}  {directed:<9}"
            f"{classes}"
        )


def _load(path, dataset, label_property, directed):
    from initscape.sbm import list_networks, load_network

    if path is not None and dataset is not None:
        raise click.UsageError("Give either PATH or --dataset, not both.")
    if path is None:
        name = dataset if dataset is not None else DEFAULT_DATASET
        if name not in list_networks():
            known = ", ".join(list_networks())
            raise click.BadParameter(
                f"must be one of {known}; got {name!r}.", param_hint="'--dataset'"
            )
        if label_property is not None:
            raise click.BadParameter(
                "applies to PATH only; shipped networks carry their labels.",
                param_hint="'--label-property'",
            )
        if directed:
            raise click.BadParameter(
                "applies to an edge list PATH only; shipped networks say whether "
                "they are directed.",
                param_hint="'--directed'",
            )
        return load_network(name)
    try:
        return load_network(path, label_property=label_property, directed=directed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _make_model(
    *,
    n_blocks,
    block_probs,
    init,
    n_init,
    algorithm,
    max_iter,
    tol,
    seed,
    directed,
    degree_corrected=False,
    likelihood="poisson",
):
    """The estimator for the options of ``sbm fit`` (extend here for new models)."""
    from initscape.sbm import DegreeCorrectedSBM, MeanFieldSBM

    if degree_corrected:
        return DegreeCorrectedSBM(
            n_blocks=n_blocks,
            init=init,
            n_init=n_init,
            algorithm=algorithm,
            likelihood=likelihood,
            directed=directed,
            max_iter=max_iter,
            tol=tol,
            random_state=seed,
        )
    return MeanFieldSBM(
        n_blocks=n_blocks,
        block_probs=block_probs,
        init=init,
        n_init=n_init,
        algorithm=algorithm,
        max_iter=max_iter,
        tol=tol,
        directed=directed,
        random_state=seed,
    )


def parse_block_probs(text: str, n_blocks: int | None) -> list:
    """``"p,q"`` (two blocks) or a K x K JSON list -> K x K nested list.

    ``"p,q"`` means ``[[p, q], [q, p]]``: probability ``p`` of an edge within a
    block and ``q`` between blocks. Every entry must lie strictly between 0 and 1.
    """
    hint = "'--block-probs'"
    text = text.strip()
    if text.startswith("["):
        try:
            matrix = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"must be 'p,q' or a K x K JSON list; got {text!r} ({exc.msg}).",
                param_hint=hint,
            ) from None
        k = len(matrix) if isinstance(matrix, list) else 0
        if not k or not all(isinstance(r, list) and len(r) == k for r in matrix):
            raise click.BadParameter(
                f"must be a square K x K JSON list of lists; got {text!r}.",
                param_hint=hint,
            )
    else:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2:
            raise click.BadParameter(
                f"must be 'p,q' (two numbers) or a K x K JSON list; got {text!r}.",
                param_hint=hint,
            )
        if n_blocks not in (None, 2):
            raise click.BadParameter(
                f"'p,q' describes two blocks; got --blocks {n_blocks}: give a "
                f"{n_blocks} x {n_blocks} JSON list instead.",
                param_hint=hint,
            )
        matrix = [[parts[0], parts[1]], [parts[1], parts[0]]]

    values = []
    for row in matrix:
        out = []
        for entry in row:
            try:
                value = float(entry)
            except (TypeError, ValueError):
                value = math.nan
            if isinstance(entry, bool) or not (0.0 < value < 1.0):
                raise click.BadParameter(
                    f"entries must be probabilities strictly between 0 and 1; got "
                    f"{entry!r} in {text!r}.",
                    param_hint=hint,
                )
            out.append(value)
        values.append(out)
    return values


def summarize(net, model, seconds: float) -> dict:
    """The numbers ``sbm fit`` reports, as plain Python values."""
    labels = np.asarray(model.labels_)
    n_blocks = int(model.n_blocks)
    restarts = getattr(model, "restarts_", None)
    summary = {
        "network": {
            "name": net.name,
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "directed": net.directed,
            "citation": net.citation or None,
        },
        "blocks": n_blocks,
        "sizes": np.bincount(labels, minlength=n_blocks).tolist(),
        "block_probs": np.asarray(model.block_probs_).tolist(),
        "block_proportions": np.asarray(model.block_proportions_).tolist(),
        "proportions_estimated": getattr(model, "proportions_estimated_", None),
        "elbo": float(model.elbo_),
        "icl": float(model.icl_) if hasattr(model, "icl_") else None,
        "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "seconds": round(seconds, 4),
        "restarts": _restart_summary(restarts, float(model.elbo_)),
        "agreement": None,
    }
    if hasattr(model, "block_rates_"):
        # the degree-corrected model: expected edges theta_i theta_j omega_kl
        summary["model"] = "degree-corrected"
        summary["block_rates"] = np.asarray(model.block_rates_).tolist()
    if net.labels is not None:
        from initscape.sbm import agreement

        scores = agreement(net.labels, labels)
        summary["agreement"] = {
            "classes": net.n_labels,
            "ari": float(scores["ari"]),
            "nmi": float(scores["nmi"]),
            "overlap": float(scores["overlap"]),
        }
        # A node without a single edge carries no information about its block, so
        # its label is a coin toss for any model; report the linked nodes apart.
        adjacency = net.adjacency.tocsr()
        out_degree = np.diff(adjacency.indptr)
        in_degree = np.bincount(adjacency.indices, minlength=adjacency.shape[0])
        linked = (out_degree + in_degree) > 0
        if 0 < linked.sum() < linked.size:
            scores = agreement(np.asarray(net.labels)[linked], labels[linked])
            summary["agreement_linked"] = {
                "nodes": int(linked.sum()),
                "ari": float(scores["ari"]),
                "nmi": float(scores["nmi"]),
                "overlap": float(scores["overlap"]),
            }
    return summary


def _restart_summary(restarts, best_elbo: float):
    """How many restarts there were, converged, and reached the best ELBO."""
    if restarts is None:
        return None
    elbos = np.array([float(r["elbo"]) for r in restarts])
    # "at the best" within a relative 1e-6: restarts that reach the same fixed
    # point differ only in the last digits of their ELBO.
    at_best = np.abs(elbos - best_elbo) <= 1e-6 * max(1.0, abs(best_elbo))
    return {
        "n": len(restarts),
        "converged": int(sum(bool(r["converged"]) for r in restarts)),
        "at_best_elbo": int(at_best.sum()),
        "elbo_min": float(elbos.min()),
        "elbo_max": float(elbos.max()),
    }


def format_summary(s: dict) -> str:
    """The readable form of :func:`summarize`'s dict."""
    net = s["network"]
    kind = "directed" if net["directed"] else "undirected"
    lines = [
        f"network      {net['name']} ({kind}, {net['nodes']} nodes, "
        f"{net['edges']} edges)",
        *(
            ["model        degree-corrected SBM (Karrer and Newman 2011)"]
            if s.get("model") == "degree-corrected"
            else []
        ),
        f"blocks       {s['blocks']}",
        f"sizes        {' '.join(str(v) for v in s['sizes'])}",
        _proportions_line(s),
        "connectivity " + _matrix(s["block_probs"], indent=13),
        f"ELBO         {s['elbo']:.6g}",
        *([f"ICL          {s['icl']:.6g}"] if s.get("icl") is not None else []),
        f"iterations   {s['n_iter']}",
        f"converged    {'yes' if s['converged'] else 'no'}",
        f"seconds      {s['seconds']:.3f}",
    ]
    r = s.get("restarts")
    if r is not None:
        lines.append(
            f"restarts     {r['n']} ({r['converged']} converged, {r['at_best_elbo']} "
            f"at the best ELBO; worst ELBO {r['elbo_min']:.6g})"
        )
    a = s.get("agreement")
    if a is not None:
        lines.append(
            f"vs labels    ARI {a['ari']:.3f}   NMI {a['nmi']:.3f}   overlap "
            f"{a['overlap']:.3f}   ({a['classes']} classes)"
        )
    linked = s.get("agreement_linked")
    if linked is not None:
        lines.append(
            f"  linked     ARI {linked['ari']:.3f}   NMI {linked['nmi']:.3f}   overlap "
            f"{linked['overlap']:.3f}   ({linked['nodes']} nodes with an edge)"
        )
    if s.get("output"):
        lines.append(f"labels       written to {s['output']}")
    return "\n".join(lines)


def _proportions_line(s: dict) -> str:
    """Fitted proportions, or the prior the engine held fixed, labelled as such."""
    values = " ".join(f"{v:.3f}" for v in s["block_proportions"])
    if s.get("proportions_estimated") is False:
        return f"prior        {values} (fixed)"
    return f"proportions  {values}"


def _matrix(rows, indent: int) -> str:
    text = [" ".join(f"{v:.4f}" for v in row) for row in rows]
    return ("\n" + " " * indent).join(text)


def write_labels(path: str, net, labels) -> None:
    """Write ``node,label`` rows: the node's name when the network has names."""
    names = net.node_names or range(net.n_nodes)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["node", "label"])
        for name, label in zip(names, np.asarray(labels).tolist(), strict=True):
            writer.writerow([name, label])

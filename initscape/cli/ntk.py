"""``initscape ntk analyze``: the eNTK of a pretrained model on real text.

Loads a model and a task, computes the empirical NTK of the chosen parameters on
the training texts (with the cross-kernel to held-out texts), its spectrum and decay
fits, the stopping step T_hat of the Raskutti-Wainwright-Yu rule, and the held-out
risk of kernel gradient descent from f_0 along the way; prints a summary (or one
JSON object with ``--json``) and, with ``--out``, writes the spectrum and risk-curve
plots.
"""

from __future__ import annotations

import time

import click
import numpy as np

from initscape.cli import ntk_group
from initscape.cli._common import echo_json, output_folder, progress_bar

TINY = ("tiny-encoder", "tiny-causal")


def check_device_option(device):
    """The library's device check, reported against --device."""
    from initscape.ntk._models import check_device

    try:
        return check_device(device)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--device") from None


def check_params_option(model, params):
    """The parameter subset, checked on the loaded model, reported against --params."""
    try:
        model.named_trainable(params)
    except (ValueError, TypeError) as err:
        raise click.BadParameter(str(err), param_hint="--params") from None
    return params


def _load(model_name, start, seed, device):
    from initscape import ntk as lib

    if model_name in TINY:
        if start != "random":
            raise click.BadParameter(
                f"{model_name} is a random test model; use --start random with it.",
                param_hint="--start",
            )
        kind = model_name.split("-")[1]
        return lib.tiny_model(kind, random_state=seed, device=device)
    try:
        return lib.load_model(model_name, start=start, random_state=seed, device=device)
    except (ValueError, TypeError, OSError) as err:
        raise click.BadParameter(str(err), param_hint="--model") from None


def _summary(model, kernel, spec, report, seconds_total):
    rule = report.rule
    return {
        "model": model.name,
        "start": model.start,
        "params": kernel.params,
        "method": kernel.method,
        "n_train": kernel.n_train,
        "n_test": kernel.n_test,
        "n_params": kernel.n_params,
        "kernel_seconds": kernel.seconds,
        "total_seconds": seconds_total,
        "jacobian": kernel.jacobian,
        "jl_epsilon": kernel.jl_epsilon,
        "jl_delta": kernel.jl_delta,
        "spectrum": spec.summary(top=10),
        "stopping": {
            "T_hat": rule.step,
            "capped": rule.capped,
            "step_size": rule.step_size,
            "noise_level": rule.noise_level,
            "noise_plugin": report.noise_plugin,
            "radius": rule.radius,
            "radius_plugin": report.radius_plugin,
            "best_step": report.best_step,
        },
        "at_start": report.at_start,
        "at_T_hat": report.at_rule,
        "at_best": report.at_best,
    }


def _print(s):
    sp, st = s["spectrum"], s["stopping"]
    click.echo(
        f"eNTK of {s['model']} ({s['start']}), params={s['params']}: "
        f"n={s['n_train']} (held-out {s['n_test']}), P={s['n_params']:,}, "
        f"method={s['method']}, {s['kernel_seconds']:.1f} s"
    )
    if s["jl_epsilon"] is not None:
        click.echo(
            f"  sketch JL bound: |K~ - K| <= {s['jl_epsilon']:.3g} "
            f"sqrt(K_ii K_jj) with probability >= {1 - s['jl_delta']:.2f}"
        )
    if s.get("head"):
        click.echo(f"  linear head fitted on the {s['head']}")
    top = ", ".join(f"{v:.3g}" for v in sp["top_eigenvalues"][:5])
    click.echo(f"  top eigenvalues of K/n: {top}")
    if sp["window"] is None:
        click.echo(
            "  decay: not fitted (it needs 3 eigenvalues among the top half that "
            "stand above round-off); "
            f"effective dimension {sp['effective_dimension']:.2f}"
        )
    else:
        lo, hi = sp["window"]
        click.echo(
            f"  decay over j={lo}..{hi}: polynomial j^-{sp['polynomial_rate']:.3f} "
            f"(R^2 {sp['polynomial_r2']:.3f}), exponential "
            f"e^-{sp['exponential_rate']:.3f}j "
            f"(R^2 {sp['exponential_r2']:.3f}); effective dimension "
            f"{sp['effective_dimension']:.2f}"
        )
    if sp["n_clipped"]:
        click.echo(
            f"  {sp['n_clipped']} negative eigenvalue(s) clipped, the most "
            f"negative {sp['most_negative']:.2g}"
        )
    capped = " (never fires: capped)" if st["capped"] else ""
    click.echo(
        f"  stopping rule: T_hat = {st['T_hat']}{capped} at step size "
        f"{st['step_size']:.3g}, sigma = {st['noise_level']:.3g} "
        f"({st['noise_plugin']}), R = {st['radius']:.3g} ({st['radius_plugin']})"
    )
    for label, key in (("f_0", "at_start"), ("T_hat", "at_T_hat"), ("best", "at_best")):
        at = s[key]
        if not at:
            continue
        click.echo(
            f"  {label:>5} (t={at['step']}): held-out accuracy "
            f"{at.get('test_accuracy', float('nan')):.3f}, risk "
            f"{at.get('test_risk', float('nan')):.3f}; train risk "
            f"{at['train_risk']:.3f}"
        )


def _plots(out, spec, report, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lam = spec.eigenvalues
    j = np.arange(1, lam.size + 1)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.loglog(j[lam > 0], lam[lam > 0], ".", label="eigenvalues of K/n")
    if spec.polynomial_fit is not None:
        lo, hi = spec.polynomial_fit.window
        jw = np.arange(lo, hi + 1)
        ax.loglog(
            jw,
            spec.polynomial_fit.predict(jw),
            "-",
            label=f"j^-{spec.polynomial_fit.rate:.2f}",
        )
        ax.loglog(
            jw,
            spec.exponential_fit.predict(jw),
            "--",
            label=f"exp(-{spec.exponential_fit.rate:.2f} j)",
        )
    ax.set_xlabel("j")
    ax.set_ylabel("lambda_j")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "spectrum.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.6))
    t = report.steps + 1
    ax.semilogx(t, report.train_risk, label="train risk")
    if report.test_risk is not None:
        ax.semilogx(t, report.test_risk, label="held-out risk")
    if not report.rule.capped:
        ax.axvline(report.rule.step + 1, color="k", ls="--", label="T_hat")
    if report.best_step is not None:
        ax.axvline(report.best_step + 1, color="g", ls=":", label="best held-out")
    ax.set_xlabel("gradient steps t + 1")
    ax.set_ylabel("mean squared error")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "risk.png", dpi=120)
    plt.close(fig)


@ntk_group.command("analyze")
@click.option(
    "--model",
    "model_name",
    default="minilm",
    show_default=True,
    metavar="NAME|PATH",
    help="minilm, smollm2, a Hugging Face model folder or .gguf file; "
    "tiny-encoder / tiny-causal are random test models.",
)
@click.option(
    "--task",
    default="tweets-sentiment",
    show_default=True,
    metavar="NAME|CSV",
    help="tweets-sentiment, bbc-sport-politics or a CSV with text,label.",
)
@click.option(
    "--n",
    "n_train",
    type=click.IntRange(min=2),
    default=128,
    show_default=True,
    help="Training texts (the kernel is n x n).",
)
@click.option(
    "--n-test",
    type=click.IntRange(min=2),
    default=256,
    show_default=True,
    help="Held-out texts for the risk curve.",
)
@click.option(
    "--n-probe",
    type=click.IntRange(min=0),
    default=32,
    show_default=True,
    help="Texts, disjoint from --n and --n-test, on which an encoder's linear head "
    "is fitted; 0 fits it on the training set (which it then nearly interpolates).",
)
@click.option(
    "--params",
    default="attention",
    show_default=True,
    help="attention, all, head, biases or a regular expression.",
)
@click.option(
    "--start",
    type=click.Choice(["pretrained", "random"]),
    default="pretrained",
    show_default=True,
)
@click.option(
    "--method",
    type=click.Choice(["exact", "ntkvp", "sketch"]),
    default="exact",
    show_default=True,
)
@click.option(
    "--block-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Examples per Jacobian block (memory).",
)
@click.option(
    "--sketch-dim", type=click.IntRange(min=1), default=256, show_default=True
)
@click.option(
    "--noise",
    type=click.Choice(["label-range", "gcv"]),
    default="label-range",
    show_default=True,
    help="Plug-in for sigma in the stopping rule.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Torch device for the model: cuda on a GPU machine.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Write spectrum.png, risk.png and summary.json here.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def analyze(
    model_name,
    task,
    n_train,
    n_test,
    n_probe,
    params,
    start,
    method,
    block_size,
    sketch_dim,
    noise,
    seed,
    device,
    as_json,
    out,
    no_progress,
):
    """The eNTK of a pretrained model on real text: spectrum, decay, T_hat."""
    import json

    from initscape import ntk as lib
    from initscape.cli._common import to_jsonable

    began = time.perf_counter()
    device = check_device_option(device)
    if out is not None:
        out = output_folder(out)  # now, not after the kernel
    try:
        data = lib.load_task(
            task, n_train=n_train, n_test=n_test, n_probe=n_probe, random_state=seed
        )
    except (ValueError, TypeError) as err:
        raise click.BadParameter(str(err), param_hint="--task") from None
    model = _load(model_name, start, seed, device)
    check_params_option(model, params)
    model.fit_probe(data.head_split)
    try:
        with progress_bar("eNTK", enabled=not no_progress) as callback:
            kernel = lib.empirical_ntk(
                model,
                data.train,
                data.test,
                params=params,
                method=method,
                block_size=block_size,
                sketch_dim=sketch_dim,
                random_state=seed,
                callback=callback,
            )
    except (ValueError, TypeError) as err:
        raise click.ClickException(str(err)) from None
    spec = lib.spectrum(kernel)
    report = lib.stopping_report(kernel, noise=noise)
    summary = _summary(model, kernel, spec, report, time.perf_counter() - began)
    summary["task"] = task
    summary["head"] = (
        None
        if model.kind != "encoder"
        else ("training set" if data.probe is None else f"probe split of {n_probe}")
    )

    if out is not None:
        title = f"{model.name} ({model.start}), {task}, n={kernel.n_train}"
        _plots(out, spec, report, title)
        (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=2))
    if as_json:
        echo_json(summary)
    else:
        _print(summary)
        if out is not None:
            click.echo(f"  plots: {out / 'spectrum.png'}, {out / 'risk.png'}")

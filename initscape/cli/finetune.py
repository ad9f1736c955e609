"""``initscape ntk finetune`` and ``initscape reproduce ntk``.

``ntk finetune`` fine-tunes a parameter subset of a packaged model (or the
linearised model) on a task and prints the learning curve's start, best held-out
step and end. ``reproduce ntk`` runs :func:`initscape.ntk.reproduce`, every
comparison of Sun and Raskutti (2026) that initscape measures, with progress bars
and a timed line per stage.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from initscape.cli import ntk_group, reproduce_group
from initscape.cli._common import echo_json, progress_bar
from initscape.cli.ntk import check_device_option, check_params_option

TINY = ("tiny-encoder", "tiny-causal")


def _load(model_name, start, seed, max_length):
    from initscape import ntk as lib

    if model_name in TINY:
        # a test model: its "random start" is another draw of the same config
        draw = seed if start == "pretrained" else seed + 1
        return lib.tiny_model(model_name.split("-")[1], random_state=draw)
    try:
        return lib.load_model(
            model_name, start=start, random_state=seed, max_length=max_length
        )
    except (ValueError, TypeError, OSError) as err:
        raise click.BadParameter(str(err), param_hint="--model") from None


def _task(name, n, n_test, seed, n_probe=0):
    """The task with its probe split (see :func:`initscape.ntk.load_task`)."""
    from initscape import ntk as lib

    try:
        return lib.load_task(
            name, n_train=n, n_test=n_test, n_probe=n_probe, random_state=seed
        )
    except (ValueError, TypeError) as err:
        raise click.BadParameter(str(err), param_hint="--task") from None


def _set_params(model, params):
    import torch

    named = dict(model.module.named_parameters())
    with torch.no_grad():
        for k, v in params.items():
            named[k].copy_(v)


# --------------------------------------------------------------------------------
# initscape ntk finetune


@ntk_group.command("finetune")
@click.option(
    "--model",
    "model_name",
    default="minilm",
    show_default=True,
    help="minilm, smollm2, a model folder, or tiny-encoder for a test.",
)
@click.option(
    "--task",
    default="tweets-sentiment",
    show_default=True,
    help="tweets-sentiment, bbc-sport-politics or a CSV (text,label).",
)
@click.option(
    "--n", "n_train", default=32, show_default=True, type=click.IntRange(min=2)
)
@click.option("--n-test", default=64, show_default=True, type=click.IntRange(min=2))
@click.option(
    "--n-probe",
    default=32,
    show_default=True,
    type=click.IntRange(min=0),
    help="Texts, disjoint from --n and --n-test, on which an encoder's linear head "
    "is fitted; 0 fits it on the training set (which it then nearly interpolates).",
)
@click.option("--params", default="attention", show_default=True)
@click.option(
    "--start",
    type=click.Choice(["pretrained", "random"]),
    default="pretrained",
    show_default=True,
)
@click.option(
    "--optimizer",
    type=click.Choice(["gd", "sgd", "adam"]),
    default="gd",
    show_default=True,
)
@click.option(
    "--loss",
    type=click.Choice(["squared", "cross-entropy"]),
    default="squared",
    show_default=True,
)
@click.option(
    "--steps", "n_steps", default=30, show_default=True, type=click.IntRange(min=0)
)
@click.option(
    "--step-size",
    type=float,
    default=None,
    help="Learning rate; default 1/lambda_1 of K/n (gd, sgd), 1e-4 (adam).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=None)
@click.option("--linearized", is_flag=True, help="Train f_lin instead of f.")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="Resume from / write to this file.",
)
@click.option(
    "--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True
)
@click.option("--max-length", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the learning-curve plot and history.json here.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def finetune_command(
    model_name,
    task,
    n_train,
    n_test,
    n_probe,
    params,
    start,
    optimizer,
    loss,
    n_steps,
    step_size,
    batch_size,
    linearized,
    checkpoint,
    device,
    max_length,
    seed,
    as_json,
    out,
    no_progress,
):
    """Fine-tune a parameter subset and record held-out risk at every step."""
    from initscape import ntk as lib
    from initscape.ntk._figures import plot_learning_curves
    from initscape.ntk._finetune import _check_checkpoint

    clock = time.perf_counter()
    device = check_device_option(device)
    if checkpoint is not None:
        try:
            _check_checkpoint(checkpoint)
        except (ValueError, TypeError) as err:
            raise click.BadParameter(str(err), param_hint="--checkpoint") from None
    model = _load(model_name, start, seed, max_length)
    check_params_option(model, params)
    data = _task(task, n_train, n_test, seed, n_probe)
    model.fit_probe(data.head_split)
    try:
        target = lib.LinearizedModel(model, params) if linearized else model
        shown = not (as_json or no_progress)
        with progress_bar("fine-tuning", n_steps, enabled=shown) as cb:
            result = lib.finetune(
                target,
                data.train,
                data.test,
                params=params,
                n_steps=n_steps,
                step_size=step_size,
                optimizer=optimizer,
                loss=loss,
                batch_size=batch_size,
                checkpoint=checkpoint,
                device=device,
                random_state=seed,
                callback=cb,
            )
    except (ValueError, TypeError) as err:
        raise click.UsageError(str(err)) from None
    summary = {
        "model": model.name,
        "task": data.name,
        "n_train": n_train,
        "n_test": n_test,
        "n_params": model.n_params(params),
        **result.summary(),
        "total_seconds": time.perf_counter() - clock,
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plot_learning_curves(out / "learning_curve.png", [(model.name, result, None)])
        history = {
            k: getattr(result, k)
            for k in (
                "steps",
                "train_risk",
                "test_risk",
                "train_accuracy",
                "test_accuracy",
            )
        }
        (out / "history.json").write_text(_dumps(history))
        summary["out"] = str(out)
    if as_json:
        echo_json(summary)
        return
    choosing = ""
    if step_size is None and optimizer != "adam":
        choosing = f", {result.step_size_seconds:.1f} s choosing the step size"
    # the steps' time, and the whole command's (loading, the power iteration of
    # the default step size, the records), which can be many times longer
    click.echo(
        f"fine-tuned {summary['model']} on {data.name}: n={n_train} (held-out "
        f"{n_test}), params={params} (P={summary['n_params']:,}), {optimizer}, "
        f"{loss} loss, step size {result.step_size:.3g}; {result.seconds:.1f} s of "
        f"training{choosing}, {summary['total_seconds']:.1f} s in all"
    )
    for label in ("start", "best", "end"):
        at = summary.get(label)
        if at:
            click.echo(
                f"  {label:>5} (t={at['step']}): held-out risk {at['test_risk']:.4f}, "
                f"accuracy {at['test_accuracy']:.3f}; train risk "
                f"{at['train_risk']:.4f}"
            )


def _dumps(payload):
    import json

    from initscape.cli._common import to_jsonable

    return json.dumps(to_jsonable(payload), indent=2)


# --------------------------------------------------------------------------------
# initscape reproduce ntk


@reproduce_group.command("ntk")
@click.option("--quick", is_flag=True, help="Small n and few steps: minutes on a CPU.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="reproduce-ntk",
    show_default=True,
)
@click.option(
    "--model",
    "model_name",
    default="minilm",
    show_default=True,
    help="minilm, smollm2, a model folder, or tiny-encoder (tests).",
)
@click.option(
    "--tasks",
    default="tweets-sentiment,bbc-sport-politics",
    show_default=True,
    help="Comma-separated tasks; the first is the main.",
)
@click.option("--params", default="attention", show_default=True)
@click.option(
    "--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--n-max", type=int, default=None, help="Override the plan's n_max.")
@click.option("--steps", type=int, default=None, help="Override the plan's steps.")
def reproduce_ntk(quick, out, model_name, tasks, params, device, seed, n_max, steps):
    """Fine-tuning against the kernel's prediction (Sun and Raskutti, 2026)."""
    from initscape.ntk import reproduce

    task_list = [t.strip() for t in tasks.split(",") if t.strip()]
    if len(task_list) < 2:
        raise click.BadParameter(
            f"needs at least 2 comma-separated tasks; got {tasks!r}.",
            param_hint="--tasks",
        )
    device = check_device_option(device)
    clock = time.perf_counter()
    try:
        index = reproduce(
            out,
            quick=quick,
            model=model_name,
            tasks=task_list,
            params=params,
            device=device,
            random_state=seed,
            n_max=n_max,
            n_steps=steps,
            progress=progress_bar,
            stage_callback=lambda stage, elapsed: click.echo(
                f"[{elapsed:7.1f} s] {stage}", err=True
            ),
        )
    except (ValueError, TypeError, OSError) as err:
        raise click.UsageError(str(err)) from None
    click.echo(f"wrote {index} in {time.perf_counter() - clock:.0f} s")

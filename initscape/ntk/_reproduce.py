"""``initscape reproduce ntk``: fine-tuning measured against the kernel's prediction.

:func:`reproduce` runs every comparison of Sun and Raskutti (2026) that initscape
measures, on one model and two or more tasks, and writes into one folder the figures,
``numbers.json`` and ``index.html`` (through :mod:`initscape.report`), each measured
number beside its prediction:

1. real, linearised and closed-form kernel trajectories from the pretrained start,
   and how far the eNTK moves along the real run;
2. the stopping rule's T_hat against the best held-out step and the hold-out choice;
3. a sweep over n on principal blocks of one eNTK, against the fitted decay rate;
4. the pretrained start against a random start of the same architecture;
5. task vectors of every task, merged and negated over a grid, against the sum of
   the per-task kernel regressors.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from initscape.ntk._experiments import (
    sample_size_sweep,
    start_summary,
    stopping_comparison,
    trajectory_comparison,
)
from initscape.ntk._figures import (
    plot_learning_curves,
    plot_sample_size_sweep,
    plot_spectra,
    plot_task_vector_grid,
    plot_trajectories,
)
from initscape.ntk._finetune import finetune
from initscape.ntk._gd import kernel_gradient_descent
from initscape.ntk._kernels import empirical_ntk
from initscape.ntk._linearize import LinearizedModel, kernel_drift
from initscape.ntk._models import check_device, load_model, tiny_model
from initscape.ntk._spectrum import spectrum
from initscape.ntk._task_vectors import (
    alpha_grid,
    kernel_task_predictions,
    task_interference,
    task_vector_grid,
)
from initscape.ntk._tasks import Split, load_task
from initscape.report import Claim, Section, write_report

__all__ = ["FULL", "QUICK", "Plan", "reproduce"]

logger = logging.getLogger(__name__)

#: Random test models that ``model`` may name (their "random start" is another draw).
TINY = ("tiny-encoder", "tiny-causal")


@dataclass(frozen=True)
class Plan:
    """Sizes of one reproduction (``--quick`` or full)."""

    n_max: int
    n_probe: int
    n_run: int
    n_test: int
    sizes: tuple
    n_steps: int
    snapshots: tuple
    n_task: int
    n_task_probe: int
    n_task_test: int
    task_steps: int
    alphas: tuple
    max_length: int
    block_size: int


QUICK = Plan(
    n_max=48,
    n_probe=16,
    n_run=24,
    n_test=40,
    sizes=(8, 16, 32, 48),
    n_steps=20,
    snapshots=(5,),
    n_task=16,
    n_task_probe=8,
    n_task_test=24,
    task_steps=12,
    alphas=(-1.0, 0.0, 0.5, 1.0),
    max_length=48,
    block_size=24,
)
FULL = Plan(
    n_max=512,
    n_probe=64,
    n_run=128,
    n_test=256,
    sizes=(32, 64, 128, 256, 512),
    n_steps=100,
    snapshots=(10, 30),
    n_task=64,
    n_task_probe=32,
    n_task_test=128,
    task_steps=50,
    alphas=(-1.0, -0.5, 0.0, 0.5, 1.0, 1.5),
    max_length=128,
    block_size=32,
)


def _load(model_name, start, seed, max_length, device):
    # the model lives on the device, so that the eNTK is computed there too
    if model_name in TINY:
        draw = seed if start == "pretrained" else seed + 1
        return tiny_model(model_name.split("-")[1], random_state=draw, device=device)
    return load_model(
        model_name,
        start=start,
        random_state=seed,
        max_length=max_length,
        device=device,
    )


def _task(name, n, n_test, seed, n_probe):
    return load_task(name, n_train=n, n_test=n_test, n_probe=n_probe, random_state=seed)


@contextlib.contextmanager
def _no_progress(description, total=None):
    yield None


class _Stages:
    """Times each stage of a run, logs it and passes it to an optional callback."""

    def __init__(self, callback=None):
        self.clock = time.perf_counter()
        self.cpu = time.process_time()
        self.callback = callback
        self.times = {}  # stage -> seconds it took
        self._start = 0.0

    def __call__(self, stage):
        elapsed = time.perf_counter() - self.clock
        if self.times:
            last = list(self.times)[-1]
            self.times[last] = elapsed - self._start
        self.times[stage], self._start = 0.0, elapsed
        logger.info("reproduce ntk, %.1f s: %s", elapsed, stage)
        if self.callback is not None:
            self.callback(stage, elapsed)


def _run(plan, model_name, tasks, params, seed, device, out, log, progress):

    numbers = {
        "plan": plan.__dict__,
        "model": model_name,
        "tasks": list(tasks),
        "params": params,
        "seed": seed,
        "device": device,
    }
    figs = {}

    # 1. pretrained start: head, eNTK on the largest training set, main run
    log("loading the pretrained model and the task")
    model = _load(model_name, "pretrained", seed, plan.max_length, device)
    data = _task(tasks[0], plan.n_max, plan.n_test, seed, plan.n_probe)
    model.fit_probe(data.head_split)
    log("eNTK of the pretrained start")
    with progress("eNTK (pretrained)") as cb:
        big = empirical_ntk(
            model,
            data.train,
            data.test,
            params=params,
            block_size=plan.block_size,
            callback=cb,
        )
    run_idx = np.arange(plan.n_run)
    kernel = big.subset(run_idx)
    train = data.train.subset(run_idx)
    spec = spectrum(kernel)
    alpha = 1.0 / float(spec.eigenvalues[0])
    numbers["n_params"] = big.n_params
    numbers["kernel_seconds"] = big.seconds

    log("fine-tuning the pretrained network")
    with progress("fine-tune (real)", plan.n_steps) as cb:
        real = finetune(
            model,
            train,
            data.test,
            params=params,
            n_steps=plan.n_steps,
            step_size=alpha,
            device=device,
            snapshots=plan.snapshots,
            random_state=seed,
            callback=cb,
        )
    log("fine-tuning the linearised network")
    with progress("fine-tune (linearised)", plan.n_steps) as cb:
        linear = finetune(
            LinearizedModel(model, params),
            train,
            data.test,
            params=params,
            n_steps=plan.n_steps,
            step_size=alpha,
            device=device,
            random_state=seed,
            callback=cb,
        )
    traj = trajectory_comparison(real, linear, kernel)
    log("eNTK drift along the run")
    drift = kernel_drift(model, real, train, block_size=plan.block_size)
    numbers["trajectories"] = traj
    numbers["kernel_drift"] = drift.__dict__
    numbers["real_run"] = real.summary()
    figs["trajectories"] = out / "trajectories.png"
    plot_trajectories(figs["trajectories"], traj)

    # 2. stopping: T_hat vs best held-out step vs hold-out choice
    stop_real = stopping_comparison(kernel, real, random_state=seed)
    stop_kernel = stopping_comparison(kernel, None, random_state=seed)
    numbers["stopping"] = {"fine_tuning": stop_real, "kernel": stop_kernel}

    # 3. the sweep over n, on principal blocks of the big kernel
    log("sweep over n")
    sweep = sample_size_sweep(big, plan.sizes, random_state=seed)
    numbers["sweep"] = sweep
    figs["sweep"] = out / "sweep.png"
    plot_sample_size_sweep(figs["sweep"], sweep)

    # 4. random start of the same architecture
    log("random start: model, eNTK, fine-tuning")
    twin = _load(model_name, "random", seed, plan.max_length, device)
    twin.fit_probe(data.head_split)
    with progress("eNTK (random)") as cb:
        kernel_r = empirical_ntk(
            twin,
            train,
            data.test,
            params=params,
            block_size=plan.block_size,
            callback=cb,
        )
    alpha_r = 1.0 / float(spectrum(kernel_r).eigenvalues[0])
    with progress("fine-tune (random)", plan.n_steps) as cb:
        real_r = finetune(
            twin,
            train,
            data.test,
            params=params,
            n_steps=plan.n_steps,
            step_size=alpha_r,
            device=device,
            random_state=seed,
            callback=cb,
        )
    starts = {
        "pretrained": start_summary(kernel, real),
        "random": start_summary(kernel_r, real_r),
    }
    numbers["starts"] = starts
    del twin
    figs["spectra"] = out / "spectra.png"
    plot_spectra(figs["spectra"], starts)
    paths = []
    for k, s, r in (
        (kernel, starts["pretrained"], real),
        (kernel_r, starts["random"], real_r),
    ):
        # the kernel's curve over the run and on to past T_hat
        t_end = 1.5 * max(min(s["t_hat"], 10**6), plan.n_steps)
        grid = np.unique(
            np.r_[np.arange(plan.n_steps + 1), np.geomspace(1, t_end, 40).round()]
        )
        paths.append(kernel_gradient_descent(k, grid, step_size=r.step_size))
    figs["learning_curves"] = out / "learning_curves.png"
    plot_learning_curves(
        figs["learning_curves"],
        [
            ("pretrained start", real, starts["pretrained"]["t_hat"]),
            ("random start", real_r, starts["random"]["t_hat"]),
        ],
        paths,
    )

    # 5. task vectors: a head fitted on every task, one run per task
    log("task vectors: fine-tuning on each task")
    task_data = [
        _task(t, plan.n_task, plan.n_task_test, seed, plan.n_task_probe) for t in tasks
    ]
    union_probe = Split(
        sum((d.head_split.texts for d in task_data), []),
        np.concatenate([d.head_split.labels for d in task_data]),
        [],
    )
    union_train = Split(
        sum((d.train.texts for d in task_data), []),
        np.concatenate([d.train.labels for d in task_data]),
        [],
    )
    union_test = Split(
        sum((d.test.texts for d in task_data), []),
        np.concatenate([d.test.labels for d in task_data]),
        [],
    )
    model.fit_probe(union_probe)
    with progress("eNTK (tasks)") as cb:
        kernel_t = empirical_ntk(
            model,
            union_train,
            union_test,
            params=params,
            block_size=plan.block_size,
            callback=cb,
        )
    tr_idx = [
        np.arange(k * plan.n_task, (k + 1) * plan.n_task) for k in range(len(tasks))
    ]
    te_idx = [
        np.arange(k * plan.n_task_test, (k + 1) * plan.n_task_test)
        for k in range(len(tasks))
    ]
    task_runs, task_alphas = [], []
    for k, d in enumerate(task_data):
        sub = kernel_t.train[np.ix_(tr_idx[k], tr_idx[k])] / plan.n_task
        a_k = 1.0 / float(np.linalg.eigvalsh(sub).max())
        with progress(f"fine-tune ({d.name})", plan.task_steps) as cb:
            task_runs.append(
                finetune(
                    model,
                    d.train,
                    d.test,
                    params=params,
                    n_steps=plan.task_steps,
                    step_size=a_k,
                    device=device,
                    random_state=seed,
                    callback=cb,
                )
            )
        task_alphas.append(a_k)
    log("task vectors: grids")
    grid_alphas = alpha_grid(plan.alphas, len(tasks))
    with progress("task-vector grid", len(grid_alphas)) as cb:
        real_grid = task_vector_grid(
            model,
            task_runs[0].initial_params,
            [r.task_vector() for r in task_runs],
            [d.test for d in task_data],
            grid_alphas,
            names=list(tasks),
            callback=cb,
        )
    kern_grid, deltas = kernel_task_predictions(
        kernel_t,
        tr_idx,
        te_idx,
        [plan.task_steps] * len(tasks),
        task_alphas,
        grid_alphas,
        names=list(tasks),
    )
    interference = task_interference(kernel_t, tr_idx, te_idx, deltas)
    numbers["task_vectors"] = {
        "alphas": grid_alphas,
        "real_accuracy": real_grid.accuracy,
        "real_risk": real_grid.risk,
        "kernel_accuracy": kern_grid.accuracy,
        "kernel_risk": kern_grid.risk,
        "step_sizes": task_alphas,
        "runs": [r.summary() for r in task_runs],
        **interference,
    }
    if len(tasks) == 2:
        figs["task_vectors"] = out / "task_vectors.png"
        plot_task_vector_grid(
            figs["task_vectors"], plan.alphas, real_grid, kern_grid, list(tasks)
        )
    log("writing the report")
    return numbers, figs, (real_grid, kern_grid)


def _close(a, b, rel):
    return bool(abs(a - b) <= rel * max(abs(a), abs(b), 1e-12))


def _sections(numbers, figs, grids):
    traj, drift = numbers["trajectories"], numbers["kernel_drift"]
    real_end = float(np.asarray(traj["real_test_risk"])[-1])
    kern_end = float(np.asarray(traj["kernel_test_risk"])[-1])
    rel_gap = traj["max_real_vs_linear"] / traj["prediction_scale"]
    sections = [
        Section(
            "Real, linearised and kernel trajectories",
            "Full-batch gradient descent with step size alpha = 1/lambda_1 of K/n on "
            "the squared loss, on the network, on its linearisation f_lin (jvp) and in "
            "closed form with the eNTK at theta_0 (Sun and Raskutti 2026, section 3). "
            "The linearised run and the closed form must agree to float32 round-off; "
            "the real network agrees with them as long as the eNTK does not move.",
            [
                Claim(
                    "max RMS gap, linearised run vs closed-form kernel GD",
                    traj["max_linear_vs_kernel"],
                    0.0,
                    agrees=traj["max_linear_vs_kernel"]
                    < 1e-3 * traj["prediction_scale"],
                    note="agrees when < 1e-3 of the RMS prediction (float32)",
                ),
                Claim(
                    "max RMS gap, real vs linearised, over |f_0|",
                    rel_gap,
                    0.0,
                    agrees=rel_gap < 0.1,
                    note="kernel regime: agrees when below 0.1",
                ),
                Claim(
                    "held-out risk at the last step, real vs kernel",
                    real_end,
                    kern_end,
                    agrees=_close(real_end, kern_end, 0.1),
                    note="within 10%",
                ),
                Claim(
                    f"kernel distance 1 - <K_0,K_t>/(|K_0||K_t|) at t="
                    f"{int(drift['steps'][-1])}",
                    float(drift["distance"][-1]),
                    0.0,
                    agrees=float(drift["distance"][-1]) < 0.05,
                    note="lazy training predicts ~0; agrees when below 0.05",
                ),
                Claim(
                    "relative change |K_t - K_0|/|K_0| at the last step",
                    float(drift["relative_change"][-1]),
                    0.0,
                ),
            ],
            [figs["trajectories"]],
            ["Held-out risk of the three trajectories and their RMS gaps."],
        )
    ]

    st = numbers["stopping"]["fine_tuning"]
    sk = numbers["stopping"]["kernel"]
    sections.append(
        Section(
            "Stopping: T_hat against the best held-out step",
            "T_hat = min{t : R_hat(1/sqrt(alpha t)) > R/(2 e sigma alpha t)} - 1 "
            f"(Raskutti, Wainwright and Yu 2014, eq. 12), sigma from the label range "
            f"({st['noise_level']:.3g}), R from a ridge-smoothed residual "
            f"({st['radius']:.3g}). The hold-out choice picks the step of least "
            "risk on half of the held-out set; all three are scored on the other half.",
            [
                Claim(
                    "best held-out step of real fine-tuning",
                    st["best_step"],
                    st["t_hat"],
                    note="T_hat beyond the run: scored at the last step"
                    if st["t_hat_beyond_run"]
                    else "T_hat within the run",
                ),
                Claim(
                    "held-out risk at T_hat vs at the best step (real)",
                    st["risk_at_t_hat"],
                    st["risk_at_best"],
                    agrees=st["risk_at_t_hat"] <= 1.1 * st["risk_at_best"],
                    note="agrees when within 10% of the best",
                ),
                Claim(
                    "evaluation-half risk: hold-out choice vs T_hat",
                    st["eval_risk_at_holdout"],
                    st["eval_risk_at_t_hat"],
                ),
                Claim(
                    "best held-out step of kernel GD (closed form)",
                    sk["kernel_best_step"],
                    sk["t_hat"],
                ),
                Claim(
                    "kernel GD held-out risk at T_hat vs at its best",
                    sk["kernel_risk_at_t_hat"],
                    sk["kernel_risk_at_best"],
                    agrees=sk["kernel_risk_at_t_hat"]
                    <= 1.1 * sk["kernel_risk_at_best"],
                    note="within 10%",
                ),
            ],
            [figs["learning_curves"]],
            ["Learning curves of the pretrained and random starts, T_hat marked."],
        )
    )

    sw = numbers["sweep"]
    pred = sw["predicted"]
    sections.append(
        Section(
            "Sample size: steps and best risk against the eigenvalue decay",
            "Nested training sets (principal blocks of one eNTK); for each n the "
            "polynomial decay rate beta of K/n, T_hat and the best held-out step of "
            "closed-form kernel GD. The minimax theory predicts excess risk ~ "
            "n^(-beta/(beta+1)) at eta = alpha t ~ n^(beta/(beta+1)). The held-out "
            "risk includes label noise, so its measured slope is flatter than the "
            "excess-risk exponent.",
            [
                Claim("mean fitted polynomial decay beta", sw["mean_polynomial_rate"]),
                Claim(
                    "slope of log best held-out risk vs log n",
                    sw["risk_slope"],
                    pred.get("risk_exponent"),
                    agrees=(sw["risk_slope"] <= 0) if pred else None,
                    note="agrees when the risk falls with n (noise floor flattens)",
                ),
                Claim(
                    "slope of log alpha t_best vs log n",
                    sw["eta_best_slope"],
                    pred.get("eta_exponent"),
                ),
                Claim(
                    "slope of log alpha T_hat vs log n",
                    sw["eta_t_hat_slope"],
                    pred.get("eta_exponent"),
                ),
            ],
            [figs["sweep"]],
            ["Best held-out risk and stopping times against n."],
        )
    )

    pre, rnd = numbers["starts"]["pretrained"], numbers["starts"]["random"]
    sections.append(
        Section(
            "Pretrained vs random start",
            "The same architecture from its pretrained weights and from a fresh "
            "initialisation (same seed, same data, alpha = 1/lambda_1 of each eNTK). "
            "Measured: pretrained; predicted column: the random start's value.",
            [
                Claim(
                    "polynomial decay rate of K/n",
                    pre["polynomial_rate"],
                    rnd["polynomial_rate"],
                ),
                Claim(
                    "effective dimension of K/n",
                    pre["effective_dimension"],
                    rnd["effective_dimension"],
                ),
                Claim(
                    "steps to the best held-out risk",
                    pre["best_step"],
                    rnd["best_step"],
                    agrees=pre["best_step"] <= rnd["best_step"],
                    note="agrees when the pretrained start needs no more steps",
                ),
                Claim(
                    "best held-out risk",
                    pre["best_test_risk"],
                    rnd["best_test_risk"],
                    agrees=pre["best_test_risk"] <= rnd["best_test_risk"],
                    note="agrees when the pretrained start is better",
                ),
                Claim(
                    "final held-out accuracy",
                    pre["final_test_accuracy"],
                    rnd["final_test_accuracy"],
                ),
            ],
            [figs["spectra"]],
            ["Eigenvalues of K/n at the pretrained and the random start."],
        )
    )

    tv = numbers["task_vectors"]
    real_grid, kern_grid = grids
    names = real_grid.task_names
    claims = []
    for point, word in (
        ([1.0] * len(names), "sum of all task vectors"),
        ([-1.0] + [0.0] * (len(names) - 1), f"negated {names[0]} vector"),
    ):
        r, k = real_grid.at(point), kern_grid.at(point)
        for name in names:
            claims.append(
                Claim(
                    f"{word}: accuracy on {name} (real vs kernel prediction)",
                    r["accuracy"][name],
                    k["accuracy"][name],
                    agrees=abs(r["accuracy"][name] - k["accuracy"][name]) <= 0.1,
                    note="within 0.1",
                )
            )
    align = np.asarray(tv["alignment"])
    reach = np.asarray(tv["reach"])
    claims.append(
        Claim(
            "cross-task kernel alignment |K(X_1,X_2)| / sqrt(|K_11||K_22|)",
            float(align[0, 1]),
        )
    )
    claims.append(
        Claim(
            f"reach of the {names[1]} regressor on {names[0]} "
            "(RMS, relative to its own)",
            float(reach[0, 1]),
        )
    )
    sections.append(
        Section(
            "Task vectors",
            "tau_k = theta_k - theta_0 after fine-tuning the attention parameters on "
            "each task (a head fitted on all tasks); theta_0 + sum alpha_k tau_k is "
            "evaluated over a grid of alpha (negative: negation). The kernel "
            "prediction is f_0 + sum alpha_k delta_k, delta_k the kernel regressor of "
            "task k at its number of steps; it equals the merged linearised model "
            "exactly (tested).",
            claims,
            [figs["task_vectors"]] if "task_vectors" in figs else [],
            [
                "Accuracy on each task over the alpha grid, real (top) and kernel "
                "prediction (bottom)."
            ],
        )
    )
    return sections


def reproduce(
    out,
    *,
    quick=False,
    model="minilm",
    tasks=("tweets-sentiment", "bbc-sport-politics"),
    params="attention",
    device="cpu",
    random_state=0,
    n_max=None,
    n_steps=None,
    progress=None,
    stage_callback=None,
) -> Path:
    """Run the fine-tuning study and write figures, numbers and a report.

    Parameters
    ----------
    out : str or pathlib.Path
        Output folder (created).
    quick : bool, default=False
        :data:`QUICK` (MiniLM: about 2.5 minutes on two cores) instead of
        :data:`FULL`.
    model : str or path, default="minilm"
        As :func:`initscape.ntk.load_model` takes it, or ``"tiny-encoder"`` /
        ``"tiny-causal"`` (random test models, for tests).
    tasks : sequence of str, default=("tweets-sentiment", "bbc-sport-politics")
        Two or more tasks as :func:`initscape.ntk.load_task` takes them; the first
        is the main one, all of them give task vectors.
    params : str, default="attention"
        The parameters that move.
    device : {"cpu", "cuda"}, default="cpu"
        Where fine-tuning runs.
    random_state : int, default=0
        Seeds the samples, the random start and the hold-out halves.
    n_max : int or None, default=None
        Overrides the plan's largest training set (the sweep stops there).
    n_steps : int or None, default=None
        Overrides the plan's number of fine-tuning steps (every run).
    progress : callable or None, default=None
        ``progress(description, total)`` returns a context manager that yields a
        ``callback(done, total)`` for one loop (the CLI's progress bars).
    stage_callback : callable or None, default=None
        ``stage_callback(stage, elapsed_seconds)`` as each stage starts.

    Returns
    -------
    pathlib.Path
        Path of ``index.html``.
    """
    # the plan, with the overrides
    plan = QUICK if quick else FULL
    if n_max is not None:
        sizes = tuple(s for s in plan.sizes if s < n_max) + (n_max,)
        plan = replace(plan, n_max=n_max, n_run=min(plan.n_run, n_max), sizes=sizes)
    if n_steps is not None:
        plan = replace(
            plan,
            n_steps=n_steps,
            task_steps=n_steps,
            snapshots=tuple(s for s in plan.snapshots if s < n_steps),
        )
    tasks = list(tasks)
    if len(tasks) < 2:
        raise ValueError(f"tasks must name at least 2 tasks; got {tasks!r}.")
    seed = int(random_state)
    # refused before the first model is loaded, not at the first fine-tuning run
    device = check_device(device)

    # the study
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = _Stages(stage_callback)
    numbers, figs, grids = _run(
        plan, model, tasks, params, seed, device, out, log, progress or _no_progress
    )
    numbers["seconds"] = time.perf_counter() - log.clock
    numbers["cpu_seconds"] = time.process_time() - log.cpu
    numbers["stage_seconds"] = log.times

    # the report
    intro = (
        f"initscape reproduce ntk{' --quick' if quick else ''}: model {model}, "
        f"tasks {', '.join(tasks)}, parameters {params}, seed {seed}, device "
        f"{device}; {numbers['seconds']:.0f} s wall-clock, "
        f"{numbers['cpu_seconds']:.0f} s of CPU time. Each claim of Sun and "
        "Raskutti (2026) is measured beside its prediction."
    )
    return write_report(
        out,
        "Fine-tuning from a pretrained start against the eNTK's prediction",
        intro,
        _sections(numbers, figs, grids),
        numbers,
    )

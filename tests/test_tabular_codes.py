"""TabularPreprocessor(max_one_hot=...): category codes for learned embeddings,
and the masks of output columns (``numeric_columns_``, ``code_columns_``)."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sknumpynet import TabularPreprocessor

pd = pytest.importorskip("pandas")


def frame():
    return pd.DataFrame(
        {
            "x": [1.0, None, 3.0, 4.0, 5.0, 6.0],
            "city": ["b", "a", None, "c", "a", "d"],  # 4 categories
            "plan": ["p", "q", "r", "p", "q", "r"],  # 3
            "smoker": ["y", "n", "y", "n", None, "y"],  # 2: +-1
            "member": [True, False, True, None, True, True],  # boolean, 2
        }
    )


def test_default_has_no_codes_and_marks_numeric_columns():
    prep = TabularPreprocessor().fit(frame())
    assert prep.code_columns_.dtype.kind == "i" and len(prep.code_columns_) == 0
    assert prep.n_codes_.dtype.kind == "i" and len(prep.n_codes_) == 0
    names = prep.get_feature_names_out().tolist()
    assert names[:2] == ["x", "x_missing"]
    assert prep.numeric_columns_.dtype == bool
    assert_array_equal(prep.numeric_columns_, [name == "x" for name in names])


def test_codes_for_seen_unseen_and_missing():
    X = frame()
    prep = TabularPreprocessor(max_one_hot=3, scale_encoded=False).fit(X)
    names = prep.get_feature_names_out().tolist()
    assert names == [
        "x",
        "x_missing",
        "city_code",
        "plan_p",
        "plan_q",
        "plan_r",
        "smoker",
        "member",
    ]
    assert_array_equal(prep.code_columns_, [2])
    assert_array_equal(prep.n_codes_, [5])
    assert prep.categories_[1].tolist() == ["a", "b", "c", "d"]
    Z = prep.transform(X)
    assert_array_equal(Z[:, 2], [2, 1, 0, 3, 1, 4])  # None: 0
    new = pd.DataFrame(
        {
            "x": [1.0, 2.0],
            "city": ["zzz", "d"],  # unseen: 0
            "plan": ["p", "p"],
            "smoker": ["y", "y"],
            "member": [True, True],
        }
    )
    assert_array_equal(prep.transform(new)[:, 2], [0, 4])
    # Never scaled nor clipped, even when the encoded columns are.
    scaled = TabularPreprocessor(max_one_hot=3).fit(X)
    assert not scaled.scaled_mask_[2]
    assert scaled.center_[2] == 0 and scaled.factor_[2] == 1
    assert_array_equal(scaled.transform(X)[:, 2], Z[:, 2])
    assert_array_equal(
        scaled.numeric_columns_, [True, False, False, False, False, False, False, False]
    )


def test_two_category_columns_become_codes_below_two():
    X = frame()
    prep = TabularPreprocessor(max_one_hot=1, scale_encoded=False).fit(X)
    names = prep.get_feature_names_out().tolist()
    assert names == ["x", "x_missing", "city_code", "plan_code", "smoker_code"] + [
        "member_code"
    ]
    assert_array_equal(prep.code_columns_, [2, 3, 4, 5])
    assert_array_equal(prep.n_codes_, [5, 4, 3, 3])
    Z = prep.transform(X)
    # smoker: categories n, y; member: True first, missing 0.
    assert_array_equal(Z[:, 4], [2, 1, 2, 1, 0, 2])
    assert_array_equal(Z[:, 5], [1, 2, 1, 0, 1, 1])
    assert_array_equal(prep.numeric_columns_, [True] + [False] * 5)
    # max_one_hot=0: every categorical column with a category is codes.
    zero = TabularPreprocessor(max_one_hot=0).fit(X)
    assert_array_equal(zero.code_columns_, prep.code_columns_)


def test_max_categories_applies_before_max_one_hot():
    X = pd.DataFrame({"c": list("aaabbbccddef")})
    kept = TabularPreprocessor(max_categories=3, max_one_hot=3).fit(X)
    # Three kept: one-hot, the others as zeros.
    assert kept.get_feature_names_out().tolist() == ["c_a", "c_b", "c_c"]
    coded = TabularPreprocessor(max_categories=4, max_one_hot=3).fit(X)
    assert coded.get_feature_names_out().tolist() == ["c_code"]
    assert_array_equal(coded.n_codes_, [5])
    assert_array_equal(coded.transform(X)[:, 0], [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 0, 0])


def test_codes_with_datetime_and_indicators_mixed():
    X = frame()
    X["when"] = pd.to_datetime(
        ["2024-01-01", None, "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
    )
    X["big"] = [str(i) for i in range(6)]
    prep = TabularPreprocessor(max_one_hot=4, datetime_periodic=False).fit(X)
    names = prep.get_feature_names_out().tolist()
    assert names[-1] == "big_code"
    assert_array_equal(prep.code_columns_, [len(names) - 1])
    assert_array_equal(prep.n_codes_, [7])
    assert_array_equal(prep.transform(X)[:, -1], [1, 2, 3, 4, 5, 6])
    expected = ["x"] + [f"when_{f}" for f in ("year", "month", "day", "weekday")]
    expected += ["when_total_seconds"]
    assert [n for n, m in zip(names, prep.numeric_columns_) if m] == expected
    assert "when_missing" in names and "city_code" not in names
    assert prep.scaled_mask_[prep.numeric_columns_].all()


def test_codes_of_integer_categories_and_arrays():
    X = np.array([[3], [1], [2], [3], [7]])
    prep = TabularPreprocessor(categorical_features=[0], max_one_hot=2).fit(X)
    assert prep.get_feature_names_out().tolist() == ["x0_code"]
    assert_array_equal(prep.transform(X)[:, 0], [3, 1, 2, 3, 4])
    assert_array_equal(prep.transform(np.array([[5]]))[:, 0], [0])

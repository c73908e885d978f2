"""Order of the examples in the gallery: the seed article's example first."""

from pathlib import Path

#: Examples in the order they appear; any other example follows, by file name.
ORDER = [
    "plot_seed_article.py",
    "plot_compare_sklearn.py",
    "plot_digits_grid_search.py",
    "plot_tabular_raw_frame.py",
    "plot_training_curves.py",
    "plot_partial_fit_streaming.py",
    "plot_save_load_resume.py",
    "plot_dask_grid_search.py",
    "plot_out_of_core.py",
]


class SeedFirstSortKey:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    Parameters
    ----------
    src_dir : str or pathlib.Path
        The gallery's source directory (unused; sphinx-gallery passes it).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return f"SeedFirstSortKey({ORDER!r})"

    def __call__(self, filename):
        name = Path(filename).name
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return (rank, name)

"""pytest runs the notebooks (``*.ipynb``) with nbmake.

Their jupytext twins (``*.py``, the percent-format copies that reviewers read)
are not modules: with ``--doctest-modules`` pytest would import them, which runs
the whole notebook at its teaching values during collection.
"""
collect_ignore_glob = ["*.py"]

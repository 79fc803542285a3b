"""Sample data files installed with quantreg (read them with :mod:`quantreg.datasets`).

``french_portfolios.parquet`` is written by ``data/make_french_portfolios.py`` in the
repository; ``data/README.md`` there states its source, units and terms of use.
"""

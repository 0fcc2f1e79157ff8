"""Datasets named by a card's recipe (kept for old imports: see :mod:`emozoo.data.recipes`)."""

from emozoo.data.recipes import describe_sources, recipe_datasets, records_for

__all__ = ["describe_sources", "recipe_datasets", "records_for"]

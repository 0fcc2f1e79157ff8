"""Datasets named by a recipe: fixed quick-check subsets."""

from __future__ import annotations

import pytest


def test_sample_subsets_are_fixed_and_checked(data_root):
    from emozoo.data.recipes import records_for

    first = records_for([["meld_text", "test", {"sample": 50}]])
    again = records_for([["meld_text", "test", {"sample": 50}]])
    assert len(first) == 50 and first.items == again.items
    for bad in (0, 10**6, "50"):
        with pytest.raises(ValueError, match="sample"):
            records_for([["meld_text", "test", {"sample": bad}]])

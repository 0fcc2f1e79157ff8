"""Re-evaluating the zoo: fixed quick-check subsets of pairs."""

from __future__ import annotations

import numpy as np
import pytest


def test_sample_pairs():
    from emozoo.data.pairs import PairList
    from emozoo.evaluation.zoo import sample_pairs

    n = np.arange(10)
    pairs = PairList(n, n, n, n % 2, ("a", "b"))
    kept = sample_pairs(pairs, 4)
    assert len(kept) == 4 and (np.diff(kept.face) > 0).all()
    np.testing.assert_array_equal(kept.labels, kept.face % 2)
    with pytest.raises(ValueError, match="sample"):
        sample_pairs(pairs, 11)

"""Convert all-MiniLM-L6-v2 into emozoo's Keras BERT backbone and check it (see
:mod:`emozoo.convert.minilm`).

    python tools/convert_minilm.py [--wheel PATH] [--out runs/minilm/minilm_backbone.weights.h5]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from emozoo.convert.minilm import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())

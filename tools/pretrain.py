"""Train a registered model from its recipe and ship the result: ``emozoo pretrain`` (see
:mod:`emozoo.training.pretrain`).

    python tools/pretrain.py face_cnn [--epochs N] [--log-dir runs/face_cnn]
    python tools/pretrain.py zoo_configs/face_cnn.yaml ...   (the same)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from emozoo.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(["pretrain", *sys.argv[1:]]))

"""Build the WordPiece vocabulary shipped with emozoo's text models.

Learns the vocabulary with ``keras_hub.tokenizers.compute_word_piece_vocabulary``
from the *training* splits of the text datasets in ``$EMOZOO_DATA_DIR`` (default
``../shared/data``): CARER, GoEmotions and MELD. Validation and test text is never
read, so no evaluation sentence shapes the vocabulary.

    python tools/build_vocab.py --size 8000 --out emozoo/assets/wordpiece_vocab.txt

Ends with one JSON line: vocabulary size, sentences read, unknown-token rate on the
CARER test split.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TRAINING_TEXT = {
    "carer_emotion/train.csv": "text",
    "goemotions/train.csv": "text",
    "meld_text/train_sent_emo.csv": "Utterance",
}


def read_column(path: Path, column: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f) if row[column].strip()]


def main(argv=None) -> int:
    from emozoo.paths import ASSETS_DIR, data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8000, help="vocabulary size")
    parser.add_argument("--out", type=Path, default=ASSETS_DIR / "wordpiece_vocab.txt")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    import keras_hub
    import tensorflow as tf

    root = args.data_dir or data_dir()
    sentences = []
    for relative, column in TRAINING_TEXT.items():
        path = root / relative
        if not path.exists():
            print(f"error: {path} not found (set EMOZOO_DATA_DIR)", file=sys.stderr)
            return 2
        rows = read_column(path, column)
        print(f"{relative}: {len(rows)} sentences")
        sentences += rows
    start = time.time()
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(sentences).batch(1024),
        vocabulary_size=args.size,
        lowercase=True,
        strip_accents=True,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    print(f"wrote {len(vocabulary)} tokens to {args.out} in {time.time() - start:.0f}s")

    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=str(args.out), lowercase=True, strip_accents=True
    )
    test = read_column(root / "carer_emotion/test.csv", "text")
    # A tokenizer without sequence_length gives one id list per sentence.
    ids = np.concatenate([np.asarray(row).ravel() for row in tokenizer(test)])
    unk_rate = float((ids == tokenizer.token_to_id("[UNK]")).mean())
    print(f"CARER test: {len(ids)} tokens, unknown-token rate {unk_rate:.4%}")
    print(
        json.dumps(
            {
                "vocabulary_size": len(vocabulary),
                "sentences": len(sentences),
                "carer_test_unk_rate": unk_rate,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

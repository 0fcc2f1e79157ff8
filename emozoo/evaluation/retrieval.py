"""Cross-modal retrieval from aligned embeddings: does a face find voices of its emotion?

Pseudo-pairs share a label, not a moment, so a retrieved item counts as relevant when
it has the query's label. Two figures per direction, each beside its chance level
(the same ranking with the gallery shuffled):

- ``recall@k``: the fraction of queries with at least one relevant item in the top ``k``;
- ``precision@k``: the mean fraction of relevant items in the top ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emozoo.evaluation.report import write_report_files


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def retrieval_metrics(
    queries: np.ndarray,
    query_labels: np.ndarray,
    gallery: np.ndarray,
    gallery_labels: np.ndarray,
    k: int = 10,
    seed: int = 0,
) -> dict[str, float]:
    """Label-level retrieval figures of cosine-similarity ranking.

    Args:
        queries: ``(n, dim)`` embeddings of the query modality.
        query_labels: ``(n,)`` int labels.
        gallery: ``(m, dim)`` embeddings of the other modality, ``m >= k``.
        gallery_labels: ``(m,)`` int labels.
        k: cut-off.
        seed: seeds the shuffled-gallery chance figures.

    >>> rng = np.random.default_rng(0)
    >>> g = rng.normal(size=(20, 4)); labels = np.arange(20) % 2
    >>> retrieval_metrics(g, labels, g, labels, k=1)["precision@1"]
    1.0
    """
    relevant, chance = _relevance(queries, query_labels, gallery, gallery_labels, k, seed)
    return {
        f"recall@{k}": float(relevant.any(axis=1).mean()),
        f"precision@{k}": float(relevant.mean()),
        f"chance_recall@{k}": float(chance.any(axis=1).mean()),
        f"chance_precision@{k}": float(chance.mean()),
        "queries": int(len(relevant)),
        "gallery": int(len(gallery)),
    }


def _relevance(queries, query_labels, gallery, gallery_labels, depth: int, seed: int = 0):
    """``(relevant, chance)``: ``(queries, depth)`` booleans of the ranked and the
    shuffled gallery, True where the item has the query's label."""
    queries, gallery = _normalise(queries), _normalise(gallery)
    query_labels = np.asarray(query_labels).reshape(-1)
    gallery_labels = np.asarray(gallery_labels).reshape(-1)
    if len(queries) != len(query_labels) or len(gallery) != len(gallery_labels):
        raise ValueError("Each embedding needs one label")
    if queries.shape[-1] != gallery.shape[-1]:
        raise ValueError(
            f"Queries ({queries.shape[-1]}-d) and gallery ({gallery.shape[-1]}-d) are not "
            "in one space"
        )
    if not 0 < depth <= len(gallery):
        raise ValueError(f"k must be between 1 and the gallery size {len(gallery)}, got {depth}")
    top = np.argsort(-(queries @ gallery.T), axis=1, kind="stable")[:, :depth]
    shuffled = np.random.default_rng(seed).permuted(
        np.broadcast_to(gallery_labels, (len(queries), len(gallery))), axis=1
    )[:, :depth]
    return gallery_labels[top] == query_labels[:, None], shuffled == query_labels[:, None]


@dataclass
class RetrievalReport:
    """Cross-modal retrieval figures of one query -> gallery direction."""

    name: str
    metrics: dict[str, float]
    precision_curve: list[float]
    chance_precision: float

    @classmethod
    def from_embeddings(
        cls, name: str, queries, query_labels, gallery, gallery_labels, k: int = 10
    ) -> RetrievalReport:
        metrics = retrieval_metrics(queries, query_labels, gallery, gallery_labels, k=k)
        depth = min(50, len(gallery))
        relevant, _ = _relevance(queries, query_labels, gallery, gallery_labels, depth)
        curve = (relevant.cumsum(axis=1) / np.arange(1, depth + 1)).mean(axis=0)
        return cls(name, metrics, [float(p) for p in curve], metrics[f"chance_precision@{k}"])

    def table(self) -> str:
        m = self.metrics
        k = next(key for key in m if key.startswith("recall@")).split("@")[1]
        return (
            f"{self.name}\n"
            f"recall@{k} {m[f'recall@{k}']:.4f} (chance {m[f'chance_recall@{k}']:.4f})  "
            f"precision@{k} {m[f'precision@{k}']:.4f} (chance {m[f'chance_precision@{k}']:.4f})  "
            f"queries={m['queries']} gallery={m['gallery']}"
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "metrics": self.metrics,
            "precision_at_k": self.precision_curve,
        }

    def save(self, folder: str | Path, stem: str) -> dict[str, Path]:
        """Write ``<stem>.json``, ``<stem>.txt`` and ``<stem>_precision.png`` into ``folder``."""
        return write_report_files(self, folder, stem, "precision", self.plot)

    def plot(self, path: str | Path) -> None:
        """Precision@k for k = 1..50 against the shuffled-gallery chance level."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ks = np.arange(1, len(self.precision_curve) + 1)
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
        ax.plot(ks, self.precision_curve, label="aligned embeddings")
        ax.axhline(self.chance_precision, color="grey", linestyle="--", label="chance")
        ax.set_xlabel("k")
        ax.set_ylabel("precision@k (same label)")
        ax.set_ylim(0, 1)
        ax.set_title(self.name, fontsize=9)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

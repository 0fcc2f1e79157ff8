"""Real export samples for the BERT-style text model."""

from __future__ import annotations


def test_export_samples_fit_the_bert_vocabulary(data_root):
    """BERT's 2-row segment embedding is not the token table: real texts feed text_minilm."""
    from emozoo.export import real_samples

    samples = real_samples("text_minilm", "test", n=3)
    ids = samples.inputs["text"]
    assert ids.shape == (3, 64) and ids.max() < 30522 and (ids[:, 0] == 101).all()  # [CLS]

"""emozoo's plain-Python WordPiece gives keras-hub's (TensorFlow) ids, exactly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import emozoo
from emozoo.data import load_source, sample_indices

TRICKY = [
    "Café crème brûlée; naïve résumé — ÜBER strange punctuation?!",
    "我今天非常生气，真的很生气 and 日本語のテキスト",
    "emoji 😡😂👍🏽 and ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ",
    "zero\u200bwidth soft\u00adhyphen tab\tnew\nline",
    "a" * 150 + " supercalifragilisticexpialidocious antidisestablishmentarianism",
    "İstanbul ß straße ǅ ﬁ ligature Ⅻ ①",
    '"quotes" `ticks` ~tilde~ ^caret^ $dollar$ 100% #hash @at',
    "can't won't I'm y'all ... ?!?! ---",
]


@pytest.fixture(scope="module")
def texts(data_root) -> list[str]:
    found = list(TRICKY)
    for source, split in (("carer_emotion", "test"), ("goemotions", "test"), ("meld_text", "test")):
        items = load_source(source, split).items
        found += [items[i] for i in sample_indices(len(items), 1000)]
    return found


@pytest.mark.parametrize("name", ["text_bilstm", "text_minilm", "text_mpnet"])
def test_python_ids_equal_tensorflow_ids(name, texts):
    pre = emozoo.load_preprocessor(name).text
    ours = pre(texts)
    theirs = np.asarray(pre.tokenize(texts))
    differ = [i for i in range(len(texts)) if not np.array_equal(ours[i], theirs[i])]
    assert not differ, [texts[i][:60] for i in differ[:5]]


def test_text_preprocessing_starts_no_tensorflow():
    code = (
        "import sys, emozoo; pre = emozoo.load_preprocessor('text_minilm'); "
        "print(pre(text=['I am furious!'])['text'][0][:6].tolist()); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[1] == "[]"

"""Data: dataset adapters, custom data, tf.data pipelines and augmentation."""

from emozoo.data.datasets import SOURCES, DatasetNotFoundError, load_source
from emozoo.data.label_maps import TO_CANONICAL, UnknownLabelError, encode_labels
from emozoo.data.records import Records

__all__ = [
    "SOURCES",
    "TO_CANONICAL",
    "DatasetNotFoundError",
    "Records",
    "UnknownLabelError",
    "encode_labels",
    "load_source",
]

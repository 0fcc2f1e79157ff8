"""Data: dataset adapters, custom data, tf.data pipelines and augmentation."""

from emozoo.data.augment import AudioAugment, FaceAugment, TextAugment
from emozoo.data.custom import (
    from_audio_folder,
    from_image_folder,
    from_manifest,
    from_text_csv,
    preprocessor_for_model,
    read_manifest,
)
from emozoo.data.datasets import SOURCES, DatasetNotFoundError, load_source
from emozoo.data.label_maps import TO_CANONICAL, UnknownLabelError, encode_labels
from emozoo.data.pairs import PairList, build_pairs, load_pairs, pairs_dataset
from emozoo.data.pipeline import SkipReport, augment_dataset, make_dataset
from emozoo.data.records import Records, concat_records, sample_indices

__all__ = [
    "SOURCES",
    "TO_CANONICAL",
    "AudioAugment",
    "DatasetNotFoundError",
    "FaceAugment",
    "PairList",
    "Records",
    "SkipReport",
    "TextAugment",
    "UnknownLabelError",
    "augment_dataset",
    "build_pairs",
    "concat_records",
    "encode_labels",
    "from_audio_folder",
    "from_image_folder",
    "from_manifest",
    "from_text_csv",
    "load_pairs",
    "load_source",
    "make_dataset",
    "pairs_dataset",
    "preprocessor_for_model",
    "read_manifest",
    "sample_indices",
]

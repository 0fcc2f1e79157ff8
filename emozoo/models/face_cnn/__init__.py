"""``face_cnn``: a mini-Xception style CNN on 48x48 grayscale face crops."""

from emozoo.models.face_cnn.model import build_face_cnn
from emozoo.models.family import FamilySpec, register_family

SPEC = register_family(
    FamilySpec(
        name="face_cnn",
        builder=build_face_cnn,
        modalities=("face",),
        preprocessing={"face": {"image_size": 48, "color": "grayscale", "pixel_range": [0, 255]}},
        test_config={
            "image_size": 32,
            "stem_filters": 8,
            "block_filters": (16, 32),
            "dropout": 0.1,
        },
    )
)

__all__ = ["SPEC", "build_face_cnn"]

"""``face_vgg``: a VGG-style CNN on 48x48 grayscale face crops, flip averaging in the graph."""

from emozoo.models.face_vgg.model import HorizontalFlip, Translate, build_face_vgg, face_vgg_trunk
from emozoo.models.family import FamilySpec, register_family

SPEC = register_family(
    FamilySpec(
        name="face_vgg",
        builder=build_face_vgg,
        modalities=("face",),
        preprocessing={"face": {"image_size": 48, "color": "grayscale", "pixel_range": [0, 255]}},
        test_config={"image_size": 32, "widths": (8, 16), "dropout": 0.1},
    )
)

__all__ = ["SPEC", "HorizontalFlip", "Translate", "build_face_vgg", "face_vgg_trunk"]

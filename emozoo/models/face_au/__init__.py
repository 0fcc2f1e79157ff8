"""``face_au``: facial action units (OpenFace 2 AU means), standardised, small MLP."""

from emozoo.models.face_au.model import AUStandardization, build_face_au, set_au_statistics
from emozoo.models.family import FamilySpec, register_family

SPEC = register_family(
    FamilySpec(
        name="face_au",
        builder=build_face_au,
        modalities=("face_au",),
        preprocessing={"face_au": {}},
        test_config={"hidden_units": (8,), "embedding_dim": 4},
    )
)

__all__ = ["SPEC", "AUStandardization", "build_face_au", "set_au_statistics"]

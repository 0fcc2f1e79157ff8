"""Converters from published checkpoints into emozoo backbones (run at release time).

Each converter reads weights that ship inside a registry package (nothing is fetched
from a model hub), maps them into a Keras backbone and checks the result against a
reference computed with the checkpoint's own runtime.
"""

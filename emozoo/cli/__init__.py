"""The ``emozoo`` command line: the same functions as the Python API.

Each module in :data:`COMMAND_MODULES` adds its sub-commands through a
``register(commands)`` function and keeps heavy imports (TensorFlow) inside the
command functions, so ``emozoo list`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from emozoo.cli.startup import native_logs_filtered
from emozoo.cli.zoo import format_table, models_table
from emozoo.registry import UnknownModelError

#: Modules that contribute sub-commands, in the order ``emozoo --help`` lists them.
COMMAND_MODULES = (
    "emozoo.cli.zoo",
    "emozoo.cli.predict",
    "emozoo.cli.train",
    "emozoo.cli.export",
    "emozoo.cli.serve",
    "emozoo.cli.batch",
    "emozoo.cli.live",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emozoo", description="Multimodal emotion recognition model zoo."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with native_logs_filtered():
        try:
            return args.run(args)
        except (UnknownModelError, ValueError, FileNotFoundError, RuntimeError) as error:
            print(f"emozoo: error: {error}", file=sys.stderr)
            return 2


__all__ = [
    "COMMAND_MODULES",
    "build_parser",
    "format_table",
    "main",
    "models_table",
]

if __name__ == "__main__":
    sys.exit(main())

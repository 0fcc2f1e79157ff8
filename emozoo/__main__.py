"""``python -m emozoo`` runs the command line, like the ``emozoo`` console script."""

import sys

from emozoo.cli import main

sys.exit(main())

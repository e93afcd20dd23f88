"""``python -m git_registry``: the same entry point as the ``git-registry`` script."""

import sys

from git_registry.cli import main

sys.exit(main())

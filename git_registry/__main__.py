"""``python -m git_registry``: the same entry point as the ``git-registry`` script."""

import sys

from git_registry.entry import main

sys.exit(main())

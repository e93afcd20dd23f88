"""The manual page packaged with git-registry, shown with ``man`` whatever the install.

``git help registry`` (and ``git registry --help``) runs ``man git-registry``, which
finds the page only where the install put it in a man path (``share/man/man1`` beside
the ``bin`` folder on PATH). An editable install (``pip install -e``) puts it nowhere;
every install has it in the package (``git_registry/man``, a link to ``man/`` in the
source tree), and ``git registry help --man`` shows that one. This module starts
``man``: it belongs with the Git layer's process owners (a test holds the list).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

from git_registry.errors import RegistryError

PAGE = "git-registry.1"


def page_path() -> str | None:
    """The packaged manual page's path; None if this installation lacks it."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "man", PAGE)
    return path if os.path.isfile(path) else None


def show(env: Mapping[str, str]) -> int:
    """Run ``man`` on the packaged page (a path: man reads a name holding a '/' as a
    file); return its exit code.

    Raises:
        RegistryError: the page is not in this installation, or there is no ``man``.
    """
    page = page_path()
    if page is None:
        raise RegistryError(
            "the manual page is not in this installation of git-registry",
            hint="reinstall it (pip install --force-reinstall ...); "
            "'git registry help COMMAND' prints a command's help",
        )
    man = shutil.which("man", path=env.get("PATH", os.defpath))
    if man is None:
        raise RegistryError(
            f"man is not installed: the manual page is {page}",
            hint="'git registry help COMMAND' prints a command's help without man",
        )
    return subprocess.run([man, page], env=dict(env), check=False).returncode

"""The registry write lock (``.git/registry/write.lock``): writes never race."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from git_registry import writelock
from git_registry.errors import RegistryError

# -- the lock in one process -----------------------------------------------------------


def test_the_lock_is_not_reentrant_and_is_released(tmp_path: Path) -> None:
    common = str(tmp_path)
    with writelock.write_lock(common, "outer", timeout=0) as path:
        owner = writelock.Owner.decode(Path(path).read_bytes())
        assert owner is not None and (owner.pid, owner.command) == (os.getpid(), "outer")
        with (
            pytest.raises(RegistryError, match=f"process {os.getpid()} "),
            writelock.write_lock(common, "inner", timeout=0),
        ):
            pass  # pragma: no cover
        assert Path(path).exists()
    assert not Path(path).exists()


def test_the_lock_is_released_on_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError), writelock.write_lock(str(tmp_path), "x") as path:
        raise ValueError
    assert not Path(path).exists()


def test_a_lock_replaced_while_held_is_not_removed(tmp_path: Path) -> None:
    with writelock.write_lock(str(tmp_path), "x") as path:
        os.unlink(path)
        Path(path).write_bytes(b"someone else's\n")
    assert Path(path).read_bytes() == b"someone else's\n"


@pytest.mark.parametrize(
    "data",
    [b"", b"pid 12\n", b"pid x\nhost h\nstarted 1\ncommand c\n", b"pid 1\nhost h", b"\xff\n"],
)
def test_an_owner_that_cannot_be_read(data: bytes) -> None:
    assert writelock.Owner.decode(data) is None


def test_owner_round_trip_keeps_one_line_commands() -> None:
    owner = writelock.Owner(12, "h", 1.5, "annotate churn\n--label x")
    assert writelock.Owner.decode(owner.encode()) == writelock.Owner(
        12, "h", 1.5, "annotate churn --label x"
    )

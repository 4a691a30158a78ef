"""Export follows add's locking shape: plan under the vault mutex, stream outside it,
re-check and record under it — so other calls (the GUI's listing) run meanwhile."""

from __future__ import annotations

import io
import threading

import pytest

from strongroom.vault import ItemNotFound, VaultLocked
from vault_helpers import content_for, env

__all__ = ["env"]

BIG = 3 * 64 * 1024 + 5  # an object, several chunks


def _list_from_another_thread(vault) -> threading.Event:
    listed = threading.Event()

    def run() -> None:
        vault.list("/")
        listed.set()

    threading.Thread(target=run, daemon=True).start()
    return listed


def _while_streaming(vault, action):
    """A progress callback that, at the first chunk, runs `action` on another thread and
    waits (bounded) for it: it can only finish if the export does not hold the mutex."""
    outcome: dict[str, bool] = {}

    def progress(_n: int) -> None:
        if "done" not in outcome:
            outcome["done"] = action(vault).wait(timeout=20)

    return progress, outcome


@pytest.mark.parametrize("to", ["file", "folder", "stream"])
def test_listing_runs_while_an_export_streams(env, tmp_path, to):
    vault, _ = env.create()
    vault.makedirs("/d")
    data = content_for("big", BIG)
    vault.add_bytes("/d", "big.bin", data)
    progress, outcome = _while_streaming(vault, _list_from_another_thread)
    if to == "stream":
        out = io.BytesIO()
        vault.export_stream("/d/big.bin", out, progress=progress)
        assert out.getvalue() == data
    elif to == "file":
        vault.export("/d/big.bin", tmp_path / "big.bin", progress=progress)
        assert (tmp_path / "big.bin").read_bytes() == data
    else:
        vault.export("/d", tmp_path / "d", progress=progress)
        assert (tmp_path / "d" / "big.bin").read_bytes() == data
    assert outcome["done"], "vault.list waited for the whole export"
    assert [e.action for e in vault.history(limit=1)] == ["file-exported"]
    vault.lock()


def test_a_file_deleted_while_exporting_is_not_exported(env, tmp_path):
    vault, _ = env.create()
    vault.add_bytes("/", "big.bin", content_for("big", BIG))

    def delete(v) -> threading.Event:
        done = threading.Event()

        def run() -> None:
            v.delete("/big.bin")
            done.set()

        threading.Thread(target=run, daemon=True).start()
        return done

    progress, outcome = _while_streaming(vault, delete)
    with pytest.raises(ItemNotFound):
        vault.export("/big.bin", tmp_path / "big.bin", progress=progress)
    assert outcome["done"]
    assert not (tmp_path / "big.bin").exists()
    assert not any(p.name.startswith(".big.bin") for p in tmp_path.iterdir())  # no temp
    assert "file-exported" not in [e.action for e in vault.history(limit=5)]
    vault.lock()


def test_locking_while_exporting_exports_nothing(env, tmp_path):
    vault, _ = env.create()
    vault.add_bytes("/", "big.bin", content_for("big", BIG))

    def lock(v) -> threading.Event:
        done = threading.Event()

        def run() -> None:
            v.lock()
            done.set()

        threading.Thread(target=run, daemon=True).start()
        return done

    progress, outcome = _while_streaming(vault, lock)
    with pytest.raises(VaultLocked):
        vault.export("/big.bin", tmp_path / "big.bin", progress=progress)
    assert outcome["done"]
    assert not (tmp_path / "big.bin").exists()

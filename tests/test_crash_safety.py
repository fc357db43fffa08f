"""Crash safety and model-file security.

* SIGKILL during ``aekit fit`` training, or at any point of a save, never leaves a
  half-written model under the target name (at most hidden ``.model.*`` temporaries), and
  an existing model there survives a save killed before the final rename.
* Loading a model directory never unpickles, never writes, and never opens a path outside
  the directory, whatever its ``estimator.json`` says.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit import Autoencoder
from aekit.exceptions import AekitError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")


def _fit_small(seed: int) -> Autoencoder:
    X = np.random.default_rng(seed).normal(size=(120, 4))
    return Autoencoder(2, hidden_dims=(8,), max_epochs=2, random_state=seed).fit(X)


def _visible(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    src = str(Path(aekit.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    return env


# --- SIGKILL during training ------------------------------------------------------------


def test_sigkill_during_fit_training_leaves_no_model(tmp_path):
    rng = np.random.default_rng(0)
    header = ",".join(f"f{j}" for j in range(20))
    np.savetxt(tmp_path / "data.csv", rng.normal(size=(20_000, 20)), delimiter=",",
               header=header, comments="", fmt="%.5f")
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        # Not -q: the progress bar on stderr says when epochs are running.
        proc = subprocess.Popen(
            [sys.executable, "-m", "aekit", "fit", "data.csv", "--epochs", "100000",
             "--seed", "0", "--out", "model"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, env=_env())
    try:
        deadline = time.monotonic() + 120
        while "loss=" not in log.read_text(errors="replace"):
            assert proc.poll() is None, f"fit ended before it was killed:\n{log.read_text()}"
            assert time.monotonic() < deadline, "training never started"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed mid-training, not finished
    assert not (tmp_path / "model").exists()
    assert _visible(tmp_path) == ["data.csv", "stderr.txt"]


# --- SIGKILL during save ------------------------------------------------------------------

# Fits a tiny model and saves it to argv[1], SIGKILLing itself at the point named argv[2]:
#   weights:         right after the weights file is written into the temporary directory
#   before_rename:   when everything is written, just before the first rename
#   between_renames: after an existing model was moved aside, before the new one moves in
SAVE_AND_DIE = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import aekit.model_files as persistence
    from aekit import Autoencoder

    target, point = sys.argv[1], sys.argv[2]
    X = np.random.default_rng(7).normal(size=(120, 4))
    est = Autoencoder(2, hidden_dims=(8,), max_epochs=2, random_state=7).fit(X)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    real_save_file, real_replace = persistence.save_file, os.replace
    renames = []

    def replace(src, dst):
        renames.append((src, dst))
        if point == "before_rename":
            die()
        real_replace(src, dst)
        if point == "between_renames":
            die()

    def save_file(tensors, filename, metadata=None):
        real_save_file(tensors, filename, metadata=metadata)
        if point == "weights":
            die()
        os.replace = replace  # armed only once the save is under way

    persistence.save_file = save_file
    est.save(target)
    print("saved without being killed", renames)
""")


def _save_and_die(tmp_path: Path, point: str) -> subprocess.CompletedProcess:
    script = tmp_path / "save_and_die.py"
    script.write_text(SAVE_AND_DIE)
    return subprocess.run([sys.executable, str(script), "model", point], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=_env())


@pytest.mark.parametrize("point", ["weights", "before_rename"])
def test_sigkill_during_save_leaves_no_model(tmp_path, point):
    done = _save_and_die(tmp_path, point)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert not (tmp_path / "model").exists()
    assert _visible(tmp_path) == ["save_and_die.py"]


@pytest.mark.parametrize("point", ["weights", "before_rename"])
def test_sigkill_during_save_keeps_the_existing_model_intact(tmp_path, point):
    old = _fit_small(seed=1)
    old.save(tmp_path / "model")
    X = np.random.default_rng(2).normal(size=(10, 4))
    expected = old.transform(X)
    done = _save_and_die(tmp_path, point)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert _visible(tmp_path) == ["model", "save_and_die.py"]
    np.testing.assert_array_equal(aekit.load(tmp_path / "model").transform(X), expected)


def test_sigkill_between_the_renames_of_a_replacing_save_leaves_no_half_model(tmp_path):
    # Replacing a directory takes two renames (old aside, new in); a kill between them
    # leaves no model under the name (the old one is in a hidden .model.*.old), never a
    # partial one.
    _fit_small(seed=1).save(tmp_path / "model")
    done = _save_and_die(tmp_path, "between_renames")
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert _visible(tmp_path) == ["save_and_die.py"]
    kept = [p for p in tmp_path.glob(".model.*.old/previous")]
    assert len(kept) == 1
    aekit.load(kept[0])


# --- loading is confined to the model directory and never unpickles ---------------------

_RECORD: list[tuple[str, tuple]] | None = None
_HOOKED = False
_EVENTS = ("open", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.symlink",
           "os.link", "os.truncate", "shutil.rmtree", "shutil.copyfile", "shutil.move",
           "os.chmod", "os.listdir", "os.scandir", "subprocess.Popen", "os.system")


def _audit(event: str, args: tuple) -> None:
    if _RECORD is not None and event in _EVENTS:
        _RECORD.append((event, args))


def _record_load(path: Path, monkeypatch) -> tuple[list[tuple[str, tuple]], BaseException | None]:
    """Load ``path`` and return the file-system audit events it raised and its error.

    Pickle and torch.load are replaced by functions that fail the test if called.
    """
    global _RECORD, _HOOKED
    if not _HOOKED:  # audit hooks cannot be removed; this one is inert outside _RECORD
        sys.addaudithook(_audit)
        _HOOKED = True

    def no_pickle(*args, **kwargs):
        raise AssertionError("loading a model must never unpickle")

    import torch

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(pickle, "Unpickler", no_pickle)
    monkeypatch.setattr(torch, "load", no_pickle)
    monkeypatch.setattr(np, "load", no_pickle)
    events: list[tuple[str, tuple]] = []
    error = None
    _RECORD = events
    try:
        aekit.load(path)
    except AssertionError:
        raise
    except Exception as err:  # judged by the caller
        error = err
    finally:
        _RECORD = None
    return events, error


def _outside(events, model: Path) -> list[tuple[str, str]]:
    """Events touching a path outside ``model``; writes and processes anywhere."""
    bad = []
    for event, args in events:
        if event == "open":
            target, mode, flags = args
            if isinstance(target, int):
                continue  # an already open descriptor
            writes = (mode and any(c in str(mode) for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            resolved = Path(os.fsdecode(target)).resolve()
            if writes or not resolved.is_relative_to(model.resolve()):
                bad.append((event, str(target)))
        else:
            bad.append((event, repr(args)[:200]))
    return bad


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("secure")
    import pandas as pd

    X = pd.DataFrame(np.random.default_rng(3).normal(size=(120, 3)), columns=["a", "b", "c"])
    Autoencoder(2, hidden_dims=(8,), max_epochs=2, random_state=3).fit(X).save(root / "model")
    (root / "outside.json").write_text("{}")
    return root / "model"


def test_loading_a_saved_model_opens_only_its_own_files_and_never_unpickles(saved_model,
                                                                            monkeypatch):
    aekit.load(saved_model)  # lazy imports happen here, not while recording
    events, error = _record_load(saved_model, monkeypatch)
    assert error is None
    assert _outside(events, saved_model) == []
    opened = {Path(os.fsdecode(args[0])).name for event, args in events if event == "open"}
    assert opened <= {"estimator.json", "weights.safetensors", "history.json"}


def _string_leaves(obj, where=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _string_leaves(value, (*where, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _string_leaves(value, (*where, i))
    elif isinstance(obj, str):
        yield where


def _set(obj, where, value):
    for key in where[:-1]:
        obj = obj[key]
    obj[where[-1]] = value


def _tampered_configs(config: dict, outside: Path):
    """One config per string field (and per key) holding a path, plus one with all of them."""
    values = ["../../etc/passwd", "../outside.json", str(outside), "/etc/passwd",
              "weights.safetensors/../../outside.json"]
    everything = copy.deepcopy(config)
    for i, where in enumerate(_string_leaves(config)):
        tampered = copy.deepcopy(config)
        _set(tampered, where, values[i % len(values)])
        _set(everything, where, values[i % len(values)])
        yield "/".join(map(str, where)), tampered
    yield "every string field", everything
    for section in ("params", "fitted"):
        tampered = copy.deepcopy(config)
        tampered[section]["../../outside"] = "../outside.json"
        yield f"{section} key", tampered


def test_tampered_model_json_never_reaches_outside_its_directory(saved_model, tmp_path,
                                                                 monkeypatch):
    aekit.load(saved_model)
    config = json.loads((saved_model / "estimator.json").read_text())
    outside = saved_model.parent / "outside.json"
    cases = list(_tampered_configs(config, outside))
    assert len(cases) >= 20
    for name, tampered in cases:
        model = tmp_path / "model"
        model.mkdir(exist_ok=True)
        for file in ("weights.safetensors", "history.json"):
            (model / file).write_bytes((saved_model / file).read_bytes())
        (model / "estimator.json").write_text(json.dumps(tampered))
        events, error = _record_load(model, monkeypatch)
        assert error is None or isinstance(error, AekitError), (name, repr(error))
        assert events, name  # at least estimator.json was opened, and seen
        assert _outside(events, model) == [], name
    assert outside.read_text() == "{}"


def test_tampered_history_json_never_reaches_outside_its_directory(saved_model, tmp_path,
                                                                   monkeypatch):
    model = tmp_path / "model"
    model.mkdir()
    for file in ("weights.safetensors", "estimator.json"):
        (model / file).write_bytes((saved_model / file).read_bytes())
    (model / "history.json").write_text(json.dumps(
        {"path": "../outside.json", "train_loss": "/etc/passwd", "../x": ["../../etc/passwd"]}))
    events, error = _record_load(model, monkeypatch)
    assert error is None or isinstance(error, AekitError), repr(error)
    assert _outside(events, model) == []


def test_recording_catches_an_open_outside_the_model(saved_model, monkeypatch, tmp_path):
    # The check above would be vacuous if the audit hook saw nothing: prove it does.
    real_load = aekit.load

    def leaky_load(path):
        with open(saved_model.parent / "outside.json") as fh:
            fh.read()
        return real_load(path)

    monkeypatch.setattr(aekit, "load", leaky_load)
    events, error = _record_load(saved_model, monkeypatch)
    assert error is None
    assert [name for _, name in _outside(events, saved_model)] == [
        str(saved_model.parent / "outside.json")]


def test_symlinked_weights_pointing_outside_are_not_read(saved_model, tmp_path, monkeypatch):
    import hashlib

    model = tmp_path / "model"
    model.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not yours\n")
    (model / "weights.safetensors").symlink_to(secret)
    config = json.loads((saved_model / "estimator.json").read_text())
    config["weights_sha256"] = hashlib.sha256(secret.read_bytes()).hexdigest()
    (model / "estimator.json").write_text(json.dumps(config))
    events, error = _record_load(model, monkeypatch)
    assert isinstance(error, AekitError)
    assert _outside(events, model) == []

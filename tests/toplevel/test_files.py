"""The one atomic-write helper that bundles, ingest checkpoints, node state and regression files use."""

import pytest

from lightretriever.files import atomic_write, staged_dir


def test_atomic_write_replaces_whole_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "state.json"
    atomic_write(path, "first")
    atomic_write(path, b"second")
    assert path.read_text() == "second"
    with pytest.raises(TypeError):
        atomic_write(path, 42)  # fails mid-write: the old content stays, the temp file goes
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_staged_dir_replaces_the_whole_directory_or_leaves_it_as_it_was(tmp_path):
    out = tmp_path / "bundle"
    with staged_dir(out) as tmp:
        (tmp / "a").write_text("one")
    assert [p.name for p in out.iterdir()] == ["a"]
    with pytest.raises(RuntimeError), staged_dir(out) as tmp:
        (tmp / "b").write_text("two")
        raise RuntimeError("encoding failed half-way")
    assert [p.name for p in out.iterdir()] == ["a"] and (out / "a").read_text() == "one"
    with staged_dir(out) as tmp:
        (tmp / "b").write_text("two")
    assert [p.name for p in out.iterdir()] == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no staging directory left behind

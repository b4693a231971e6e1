"""The one atomic-write helper that bundles, ingest checkpoints, node state and regression files use."""

import pytest

from lightretriever.files import atomic_write


def test_atomic_write_replaces_whole_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "state.json"
    atomic_write(path, "first")
    atomic_write(path, b"second")
    assert path.read_text() == "second"
    with pytest.raises(TypeError):
        atomic_write(path, 42)  # fails mid-write: the old content stays, the temp file goes
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]

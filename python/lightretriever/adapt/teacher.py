"""Teacher targets: the bundle's own backbone as the FULL query encoder (query prompt included), run forward
once per pseudo-query and cached, so a killed run resumes without re-encoding. Needs torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm


def teacher_vectors(bundle, texts: list[str], cache: Path, *, batch_size: int = 64, device: str | None = None,
                    progress: bool = True) -> np.ndarray:
    """float32 [len(texts), dim], L2-normalised; rows already in `cache` (an .npy of a prefix) are reused."""
    done = np.load(cache) if cache.is_file() else np.zeros((0, bundle.dense_dim), dtype=np.float32)
    if len(done) >= len(texts):
        return done[: len(texts)]
    from lightretriever.encode.document import DocumentEncoder

    encoder = DocumentEncoder.from_bundle(bundle, device=device, batch_size=batch_size)
    parts = [done]
    bar = tqdm(total=len(texts), initial=len(done), desc="teacher", unit="q", disable=not progress)
    for start in range(len(done), len(texts), batch_size * 8):
        chunk = texts[start : start + batch_size * 8]
        parts.append(np.asarray(encoder.encode_queries(chunk), dtype=np.float32))
        _save(cache, np.concatenate(parts))
        bar.update(len(chunk))
    bar.close()
    return np.concatenate(parts)


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, array)
    tmp.replace(path)

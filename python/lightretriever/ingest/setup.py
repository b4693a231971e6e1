"""Build an IngestJob from a bundle path (or --precomputed) and plain options: shared by the CLI and pipelines."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.job import IngestJob, JobConfig
from lightretriever.ingest.passages import PassageSplitter
from lightretriever.ingest.sources import open_source


def bundle_checksum(bundle_dir: str | Path) -> str:
    """sha256 of manifest.json, which itself lists the checksums of every bundle file."""
    return hashlib.sha256((Path(bundle_dir) / "manifest.json").read_bytes()).hexdigest()


def build_job(
    client: Any,
    source_spec: str,
    config: JobConfig,
    *,
    bundle_dir: str | Path | None = None,
    precomputed: bool = False,
    dense_dim: int | None = None,
    fields: dict[str, Any] | None = None,
    csv_delimiter: str | None = None,
    split_passages: bool = False,
    passage_overlap: int = 0,
    device: str | None = None,
    encoder_batch_size: int = 32,
    dtype: str | None = None,
    encoder: Any = None,
) -> IngestJob:
    """Load the bundle's encoder (torch) unless `precomputed` or an `encoder` object is given; `dtype` None is
    encode.backbone.ingest_dtype's choice (bfloat16 on a CPU that has it natively)."""
    source = open_source(source_spec, fields, client=client, csv_delimiter=csv_delimiter)
    bundle = None
    if bundle_dir is not None:
        from lightretriever.bundle import Bundle

        bundle = Bundle.load(bundle_dir)
        if dense_dim is not None and dense_dim != bundle.dense_dim:
            raise LightRetrieverError(f"--dense-dim {dense_dim} differs from the bundle's {bundle.dense_dim}")
        dense_dim = bundle.dense_dim
    if dense_dim is None:
        raise LightRetrieverError("pass --bundle (or --dense-dim with --precomputed)")
    if precomputed:
        encoder, checksum = None, f"precomputed:{dense_dim}"
    else:
        if bundle is None:
            raise LightRetrieverError("--bundle is required unless --precomputed")
        checksum = bundle_checksum(bundle_dir)  # type: ignore[arg-type]
        if encoder is None:
            from lightretriever.encode.backbone import ingest_dtype, resolve_device
            from lightretriever.encode.document import DocumentEncoder

            encoder = DocumentEncoder.from_bundle(bundle, device=device, batch_size=encoder_batch_size,
                                                  dtype=dtype or ingest_dtype(resolve_device(device)))
    splitter = None
    if split_passages:
        if bundle is None:
            raise LightRetrieverError("--split-passages needs --bundle (its tokenizer and max_length)")
        manifest = bundle.manifest
        prompt = manifest["prompts"].get("document") or ""
        prompt_tokens = len(bundle.tokenizer.encode(prompt, add_special_tokens=False).ids) if prompt else 0
        splitter = PassageSplitter(
            bundle.tokenizer, manifest["max_length"]["document"] - prompt_tokens, overlap=passage_overlap
        )
    encoder_id = None
    # the precision the model runs in, recorded in the index's _meta (None: precomputed or not a torch model)
    model_dtype = getattr(getattr(encoder, "backbone", None), "dtype", None)
    encoder_dtype = None if model_dtype is None else str(model_dtype).removeprefix("torch.")
    if bundle is not None:
        from lightretriever.bundle.identity import document_encoder_id

        encoder_id = document_encoder_id(bundle)
    return IngestJob(
        client, source, encoder, config, dense_dim=dense_dim, bundle_checksum=checksum, splitter=splitter,
        encoder_id=encoder_id, encoder_dtype=encoder_dtype,
    )

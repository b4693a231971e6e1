"""Encoders. Import submodules directly: `encode.query` and `encode.text` are numpy-only (query time);
`encode.backbone`, `encode.pooling`, `encode.document` and `encode.table` need torch (ingest/build only)."""

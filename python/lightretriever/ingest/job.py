"""The ingest job: read -> validate -> split -> encode (this thread) | bulk write + checkpoint (writer thread).

Encoding and bulk writes overlap: encoded batches go through a small bounded queue to a writer
thread that sends them, writes their dead letters, then saves the checkpoint. So at any time at
most one request is sent but unacknowledged, and that is all a resumed run sends again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lightretriever.errors import LightRetrieverError, RecordError
from lightretriever.ingest import alias as alias_ops
from lightretriever.ingest import checkpoint as ckpt
from lightretriever.ingest.bulk import Action, BulkWriter
from lightretriever.ingest.deadletter import DeadLetterFile
from lightretriever.ingest.encoding import Encoder, encode_batch
from lightretriever.ingest.passages import PassageSplitter
from lightretriever.ingest.records import Document, RawRecord, Rejection
from lightretriever.ingest.shard import Shard
from lightretriever.ingest.sources import Source
from lightretriever.ingest.summary import Summary
from lightretriever.ingest.target import ensure_index
from lightretriever.ingest.validate import Limits, Validator, decode, record_id

log = logging.getLogger(__name__)

MAX_PENDING_REJECTIONS = 1000  # flush a chunk of dead letters even when no document is valid
_STOP = object()


@dataclass
class JobConfig:
    index: str | None = None
    alias: str | None = None
    batch_size: int = 32
    bulk_docs: int = 500
    bulk_bytes: int = 10 * 1024 * 1024
    max_retries: int = 8
    initial_backoff: float = 1.0
    max_record_bytes: int = 1_000_000
    shard: Shard = field(default_factory=Shard)
    state_dir: Path = Path("ingest-state")
    checkpoint: Path | None = None
    dead_letter: Path | None = None
    restart: bool = False
    delete_old: bool = False
    progress: bool = True
    queue_depth: int = 2


@dataclass
class Chunk:
    actions: list[Action]
    rejections: list[Rejection]
    read: int
    last_position: int
    truncated: int
    passages: int


class IngestJob:
    """One run over one source (or one shard of it) into one index.

    `encoder` is any object with `encode_documents(texts)`; None means the records carry their
    vectors (`--precomputed`). `bundle_checksum` identifies the model in the checkpoint.
    """

    def __init__(
        self,
        client: Any,
        source: Source,
        encoder: Encoder | None,
        config: JobConfig,
        *,
        dense_dim: int,
        bundle_checksum: str,
        splitter: PassageSplitter | None = None,
        schema_check: Any = None,
        encoder_id: str | None = None,
        encoder_dtype: str | None = None,
    ):
        if not (config.index or config.alias):
            raise ValueError("an index or an alias is required")
        if config.alias and config.shard.count > 1:
            raise LightRetrieverError(
                "--alias needs the whole corpus in one job (the count is verified before the swap); "
                "with --shard, write every shard to one --index, then move the alias when all are done"
            )
        self.client = client
        self.source = source
        self.encoder = encoder
        self.config = config
        self.dense_dim = dense_dim
        self.bundle_checksum = bundle_checksum
        self.encoder_id = encoder_id  # recorded in the index's _meta (lightretriever.bundle.identity)
        self.encoder_dtype = encoder_dtype  # the encoder's precision, recorded next to it ("bfloat16", ...)
        self.splitter = splitter
        limits = Limits(config.max_record_bytes, precomputed=encoder is None, dense_dim=dense_dim)
        kwargs = {} if schema_check is None else {"schema_check": schema_check}
        self.validator = Validator(source.fields, limits, **kwargs)
        self.label = config.alias or config.index
        suffix = "" if config.shard.count == 1 else f".shard{config.shard.index}of{config.shard.count}"
        self.checkpoint_path = config.checkpoint or config.state_dir / f"{self.label}{suffix}.checkpoint.json"
        self.dead_letter_path = config.dead_letter or config.state_dir / f"{self.label}{suffix}.deadletter.jsonl"
        self._queue: queue.Queue = queue.Queue(maxsize=config.queue_depth)
        self._error: BaseException | None = None
        self._abort = threading.Event()

    # ---- setup -----------------------------------------------------------------------------------

    def _identity(self, index: str) -> dict[str, Any]:
        splitter = self.splitter
        identity = {
            "source": self.source.name,
            "fields": asdict(self.source.fields),
            "shard": str(self.config.shard),
            "index": index,
            "alias": self.config.alias,
            "bundle": self.bundle_checksum,
            "passages": None if splitter is None else {"max_tokens": splitter.max_tokens, "overlap": splitter.overlap},
        }
        return json.loads(json.dumps(identity))  # the form it has when read back from the checkpoint

    def _resolve(self) -> tuple[str, ckpt.Checkpoint | None]:
        """Target index and the checkpoint to resume (None: start from the beginning)."""
        saved = None if self.config.restart else ckpt.load(self.checkpoint_path)
        index = self.config.index
        if self.config.alias and not index:
            if saved is not None and not saved.done and saved.identity.get("alias") == self.config.alias:
                index = saved.identity["index"]  # finish the version a killed run started
            else:
                saved = None  # a finished alias job: this run re-encodes into a new version
                index = alias_ops.next_version(self.client, self.config.alias)
        assert index is not None
        if saved is not None:
            ckpt.check_identity(self.checkpoint_path, saved.identity, self._identity(index))
        return index, saved

    # ---- run -------------------------------------------------------------------------------------

    def run(self) -> Summary:
        index, saved = self._resolve()
        if saved is not None and saved.done:
            summary = Summary(index, saved.counts, self.dead_letter_path, already_done=True)
            for line in summary.lines():
                log.info(line)
            return summary
        resuming = saved is not None and saved.position > 0
        self.state = saved or ckpt.Checkpoint(identity=self._identity(index))
        start = self.state.position
        created_now = ensure_index(self.client, index, self.dense_dim, resuming=resuming, encoder_id=self.encoder_id,
                                   dtype=self.encoder_dtype)
        # An index this run created held nothing before it: each distinct id written is a new document,
        # whatever OpenSearch answered. Its "updated" is not to be trusted for that when a node fails: the
        # coordinating node retries a shard's write on the promoted replica, which already has it.
        self._written_digests: set[int] | None = set() if created_now and not resuming else None
        self.index = index
        self.writer = BulkWriter(
            self.client,
            index,
            max_docs=self.config.bulk_docs,
            max_bytes=self.config.bulk_bytes,
            max_retries=self.config.max_retries,
            initial_backoff=self.config.initial_backoff,
        )
        self.dead_letters = DeadLetterFile(
            self.dead_letter_path, self.source.name, resume_size=self.state.dead_letter_size if saved else None
        )
        self._replay = resuming  # the first request after a resume may repeat the killed run's last one
        self.encode_s = 0.0
        self.write_s = 0.0
        self.batch_failures = 0
        self.docs_this_run = 0
        total = self.source.estimate_total() if self.config.progress else None
        if total is not None:
            total = (total + self.config.shard.count - 1 - self.config.shard.index) // self.config.shard.count
        self.bar = tqdm(
            total=total, initial=self.state.counts.read, unit="doc", desc=f"ingest {index}",
            disable=not self.config.progress, dynamic_ncols=True,
        )
        began = time.perf_counter()
        writer = threading.Thread(target=self._writer_loop, name="bulk-writer", daemon=True)
        writer.start()
        try:
            self._read_and_encode(start)
            self._put(_STOP)
        except BaseException:
            self._abort.set()
            raise
        finally:
            writer.join()
            self.bar.close()
            self.dead_letters.close()
        if self._error is not None:
            raise self._error
        elapsed = time.perf_counter() - began
        self.state.done = True
        ckpt.save(self.checkpoint_path, self.state)
        return self._finish(index, start, elapsed)

    def _finish(self, index: str, start: int, elapsed: float) -> Summary:
        summary = Summary(
            index, self.state.counts, self.dead_letter_path, elapsed_s=elapsed, encode_s=self.encode_s,
            write_s=self.write_s, docs_this_run=self.docs_this_run, resumed_from=start, alias=self.config.alias,
            batch_failures=self.batch_failures,
        )
        self.client.indices.refresh(index=index)
        if self.config.alias:
            summary.index_count = alias_ops.verify_count(self.client, index, self.state.counts.created)
            summary.old_indices = alias_ops.swap(self.client, self.config.alias, index, self.config.delete_old)
        else:
            summary.index_count = int(self.client.count(index=index)["count"])
        for line in summary.lines():
            log.info(line)
        return summary

    # ---- reader/encoder side (calling thread) ---------------------------------------------------

    def _validate(self, raw: RawRecord) -> Document | Rejection:
        obj = None
        try:
            obj = decode(raw, self.validator.limits)
            doc = self.validator(raw, obj)
        except RecordError as exc:
            doc_id = record_id(obj, self.source.fields) if obj is not None else None
            original = raw.original if raw.original is not None else raw.data
            return Rejection(raw.position, str(exc), original, doc_id=doc_id, line=raw.line)
        doc.raw = raw.original if raw.original is not None else raw.data
        return doc

    def _read_and_encode(self, start: int) -> None:
        docs: list[Document] = []
        rejections: list[Rejection] = []
        read = passages = 0
        last = start
        for raw in self.source.records():
            if raw.position <= start or not self.config.shard.owns(raw.position):
                continue
            if self._error is not None or self._abort.is_set():
                return
            read += 1
            last = raw.position
            result = self._validate(raw)
            if isinstance(result, Rejection):
                rejections.append(result)
            else:
                parts = self.splitter.split(result) if self.splitter else [result]
                if len(parts) > 1:
                    passages += len(parts)
                docs.extend(parts)
            if len(docs) >= self.config.batch_size or len(rejections) >= MAX_PENDING_REJECTIONS:
                self._put(self._encode(docs, rejections, read, last, passages))
                docs, rejections, read, passages = [], [], 0, 0
        if read:
            self._put(self._encode(docs, rejections, read, last, passages))

    def _encode(self, docs: list[Document], rejections: list[Rejection], read: int, last: int, passages: int) -> Chunk:
        began = time.perf_counter()
        encoded = encode_batch(self.encoder, docs) if docs else None
        self.encode_s += time.perf_counter() - began
        if encoded is not None:
            self.batch_failures += encoded.batch_failures
        actions, truncated = [], 0
        if encoded is not None:
            actions = [Action(doc.doc_id, doc.position, body, raw=doc.raw) for doc, body in encoded.bodies]
            rejections = rejections + encoded.rejections
            truncated = encoded.truncated
        return Chunk(actions, rejections, read, last, truncated, passages)

    def _put(self, item: Any) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    # ---- writer side (background thread) --------------------------------------------------------

    def _writer_loop(self) -> None:
        try:
            while not self._abort.is_set():
                try:
                    item = self._queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                if item is _STOP:
                    return
                chunks = [item]
                stop = False
                # Merge whatever is already encoded into one request (large requests when encoding is fast).
                while sum(len(c.actions) for c in chunks) < self.config.bulk_docs:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    chunks.append(more)
                self._commit(chunks)
                if stop:
                    return
        except BaseException as exc:  # noqa: BLE001 - surfaced by the reader thread / run()
            self._error = exc

    def _count_new(self, doc_ids: list[str]) -> int:
        """How many of `doc_ids` this run had not written before (8-byte digests: ~70 bytes a document)."""
        seen = self._written_digests
        assert seen is not None
        before = len(seen)
        seen.update(int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "little") for i in doc_ids)
        return len(seen) - before

    def _commit(self, chunks: list[Chunk]) -> None:
        actions = [a for c in chunks for a in c.actions]
        began = time.perf_counter()
        result = self.writer.write(actions) if actions else None
        self.write_s += time.perf_counter() - began
        rejections = [r for c in chunks for r in c.rejections]
        counts = ckpt.Counts(
            read=sum(c.read for c in chunks),
            truncated=sum(c.truncated for c in chunks),
            passages=sum(c.passages for c in chunks),
        )
        if result is not None:
            rejections += [
                Rejection(a.position, reason, a.raw, doc_id=a.doc_id) for a, reason in result.failures
            ]
            counts.indexed = result.written
            counts.retried = result.retried
            if self._written_digests is not None:
                counts.created = self._count_new(result.written_ids)
            else:
                # Documents "updated" in a replayed request were created by the killed run.
                counts.created = result.created + (result.updated if self._replay else 0)
            self._replay = False
            self.docs_this_run += result.written
        rejections.sort(key=lambda r: r.position)
        for rejection in rejections:
            self.dead_letters.write(rejection)
        counts.rejected = len(rejections)
        self.state.dead_letter_size = self.dead_letters.sync()
        self.state.counts.add(counts)
        self.state.position = chunks[-1].last_position
        ckpt.save(self.checkpoint_path, self.state)
        self.bar.update(counts.read)
        self.bar.set_postfix(indexed=self.state.counts.indexed, rejected=self.state.counts.rejected, refresh=False)

"""Token table: every vocabulary id encoded alone, framed as prefix + query prompt + id + suffix
([CLS] prompt t [SEP] for encoders, [bos] prompt t [eos] for decoders), pooled as the query encoder pools.

Rows are NOT normalised: the light encoder averages rows and normalises the mean, exactly as the query
tower averages its token vectors in training. Stored float16.

Decoders on a GPU pack many ids into one sequence with a block-diagonal mask: the shared prefix
(bos + prompt) is computed once per sequence and each id's block (id, eos) attends only to the prefix
and itself, with positions restarting after the prefix, so each block's states equal the unpacked run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm import tqdm

from lightretriever.encode.backbone import Backbone
from lightretriever.encode.pooling import dense_pool


def build_token_table(
    backbone: Backbone,
    query_prompt: str = "",
    *,
    vocab_size: int | None = None,
    ids: Sequence[int] | None = None,
    batch_size: int | None = None,
    block_diagonal: bool | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Return float16 [len(ids), hidden] (ids default to range(vocab_size or len(tokenizer)))."""
    if ids is None:
        ids = range(vocab_size if vocab_size is not None else len(backbone.tokenizer))
    ids = list(ids)
    prompt = backbone.tokenizer(query_prompt, add_special_tokens=False)["input_ids"] if query_prompt else []
    if block_diagonal is None:
        block_diagonal = backbone.kind == "decoder" and backbone.device.type == "cuda"
    if block_diagonal and backbone.kind != "decoder":
        raise ValueError("block-diagonal packing needs a causal (decoder) model: encoder prefixes see the token")
    if batch_size is None:
        batch_size = 256 if block_diagonal else (1024 if backbone.kind == "encoder" else 128)
    run = _packed_rows if block_diagonal else _plain_rows
    table = np.zeros((len(ids), backbone.hidden_size), dtype=np.float16)
    bar = tqdm(total=len(ids), desc="token table", unit="tok", disable=not progress)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with torch.inference_mode():
            rows = run(backbone, prompt, chunk)
        table[start : start + len(chunk)] = rows.float().cpu().numpy().astype(np.float16)
        bar.update(len(chunk))
    bar.close()
    return table


def _plain_rows(bb: Backbone, prompt: list[int], chunk: list[int]) -> torch.Tensor:
    """One short sequence per id; all the same length, so no padding."""
    head, tail = bb.prefix_ids + prompt, bb.suffix_ids
    input_ids = torch.tensor([head + [t] + tail for t in chunk], device=bb.device)
    mask = torch.ones_like(input_ids)
    return dense_pool(bb.hidden_states(input_ids, mask), mask, bb.pooling)


def _packed_rows(bb: Backbone, prompt: list[int], chunk: list[int]) -> torch.Tensor:
    """All ids of `chunk` in ONE sequence: prefix, then blocks [id, *suffix] each seeing prefix + itself."""
    head, tail = bb.prefix_ids + prompt, bb.suffix_ids
    p, b, n = len(head), 1 + len(tail), len(chunk)
    seq = head + [x for t in chunk for x in [t, *tail]]
    length = len(seq)
    input_ids = torch.tensor([seq], device=bb.device)
    block = torch.full((length,), -1, dtype=torch.long, device=bb.device)
    block[p:] = torch.arange(n, device=bb.device).repeat_interleave(b)
    pos = torch.arange(length, device=bb.device)
    causal = pos[None, :] <= pos[:, None]
    same_block = block[None, :] == block[:, None]
    sees_prefix = (block[None, :] == -1).expand(length, length)
    allowed = causal & (same_block | sees_prefix)
    mask = torch.zeros((1, 1, length, length), dtype=bb.dtype, device=bb.device)
    mask.masked_fill_(~allowed, torch.finfo(bb.dtype).min)
    position_ids = torch.cat([pos[:p], p + torch.arange(b, device=bb.device).repeat(n)])[None]
    hidden = bb.hidden_states(input_ids, mask, position_ids)[0]  # [L, H]
    blocks = hidden[p:].reshape(n, b, -1)
    if bb.pooling == "last":
        return blocks[:, -1]
    if bb.pooling == "mean":
        prefix_sum = hidden[:p].sum(dim=0)
        return (prefix_sum[None] + blocks.sum(dim=1)) / (p + b)
    if bb.pooling == "cls" and p > 0:
        return hidden[0].expand(n, -1)
    raise ValueError(f"pooling {bb.pooling!r} is not supported for packed token tables")

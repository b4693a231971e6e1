"""Light dense query path for training: every query token encoded on its own, all in one forward pass.

At query time the dense vector is the mean of token-table rows, and each row is the backbone's encoding of
`prefix + [token] + suffix` (encoder: [CLS] prompt tok [SEP]; decoder: [bos] prompt tok [eos]). Training
must compute exactly that. One query becomes one packed sequence of per-token blocks with a block
attention mask and repeated position ids, so that each block sees what it would see on its own:

- encoders (bidirectional): the prefix also attends to the token, so every block carries its own copy of
  `prefix + tok + suffix`, positions 0..L-1 repeated, block-diagonal mask;
- decoders (causal): the prefix never sees later tokens, so it is shared once; each `tok + suffix` block
  sees the prefix and itself causally, positions continue from the prefix length.

`pool_weights` then picks each block's pooled vector from the packed hidden states (mean over its own
sequence, its first position for cls, its last for last-token pooling).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LightBatch:
    input_ids: torch.Tensor      # [B, S]
    position_ids: torch.Tensor   # [B, S]
    allowed: torch.Tensor        # [B, S, S] bool: query position i may attend to key position j
    pool_weights: torch.Tensor   # [B, T, S] float: row t pools block t's sequence
    block_mask: torch.Tensor     # [B, T] bool: block t exists (T = most tokens in a query of the batch)

    def additive_mask(self, dtype: torch.dtype) -> torch.Tensor:
        """[B, 1, S, S] additive mask (0 allowed, dtype min elsewhere) as transformers takes a custom 4D mask."""
        mask = torch.zeros(self.allowed.shape, dtype=dtype, device=self.allowed.device)
        mask.masked_fill_(~self.allowed, torch.finfo(dtype).min)
        return mask.unsqueeze(1)

    def to(self, device) -> LightBatch:
        return LightBatch(*(t.to(device) for t in (self.input_ids, self.position_ids, self.allowed,
                                                    self.pool_weights, self.block_mask)))


def _pool_positions(members: list[int], pooling: str) -> list[int]:
    if pooling == "mean":
        return members
    if pooling == "cls":
        return members[:1]
    if pooling == "last":
        return members[-1:]
    raise ValueError(f"unknown pooling {pooling!r} (expected mean, cls or last)")


def build_light_batch(token_ids: list[list[int]], prefix: list[int], suffix: list[int], *, pad_id: int,
                      pooling: str, shared_prefix: bool) -> LightBatch:
    """Pack each query's kept token ids into one sequence of blocks (see module doc)."""
    if any(not ids for ids in token_ids):
        raise ValueError("every query needs at least one kept token")
    seqs, poss, blocks = [], [], []  # blocks[b] = list of (member positions, own positions, causal)
    for ids in token_ids:
        seq, pos, members = [], [], []
        if shared_prefix:
            seq += prefix
            pos += list(range(len(prefix)))
            for tok in ids:
                start = len(seq)
                seq += [tok] + suffix
                pos += list(range(len(prefix), len(prefix) + 1 + len(suffix)))
                members.append(list(range(len(prefix))) + list(range(start, len(seq))))
        else:
            for tok in ids:
                start = len(seq)
                seq += prefix + [tok] + suffix
                pos += list(range(len(prefix) + 1 + len(suffix)))
                members.append(list(range(start, len(seq))))
        seqs.append(seq)
        poss.append(pos)
        blocks.append(members)

    B, S, T = len(seqs), max(map(len, seqs)), max(map(len, token_ids))
    input_ids = torch.full((B, S), pad_id, dtype=torch.long)
    position_ids = torch.zeros((B, S), dtype=torch.long)
    allowed = torch.zeros((B, S, S), dtype=torch.bool)
    pool = torch.zeros((B, T, S), dtype=torch.float32)
    block_mask = torch.zeros((B, T), dtype=torch.bool)
    for b, (seq, pos, members) in enumerate(zip(seqs, poss, blocks)):
        input_ids[b, : len(seq)] = torch.tensor(seq)
        position_ids[b, : len(pos)] = torch.tensor(pos)
        for t, mem in enumerate(members):
            idx = torch.tensor(mem)
            if shared_prefix:  # causal over the block's own sequence (prefix then block)
                allowed[b, idx.unsqueeze(1), idx.unsqueeze(0)] = torch.tril(torch.ones(len(mem), len(mem), dtype=torch.bool))
            else:  # bidirectional within the block
                allowed[b, idx.unsqueeze(1), idx.unsqueeze(0)] = True
            chosen = _pool_positions(mem, pooling)
            pool[b, t, chosen] = 1.0 / len(chosen)
            block_mask[b, t] = True
        if shared_prefix and prefix:  # prefix rows: causal among themselves (same for every block)
            p = len(prefix)
            allowed[b, :p, :p] = torch.tril(torch.ones(p, p, dtype=torch.bool))
        for i in range(len(seq), S):  # padding attends to itself only: no fully masked rows
            allowed[b, i, i] = True
    return LightBatch(input_ids, position_ids, allowed, pool, block_mask)


def light_dense(hidden: torch.Tensor, batch: LightBatch, normalize_rows: bool = False) -> torch.Tensor:
    """Pooled rows per block -> (optionally row-normalised) mean over the query's blocks -> L2-normalised."""
    rows = torch.bmm(batch.pool_weights.to(hidden.dtype), hidden)  # [B, T, D]
    if normalize_rows:
        rows = torch.nn.functional.normalize(rows, dim=-1)
    weights = batch.block_mask.to(rows.dtype).unsqueeze(-1)
    mean = (rows * weights).sum(1) / weights.sum(1)
    return torch.nn.functional.normalize(mean.float(), dim=-1)

"""Model inputs framed the same way everywhere: prefix + prompt + text + suffix, right-padded.

Prompt and text are tokenised separately (no special tokens) and concatenated, exactly as the token table
frames each vocabulary id, so a one-token query through the full model equals its table row.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Batch:
    input_ids: torch.Tensor  # [B, L]
    attention_mask: torch.Tensor  # [B, L]: 1 on every real position (prefix, prompt, text, suffix)
    term_mask: torch.Tensor  # [B, L]: 1 on text positions only (sparse terms come from these)
    n_tokens: list[int]  # text tokens kept per row
    truncated: list[bool]


def frame(
    text_ids: list[list[int]],
    prefix: list[int],
    prompt: list[int],
    suffix: list[int],
    max_length: int,
    pad_id: int,
    device: torch.device,
) -> Batch:
    head = prefix + prompt
    room = max_length - len(head) - len(suffix)
    if room < 1:
        raise ValueError(f"prompt of {len(prompt)} tokens leaves no room within max_length {max_length}")
    rows, terms, kept, cut = [], [], [], []
    for ids in text_ids:
        body = ids[:room]
        rows.append(head + body + suffix)
        terms.append([0] * len(head) + [1] * len(body) + [0] * len(suffix))
        kept.append(len(body))
        cut.append(len(ids) > room)
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    term_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (row, term) in enumerate(zip(rows, terms)):
        input_ids[i, : len(row)] = torch.tensor(row)
        attention[i, : len(row)] = 1
        term_mask[i, : len(row)] = torch.tensor(term)
    return Batch(to_device(input_ids, device), to_device(attention, device), to_device(term_mask, device), kept, cut)


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """To a GPU through pinned memory without blocking (the copy overlaps queued work); elsewhere as is."""
    if torch.device(device).type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)

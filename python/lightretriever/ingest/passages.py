"""Optional splitting of long texts into passages that keep the parent id.

A record whose title + text exceed the document token budget becomes passages `<id>#<n>` (n from
0), each with the title and a window of the text cut at token boundaries; `metadata.parent_id`
and `metadata.passage` say where it came from. Texts that fit are left whole, under their own id.
"""

from __future__ import annotations

import copy
from typing import Any

from lightretriever.ingest.records import Document

SPECIAL_TOKENS = 2  # [CLS]/[SEP] or BOS/EOS the encoder adds


class PassageSplitter:
    def __init__(self, tokenizer: Any, max_tokens: int, overlap: int = 0):
        if overlap < 0 or overlap >= max_tokens // 2:
            raise ValueError(f"passage overlap {overlap} must be >= 0 and < half of {max_tokens}")
        # A private copy without truncation/padding (tokenizer.json files often enable both).
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_tokens = max_tokens
        self.overlap = overlap

    def _count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids) if text else 0

    def split(self, doc: Document) -> list[Document]:
        title_tokens = self._count(doc.title) if doc.title.strip() else 0
        budget = self.max_tokens - SPECIAL_TOKENS - title_tokens
        encoding = self.tokenizer.encode(doc.text, add_special_tokens=False)
        offsets = encoding.offsets
        if len(offsets) <= budget or budget < 16:
            return [doc]  # fits (or the title alone fills the budget: truncation is then counted)
        words = encoding.word_ids
        n = len(offsets)

        def word_start(j: int) -> bool:  # never cut a word into two passages
            return j <= 0 or j >= n or words[j] is None or words[j] != words[j - 1]

        passages = []
        start = 0
        while start < n:
            end = min(start + budget, n)
            while end < n and not word_start(end) and end > start + budget // 2:
                end -= 1
            metadata: dict[str, Any] = copy.deepcopy(doc.metadata)
            metadata.update(parent_id=doc.doc_id, passage=len(passages))
            passages.append(
                Document(
                    doc_id=f"{doc.doc_id}#{len(passages)}",
                    title=doc.title,
                    text=doc.text[offsets[start][0] : offsets[end - 1][1]],
                    metadata=metadata,
                    position=doc.position,
                    raw=doc.raw,
                )
            )
            if end >= n:
                break
            start = max(end - self.overlap, start + 1)
            while not word_start(start) and start < end:
                start += 1
        return passages

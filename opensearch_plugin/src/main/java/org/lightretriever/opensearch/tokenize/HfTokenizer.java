package org.lightretriever.opensearch.tokenize;

import java.util.Map;

/**
 * A Hugging Face tokenizer.json (WordPiece or BPE) run in Java: the ids `tokenizers` returns for
 * `encode(text, add_special_tokens=False)`, without truncation or padding (the query encoder truncates).
 */
public final class HfTokenizer {
    private final AddedTokens added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Model model;

    private HfTokenizer(AddedTokens added, Normalizer normalizer, PreTokenizer preTokenizer, Model model) {
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
    }

    /** @param json the parsed tokenizer.json; IllegalArgumentException names what is unsupported or malformed */
    public static HfTokenizer fromJson(Map<String, Object> json) {
        return new HfTokenizer(
            AddedTokens.fromJson(json.get("added_tokens")),
            Normalizer.fromJson(json.get("normalizer")),
            PreTokenizer.fromJson(json.get("pre_tokenizer")),
            Model.fromJson(json.get("model"))
        );
    }

    public int[] encode(String text) {
        IntList ids = new IntList();
        for (AddedTokens.Segment segment : added.split(text)) {
            if (segment.id() >= 0) {
                ids.add(segment.id());
                continue;
            }
            String normalized = normalizer.normalize(segment.text());
            for (String piece : preTokenizer.split(normalized)) {
                if (!piece.isEmpty()) {
                    model.tokenize(piece, ids);
                }
            }
        }
        return ids.toArray();
    }

    /** Highest model id + 1 (added tokens may extend it; the bundle's vocab_size is authoritative). */
    public int modelVocabSize() {
        return model.vocabSize();
    }
}

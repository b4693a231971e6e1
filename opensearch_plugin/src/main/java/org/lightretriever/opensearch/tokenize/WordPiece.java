package org.lightretriever.opensearch.tokenize;

import java.util.Map;

/** Greedy longest-match-first WordPiece; a word that cannot be covered becomes the unknown token. */
record WordPiece(Map<String, Integer> vocab, int unkId, String prefix, int maxChars) implements Model {
    static WordPiece fromJson(Map<String, Object> map) {
        Map<String, Integer> vocab = Vocab.fromJson(map.get("vocab"));
        String unk = Json.string(map, "unk_token", "model");
        Integer unkId = vocab.get(unk);
        if (unkId == null) {
            throw new IllegalArgumentException("tokenizer.json: WordPiece unk_token " + unk + " is not in the vocabulary");
        }
        String prefix = Json.optString(map, "continuing_subword_prefix");
        int maxChars = map.get("max_input_chars_per_word") instanceof Number n ? n.intValue() : 100;
        return new WordPiece(vocab, unkId, prefix == null ? "##" : prefix, maxChars);
    }

    @Override
    public void tokenize(String word, IntList out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > maxChars) {
            out.add(unkId);
            return;
        }
        IntList pieces = new IntList();
        int start = 0;
        while (start < cps.length) {
            int end = cps.length;
            Integer found = null;
            while (start < end) {
                String sub = new String(cps, start, end - start);
                found = vocab.get(start > 0 ? prefix + sub : sub);
                if (found != null) {
                    break;
                }
                end--;
            }
            if (found == null) {
                out.add(unkId);
                return;
            }
            pieces.add(found);
            start = end;
        }
        for (int id : pieces.toArray()) {
            out.add(id);
        }
    }

    @Override
    public int vocabSize() {
        return Vocab.size(vocab);
    }
}

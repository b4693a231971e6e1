package org.lightretriever.opensearch.tokenize;

import java.util.HashMap;
import java.util.Map;

/** token string -> id, read from the model's `vocab` object. */
final class Vocab {
    private Vocab() {}

    static Map<String, Integer> fromJson(Object spec) {
        Map<String, Object> raw = Json.map(spec, "model.vocab");
        Map<String, Integer> vocab = new HashMap<>(raw.size() * 2);
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            vocab.put(e.getKey(), Json.integer(e.getValue(), "model.vocab[" + e.getKey() + "]"));
        }
        return vocab;
    }

    static int size(Map<String, Integer> vocab) {
        int max = -1;
        for (int id : vocab.values()) {
            max = Math.max(max, id);
        }
        return max + 1;
    }
}

package org.lightretriever.opensearch.tokenize;

import java.util.Map;

/** tokenizer.json `model`: turns one pre-tokenized piece into ids. */
interface Model {
    void tokenize(String piece, IntList out);

    int vocabSize();

    static Model fromJson(Object spec) {
        Map<String, Object> map = Json.map(spec, "model");
        Object type = map.get("type");
        if ("WordPiece".equals(type)) {
            return WordPiece.fromJson(map);
        }
        if ("BPE".equals(type) || (type == null && map.containsKey("merges"))) {
            return BytePairEncoding.fromJson(map);
        }
        throw new IllegalArgumentException("tokenizer.json: unsupported model type " + type + " (WordPiece and BPE are supported)");
    }
}

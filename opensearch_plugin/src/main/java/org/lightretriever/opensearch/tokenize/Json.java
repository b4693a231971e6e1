package org.lightretriever.opensearch.tokenize;

import java.util.List;
import java.util.Map;

/** Typed reads from a parsed JSON map, failing with the key path and the reason. */
final class Json {
    private Json() {}

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value, String where) {
        if (value instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException("tokenizer.json: " + where + " must be an object");
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value, String where) {
        if (value instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new IllegalArgumentException("tokenizer.json: " + where + " must be a list");
    }

    static String string(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (value instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("tokenizer.json: " + where + "." + key + " must be a string");
    }

    static String optString(Map<String, Object> map, String key) {
        Object value = map.get(key);
        return value instanceof String s ? s : null;
    }

    static boolean bool(Map<String, Object> map, String key, boolean fallback) {
        Object value = map.get(key);
        return value instanceof Boolean b ? b : fallback;
    }

    static int integer(Object value, String where) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalArgumentException("tokenizer.json: " + where + " must be a number");
    }
}

package org.lightretriever.opensearch.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed reads from a bundle manifest (docs/design.md "Model bundle"): a wrong or missing value is the uploader's
 * error and fails with the key path (IllegalArgumentException, a 400). Anything else thrown is a bug here.
 */
final class ManifestReader {
    private ManifestReader() {}

    /** The object at `key` of `parent`; an absent or null one reads as empty. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Map<String, Object> parent, String key, String where) {
        Object value = parent.get(key);
        if (value == null) {
            return Map.of();
        }
        if (value instanceof Map<?, ?> map) {
            return (Map<String, Object>) map;
        }
        throw new IllegalArgumentException("manifest " + where + " must be an object, got " + value);
    }

    static int integer(Object value, String where) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalArgumentException("manifest " + where + " must be a number, got " + value);
    }

    static String string(Object value, String where) {
        if (value instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("manifest " + where + " must be a string, got " + value);
    }

    static List<Integer> integers(Object value, String where) {
        List<Integer> out = new ArrayList<>();
        for (Object item : list(value, where)) {
            out.add(integer(item, where + "[]"));
        }
        return out;
    }

    static List<String> strings(Object value, String where) {
        List<String> out = new ArrayList<>();
        for (Object item : list(value, where)) {
            out.add(string(item, where + "[]"));
        }
        return out;
    }

    static LinkedHashMap<String, Double> weights(Map<String, Object> raw, String where) {
        LinkedHashMap<String, Double> out = new LinkedHashMap<>();
        raw.forEach((system, weight) -> {
            if (!(weight instanceof Number n)) {
                throw new IllegalArgumentException("manifest " + where + "." + system + " must be a number, got " + weight);
            }
            out.put(system, n.doubleValue());
        });
        return out;
    }

    private static List<?> list(Object value, String where) {
        if (value instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException("manifest " + where + " must be a list, got " + value);
    }
}

package org.lightretriever.opensearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

/** Reads the shared test vectors written by tests/vectors/generate.py. */
public final class Vectors {
    private Vectors() {}

    public static Path dir() {
        return Path.of(System.getProperty("lightretriever.vectors", "../tests/vectors"));
    }

    public static Map<String, Object> json(String relative) throws IOException {
        try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
            DeprecationHandler.IGNORE_DEPRECATIONS, Files.readAllBytes(dir().resolve(relative)))) {
            return parser.mapOrdered();
        }
    }

    public static byte[] bytes(String relative) throws IOException {
        return Files.readAllBytes(dir().resolve(relative));
    }

    @SuppressWarnings("unchecked")
    public static <T> T get(Object map, String key) {
        return (T) ((Map<String, Object>) map).get(key);
    }

    public static int[] ints(List<?> values) {
        return values.stream().mapToInt(v -> ((Number) v).intValue()).toArray();
    }
}

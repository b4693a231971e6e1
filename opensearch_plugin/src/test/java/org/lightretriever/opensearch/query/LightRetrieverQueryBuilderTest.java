package org.lightretriever.opensearch.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.common.ParsingException;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

/** Parsing, validation messages and the transport round trip of the query clause. */
class LightRetrieverQueryBuilderTest {
    private static LightRetrieverQueryBuilder parse(String json) throws Exception {
        try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
            DeprecationHandler.IGNORE_DEPRECATIONS, json)) {
            parser.nextToken(); // START_OBJECT of the clause body
            return LightRetrieverQueryBuilder.fromXContent(parser);
        }
    }

    @Test
    void parsesEveryFieldAndRoundTrips() throws Exception {
        LightRetrieverQueryBuilder q = parse("{\"query\": \"p53 cancer\", \"model\": \"m\", \"k\": 50, \"fusion\": \"rrf\","
            + " \"dense_field\": \"v\", \"sparse_field\": \"s\", \"text_fields\": [\"body\"], \"systems\": [\"bm25\", \"dense\"],"
            + " \"boost\": 2.0, \"_name\": \"lr\"}");
        assertEquals(2.0f, q.boost());
        assertEquals("lr", q.queryName());
        BytesStreamOutput out = new BytesStreamOutput();
        q.writeTo(out);
        try (StreamInput in = out.bytes().streamInput()) {
            LightRetrieverQueryBuilder copy = new LightRetrieverQueryBuilder(in);
            assertEquals(q, copy);
            assertEquals(q.hashCode(), copy.hashCode());
        }
        String json = q.toString();
        assertTrue(json.contains("\"systems\" : [\n      \"dense\",\n      \"bm25\"") || json.contains("\"dense\",\"bm25\"")
            || json.replaceAll("\\s", "").contains("\"systems\":[\"dense\",\"bm25\"]"), json);
    }

    @Test
    void defaultsFollowTheDesign() throws Exception {
        LightRetrieverQueryBuilder q = parse("{\"query\": \"x\", \"model\": \"m\"}");
        String json = q.toString().replaceAll("\\s", "");
        assertTrue(json.contains("\"k\":100") && json.contains("\"dense_field\":\"dense\"") && json.contains("\"sparse_field\":\"sparse\"")
            && json.contains("\"text_fields\":[\"title\",\"text\"]"), json);
        assertTrue(!json.contains("\"systems\"") && !json.contains("\"fusion\""), json);
        assertNull(new LightRetrieverQueryBuilder("x", "m", 1, null, null, "d", "s", List.of("t"), null).queryName());
    }

    @Test
    void equalityHoldsWhenSystemsAreOmitted() throws Exception {
        // systems omitted is the default: equals/hashCode used to throw a NullPointerException on it
        LightRetrieverQueryBuilder a = parse("{\"query\": \"x\", \"model\": \"m\"}");
        LightRetrieverQueryBuilder b = parse("{\"query\": \"x\", \"model\": \"m\"}");
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, parse("{\"query\": \"x\", \"model\": \"m\", \"systems\": [\"bm25\"]}"));
        assertNotEquals(parse("{\"query\": \"x\", \"model\": \"m\", \"systems\": [\"bm25\"]}"), a);
    }

    @Test
    void scopeDefaultsToIndexAndRoundTrips() throws Exception {
        LightRetrieverQueryBuilder global = parse("{\"query\": \"x\", \"model\": \"m\"}");
        assertTrue(global.toString().replaceAll("\\s", "").contains("\"scope\":\"index\""));
        LightRetrieverQueryBuilder shard = parse("{\"query\": \"x\", \"model\": \"m\", \"scope\": \"shard\"}");
        assertNotEquals(global, shard);
        BytesStreamOutput out = new BytesStreamOutput();
        shard.writeTo(out);
        try (StreamInput in = out.bytes().streamInput()) {
            assertEquals(shard, new LightRetrieverQueryBuilder(in));
        }
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"scope\": \"node\"}").contains("unknown scope [node]"));
    }

    @Test
    void badInputIsNamed() {
        assertEquals("[lightretriever] query text is empty", reason("{\"query\": \"  \", \"model\": \"m\"}"));
        assertEquals("[lightretriever] requires a model name", reason("{\"query\": \"x\"}"));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"k\": 0}").contains("k must be between 1 and 10000, got 0"));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"fusion\": \"max\"}").contains("unknown fusion [max]"));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"systems\": [\"colbert\"]}").contains("systems [colbert]"));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"size\": 3}").contains("unknown field [size]"));
    }

    @Test
    void wrongTypesAndDeepFiltersAreParsingErrorsNot500s() throws Exception {
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"text_fields\": [null]}").contains("expected an array of strings, found [VALUE_NULL]"));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"systems\": [{}]}").contains("expected an array of strings"));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"k\": true}").contains("[lightretriever] bad value: "));
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"boost\": -1}").contains("boost must be"));
        String deep = "{\"bool\": {\"filter\": [".repeat(40) + "{}" + "]}}".repeat(40);
        assertTrue(reason("{\"query\": \"x\", \"model\": \"m\", \"filter\": " + deep + "}").contains("nested deeper than 100"));
        LightRetrieverQueryBuilder noSystems = parse("{\"query\": \"x\", \"model\": \"m\"}");
        assertEquals(noSystems, parse("{\"query\": \"x\", \"model\": \"m\"}")); // equals without systems
    }

    private static String reason(String json) {
        return assertThrows(ParsingException.class, () -> parse(json)).getMessage();
    }
}

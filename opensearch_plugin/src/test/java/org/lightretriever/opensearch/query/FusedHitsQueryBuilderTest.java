package org.lightretriever.opensearch.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lightretriever.opensearch.fusion.Fused;
import org.lightretriever.opensearch.fusion.Hit;
import org.lightretriever.opensearch.fusion.RrfFusion;
import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

/** The coordinator's fused documents: transport and XContent round trips, per-system scores, tie order. */
class FusedHitsQueryBuilderTest {
    private static final List<String> SYSTEMS = List.of("dense", "sparse");

    private static FusedHitsQueryBuilder sample() {
        return sample(false);
    }

    private static FusedHitsQueryBuilder sample(boolean truncated) {
        Map<String, List<Hit>> hits = new LinkedHashMap<>();
        hits.put("dense", List.of(new Hit("b", 0.9), new Hit("a", 0.5)));
        hits.put("sparse", List.of(new Hit("a", 7.0), new Hit("c", 3.0)));
        Map<String, SystemScores> given = SystemScores.byDoc(SYSTEMS, hits);
        return new FusedHitsQueryBuilder("model=m, fusion=linear", SYSTEMS, List.of(
            new FusedHitsQueryBuilder.Entry("i", "a", 0.8f, given.get("a")),
            new FusedHitsQueryBuilder.Entry("i", "b", 0.7f, given.get("b")),
            new FusedHitsQueryBuilder.Entry(null, "c", 0.1f, given.get("c"))), truncated);
    }

    @Test
    void systemScoresKeepEachSystemsScoreAndRank() {
        SystemScores a = sample().entries().get(0).given();
        assertArrayEquals(new double[] {0.5, 7.0}, a.scores());
        assertArrayEquals(new int[] {2, 1}, a.ranks());
        assertEquals(Map.of("sparse", 3.0), sample().entries().get(2).given().asMap()); // absent from dense's top list
        assertTrue(a.explain(0.8f, "d").toString().contains("dense score, rank 2"));
        assertTrue(sample().entries().get(2).given().explain(0.1f, "d").toString().contains("dense: not in its top k"));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void roundTripsOverTransportAndXContent(boolean truncated) throws Exception {
        FusedHitsQueryBuilder q = sample(truncated);
        assertEquals(truncated, q.toString().contains("\"truncated\" : true"));
        assertNotEquals(q, sample(!truncated));
        q.boost(2f);
        q.queryName("n");
        BytesStreamOutput out = new BytesStreamOutput();
        q.writeTo(out);
        try (StreamInput in = out.bytes().streamInput()) {
            FusedHitsQueryBuilder copy = new FusedHitsQueryBuilder(in);
            assertEquals(q, copy);
            assertEquals(q.hashCode(), copy.hashCode());
        }
        String json = q.toString();
        try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
            DeprecationHandler.IGNORE_DEPRECATIONS, json)) {
            parser.nextToken();
            parser.nextToken(); // the clause name
            parser.nextToken();
            FusedHitsQueryBuilder parsed = FusedHitsQueryBuilder.fromXContent(parser);
            assertEquals(q, parsed);
            assertEquals(truncated, parsed.truncated());
        }
    }

    @Test
    void tiedFusedScoresStayInFusedOrderAsStrictlyDecreasingFloats() {
        // RRF ties every document ranked at the same position by a single system
        Map<String, List<Hit>> hits = new LinkedHashMap<>();
        hits.put("dense", List.of(new Hit("d2", 1.0), new Hit("d9", 0.5)));
        hits.put("bm25", List.of(new Hit("d1", 9.0), new Hit("d3", 4.0)));
        List<Fused> fused = new RrfFusion(60, List.of("dense", "bm25")).fuse(hits, 1, 0);
        assertEquals(List.of("d1", "d2", "d3", "d9"), fused.stream().map(Fused::docId).toList());
        float[] scores = FusedOrder.strictlyDecreasing(fused);
        for (int i = 1; i < scores.length; i++) {
            assertTrue(scores[i] < scores[i - 1]);
            assertEquals(fused.get(i).score(), scores[i], 1e-6);
        }
    }
}

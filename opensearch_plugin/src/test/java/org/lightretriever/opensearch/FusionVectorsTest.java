package org.lightretriever.opensearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lightretriever.opensearch.fusion.Fused;
import org.lightretriever.opensearch.fusion.Fusion;
import org.lightretriever.opensearch.fusion.Fusions;
import org.lightretriever.opensearch.fusion.Hit;
import org.lightretriever.opensearch.fusion.LearnedFusion;
import org.lightretriever.opensearch.fusion.LightGbmModel;
import org.lightretriever.opensearch.fusion.LinearFusion;
import org.lightretriever.opensearch.fusion.RrfFusion;

/** Java fusion (linear, rrf, learned with the Java LightGBM evaluator) == lightretriever.fuse. */
class FusionVectorsTest {
    @Test
    void everyFusionReproducesEveryVector() throws Exception {
        Map<String, Object> all = Vectors.json("fusion.json");
        Object defaults = Vectors.get(all, "defaults");
        LinkedHashMap<String, Double> weights = weights(Vectors.get(Vectors.get(defaults, "linear"), "weights"));
        Object learnedSpec = Vectors.get(all, "learned");
        List<String> systems = Vectors.get(learnedSpec, "systems");
        int depth = ((Number) Vectors.get(learnedSpec, "depth")).intValue();
        LightGbmModel model = LightGbmModel.parse(new String(Vectors.bytes(Vectors.get(learnedSpec, "model_file")), StandardCharsets.UTF_8));
        assertEquals(LearnedFusion.featureNames(systems), Vectors.get(learnedSpec, "features"));
        Map<String, Fusion> fusions = Map.of(
            "linear", new LinearFusion(weights),
            "rrf", new RrfFusion(((Number) Vectors.get(Vectors.get(defaults, "rrf"), "k")).intValue(), systems),
            "learned", new LearnedFusion(model, systems, depth));
        int checked = 0;
        for (Object c : (List<?>) Vectors.get(all, "cases")) {
            String name = Vectors.get(c, "name");
            Map<String, List<Hit>> hits = new LinkedHashMap<>();
            ((Map<?, ?>) Vectors.get(c, "hits")).forEach((system, ranked) -> {
                List<Hit> list = new ArrayList<>();
                for (Object pair : (List<?>) ranked) {
                    List<?> p = (List<?>) pair;
                    list.add(new Hit((String) p.get(0), ((Number) p.get(1)).doubleValue()));
                }
                hits.put((String) system, list);
            });
            double queryLen = ((Number) Vectors.get(c, "query_len")).doubleValue();
            double oov = ((Number) Vectors.get(c, "oov_share")).doubleValue();
            for (Map.Entry<String, Fusion> f : fusions.entrySet()) {
                List<?> expected = Vectors.get(c, f.getKey());
                List<Fused> actual = f.getValue().fuse(hits, queryLen, oov);
                String where = name + " " + f.getKey();
                assertEquals(expected.size(), actual.size(), where + " size");
                for (int i = 0; i < expected.size(); i++) {
                    List<?> e = (List<?>) expected.get(i);
                    assertEquals(e.get(0), actual.get(i).docId(), where + " rank " + (i + 1));
                    assertEquals(((Number) e.get(1)).doubleValue(), actual.get(i).score(), 1e-12, where + " score at rank " + (i + 1));
                }
                checked++;
            }
            Object features = Vectors.get(c, "features");
            List<String> ids = Vectors.get(features, "doc_ids");
            double[][] rows = LearnedFusion.features(hits, ids, systems, depth, queryLen, oov);
            List<?> expectedRows = Vectors.get(features, "rows");
            for (int i = 0; i < rows.length; i++) {
                List<?> row = (List<?>) expectedRows.get(i);
                for (int j = 0; j < row.size(); j++) {
                    assertEquals(((Number) row.get(j)).doubleValue(), rows[i][j], 1e-12, name + " feature " + j + " of " + ids.get(i));
                }
            }
        }
        assertTrue(checked >= 30, "too few fusion vectors: " + checked);
    }

    /** The names and defaults in Fusions are the Python registry's (lightretriever.fuse.registry wrote them). */
    @Test
    void namesAndDefaultsAreThePythonRegistrys() throws Exception {
        Map<String, Object> all = Vectors.json("fusion.json");
        Object defaults = Vectors.get(all, "defaults");
        assertEquals(Vectors.get(all, "names"), Fusions.NAMES);
        assertEquals(Vectors.get(defaults, "default"), Fusions.DEFAULT);
        LinkedHashMap<String, Double> weights = weights(Vectors.get(Vectors.get(defaults, "linear"), "weights"));
        assertEquals(List.copyOf(weights.entrySet()), List.copyOf(Fusions.defaultWeights().entrySet())); // order too
        assertEquals(((Number) Vectors.get(Vectors.get(defaults, "rrf"), "k")).intValue(), Fusions.DEFAULT_RRF_K);
    }

    private static LinkedHashMap<String, Double> weights(Map<?, ?> raw) {
        LinkedHashMap<String, Double> weights = new LinkedHashMap<>();
        raw.forEach((k, v) -> weights.put((String) k, ((Number) v).doubleValue()));
        return weights;
    }

    @Test
    void malformedModelsAreRejectedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LightGbmModel.parse("hello"));
        assertTrue(e.getMessage().contains("not a LightGBM text model"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LightGbmModel.parse("tree\nmax_feature_idx=2\nnum_class=3\n"));
        assertTrue(e.getMessage().contains("single-output"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LightGbmModel.parse("tree\nmax_feature_idx=2\n\nTree=0\nnum_leaves=2\nleaf_value=1 2\n"));
        assertTrue(e.getMessage().contains("missing split_feature"), e.getMessage());
    }

    @Test
    void missingValuesFollowDecisionTypeBits() {
        // one split on feature 0 at 0.5; decision_type 2|(2<<2): default left, NaN as missing
        String text = "tree\nmax_feature_idx=0\n\nTree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\nthreshold=0.5\n"
            + "decision_type=10\nleft_child=-1\nright_child=-2\nleaf_value=-1 1\n\nend of trees\n";
        LightGbmModel m = LightGbmModel.parse(text);
        assertEquals(-1.0, m.predictRaw(new double[] {0.2}));
        assertEquals(1.0, m.predictRaw(new double[] {0.7}));
        assertEquals(-1.0, m.predictRaw(new double[] {Double.NaN}));
    }
}

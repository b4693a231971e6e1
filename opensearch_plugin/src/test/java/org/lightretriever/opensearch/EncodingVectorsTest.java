package org.lightretriever.opensearch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lightretriever.opensearch.encode.QueryEncoder;
import org.lightretriever.opensearch.encode.QueryEncoding;
import org.lightretriever.opensearch.encode.TokenTable;
import org.lightretriever.opensearch.tokenize.HfTokenizer;

/** Java light query encoding == lightretriever.encode.query for every shared vector. */
class EncodingVectorsTest {
    @Test
    void encoderReproducesEveryVector() throws Exception {
        Map<String, Object> all = Vectors.json("encoding.json");
        int checked = 0;
        for (Map.Entry<String, Object> entry : all.entrySet()) {
            Object cfg = entry.getValue();
            HfTokenizer tokenizer = HfTokenizer.fromJson(Vectors.json(Vectors.get(cfg, "tokenizer")));
            byte[] tableFile = Vectors.bytes(Vectors.get(cfg, "table"));
            TokenTable table = TokenTable.fromSafetensors(tableFile);
            String weightsTensor = Vectors.get(cfg, "sparse_weights");
            float[] weights = weightsTensor == null ? null : TokenTable.sparseWeightsFromSafetensors(tableFile, weightsTensor, table.rows());
            List<Integer> exclude = new ArrayList<>();
            for (Object id : (List<?>) Vectors.get(cfg, "exclude_ids")) {
                exclude.add(((Number) id).intValue());
            }
            Number unk = Vectors.get(cfg, "unk_id");
            QueryEncoder encoder = new QueryEncoder(tokenizer, table, ((Number) Vectors.get(cfg, "max_length")).intValue(),
                unk == null ? null : unk.intValue(), exclude, weights);
            for (Object c : (List<?>) Vectors.get(cfg, "cases")) {
                String text = Vectors.get(c, "text");
                String where = entry.getKey() + " [" + text + "]";
                checked++;
                String error = Vectors.get(c, "error");
                if (error != null) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> encoder.encode(text), where);
                    String reason = error.contains("no known tokens") ? "no known tokens" : "empty query";
                    assertTrue(e.getMessage().contains(reason), where + ": " + e.getMessage());
                    continue;
                }
                QueryEncoding enc = encoder.encode(text);
                assertArrayEquals(Vectors.ints(Vectors.get(c, "ids")), enc.ids(), where + " ids");
                assertEquals(((Number) Vectors.get(c, "n_tokens")).intValue(), enc.nTokens(), where + " n_tokens");
                assertEquals(((Number) Vectors.get(c, "n_unknown")).intValue(), enc.nUnknown(), where + " n_unknown");
                assertEquals(Vectors.get(c, "truncated"), enc.truncated(), where + " truncated");
                assertEquals(((Number) Vectors.get(c, "oov_share")).doubleValue(), enc.oovShare(), 1e-12, where + " oov_share");
                Map<String, Double> sparse = new LinkedHashMap<>();
                enc.sparse().forEach((id, value) -> sparse.put(String.valueOf(id), value));
                Map<String, Double> expectedSparse = new LinkedHashMap<>();
                ((Map<?, ?>) Vectors.get(c, "sparse")).forEach((k, v) -> expectedSparse.put((String) k, ((Number) v).doubleValue()));
                assertEquals(expectedSparse, sparse, where + " sparse"); // exact: the same double products
                List<?> dense = Vectors.get(c, "dense");
                assertEquals(dense.size(), enc.dense().length, where + " dim");
                for (int j = 0; j < dense.size(); j++) {
                    // exact: both sides take the norm from float64 squares, rounded once to float32
                    assertEquals((float) ((Number) dense.get(j)).doubleValue(), enc.dense()[j], 0.0f, where + " dense[" + j + "]");
                }
            }
        }
        assertTrue(checked >= 20, "too few encoding vectors: " + checked);
        assertTrue(all.values().stream().anyMatch(cfg -> Vectors.get(cfg, "sparse_weights") != null), "no weighted sparse vectors");
    }
}

package org.lightretriever.opensearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lightretriever.opensearch.encode.QueryEncoder;
import org.lightretriever.opensearch.tokenize.HfTokenizer;

/** Java's long-query cut == lightretriever.encode.query.cut_query for every shared vector (truncation.json). */
class TruncationVectorsTest {
    @Test
    void cutReproducesEveryVector() throws Exception {
        Map<String, Object> all = Vectors.json("truncation.json");
        int checked = 0;
        int truncated = 0;
        for (Map.Entry<String, Object> entry : all.entrySet()) {
            Object cfg = entry.getValue();
            HfTokenizer tokenizer = HfTokenizer.fromJson(Vectors.json(Vectors.get(cfg, "tokenizer")));
            int maxTokens = ((Number) Vectors.get(cfg, "max_tokens")).intValue();
            int maxChars = ((Number) Vectors.get(cfg, "max_chars")).intValue();
            for (Object c : (List<?>) Vectors.get(cfg, "cases")) {
                String text = Vectors.get(c, "text");
                String where = entry.getKey() + " [" + text.substring(0, Math.min(40, text.length())) + "]";
                QueryEncoder.Cut cut = QueryEncoder.cut(tokenizer, maxTokens, text, maxChars);
                assertEquals((String) Vectors.get(c, "cut"), cut.text(), where);
                assertEquals(Vectors.get(c, "truncated"), cut.truncated(), where + " truncated");
                assertEquals(cut.truncated(), cut.ids() == null, where + " ids only when not cut");
                checked++;
                truncated += cut.truncated() ? 1 : 0;
            }
        }
        assertTrue(checked >= 100 && truncated >= 80, "too few truncation vectors: " + checked + ", cut " + truncated);
    }
}

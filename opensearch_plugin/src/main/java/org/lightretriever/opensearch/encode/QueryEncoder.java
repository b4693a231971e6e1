package org.lightretriever.opensearch.encode;

import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.lightretriever.opensearch.tokenize.HfTokenizer;

/** Model-free query encoding: tokenise, drop unk/special ids, mean of table rows (L2-normalised), id counts. */
public final class QueryEncoder {
    private final HfTokenizer tokenizer;
    private final TokenTable table;
    private final int maxLength;
    private final int unkId;
    private final Set<Integer> excludeIds;

    public QueryEncoder(HfTokenizer tokenizer, TokenTable table, int maxLength, Integer unkId, Iterable<Integer> excludeIds) {
        this.tokenizer = tokenizer;
        this.table = table;
        this.maxLength = maxLength;
        this.unkId = unkId == null ? -1 : unkId;
        this.excludeIds = new HashSet<>();
        excludeIds.forEach(this.excludeIds::add);
        if (unkId != null) {
            this.excludeIds.add(unkId);
        }
    }

    /** @throws IllegalArgumentException "empty query" or "query has no known tokens", naming the query */
    public QueryEncoding encode(String text) {
        if (text == null || text.strip().isEmpty()) {
            throw new IllegalArgumentException("lightretriever query [" + text + "]: empty query");
        }
        int[] ids = tokenizer.encode(text);
        boolean truncated = ids.length > maxLength;
        if (truncated) {
            ids = Arrays.copyOf(ids, maxLength);
        }
        int nUnknown = 0;
        Map<Integer, Integer> counts = new LinkedHashMap<>();
        int kept = 0;
        float[] dense = new float[table.dim()];
        for (int id : ids) {
            if (id == unkId) {
                nUnknown++;
            }
            if (excludeIds.contains(id)) {
                continue;
            }
            if (id < 0 || id >= table.rows()) {
                throw new IllegalArgumentException("lightretriever query [" + text + "]: token id " + id + " is outside the token table (" + table.rows() + " rows)");
            }
            table.addRow(id, dense); // float32 running sum, row by row, like numpy's mean over axis 0
            counts.merge(id, 1, Integer::sum);
            kept++;
        }
        if (kept == 0) {
            throw new IllegalArgumentException("lightretriever query [" + text + "]: query has no known tokens");
        }
        float n = kept;
        double sq = 0;
        for (int j = 0; j < dense.length; j++) {
            dense[j] = dense[j] / n;
            sq += (double) dense[j] * dense[j];
        }
        float norm = (float) Math.sqrt(sq);
        if (norm > 0f) {
            for (int j = 0; j < dense.length; j++) {
                dense[j] = dense[j] / norm;
            }
        }
        int nTokens = ids.length;
        return new QueryEncoding(ids, dense, counts, nTokens, nUnknown, truncated, nTokens == 0 ? 0.0 : (double) nUnknown / nTokens);
    }

    public int dim() {
        return table.dim();
    }
}

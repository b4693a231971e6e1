package org.lightretriever.opensearch.encode;

import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.lightretriever.opensearch.tokenize.HfTokenizer;

/**
 * Model-free query encoding: tokenise, drop unk/special ids, mean of table rows (L2-normalised), id counts (times
 * the bundle's per-token sparse weights when it has them: manifest query.sparse_weights).
 */
public final class QueryEncoder {
    private final HfTokenizer tokenizer;
    private final TokenTable table;
    private final int maxLength;
    private final int unkId;
    private final Set<Integer> excludeIds;
    private final float[] sparseWeights; // null: plain counts

    public QueryEncoder(HfTokenizer tokenizer, TokenTable table, int maxLength, Integer unkId, Iterable<Integer> excludeIds) {
        this(tokenizer, table, maxLength, unkId, excludeIds, null);
    }

    public QueryEncoder(HfTokenizer tokenizer, TokenTable table, int maxLength, Integer unkId, Iterable<Integer> excludeIds,
                        float[] sparseWeights) {
        if (sparseWeights != null && sparseWeights.length != table.rows()) {
            throw new IllegalArgumentException("sparse weights have " + sparseWeights.length + " entries but the token table " + table.rows() + " rows");
        }
        this.sparseWeights = sparseWeights;
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

    /** A query text cut to fit (docs/design.md "Long queries"); `ids` are the text's ids when it was not cut, else null. */
    public record Cut(String text, int[] ids, boolean truncated) {}

    /**
     * The longest prefix with at most `maxChars` code points and `max_length.query` tokens, cut back to a word
     * boundary (unless its first word alone is too long), trailing white space removed: Python's `cut_query`,
     * step for step, so both sides search the same text.
     */
    public Cut cut(String text, int maxChars) {
        return cut(tokenizer, maxLength, text, maxChars);
    }

    /** {@link #cut(String, int)} for any tokenizer and token budget. */
    public static Cut cut(HfTokenizer tokenizer, int maxLength, String text, int maxChars) {
        int[] cps = text.codePoints().toArray();
        if (cps.length <= maxChars) {
            int[] ids = tokenizer.encode(text);
            if (ids.length <= maxLength) {
                return new Cut(text, ids, false);
            }
        }
        int lo = 0;
        int hi = Math.min(cps.length, maxChars);
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (tokenizer.encode(new String(cps, 0, mid)).length <= maxLength) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int end = lo;
        if (end < cps.length && !isWhiteSpace(cps[end])) { // the cut falls inside a word: drop that word
            int start = end;
            while (start > 0 && !isWhiteSpace(cps[start - 1])) {
                start--;
            }
            for (int i = 0; i < start; i++) {
                if (!isWhiteSpace(cps[i])) {
                    end = start;
                    break;
                }
            }
        }
        while (end > 0 && isWhiteSpace(cps[end - 1])) {
            end--;
        }
        return new Cut(new String(cps, 0, end), null, true);
    }

    /** Unicode's White_Space property: the separators Zs, Zl, Zp plus TAB..CR and NEL (Python's WHITE_SPACE). */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || Character.isSpaceChar(cp);
    }

    /** @throws IllegalArgumentException "empty query" or "query has no known tokens", naming the query */
    public QueryEncoding encode(String text) {
        return encode(text, null);
    }

    /** @param ids the tokenizer's ids of `text` when the caller has them ({@link #cut}), else null */
    public QueryEncoding encode(String text, int[] ids) {
        if (text == null || text.strip().isEmpty()) {
            throw new IllegalArgumentException("lightretriever query [" + text + "]: empty query");
        }
        if (ids == null) {
            ids = tokenizer.encode(text);
        }
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
        // No division by the count: the normalisation cancels it (design.md), and Python leaves it out too.
        double sq = 0;
        for (int j = 0; j < dense.length; j++) {
            sq += (double) dense[j] * dense[j];
        }
        float norm = (float) Math.sqrt(sq);
        if (norm > 0f) {
            for (int j = 0; j < dense.length; j++) {
                dense[j] = dense[j] / norm;
            }
        }
        Map<Integer, Double> sparse = new LinkedHashMap<>();
        // count × the float32 weight, in double: Python's `c * weights[i]` gives the same value
        counts.forEach((id, count) -> sparse.put(id, sparseWeights == null ? (double) count : count * (double) sparseWeights[id]));
        int nTokens = ids.length;
        return new QueryEncoding(ids, dense, sparse, nTokens, nUnknown, truncated, nTokens == 0 ? 0.0 : (double) nUnknown / nTokens);
    }

    public int dim() {
        return table.dim();
    }
}

package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.lightretriever.opensearch.encode.QueryEncoding;
import org.opensearch.common.xcontent.LoggingDeprecationHandler;
import org.opensearch.common.xcontent.XContentFactory;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.common.bytes.BytesReference;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.AbstractQueryBuilder;
import org.opensearch.index.query.BoolQueryBuilder;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.knn.index.query.KNNQueryBuilder;

/** The sub-queries of docs/design.md ("Sub-queries"), built exactly as the Python rewriter builds them. */
final class SubQueries {
    /**
     * OpenSearch refuses more than 1024 leaf clauses; the BM25 sub-query has one per analysed term and text field,
     * a term is at least one character: its text is held to this many clauses (Python's rewrite.dsl, design.md).
     */
    static final int BM25_MAX_CLAUSES = 900;

    static int maxQueryChars(int textFields) {
        return BM25_MAX_CLAUSES / Math.max(1, textFields);
    }

    private final String text;
    private final QueryEncoding encoding;
    private final int depth;
    private final QueryBuilder filter;
    private final String denseField;
    private final String sparseField;
    private final List<String> textFields;

    SubQueries(String text, QueryEncoding encoding, int depth, QueryBuilder filter, String denseField, String sparseField,
               List<String> textFields) {
        this.text = text;
        this.encoding = encoding;
        this.depth = depth;
        this.filter = filter;
        this.denseField = denseField;
        this.sparseField = sparseField;
        this.textFields = textFields;
    }

    String denseField() {
        return denseField;
    }

    QueryEncoding encoding() {
        return encoding;
    }

    int depth() {
        return depth;
    }

    List<String> textFields() {
        return textFields;
    }

    String text() {
        return text;
    }

    /** The system's query; `registry` is the node's (rank_feature is parsed through it). */
    QueryBuilder build(String system, NamedXContentRegistry registry) throws IOException {
        return switch (system) {
            case "dense" -> KNNQueryBuilder.builder().fieldName(denseField).vector(encoding.dense()).k(depth).filter(filter).build();
            case "sparse" -> sparse(registry);
            case "bm25" -> {
                BoolQueryBuilder bool = QueryBuilders.boolQuery().must(QueryBuilders.multiMatchQuery(text, textFields.toArray(String[]::new)));
                if (filter != null) {
                    bool.filter(filter);
                }
                yield bool;
            }
            default -> throw new IllegalArgumentException("unknown system " + system);
        };
    }

    /**
     * One rank_feature clause (linear, boost = count, or count × weight) per token id, ordered by id. rank_feature lives in the
     * mapper-extras module, so the clause is parsed through the node's query registry rather than linked.
     */
    private QueryBuilder sparse(NamedXContentRegistry registry) throws IOException {
        BoolQueryBuilder bool = QueryBuilders.boolQuery().minimumShouldMatch(1);
        for (Map.Entry<Integer, Double> e : new TreeMap<>(encoding.sparse()).entrySet()) {
            XContentBuilder json = XContentFactory.jsonBuilder().startObject().startObject("rank_feature")
                .field("field", sparseField + "." + e.getKey()).startObject("linear").endObject()
                .field("boost", e.getValue().doubleValue()).endObject().endObject();
            try (XContentParser parser = JsonXContent.jsonXContent.createParser(registry, LoggingDeprecationHandler.INSTANCE,
                BytesReference.bytes(json).streamInput())) {
                parser.nextToken();
                bool.should(AbstractQueryBuilder.parseInnerQueryBuilder(parser));
            }
        }
        if (filter != null) {
            bool.filter(filter);
        }
        return bool;
    }
}

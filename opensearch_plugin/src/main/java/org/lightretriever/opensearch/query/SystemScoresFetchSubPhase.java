package org.lightretriever.opensearch.query;

import java.util.List;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.opensearch.common.document.DocumentField;
import org.opensearch.search.fetch.FetchContext;
import org.opensearch.search.fetch.FetchSubPhase;
import org.opensearch.search.fetch.FetchSubPhaseProcessor;

/**
 * Adds `fields.lightretriever` to each hit of a `lightretriever` query: `[{"dense": 0.83, "sparse": 12.1}]`, the
 * score each system gave the document (a system that did not rank it in its top k is absent).
 */
public final class SystemScoresFetchSubPhase implements FetchSubPhase {
    public static final String FIELD = "lightretriever";

    @Override
    public FetchSubPhaseProcessor getProcessor(FetchContext context) {
        FusedScoreQuery fused = context.query() == null ? null : find(context.query());
        if (fused == null) {
            return null;
        }
        return new FetchSubPhaseProcessor() {
            private int docBase;

            @Override
            public void setNextReader(LeafReaderContext leaf) {
                docBase = leaf.docBase;
            }

            @Override
            public void process(HitContext hit) {
                SystemScores given = fused.systemScores(docBase + hit.docId());
                if (given != null) {
                    hit.hit().setDocumentField(FIELD, new DocumentField(FIELD, List.of(given.asMap())));
                }
            }
        };
    }

    /** The fused query inside the search's query (it may be wrapped: boost, bool with filters), or null. */
    private static FusedScoreQuery find(Query query) {
        FusedScoreQuery[] found = new FusedScoreQuery[1];
        query.visit(new QueryVisitor() {
            @Override
            public void visitLeaf(Query leaf) {
                if (leaf instanceof FusedScoreQuery fusedQuery && found[0] == null) {
                    found[0] = fusedQuery;
                }
            }

            @Override
            public QueryVisitor getSubVisitor(BooleanClause.Occur occur, Query parent) {
                return this;
            }
        });
        return found[0];
    }
}

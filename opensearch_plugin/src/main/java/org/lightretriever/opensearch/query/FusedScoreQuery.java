package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.Arrays;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.ScorerSupplier;
import org.apache.lucene.search.Weight;

/**
 * Matches exactly the fused documents (top-level doc ids of one index reader) with their fused scores.
 * Built per shard, from the coordinator's global fusion ({@link FusedHitsQueryBuilder}) or from the shard's own
 * ({@link ShardFusion}).
 */
final class FusedScoreQuery extends Query {
    private final Object readerId;
    private final int[] docs; // ascending top-level doc ids
    private final float[] scores;
    private final SystemScores[] systems; // per doc: what each system gave it
    private final String description;

    FusedScoreQuery(IndexReader reader, int[] docs, float[] scores, SystemScores[] systems, String description) {
        this.readerId = reader.getContext().id();
        Integer[] order = new Integer[docs.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(docs[a], docs[b]));
        this.docs = new int[docs.length];
        this.scores = new float[docs.length];
        this.systems = new SystemScores[docs.length];
        for (int i = 0; i < order.length; i++) {
            this.docs[i] = docs[order[i]];
            this.scores[i] = scores[order[i]];
            this.systems[i] = systems[order[i]];
        }
        this.description = description;
    }

    @Override
    public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) {
        if (!readerId.equals(searcher.getIndexReader().getContext().id())) {
            throw new IllegalStateException("lightretriever fused query was built for another index reader");
        }
        return new Weight(this) {
            @Override
            public Explanation explain(LeafReaderContext context, int doc) {
                int i = Arrays.binarySearch(docs, context.docBase + doc);
                if (i < 0) {
                    return Explanation.noMatch("not among the fused candidates");
                }
                return systems[i].explain(boost * scores[i], description);
            }

            @Override
            public ScorerSupplier scorerSupplier(LeafReaderContext context) {
                int from = lowerBound(context.docBase);
                int to = lowerBound(context.docBase + context.reader().maxDoc());
                if (from == to) {
                    return null;
                }
                return new DefaultScorerSupplier(new FusedScorer(context.docBase, from, to, boost));
            }

            @Override
            public boolean isCacheable(LeafReaderContext ctx) {
                return false;
            }
        };
    }

    /** What each system gave the document with this top-level doc id, or null when it is not a fused candidate. */
    SystemScores systemScores(int topLevelDoc) {
        int i = Arrays.binarySearch(docs, topLevelDoc);
        return i >= 0 ? systems[i] : null;
    }

    private int lowerBound(int doc) {
        int i = Arrays.binarySearch(docs, doc);
        return i >= 0 ? i : -i - 1;
    }

    private final class FusedScorer extends Scorer {
        private final int base;
        private final int from;
        private final int to;
        private final float boost;
        private int pos = -1;
        private int doc = -1;

        FusedScorer(int base, int from, int to, float boost) {
            this.base = base;
            this.from = from;
            this.to = to;
            this.boost = boost;
        }

        @Override
        public int docID() {
            return doc;
        }

        @Override
        public float score() {
            return boost * scores[pos];
        }

        @Override
        public float getMaxScore(int upTo) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = Math.max(from, pos); i < to && docs[i] - base <= upTo; i++) {
                max = Math.max(max, boost * scores[i]);
            }
            return max;
        }

        @Override
        public DocIdSetIterator iterator() {
            return new DocIdSetIterator() {
                @Override
                public int docID() {
                    return doc;
                }

                @Override
                public int nextDoc() {
                    pos = pos < 0 ? from : pos + 1;
                    doc = pos < to ? docs[pos] - base : NO_MORE_DOCS;
                    return doc;
                }

                @Override
                public int advance(int target) throws IOException {
                    while (nextDoc() < target) {
                        // linear: at most a few hundred candidates per shard
                    }
                    return doc;
                }

                @Override
                public long cost() {
                    return to - from;
                }
            };
        }
    }

    @Override
    public void visit(QueryVisitor visitor) {
        visitor.visitLeaf(this);
    }

    @Override
    public String toString(String field) {
        return "lightretriever(" + description + ", " + docs.length + " docs)";
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}

package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedSetDocValues;
import org.apache.lucene.index.StoredFieldVisitor;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.lightretriever.opensearch.fusion.DocIdOrder;
import org.lightretriever.opensearch.fusion.Fused;
import org.lightretriever.opensearch.fusion.Fusion;
import org.lightretriever.opensearch.fusion.Hit;
import org.lightretriever.opensearch.registry.LightModel;
import org.opensearch.index.mapper.IdFieldMapper;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.mapper.Uid;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.index.query.Rewriteable;
import org.opensearch.knn.index.mapper.KNNVectorFieldType;

/**
 * Per shard: run each system's sub-query for its top `k` with this shard's reader, fuse exactly like the
 * Python side, and return a query that matches the fused documents with their fused scores. Fusion is per
 * shard, which equals global fusion on a single-shard index (see the plugin README).
 */
final class ShardFusion {
    private final QueryShardContext context;
    private final LightModel model;
    private final SubQueries sub;
    private final List<String> systems;
    private final Fusion fusion;
    private final String fusionName;

    ShardFusion(QueryShardContext context, LightModel model, SubQueries sub, List<String> systems, Fusion fusion, String fusionName) {
        this.context = context;
        this.model = model;
        this.sub = sub;
        this.systems = systems;
        this.fusion = fusion;
        this.fusionName = fusionName;
    }

    Query run() throws IOException {
        if (systems.contains("dense")) {
            checkDenseField();
        }
        if (context.searcher() == null) {
            throw new IllegalArgumentException("[lightretriever] query needs a shard searcher and cannot be used here (e.g. in an alias filter)");
        }
        IndexReader reader = context.searcher().getIndexReader();
        IndexSearcher searcher = new IndexSearcher(reader);
        searcher.setSimilarity(context.searcher().getSimilarity()); // the index's BM25 settings
        searcher.setQueryCache(null);
        // Candidates are keyed by Lucene doc id ("#<doc>"): the fusion formulas never look at ids, only the final
        // tie-break does, so `_id` (a stored-field read per doc) is loaded only for docs whose fused scores tie.
        Map<String, List<Hit>> hits = new LinkedHashMap<>();
        for (String system : systems) {
            QueryBuilder builder = Rewriteable.rewrite(sub.build(system, context.getXContentRegistry()), context, true);
            TopDocs top = searcher.search(builder.toQuery(context), sub.depth());
            List<Hit> ranked = new ArrayList<>(top.scoreDocs.length);
            for (ScoreDoc sd : top.scoreDocs) {
                // the score as a REST client sees it: the float's shortest decimal, read back as a double
                ranked.add(new Hit(KEY_PREFIX + sd.doc, Double.parseDouble(Float.toString(sd.score))));
            }
            hits.put(system, ranked);
        }
        QueryEncodingStats stats = new QueryEncodingStats(sub);
        List<Fused> fused = orderTies(fusion.fuse(hits, stats.queryLen(), stats.oovShare()), new DocIds(reader));
        Map<String, SystemScores> bySystem = SystemScores.byDoc(systems, hits);
        int[] docs = new int[fused.size()];
        SystemScores[] given = new SystemScores[fused.size()];
        for (int i = 0; i < fused.size(); i++) {
            docs[i] = docOf(fused.get(i).docId());
            given[i] = bySystem.get(fused.get(i).docId());
        }
        return new FusedScoreQuery(reader, docs, FusedOrder.strictlyDecreasing(fused), given,
            "model=" + model.name() + ", fusion=" + fusionName + ", systems=" + systems + ", scope=shard");
    }

    private static final String KEY_PREFIX = "#";

    private static int docOf(String key) {
        return Integer.parseInt(key.substring(KEY_PREFIX.length()));
    }

    /** Within each run of exactly equal fused scores, order by `_id` (string order), as design.md fixes. */
    private static List<Fused> orderTies(List<Fused> fused, DocIds ids) throws IOException {
        List<Fused> out = new ArrayList<>(fused.size());
        int i = 0;
        while (i < fused.size()) {
            int j = i + 1;
            while (j < fused.size() && fused.get(j).score() == fused.get(i).score()) {
                j++;
            }
            if (j - i == 1) {
                out.add(fused.get(i));
            } else {
                List<String[]> run = new ArrayList<>(j - i); // {id, key}
                for (Fused f : fused.subList(i, j)) {
                    run.add(new String[] {ids.of(docOf(f.docId())), f.docId()});
                }
                run.sort((a, b) -> DocIdOrder.compare(a[0], b[0]));
                double score = fused.get(i).score();
                for (String[] r : run) {
                    out.add(new Fused(r[1], score));
                }
            }
            i = j;
        }
        return out;
    }

    private void checkDenseField() {
        MappedFieldType type = context.fieldMapper(sub.denseField());
        if (type == null) {
            throw new IllegalArgumentException("[lightretriever] index [" + context.index().getName() + "] has no field [" + sub.denseField() + "]");
        }
        if (!(type instanceof KNNVectorFieldType knn)) {
            throw new IllegalArgumentException("[lightretriever] field [" + sub.denseField() + "] is a [" + type.typeName() + "], not a knn_vector");
        }
        int fieldDim = knn.getKnnMappingConfig().getDimension();
        if (fieldDim != model.dim()) {
            throw new IllegalArgumentException("[lightretriever] model [" + model.name() + "] has dimension " + model.dim() + " but field ["
                + sub.denseField() + "] of index [" + context.index().getName() + "] has dimension " + fieldDim);
        }
    }

    /**
     * The `_id` of a Lucene doc, read from the `doc_id` keyword's doc values (design.md: doc_id equals _id). The
     * stored `_id` shares its compressed block with the large `_source` (vector, sparse terms), so reading it
     * cost ~30 us per doc, and RRF / learned scores tie often; the stored field is only the fallback.
     */
    private static final class DocIds {
        private static final String FIELD = "doc_id";
        private final IndexReader reader;
        private StoredFields stored;

        DocIds(IndexReader reader) {
            this.reader = reader;
        }

        String of(int doc) throws IOException {
            List<LeafReaderContext> leaves = reader.leaves();
            LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
            SortedSetDocValues values = leaf.reader().getSortedSetDocValues(FIELD); // keyword: SORTED_SET
            if (values != null && values.advanceExact(doc - leaf.docBase) && values.docValueCount() == 1) {
                return values.lookupOrd(values.nextOrd()).utf8ToString();
            }
            if (stored == null) {
                stored = reader.storedFields();
            }
            return readId(stored, doc);
        }
    }

    private static String readId(StoredFields stored, int doc) throws IOException {
        String[] id = new String[1];
        stored.document(doc, new StoredFieldVisitor() {
            @Override
            public Status needsField(FieldInfo fieldInfo) {
                if (IdFieldMapper.NAME.equals(fieldInfo.name)) {
                    return Status.YES;
                }
                return id[0] == null ? Status.NO : Status.STOP;
            }

            @Override
            public void binaryField(FieldInfo fieldInfo, byte[] value) {
                id[0] = Uid.decodeId(value);
            }

            @Override
            public void stringField(FieldInfo fieldInfo, String value) {
                id[0] = value;
            }
        });
        if (id[0] == null) {
            throw new IllegalStateException("document " + doc + " has no stored _id");
        }
        return id[0];
    }

    private record QueryEncodingStats(double queryLen, double oovShare) {
        QueryEncodingStats(SubQueries sub) {
            this(sub.encoding().nTokens(), sub.encoding().oovShare());
        }
    }
}

package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.Query;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.opensearch.core.common.ParsingException;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.mapper.IdFieldMapper;
import org.opensearch.index.mapper.Uid;
import org.opensearch.index.query.AbstractQueryBuilder;
import org.opensearch.index.query.QueryShardContext;

/**
 * The result of a global fusion, as the coordinating node sends it to the shards: the fused documents (index, `_id`)
 * with their fused scores and what each system gave them. A shard matches exactly its own fused documents with
 * those scores, so the search's normal merge, from/size and explain work on the global fusion. Produced by the
 * rewrite of a `lightretriever` clause ({@link GlobalFusion}); `{"lightretriever_fused": {...}}` parses back.
 * `truncated`: the sub-searches ran a cut of a too-long query text, and every hit names
 * {@link LightRetrieverQueryBuilder#TRUNCATED} in its matched_queries, as on the per-shard path.
 */
public final class FusedHitsQueryBuilder extends AbstractQueryBuilder<FusedHitsQueryBuilder> {
    public static final String NAME = "lightretriever_fused";

    /** One fused document; `given` holds what each system gave it. */
    record Entry(String index, String id, float score, SystemScores given) {}

    private final String description;
    private final List<String> systems;
    private final List<Entry> entries; // best first
    private final boolean truncated;

    FusedHitsQueryBuilder(String description, List<String> systems, List<Entry> entries, boolean truncated) {
        this.description = description;
        this.systems = List.copyOf(systems);
        this.entries = List.copyOf(entries);
        this.truncated = truncated;
    }

    public FusedHitsQueryBuilder(StreamInput in) throws IOException {
        super(in);
        description = in.readString();
        systems = in.readStringList();
        int n = in.readVInt();
        List<Entry> read = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String index = in.readOptionalString();
            String id = in.readString();
            float score = in.readFloat();
            double[] scores = in.readDoubleArray();
            int[] ranks = in.readVIntArray();
            read.add(new Entry(index, id, score, new SystemScores(systems, scores, ranks)));
        }
        entries = List.copyOf(read);
        truncated = in.readBoolean();
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        out.writeString(description);
        out.writeStringCollection(systems);
        out.writeVInt(entries.size());
        for (Entry e : entries) {
            out.writeOptionalString(e.index());
            out.writeString(e.id());
            out.writeFloat(e.score());
            out.writeDoubleArray(e.given().scores());
            out.writeVIntArray(e.given().ranks());
        }
        out.writeBoolean(truncated);
    }

    List<Entry> entries() {
        return entries;
    }

    boolean truncated() {
        return truncated;
    }

    @Override
    protected void doXContent(XContentBuilder builder, Params params) throws IOException {
        builder.startObject(NAME);
        builder.field("description", description);
        builder.field("systems", systems);
        builder.startArray("hits");
        for (Entry e : entries) {
            builder.startObject();
            if (e.index() != null) {
                builder.field("index", e.index());
            }
            builder.field("id", e.id()).field("score", e.score());
            builder.array("scores", e.given().scores()).array("ranks", e.given().ranks());
            builder.endObject();
        }
        builder.endArray();
        if (truncated) {
            builder.field("truncated", true);
        }
        printBoostAndQueryName(builder);
        builder.endObject();
    }

    @SuppressWarnings("unchecked")
    public static FusedHitsQueryBuilder fromXContent(XContentParser parser) throws IOException {
        Map<String, Object> map = parser.map();
        try {
            List<String> systems = (List<String>) map.get("systems");
            List<Entry> entries = new ArrayList<>();
            for (Map<String, Object> hit : (List<Map<String, Object>>) map.get("hits")) {
                List<Number> scores = (List<Number>) hit.get("scores");
                List<Number> ranks = (List<Number>) hit.get("ranks");
                if (scores.size() != systems.size() || ranks.size() != systems.size()) {
                    throw new IllegalArgumentException("hit " + hit.get("id") + ": scores and ranks need one value per system");
                }
                entries.add(new Entry((String) hit.get("index"), Objects.requireNonNull((String) hit.get("id"), "id"),
                    ((Number) hit.get("score")).floatValue(), new SystemScores(systems,
                        scores.stream().mapToDouble(Number::doubleValue).toArray(), ranks.stream().mapToInt(Number::intValue).toArray())));
            }
            if (!(map.getOrDefault("truncated", false) instanceof Boolean truncated)) {
                throw new IllegalArgumentException("truncated must be true or false");
            }
            FusedHitsQueryBuilder builder = new FusedHitsQueryBuilder(String.valueOf(map.getOrDefault("description", "")), systems,
                entries, truncated);
            if (map.get(BOOST_FIELD.getPreferredName()) instanceof Number boost) {
                builder.boost(boost.floatValue());
            }
            builder.queryName((String) map.get(NAME_FIELD.getPreferredName()));
            return builder;
        } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
            // parsing a client's body: a malformed one is the client's error, whatever the JVM called it
            throw new ParsingException(parser.getTokenLocation(), "[" + NAME + "] malformed: " + e.getMessage(), e);
        }
    }

    @Override
    protected Query doToQuery(QueryShardContext context) throws IOException {
        if (context.searcher() == null) {
            throw new IllegalArgumentException("[" + NAME + "] needs a shard searcher and cannot be used here (e.g. in an alias filter)");
        }
        IndexReader reader = context.searcher().getIndexReader();
        String index = context.index().getName();
        List<Entry> here = entries.stream().filter(e -> e.index() == null || e.index().equals(index)).toList();
        int[] docs = liveDocs(reader, here);
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < docs.length; i++) {
            if (docs[i] >= 0) { // absent: not on this shard (or deleted since the sub-searches ran)
                kept.add(i);
            }
        }
        int[] keptDocs = new int[kept.size()];
        float[] scores = new float[kept.size()];
        SystemScores[] given = new SystemScores[kept.size()];
        for (int j = 0; j < keptDocs.length; j++) {
            Entry e = here.get(kept.get(j));
            keptDocs[j] = docs[kept.get(j)];
            scores[j] = e.score();
            given[j] = e.given();
        }
        Query query = new FusedScoreQuery(reader, keptDocs, scores, given, description);
        if (truncated) {
            context.addNamedQuery(LightRetrieverQueryBuilder.TRUNCATED, query); // every hit then lists it in matched_queries
        }
        return query;
    }

    /** Top-level doc id of each entry's live document in `reader`, or -1 when the shard does not hold it. */
    private static int[] liveDocs(IndexReader reader, List<Entry> entries) throws IOException {
        int[] docs = new int[entries.size()];
        Arrays.fill(docs, -1);
        BytesRef[] terms = new BytesRef[entries.size()];
        Integer[] order = new Integer[entries.size()];
        for (int i = 0; i < terms.length; i++) {
            terms[i] = Uid.encodeId(entries.get(i).id());
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparing(i -> terms[i])); // seek in term order
        PostingsEnum postings = null;
        for (LeafReaderContext leaf : reader.leaves()) {
            Terms ids = leaf.reader().terms(IdFieldMapper.NAME);
            if (ids == null) {
                continue;
            }
            TermsEnum it = ids.iterator();
            Bits live = leaf.reader().getLiveDocs();
            for (int i : order) {
                if (docs[i] >= 0 || !it.seekExact(terms[i])) {
                    continue;
                }
                postings = it.postings(postings, PostingsEnum.NONE);
                for (int d = postings.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = postings.nextDoc()) {
                    if (live == null || live.get(d)) {
                        docs[i] = leaf.docBase + d;
                        break;
                    }
                }
            }
        }
        return docs;
    }

    @Override
    protected boolean doEquals(FusedHitsQueryBuilder other) {
        if (!description.equals(other.description) || !systems.equals(other.systems) || truncated != other.truncated
            || entries.size() != other.entries.size()) {
            return false;
        }
        for (int i = 0; i < entries.size(); i++) {
            Entry a = entries.get(i);
            Entry b = other.entries.get(i);
            if (!Objects.equals(a.index(), b.index()) || !a.id().equals(b.id()) || Float.compare(a.score(), b.score()) != 0
                || !Arrays.equals(a.given().scores(), b.given().scores()) || !Arrays.equals(a.given().ranks(), b.given().ranks())) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected int doHashCode() {
        int hash = Objects.hash(description, systems, truncated);
        for (Entry e : entries) {
            hash = 31 * hash + Objects.hash(e.index(), e.id(), e.score());
        }
        return hash;
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }
}

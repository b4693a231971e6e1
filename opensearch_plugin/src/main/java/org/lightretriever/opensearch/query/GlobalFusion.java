package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lightretriever.opensearch.fusion.Fused;
import org.lightretriever.opensearch.fusion.Fusion;
import org.lightretriever.opensearch.fusion.Hit;
import org.opensearch.ExceptionsHelper;
import org.opensearch.OpenSearchStatusException;
import org.opensearch.action.search.MultiSearchRequest;
import org.opensearch.action.search.MultiSearchResponse;
import org.opensearch.action.search.SearchPhaseExecutionException;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.action.search.ShardSearchFailure;
import org.opensearch.common.document.DocumentField;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.search.SearchHit;
import org.opensearch.search.builder.SearchSourceBuilder;

/**
 * Fusion over the whole of the searched indices, on the coordinating node: each system's sub-search runs over all
 * shards (one `_msearch`, the requests the Python rewriter sends), the top lists are fused exactly as Python fuses
 * them, and the result becomes a {@link FusedHitsQueryBuilder} that the real search then runs.
 */
final class GlobalFusion {
    static final String DOC_ID = "doc_id"; // design.md: every index holds doc_id (= _id) as a keyword

    private final SubQueries sub;
    private final List<String> systems;
    private final Fusion fusion;
    private final String description;

    GlobalFusion(SubQueries sub, List<String> systems, Fusion fusion, String description) {
        this.sub = sub;
        this.systems = systems;
        this.fusion = fusion;
        this.description = description;
    }

    /**
     * One sub-search per system over the outer search's indices, routing, preference and search type, within what is
     * left of its timeout. Partial results are refused (allow_partial_search_results=false): a fusion of incomplete
     * top lists would be silently worse, so a shard failure fails the search instead.
     */
    MultiSearchRequest request(SearchRequest outer, TimeValue remaining, NamedXContentRegistry registry) throws IOException {
        MultiSearchRequest msearch = new MultiSearchRequest();
        SearchSourceBuilder outerSource = outer.source();
        for (String system : systems) {
            SearchSourceBuilder source = new SearchSourceBuilder().query(sub.build(system, registry)).size(sub.depth()).fetchSource(false)
                .storedField("_none_").docValueField(DOC_ID).trackTotalHits(false);
            if (remaining != null) {
                source.timeout(remaining);
            }
            SearchRequest request = new SearchRequest().source(source);
            if (outerSource != null && outerSource.pointInTimeBuilder() != null) {
                source.pointInTimeBuilder(outerSource.pointInTimeBuilder());
            } else {
                request.indices(outer.indices()).indicesOptions(outer.indicesOptions());
            }
            request.routing(outer.routing()).preference(outer.preference()).searchType(outer.searchType()).allowPartialSearchResults(false);
            msearch.add(request);
        }
        return msearch;
    }

    /**
     * The fused documents, best first, with strictly decreasing float scores (fused order kept across shards);
     * `truncated`: the sub-searches ran a cut of a too-long query text (the hits then name it, see FusedHitsQueryBuilder).
     */
    FusedHitsQueryBuilder fuse(MultiSearchResponse response, double queryLen, double oovShare, boolean truncated) {
        Map<String, List<Hit>> hits = new LinkedHashMap<>();
        Map<String, String> indexOf = new HashMap<>();
        MultiSearchResponse.Item[] items = response.getResponses();
        for (int i = 0; i < systems.size(); i++) {
            String system = systems.get(i);
            SearchResponse answer = checked(system, items[i]);
            List<Hit> ranked = new ArrayList<>(answer.getHits().getHits().length);
            for (SearchHit hit : answer.getHits().getHits()) {
                DocumentField id = hit.field(DOC_ID);
                if (id == null || id.getValue() == null) {
                    throw new IllegalArgumentException("[lightretriever] a hit of index [" + hit.getIndex() + "] has no [" + DOC_ID
                        + "] value: the index must follow mappings/index.json (doc_id keyword = _id)");
                }
                String docId = id.getValue().toString();
                // the score as a REST client sees it: the float's shortest decimal, read back as a double
                ranked.add(new Hit(docId, Double.parseDouble(Float.toString(hit.getScore()))));
                indexOf.putIfAbsent(docId, hit.getIndex());
            }
            hits.put(system, ranked);
        }
        List<Fused> fused = fusion.fuse(hits, queryLen, oovShare);
        float[] scores = FusedOrder.strictlyDecreasing(fused);
        Map<String, SystemScores> given = SystemScores.byDoc(systems, hits);
        List<FusedHitsQueryBuilder.Entry> entries = new ArrayList<>(fused.size());
        for (int i = 0; i < fused.size(); i++) {
            String docId = fused.get(i).docId();
            entries.add(new FusedHitsQueryBuilder.Entry(indexOf.get(docId), docId, scores[i], given.get(docId)));
        }
        return new FusedHitsQueryBuilder(description, systems, entries, truncated);
    }

    /** The system's response, or an error that names the system and the shard failure or timeout. */
    private static SearchResponse checked(String system, MultiSearchResponse.Item item) {
        String what = "[lightretriever] the [" + system + "] sub-search ";
        if (item.isFailure()) {
            Exception e = item.getFailure();
            String reason = e.getMessage();
            if (e instanceof SearchPhaseExecutionException phase && phase.shardFailures().length > 0) {
                reason += ": " + describe(phase.shardFailures()[0]);
            }
            throw new OpenSearchStatusException(what + "failed: " + reason, ExceptionsHelper.status(e), e);
        }
        SearchResponse answer = item.getResponse();
        if (answer.getFailedShards() > 0) {
            throw new OpenSearchStatusException(what + "failed on " + answer.getFailedShards() + " of " + answer.getTotalShards()
                + " shards: " + describe(answer.getShardFailures()[0]), answer.status());
        }
        if (answer.isTimedOut()) {
            throw new OpenSearchStatusException(what + "timed out: its top list is incomplete, so the fusion would be wrong",
                RestStatus.GATEWAY_TIMEOUT);
        }
        return answer;
    }

    private static String describe(ShardSearchFailure failure) {
        return failure.reason() + " (index [" + failure.index() + "], shard [" + failure.shardId() + "])";
    }
}

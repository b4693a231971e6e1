package org.lightretriever.opensearch.stats;

import java.util.List;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestRequest;
import org.opensearch.transport.client.node.NodeClient;

/** GET _plugins/lightretriever/stats: the query-encoding counters of the node that answers (not the cluster's). */
public final class RestStatsAction extends BaseRestHandler {
    public static final String PATH = "/_plugins/lightretriever/stats";
    private final EncodeStats stats;

    public RestStatsAction(EncodeStats stats) {
        this.stats = stats;
    }

    @Override
    public String getName() {
        return "lightretriever_stats";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(RestRequest.Method.GET, PATH));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        String nodeId = client.getLocalNodeId();
        return channel -> {
            XContentBuilder body = channel.newBuilder();
            body.startObject()
                .field("node_id", nodeId)
                .startObject("query_encoding")
                .field("count", stats.count())
                .field("wall_nanos", stats.wallNanos())
                .field("cpu_nanos", stats.cpuNanos())
                .endObject()
                .endObject();
            channel.sendResponse(new BytesRestResponse(RestStatus.OK, body));
        };
    }
}

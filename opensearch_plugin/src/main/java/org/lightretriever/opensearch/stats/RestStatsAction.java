package org.lightretriever.opensearch.stats;

import java.util.List;
import org.lightretriever.opensearch.cluster.NodesAction;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestRequest;
import org.opensearch.rest.action.RestBuilderListener;
import org.opensearch.transport.client.node.NodeClient;

/**
 * GET _plugins/lightretriever/stats: the query-encoding counters summed over the cluster's nodes, with a per-node
 * breakdown (as _nodes/stats: `_nodes` counts, `nodes.<id>`). `cpu_nanos` is -1 when any node cannot read it.
 */
public final class RestStatsAction extends BaseRestHandler {
    public static final String PATH = "/_plugins/lightretriever/stats";

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
        String answering = client.getLocalNodeId();
        return channel -> client.execute(NodesAction.INSTANCE, new NodesAction.Request((String) null), new RestBuilderListener<>(channel) {
            @Override
            public BytesRestResponse buildResponse(NodesAction.Response response, XContentBuilder body) throws Exception {
                long count = 0;
                long wall = 0;
                long cpu = 0;
                for (NodesAction.NodeResponse node : response.getNodes()) {
                    count += node.count;
                    wall += node.wallNanos;
                    cpu = cpu < 0 || node.cpuNanos < 0 ? -1 : cpu + node.cpuNanos;
                }
                body.startObject();
                body.startObject("_nodes").field("total", response.getNodes().size() + response.failures().size())
                    .field("successful", response.getNodes().size()).field("failed", response.failures().size());
                if (response.hasFailures()) {
                    body.startArray("failures");
                    for (var failure : response.failures()) {
                        body.startObject().field("node_id", failure.nodeId()).field("reason", failure.getDetailedMessage()).endObject();
                    }
                    body.endArray();
                }
                body.endObject();
                body.field("cluster_name", response.getClusterName().value());
                body.field("node_id", answering);
                encoding(body, count, wall, cpu);
                body.startObject("nodes");
                for (NodesAction.NodeResponse node : response.getNodes()) {
                    body.startObject(node.getNode().getId()).field("name", node.getNode().getName());
                    encoding(body, node.count, node.wallNanos, node.cpuNanos);
                    body.field("models_loaded", node.loaded);
                    body.endObject();
                }
                body.endObject();
                body.endObject();
                return new BytesRestResponse(RestStatus.OK, body);
            }
        });
    }

    private static void encoding(XContentBuilder body, long count, long wall, long cpu) throws java.io.IOException {
        body.startObject("query_encoding").field("count", count).field("wall_nanos", wall).field("cpu_nanos", cpu).endObject();
    }
}

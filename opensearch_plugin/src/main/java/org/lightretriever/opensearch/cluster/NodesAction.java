package org.lightretriever.opensearch.cluster;

import java.io.IOException;
import java.util.List;
import org.lightretriever.opensearch.LightRetrieverPlugin;
import org.lightretriever.opensearch.stats.EncodeStats;
import org.opensearch.action.ActionType;
import org.opensearch.action.FailedNodeException;
import org.opensearch.action.support.ActionFilters;
import org.opensearch.action.support.nodes.BaseNodeResponse;
import org.opensearch.action.support.nodes.BaseNodesRequest;
import org.opensearch.action.support.nodes.BaseNodesResponse;
import org.opensearch.action.support.nodes.TransportNodesAction;
import org.opensearch.cluster.ClusterName;
import org.opensearch.cluster.node.DiscoveryNode;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.inject.Inject;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.transport.TransportRequest;
import org.opensearch.transport.TransportService;

/**
 * One call to every node (a transport nodes action, as _nodes/stats uses): read each node's query-encoding counters
 * and loaded models, and optionally drop one model from each node's cache first (after a PUT or DELETE, so that
 * every node's next query loads the stored version).
 */
public final class NodesAction extends ActionType<NodesAction.Response> {
    public static final String NAME = "cluster:admin/lightretriever/nodes";
    public static final NodesAction INSTANCE = new NodesAction();

    private NodesAction() {
        super(NAME, Response::new);
    }

    /** `evict`: the model to drop from every node's cache, or null (stats only). */
    public static final class Request extends BaseNodesRequest<Request> {
        private final String evict;

        public Request(String evict) {
            super((String[]) null); // all nodes
            this.evict = evict;
        }

        public Request(StreamInput in) throws IOException {
            super(in);
            evict = in.readOptionalString();
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeOptionalString(evict);
        }
    }

    public static final class NodeRequest extends TransportRequest {
        final String evict;

        NodeRequest(String evict) {
            this.evict = evict;
        }

        NodeRequest(StreamInput in) throws IOException {
            super(in);
            evict = in.readOptionalString();
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeOptionalString(evict);
        }
    }

    /** One node's counters (see {@link EncodeStats}) and the models in its cache. */
    public static final class NodeResponse extends BaseNodeResponse {
        public final long count;
        public final long wallNanos;
        public final long cpuNanos;
        public final List<String> loaded;

        NodeResponse(DiscoveryNode node, EncodeStats stats, List<String> loaded) {
            super(node);
            this.count = stats.count();
            this.wallNanos = stats.wallNanos();
            this.cpuNanos = stats.cpuNanos();
            this.loaded = loaded;
        }

        NodeResponse(StreamInput in) throws IOException {
            super(in);
            count = in.readVLong();
            wallNanos = in.readVLong();
            cpuNanos = in.readLong();
            loaded = in.readStringList();
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeVLong(count);
            out.writeVLong(wallNanos);
            out.writeLong(cpuNanos);
            out.writeStringCollection(loaded);
        }
    }

    public static final class Response extends BaseNodesResponse<NodeResponse> {
        public Response(ClusterName cluster, List<NodeResponse> nodes, List<FailedNodeException> failures) {
            super(cluster, nodes, failures);
        }

        public Response(StreamInput in) throws IOException {
            super(in);
        }

        @Override
        protected List<NodeResponse> readNodesFrom(StreamInput in) throws IOException {
            return in.readList(NodeResponse::new);
        }

        @Override
        protected void writeNodesTo(StreamOutput out, List<NodeResponse> nodes) throws IOException {
            out.writeList(nodes);
        }
    }

    public static final class Transport extends TransportNodesAction<Request, Response, NodeRequest, NodeResponse> {
        @Inject
        public Transport(ThreadPool threadPool, ClusterService clusterService, TransportService transportService, ActionFilters filters) {
            super(NAME, threadPool, clusterService, transportService, filters, Request::new, NodeRequest::new,
                ThreadPool.Names.MANAGEMENT, NodeResponse.class);
        }

        @Override
        protected Response newResponse(Request request, List<NodeResponse> nodes, List<FailedNodeException> failures) {
            return new Response(clusterService.getClusterName(), nodes, failures);
        }

        @Override
        protected NodeRequest newNodeRequest(Request request) {
            return new NodeRequest(request.evict);
        }

        @Override
        protected NodeResponse newNodeResponse(StreamInput in) throws IOException {
            return new NodeResponse(in);
        }

        @Override
        protected NodeResponse nodeOperation(NodeRequest request) {
            if (request.evict != null) {
                LightRetrieverPlugin.store().evict(request.evict);
            }
            return new NodeResponse(clusterService.localNode(), LightRetrieverPlugin.encodeStats(), LightRetrieverPlugin.store().loadedNames());
        }
    }
}

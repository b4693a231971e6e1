package org.lightretriever.opensearch.registry;

import java.io.IOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestChannel;
import org.opensearch.rest.RestRequest;
import org.opensearch.transport.client.node.NodeClient;

/** PUT | GET | DELETE _plugins/lightretriever/models/{name}; PUT body {"manifest": {...}, "files": {path: base64}}. */
public final class RestModelAction extends BaseRestHandler {
    public static final String PATH = "/_plugins/lightretriever/models/{name}";
    private final ModelStore store;

    public RestModelAction(ModelStore store) {
        this.store = store;
    }

    @Override
    public String getName() {
        return "lightretriever_models";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(RestRequest.Method.PUT, PATH), new Route(RestRequest.Method.GET, PATH),
            new Route(RestRequest.Method.DELETE, PATH));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) throws IOException {
        String name = request.param("name");
        return switch (request.method()) {
            case PUT -> {
                Map<String, Object> manifest;
                Map<String, byte[]> files = new LinkedHashMap<>();
                try {
                    Map<String, Object> body;
                    try (XContentParser parser = request.contentParser()) {
                        body = parser.mapOrdered();
                    }
                    if (!(body.get("manifest") instanceof Map<?, ?>) || !(body.get("files") instanceof Map<?, ?> rawFiles)) {
                        throw new IllegalArgumentException("body must be {\"manifest\": {...}, \"files\": {\"<path>\": \"<base64>\"}}");
                    }
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) body.get("manifest");
                    manifest = m;
                    for (Map.Entry<?, ?> e : rawFiles.entrySet()) {
                        if (!(e.getValue() instanceof String b64)) {
                            throw new IllegalArgumentException("files." + e.getKey() + " must be a base64 string");
                        }
                        try {
                            files.put((String) e.getKey(), Base64.getDecoder().decode(b64));
                        } catch (IllegalArgumentException bad) {
                            throw new IllegalArgumentException("files." + e.getKey() + " is not valid base64: " + bad.getMessage());
                        }
                    }
                } catch (IllegalArgumentException | IllegalStateException | IOException e) { // not JSON, too deep, wrong types
                    yield channel -> badRequest(channel, e);
                }
                yield channel -> {
                    try {
                        store.put(client, name, manifest, files, respond(channel, RestStatus.OK));
                    } catch (IllegalArgumentException e) {
                        badRequest(channel, e);
                    }
                };
            }
            case GET -> channel -> store.describe(client, name, respond(channel, RestStatus.OK));
            case DELETE -> channel -> store.delete(client, name, respond(channel, RestStatus.OK));
            default -> throw new IllegalArgumentException("unsupported method " + request.method());
        };
    }

    private static void badRequest(RestChannel channel, Exception e) throws IOException {
        channel.sendResponse(new BytesRestResponse(channel, RestStatus.BAD_REQUEST, e));
    }

    private static ActionListener<Map<String, Object>> respond(RestChannel channel, RestStatus status) {
        return new ActionListener<>() {
            @Override
            public void onResponse(Map<String, Object> body) {
                try {
                    channel.sendResponse(new BytesRestResponse(status, channel.newBuilder().map(body)));
                } catch (IOException e) {
                    onFailure(e);
                }
            }

            @Override
            public void onFailure(Exception e) {
                try {
                    channel.sendResponse(new BytesRestResponse(channel, e));
                } catch (IOException inner) {
                    e.addSuppressed(inner);
                }
            }
        };
    }
}

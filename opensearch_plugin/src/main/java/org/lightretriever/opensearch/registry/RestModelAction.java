package org.lightretriever.opensearch.registry;

import java.io.IOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestChannel;
import org.opensearch.rest.RestRequest;
import org.opensearch.transport.client.node.NodeClient;

/**
 * PUT | GET | DELETE _plugins/lightretriever/models/{name}. PUT body: {"manifest": {...}, "files": {path: base64}}, or,
 * for a bundle larger than a request may be, {"manifest": {...}, "upload": id, "chunks": {path: count}} after each
 * chunk was sent with POST .../models/{name}/_chunk {"upload": id, "path": p, "seq": i, "data": base64}.
 */
public final class RestModelAction extends BaseRestHandler {
    private static final Logger LOGGER = LogManager.getLogger(RestModelAction.class);
    public static final String PATH = "/_plugins/lightretriever/models/{name}";
    public static final String CHUNK_PATH = PATH + "/_chunk";
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
            new Route(RestRequest.Method.DELETE, PATH), new Route(RestRequest.Method.POST, CHUNK_PATH));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) throws IOException {
        String name = request.param("name");
        if (request.method() == RestRequest.Method.GET) {
            return channel -> store.describe(client, name, respond(channel, name));
        }
        if (request.method() == RestRequest.Method.DELETE) {
            return channel -> store.delete(client, name, respond(channel, name));
        }
        Map<String, Object> body;
        try (XContentParser parser = request.contentParser()) {
            body = parser.mapOrdered();
        } catch (IllegalArgumentException | IllegalStateException | IOException e) { // not JSON, too deep, wrong types
            return channel -> channel.sendResponse(new BytesRestResponse(channel, RestStatus.BAD_REQUEST, e));
        }
        boolean chunk = request.path().endsWith("/_chunk");
        return channel -> {
            try {
                if (chunk) {
                    store.putChunk(client, name, string(body, "upload"), string(body, "path"), integer(body.get("seq"), "seq"),
                        base64(body.get("data"), "data"), respond(channel, name));
                } else if (body.containsKey("upload")) {
                    store.commitUpload(client, name, manifest(body), string(body, "upload"), chunkCounts(body), respond(channel, name));
                } else {
                    store.put(client, name, manifest(body), inlineFiles(body), respond(channel, name));
                }
            } catch (IllegalArgumentException e) {
                channel.sendResponse(new BytesRestResponse(channel, RestStatus.BAD_REQUEST, e));
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> manifest(Map<String, Object> body) {
        if (!(body.get("manifest") instanceof Map<?, ?> manifest)) {
            throw new IllegalArgumentException("body must be {\"manifest\": {...}, \"files\": {\"<path>\": \"<base64>\"}} or "
                + "{\"manifest\": {...}, \"upload\": \"<id>\", \"chunks\": {\"<path>\": <count>}}");
        }
        return (Map<String, Object>) manifest;
    }

    private static Map<String, byte[]> inlineFiles(Map<String, Object> body) {
        manifest(body);
        if (!(body.get("files") instanceof Map<?, ?> raw)) {
            throw new IllegalArgumentException("body must be {\"manifest\": {...}, \"files\": {\"<path>\": \"<base64>\"}}");
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        raw.forEach((path, data) -> files.put(String.valueOf(path), base64(data, "files." + path)));
        return files;
    }

    private static Map<String, Integer> chunkCounts(Map<String, Object> body) {
        if (!(body.get("chunks") instanceof Map<?, ?> raw)) {
            throw new IllegalArgumentException("an upload's PUT needs \"chunks\": {\"<path>\": <number of chunks sent>}");
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        raw.forEach((path, n) -> counts.put(String.valueOf(path), integer(n, "chunks." + path)));
        return counts;
    }

    private static String string(Map<String, Object> body, String key) {
        if (body.get(key) instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("\"" + key + "\" must be a string");
    }

    private static int integer(Object value, String key) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalArgumentException("\"" + key + "\" must be a number");
    }

    private static byte[] base64(Object value, String key) {
        if (!(value instanceof String b64)) {
            throw new IllegalArgumentException(key + " must be a base64 string");
        }
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException(key + " is not valid base64: " + bad.getMessage());
        }
    }

    private static ActionListener<Map<String, Object>> respond(RestChannel channel, String name) {
        return new ActionListener<>() {
            @Override
            public void onResponse(Map<String, Object> body) {
                try {
                    channel.sendResponse(new BytesRestResponse(RestStatus.OK, channel.newBuilder().map(body)));
                } catch (IOException e) {
                    onFailure(e);
                }
            }

            @Override
            public void onFailure(Exception e) {
                try {
                    channel.sendResponse(new BytesRestResponse(channel, e));
                } catch (IOException inner) {
                    inner.addSuppressed(e);
                    LOGGER.warn("lightretriever model [" + name + "]: could not send the error response to the client", inner);
                }
            }
        };
    }
}

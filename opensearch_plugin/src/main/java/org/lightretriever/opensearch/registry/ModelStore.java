package org.lightretriever.opensearch.registry;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.opensearch.ResourceNotFoundException;
import org.opensearch.action.admin.indices.create.CreateIndexRequest;
import org.opensearch.action.bulk.BulkRequest;
import org.opensearch.action.delete.DeleteRequest;
import org.opensearch.action.get.GetRequest;
import org.opensearch.action.get.GetResponse;
import org.opensearch.action.get.MultiGetItemResponse;
import org.opensearch.action.get.MultiGetRequest;
import org.opensearch.action.index.IndexRequest;
import org.opensearch.action.support.WriteRequest;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.util.concurrent.ThreadContext;
import org.opensearch.common.xcontent.XContentType;
import org.opensearch.core.action.ActionListener;
import org.opensearch.index.IndexNotFoundException;
import org.opensearch.transport.client.Client;

/**
 * Bundles in the system index {@value #INDEX}: one descriptor document per model (manifest + per-file sha256,
 * size and chunk count) and the files as base64 chunks of {@value #CHUNK_BYTES} bytes, so any node can load
 * them. Loaded models are cached per node; a PUT or DELETE on this node replaces or drops the cache entry.
 */
public final class ModelStore {
    public static final String INDEX = ".lightretriever-models";
    static final int CHUNK_BYTES = 1 << 20;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}");
    private static final String MAPPING = """
        {"dynamic": false, "properties": {
          "model": {"type": "keyword"}, "kind": {"type": "keyword"}, "path": {"type": "keyword"},
          "seq": {"type": "integer"}, "data": {"type": "binary"},
          "manifest": {"type": "object", "enabled": false}, "files": {"type": "object", "enabled": false},
          "updated": {"type": "date", "format": "epoch_millis"}}}""";

    private final Map<String, LightModel> cache = new ConcurrentHashMap<>();

    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("model name [" + name + "] must match " + NAME.pattern());
        }
        return name;
    }

    public LightModel cached(String name) {
        return cache.get(name);
    }

    /** Validates the whole bundle (checksums, tokenizer, table, fusion model), stores it, caches it. */
    public void put(Client client, String name, Map<String, Object> manifest, Map<String, byte[]> files, ActionListener<Map<String, Object>> listener) {
        LightModel model = LightModel.build(checkName(name), manifest, files); // IllegalArgumentException -> 400
        Map<String, Object> fileInfo = new LinkedHashMap<>();
        BulkRequest bulk = new BulkRequest().setRefreshPolicy(WriteRequest.RefreshPolicy.IMMEDIATE);
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            byte[] data = e.getValue();
            int chunks = Math.max(1, (data.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
            for (int seq = 0; seq < chunks; seq++) {
                int from = seq * CHUNK_BYTES;
                int to = Math.min(data.length, from + CHUNK_BYTES);
                byte[] part = java.util.Arrays.copyOfRange(data, from, to);
                bulk.add(new IndexRequest(INDEX).id(chunkId(name, e.getKey(), seq))
                    .source(Map.of("model", name, "kind", "chunk", "path", e.getKey(), "seq", seq, "data", Base64.getEncoder().encodeToString(part))));
            }
            fileInfo.put(e.getKey(), Map.of("sha256", LightModel.sha256(data), "size", data.length, "chunks", chunks));
        }
        Map<String, Object> descriptor = new LinkedHashMap<>();
        descriptor.put("model", name);
        descriptor.put("kind", "manifest");
        descriptor.put("manifest", manifest);
        descriptor.put("files", fileInfo);
        descriptor.put("updated", System.currentTimeMillis());
        bulk.add(new IndexRequest(INDEX).id(name).source(descriptor));
        ensureIndex(client, ActionListener.wrap(ignored -> readDescriptor(client, name, ActionListener.wrap(old -> {
            // remove chunks of the previous version that the new one does not overwrite
            for (String id : chunkIds(name, old)) {
                if (!containsId(bulk, id)) {
                    bulk.add(new DeleteRequest(INDEX, id));
                }
            }
            execute(client, c -> c.bulk(bulk, ActionListener.wrap(response -> {
                if (response.hasFailures()) {
                    listener.onFailure(new IllegalStateException("storing model [" + name + "] failed: " + response.buildFailureMessage()));
                    return;
                }
                cache.put(name, model);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("acknowledged", true);
                out.put("name", name);
                out.put("dense_dim", model.dim());
                out.put("learned_fusion", model.hasLearned());
                out.put("files", fileInfo);
                listener.onResponse(out);
            }, listener::onFailure)));
        }, listener::onFailure)), listener::onFailure));
    }

    /** The stored descriptor (manifest and file checksums, not the file bytes). */
    public void describe(Client client, String name, ActionListener<Map<String, Object>> listener) {
        readDescriptor(client, checkName(name), ActionListener.wrap(descriptor -> {
            if (descriptor == null) {
                listener.onFailure(new ResourceNotFoundException("lightretriever model [" + name + "] not found"));
                return;
            }
            Map<String, Object> out = new LinkedHashMap<>(descriptor);
            out.put("loaded_on_this_node", cache.containsKey(name));
            listener.onResponse(out);
        }, listener::onFailure));
    }

    public void delete(Client client, String name, ActionListener<Map<String, Object>> listener) {
        readDescriptor(client, checkName(name), ActionListener.wrap(descriptor -> {
            cache.remove(name);
            if (descriptor == null) {
                listener.onFailure(new ResourceNotFoundException("lightretriever model [" + name + "] not found"));
                return;
            }
            BulkRequest bulk = new BulkRequest().setRefreshPolicy(WriteRequest.RefreshPolicy.IMMEDIATE);
            for (String id : chunkIds(name, descriptor)) {
                bulk.add(new DeleteRequest(INDEX, id));
            }
            bulk.add(new DeleteRequest(INDEX, name));
            execute(client, c -> c.bulk(bulk, ActionListener.wrap(
                r -> listener.onResponse(Map.of("acknowledged", true, "name", name)), listener::onFailure)));
        }, listener::onFailure));
    }

    /** Cached model, or loaded from the system index and verified (unknown model: IllegalArgumentException). */
    public void load(Client client, String name, ActionListener<LightModel> listener) {
        LightModel hit = cache.get(name);
        if (hit != null) {
            listener.onResponse(hit);
            return;
        }
        readDescriptor(client, name, ActionListener.wrap(descriptor -> {
            if (descriptor == null) {
                listener.onFailure(new IllegalArgumentException("unknown lightretriever model [" + name + "]: upload it with PUT _plugins/lightretriever/models/" + name));
                return;
            }
            MultiGetRequest mget = new MultiGetRequest().realtime(true);
            List<String> ids = chunkIds(name, descriptor);
            ids.forEach(id -> mget.add(INDEX, id));
            execute(client, c -> c.multiGet(mget, ActionListener.wrap(response -> {
                Map<String, List<byte[]>> parts = new LinkedHashMap<>();
                for (MultiGetItemResponse item : response.getResponses()) {
                    if (item.isFailed() || !item.getResponse().isExists()) {
                        listener.onFailure(new IllegalStateException("model [" + name + "]: stored chunk " + item.getId() + " is missing"));
                        return;
                    }
                    Map<String, Object> src = item.getResponse().getSourceAsMap();
                    parts.computeIfAbsent((String) src.get("path"), p -> new ArrayList<>()).add(Base64.getDecoder().decode((String) src.get("data")));
                }
                Map<String, byte[]> files = new HashMap<>();
                parts.forEach((path, chunks) -> files.put(path, concat(chunks)));
                @SuppressWarnings("unchecked")
                Map<String, Object> manifest = (Map<String, Object>) descriptor.get("manifest");
                LightModel model = LightModel.build(name, manifest, files); // checksums verified on load
                cache.put(name, model);
                listener.onResponse(model);
            }, listener::onFailure)));
        }, listener::onFailure));
    }

    private void readDescriptor(Client client, String name, ActionListener<Map<String, Object>> listener) {
        execute(client, c -> c.get(new GetRequest(INDEX, name).realtime(true), ActionListener.wrap(
            (GetResponse r) -> listener.onResponse(r.isExists() ? r.getSourceAsMap() : null),
            e -> {
                if (e instanceof IndexNotFoundException) {
                    listener.onResponse(null);
                } else {
                    listener.onFailure(e);
                }
            })));
    }

    private void ensureIndex(Client client, ActionListener<Void> listener) {
        CreateIndexRequest create = new CreateIndexRequest(INDEX)
            .settings(Settings.builder().put("index.number_of_shards", 1).put("index.auto_expand_replicas", "0-1").put("index.hidden", true))
            .mapping(MAPPING, XContentType.JSON);
        execute(client, c -> c.admin().indices().create(create, ActionListener.wrap(r -> listener.onResponse(null), e -> {
            if (e instanceof org.opensearch.ResourceAlreadyExistsException
                || e.getCause() instanceof org.opensearch.ResourceAlreadyExistsException) {
                listener.onResponse(null);
            } else {
                listener.onFailure(e);
            }
        })));
    }

    /** Runs a client call with the system context (the system index is ours, not the caller's). */
    private static void execute(Client client, java.util.function.Consumer<Client> call) {
        ThreadContext threadContext = client.threadPool().getThreadContext();
        try (ThreadContext.StoredContext ignored = threadContext.stashContext()) {
            call.accept(client);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> chunkIds(String name, Map<String, Object> descriptor) {
        List<String> ids = new ArrayList<>();
        if (descriptor == null) {
            return ids;
        }
        Map<String, Object> files = (Map<String, Object>) descriptor.getOrDefault("files", Map.of());
        files.forEach((path, info) -> {
            int chunks = ((Number) ((Map<String, Object>) info).get("chunks")).intValue();
            for (int seq = 0; seq < chunks; seq++) {
                ids.add(chunkId(name, path, seq));
            }
        });
        return ids;
    }

    private static boolean containsId(BulkRequest bulk, String id) {
        return bulk.requests().stream().anyMatch(r -> id.equals(r.id()));
    }

    private static String chunkId(String name, String path, int seq) {
        return name + "/" + path + "/" + seq;
    }

    private static byte[] concat(List<byte[]> chunks) {
        int size = chunks.stream().mapToInt(b -> b.length).sum();
        byte[] out = new byte[size];
        int pos = 0;
        for (byte[] b : chunks) {
            System.arraycopy(b, 0, out, pos, b.length);
            pos += b.length;
        }
        return out;
    }
}

package org.lightretriever.opensearch.registry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.lightretriever.opensearch.cluster.NodesAction;
import org.opensearch.ResourceNotFoundException;
import org.opensearch.action.FailedNodeException;
import org.opensearch.action.admin.indices.create.CreateIndexRequest;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.opensearch.action.bulk.BulkRequest;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.support.ContextPreservingActionListener;
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
import org.opensearch.index.query.BoolQueryBuilder;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.search.SearchHit;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.transport.client.Client;

/**
 * Bundles in the system index {@value #INDEX}: one descriptor document per model (manifest, upload id, per-file
 * sha256, size and chunk count) and the files as base64 chunks (of {@value #CHUNK_BYTES} bytes for an inline PUT,
 * of the client's size for a chunked upload), so any node can load them. Loaded models are cached per node; a PUT
 * or DELETE tells every node to drop its copy ({@link NodesAction}), so every node's next query loads the new one.
 */
public final class ModelStore {
    private static final Logger LOGGER = LogManager.getLogger(ModelStore.class);
    public static final String INDEX = ".lightretriever-models";
    static final int CHUNK_BYTES = 1 << 20;
    /** Chunks of one chunked upload, all files together (1.6 TB at the client's 16 MiB chunks): their ids are listed before the first read. */
    static final int MAX_CHUNKS = 100_000;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}");
    private static final Pattern UPLOAD = Pattern.compile("[A-Za-z0-9_-]{8,64}");
    private static final String MAPPING = """
        {"dynamic": false, "properties": {
          "model": {"type": "keyword"}, "kind": {"type": "keyword"}, "path": {"type": "keyword"},
          "upload": {"type": "keyword"}, "seq": {"type": "integer"}, "data": {"type": "binary"},
          "manifest": {"type": "object", "enabled": false}, "files": {"type": "object", "enabled": false},
          "updated": {"type": "date", "format": "epoch_millis"}}}""";

    private final Map<String, LightModel> cache = new ConcurrentHashMap<>();
    private final Map<String, Long> generations = new ConcurrentHashMap<>(); // evictions per name

    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("model name [" + name + "] must match " + NAME.pattern());
        }
        return name;
    }

    public LightModel cached(String name) {
        return cache.get(name);
    }

    /** Drops a model from this node's cache (its next use loads the stored version). */
    public void evict(String name) {
        generations.merge(name, 1L, Long::sum); // a load under way read the old version: it must not cache it
        cache.remove(name);
    }

    private long generation(String name) {
        return generations.getOrDefault(name, 0L);
    }

    public List<String> loadedNames() {
        return cache.keySet().stream().sorted().toList();
    }

    /** PUT with the files inline: validate the whole bundle (checksums, tokenizer, table, fusion model), store, publish. */
    public void put(Client client, String name, Map<String, Object> manifest, Map<String, byte[]> files, ActionListener<Map<String, Object>> callerListener) {
        ActionListener<Map<String, Object>> listener = inCallerContext(client, callerListener);
        LightModel model = LightModel.build(checkName(name), manifest, files); // IllegalArgumentException -> 400
        String upload = UUID.randomUUID().toString();
        BulkRequest bulk = new BulkRequest().setRefreshPolicy(WriteRequest.RefreshPolicy.IMMEDIATE);
        Map<String, Object> fileInfo = new LinkedHashMap<>();
        files.forEach((path, data) -> {
            int chunks = Math.max(1, (data.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
            for (int seq = 0; seq < chunks; seq++) {
                byte[] part = Arrays.copyOfRange(data, seq * CHUNK_BYTES, Math.min(data.length, (seq + 1) * CHUNK_BYTES));
                bulk.add(chunkRequest(name, upload, path, seq, part));
            }
            fileInfo.put(path, fileInfo(data, chunks));
        });
        ensureIndex(client, ActionListener.wrap(ignored -> publish(client, new Version(name, manifest, model, upload, fileInfo), bulk, listener),
            listener::onFailure));
    }

    /** One chunk of a large bundle (upload id chosen by the client); the PUT that names the upload verifies and publishes. */
    public void putChunk(Client client, String name, String upload, String path, int seq, byte[] data,
                         ActionListener<Map<String, Object>> callerListener) {
        ActionListener<Map<String, Object>> listener = inCallerContext(client, callerListener);
        checkName(name);
        checkUpload(upload);
        if (path == null || path.isEmpty() || seq < 0 || seq >= MAX_CHUNKS) {
            throw new IllegalArgumentException("a chunk needs \"path\" (a bundle file) and 0 <= \"seq\" < " + MAX_CHUNKS);
        }
        IndexRequest index = chunkRequest(name, upload, path, seq, data);
        ensureIndex(client, ActionListener.wrap(ignored -> execute(client, c -> c.index(index, ActionListener.wrap(r -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("acknowledged", true);
            out.put("upload", upload);
            out.put("path", path);
            out.put("seq", seq);
            out.put("size", data.length);
            listener.onResponse(out);
        }, listener::onFailure))), listener::onFailure));
    }

    /** PUT naming an upload: read its chunks, verify the assembled files against the manifest's sha256s, publish. */
    public void commitUpload(Client client, String name, Map<String, Object> manifest, String upload, Map<String, Integer> chunks,
                             ActionListener<Map<String, Object>> callerListener) {
        ActionListener<Map<String, Object>> listener = inCallerContext(client, callerListener);
        checkName(name);
        checkUpload(upload);
        Map<String, Object> fileInfo = new LinkedHashMap<>();
        long total = 0;
        for (Map.Entry<String, Integer> e : chunks.entrySet()) {
            total += e.getValue();
            if (e.getValue() < 1 || total > MAX_CHUNKS) { // a huge count would list that many chunk ids before the first read
                throw new IllegalArgumentException("chunks." + e.getKey() + " must be >= 1, and an upload has at most " + MAX_CHUNKS
                    + " chunks in all, got " + e.getValue());
            }
            fileInfo.put(e.getKey(), Map.of("chunks", e.getValue()));
        }
        readFiles(client, name, upload, fileInfo, ActionListener.wrap(files -> {
            LightModel model = LightModel.build(name, manifest, files); // the checksums, verified at the end
            Map<String, Object> verified = new LinkedHashMap<>();
            files.forEach((path, data) -> verified.put(path, fileInfo(data, chunks.get(path))));
            publish(client, new Version(name, manifest, model, upload, verified), new BulkRequest()
                .setRefreshPolicy(WriteRequest.RefreshPolicy.IMMEDIATE), listener);
        }, listener::onFailure));
    }

    /** A stored bundle version: what its descriptor says and the model built from it. */
    private record Version(String name, Map<String, Object> manifest, LightModel model, String upload, Map<String, Object> fileInfo) {
        Map<String, Object> descriptor() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", name);
            out.put("kind", "manifest");
            out.put("manifest", manifest);
            out.put("upload", upload);
            out.put("files", fileInfo);
            out.put("updated", System.currentTimeMillis());
            return out;
        }
    }

    /** Store the new version (its chunks in `bulk`, if not stored yet, and its descriptor), drop the old one's chunks. */
    private void publish(Client client, Version version, BulkRequest bulk, ActionListener<Map<String, Object>> listener) {
        readDescriptor(client, version.name(), ActionListener.wrap(old -> {
            bulk.add(new IndexRequest(INDEX).id(version.name()).source(version.descriptor()));
            for (String id : chunkIds(version.name(), old)) {
                if (!chunkIds(version.name(), version.descriptor()).contains(id)) {
                    bulk.add(new DeleteRequest(INDEX, id));
                }
            }
            execute(client, c -> c.bulk(bulk, ActionListener.wrap(response -> {
                if (response.hasFailures()) {
                    throw new IllegalStateException("storing model [" + version.name() + "] failed: " + response.buildFailureMessage());
                }
                evictEverywhere(client, version.name(), ActionListener.wrap(failedNodes -> {
                    cache.put(version.name(), version.model());
                    listener.onResponse(stored(version, failedNodes));
                    dropOtherUploads(client, version.name(), version.upload());
                }, listener::onFailure));
            }, listener::onFailure)));
        }, listener::onFailure));
    }

    private static Map<String, Object> stored(Version version, List<String> failedNodes) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("acknowledged", true);
        out.put("name", version.name());
        out.put("dense_dim", version.model().dim());
        out.put("learned_fusion", version.model().hasLearned());
        out.put("files", version.fileInfo());
        if (!failedNodes.isEmpty()) {
            out.put("nodes_not_refreshed", failedNodes);
        }
        return out;
    }

    /**
     * Best effort, after answering: delete the chunks of this model's other uploads (abandoned or superseded ones;
     * `keep` null: all). One upload per model name at a time: a commit deletes what a concurrent upload sent.
     */
    private static void dropOtherUploads(Client client, String name, String keep) {
        // by id, not by the `upload` field: a system index created by an older version of the plugin does not map it
        String kept = keep == null ? null : name + "/" + keep + "/";
        BoolQueryBuilder query = QueryBuilders.boolQuery().filter(QueryBuilders.termQuery("model", name))
            .filter(QueryBuilders.termQuery("kind", "chunk"));
        SearchRequest search = new SearchRequest(INDEX).source(new SearchSourceBuilder().query(query).size(10_000).fetchSource(false));
        execute(client, c -> c.search(search, ActionListener.wrap(response -> {
            BulkRequest bulk = new BulkRequest();
            for (SearchHit hit : response.getHits().getHits()) {
                if (kept == null || !hit.getId().startsWith(kept)) {
                    bulk.add(new DeleteRequest(INDEX, hit.getId()));
                }
            }
            if (bulk.numberOfActions() == 0) {
                return;
            }
            c.bulk(bulk, ActionListener.wrap(r -> {}, e -> LOGGER.warn("lightretriever model [" + name + "]: could not delete old chunks", e)));
        }, e -> LOGGER.warn("lightretriever model [" + name + "]: could not list old chunks", e))));
    }

    /** Every node drops its cached copy; answers the nodes that could not be told (they keep the old copy). */
    private static void evictEverywhere(Client client, String name, ActionListener<List<String>> listener) {
        execute(client, c -> c.execute(NodesAction.INSTANCE, new NodesAction.Request(name), ActionListener.wrap(
            response -> listener.onResponse(response.failures().stream().map(FailedNodeException::nodeId).toList()),
            listener::onFailure)));
    }

    /** The stored descriptor (manifest and file checksums, not the file bytes). */
    public void describe(Client client, String name, ActionListener<Map<String, Object>> callerListener) {
        ActionListener<Map<String, Object>> listener = inCallerContext(client, callerListener);
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

    public void delete(Client client, String name, ActionListener<Map<String, Object>> callerListener) {
        ActionListener<Map<String, Object>> listener = inCallerContext(client, callerListener);
        readDescriptor(client, checkName(name), ActionListener.wrap(descriptor -> {
            if (descriptor == null) {
                cache.remove(name);
                dropOtherUploads(client, name, null); // chunks of uploads never committed
                listener.onFailure(new ResourceNotFoundException("lightretriever model [" + name + "] not found"));
                return;
            }
            BulkRequest bulk = new BulkRequest().setRefreshPolicy(WriteRequest.RefreshPolicy.IMMEDIATE);
            for (String id : chunkIds(name, descriptor)) {
                bulk.add(new DeleteRequest(INDEX, id));
            }
            bulk.add(new DeleteRequest(INDEX, name));
            execute(client, c -> c.bulk(bulk, ActionListener.wrap(r -> evictEverywhere(client, name, ActionListener.wrap(failedNodes -> {
                cache.remove(name);
                dropOtherUploads(client, name, null);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("acknowledged", true);
                out.put("name", name);
                if (!failedNodes.isEmpty()) {
                    out.put("nodes_not_refreshed", failedNodes);
                }
                listener.onResponse(out);
            }, listener::onFailure)), listener::onFailure)));
        }, listener::onFailure));
    }

    /** Cached model, or loaded from the system index and verified (unknown model: IllegalArgumentException). */
    public void load(Client client, String name, ActionListener<LightModel> callerListener) {
        ActionListener<LightModel> listener = inCallerContext(client, callerListener);
        LightModel hit = cache.get(name);
        if (hit != null) {
            listener.onResponse(hit);
            return;
        }
        long generation = generation(name);
        readDescriptor(client, name, ActionListener.wrap(descriptor -> {
            if (descriptor == null) {
                throw new IllegalArgumentException("unknown lightretriever model [" + name + "]: upload it with PUT _plugins/lightretriever/models/" + name);
            }
            readFiles(client, name, (String) descriptor.get("upload"), filesOf(descriptor), ActionListener.wrap(files -> {
                @SuppressWarnings("unchecked")
                Map<String, Object> manifest = (Map<String, Object>) descriptor.get("manifest");
                LightModel model = LightModel.build(name, manifest, files); // checksums verified on load
                if (generation(name) == generation) { // else a PUT or DELETE came meanwhile: serve this query, keep nothing
                    cache.put(name, model);
                }
                listener.onResponse(model);
            }, listener::onFailure));
        }, listener::onFailure));
    }

    /**
     * The files of one stored version, assembled from their chunks ({path: {"chunks": n, ...}}). Chunks are read a
     * few at a time, so a large bundle (a Gemma table: ~335 MB, ~450 MB as base64) never sits in one response.
     */
    private static void readFiles(Client client, String name, String upload, Map<String, Object> fileInfo,
                                  ActionListener<Map<String, byte[]>> listener) {
        List<String> ids = chunkIds(name, upload, fileInfo);
        Map<String, List<byte[]>> parts = new LinkedHashMap<>();
        readChunks(client, name, ids, 0, parts, ActionListener.wrap(done -> {
            Map<String, byte[]> files = new HashMap<>();
            for (Map.Entry<String, List<byte[]>> e : parts.entrySet()) {
                files.put(e.getKey(), concat(e.getValue()));
                e.setValue(List.of()); // let the chunk copies go before the next file is assembled
            }
            listener.onResponse(files);
        }, listener::onFailure));
    }

    private static final int CHUNKS_PER_READ = 4;

    private static void readChunks(Client client, String name, List<String> ids, int from, Map<String, List<byte[]>> parts,
                                   ActionListener<Void> listener) {
        if (from >= ids.size()) {
            listener.onResponse(null);
            return;
        }
        MultiGetRequest mget = new MultiGetRequest().realtime(true);
        ids.subList(from, Math.min(ids.size(), from + CHUNKS_PER_READ)).forEach(id -> mget.add(INDEX, id));
        execute(client, c -> c.multiGet(mget, ActionListener.wrap(response -> {
            for (MultiGetItemResponse item : response.getResponses()) {
                if (item.isFailed() || !item.getResponse().isExists()) {
                    throw new IllegalArgumentException("model [" + name + "]: stored chunk " + item.getId() + " is missing");
                }
                Map<String, Object> src = item.getResponse().getSourceAsMap();
                parts.computeIfAbsent((String) src.get("path"), p -> new ArrayList<>()).add(Base64.getDecoder().decode((String) src.get("data")));
            }
            readChunks(client, name, ids, from + CHUNKS_PER_READ, parts, listener);
        }, listener::onFailure)));
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

    /**
     * The caller's listener, called back in the caller's thread context: the system-index calls run in a stashed
     * (system) context, and a search that continues after loading a model must go on as its user, with its headers.
     */
    private static <T> ActionListener<T> inCallerContext(Client client, ActionListener<T> listener) {
        return new ContextPreservingActionListener<>(client.threadPool().getThreadContext().newRestorableContext(false), listener);
    }

    /** Runs a client call with the system context (the system index is ours, not the caller's). */
    private static void execute(Client client, java.util.function.Consumer<Client> call) {
        ThreadContext threadContext = client.threadPool().getThreadContext();
        try (ThreadContext.StoredContext ignored = threadContext.stashContext()) {
            call.accept(client);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> filesOf(Map<String, Object> descriptor) {
        return descriptor == null ? Map.of() : (Map<String, Object>) descriptor.getOrDefault("files", Map.of());
    }

    private static List<String> chunkIds(String name, Map<String, Object> descriptor) {
        return descriptor == null ? List.of() : chunkIds(name, (String) descriptor.get("upload"), filesOf(descriptor));
    }

    @SuppressWarnings("unchecked")
    private static List<String> chunkIds(String name, String upload, Map<String, Object> fileInfo) {
        List<String> ids = new ArrayList<>();
        fileInfo.forEach((path, info) -> {
            int chunks = ((Number) ((Map<String, Object>) info).get("chunks")).intValue();
            for (int seq = 0; seq < chunks; seq++) {
                ids.add(chunkId(name, upload, path, seq));
            }
        });
        return ids;
    }

    /** Chunks are keyed by upload, so a new version never overwrites the one being served; null: pre-upload layout. */
    private static String chunkId(String name, String upload, String path, int seq) {
        return upload == null ? name + "/" + path + "/" + seq : name + "/" + upload + "/" + path + "/" + seq;
    }

    private static IndexRequest chunkRequest(String name, String upload, String path, int seq, byte[] data) {
        return new IndexRequest(INDEX).id(chunkId(name, upload, path, seq)).source(Map.of("model", name, "kind", "chunk",
            "upload", upload, "path", path, "seq", seq, "data", Base64.getEncoder().encodeToString(data)));
    }

    private static Map<String, Object> fileInfo(byte[] data, int chunks) {
        return Map.of("sha256", LightModel.sha256(data), "size", data.length, "chunks", chunks);
    }

    private static void checkUpload(String upload) {
        if (upload == null || !UPLOAD.matcher(upload).matches()) {
            throw new IllegalArgumentException("upload id [" + upload + "] must match " + UPLOAD.pattern());
        }
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

package org.lightretriever.opensearch.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lightretriever.opensearch.encode.QueryEncoder;
import org.lightretriever.opensearch.encode.TokenTable;
import org.lightretriever.opensearch.fusion.Fusion;
import org.lightretriever.opensearch.fusion.Fusions;
import org.lightretriever.opensearch.fusion.LearnedFusion;
import org.lightretriever.opensearch.fusion.LightGbmModel;
import org.lightretriever.opensearch.fusion.LinearFusion;
import org.lightretriever.opensearch.fusion.RrfFusion;
import org.lightretriever.opensearch.tokenize.HfTokenizer;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

/** A verified, ready-to-query bundle: query encoder plus the fusions its manifest configures. */
public final class LightModel {
    public static final String TOKENIZER = "tokenizer/tokenizer.json";
    public static final String TABLE = "token_table.safetensors";
    public static final List<String> ALL_SYSTEMS = List.of("dense", "sparse", "bm25");
    /** manifest query.sparse_weights: the one weighting, and the table file's tensor that holds it (bundle/manifest.py). */
    static final String SPARSE_WEIGHTING = "idf";
    static final String SPARSE_WEIGHTS_TENSOR = "sparse_weights";

    private final String name;
    private final Map<String, Object> manifest;
    private final QueryEncoder encoder;
    private final int dim;
    private final LinkedHashMap<String, Double> linearWeights;
    private final int rrfK;
    private final LearnedFusion learned;
    private final String defaultFusion;
    private final long bytes;

    private LightModel(String name, Map<String, Object> manifest, QueryEncoder encoder, int dim, LinkedHashMap<String, Double> weights,
                       int rrfK, LearnedFusion learned, String defaultFusion, long bytes) {
        this.name = name;
        this.manifest = manifest;
        this.encoder = encoder;
        this.dim = dim;
        this.linearWeights = weights;
        this.rrfK = rrfK;
        this.learned = learned;
        this.defaultFusion = defaultFusion;
        this.bytes = bytes;
    }

    /**
     * Verifies every file the manifest lists against its sha256 and builds the model, in three steps: check the
     * files, build the query encoder, build the fusions.
     * @throws IllegalArgumentException naming the model, the key or file and the reason (the uploader's error)
     */
    public static LightModel build(String name, Map<String, Object> manifest, Map<String, byte[]> files) {
        try {
            Map<String, String> checksums = verifyFiles(manifest, files);
            QueryEncoder encoder = buildEncoder(manifest, files);
            int dim = encoder.dim();
            Map<String, Object> fusion = ManifestReader.object(manifest, "fusion", "fusion");
            LinkedHashMap<String, Double> weights = linearWeights(fusion);
            Map<String, Object> rrf = ManifestReader.object(fusion, "rrf", "fusion.rrf");
            int rrfK = ManifestReader.integer(rrf.getOrDefault("k", Fusions.DEFAULT_RRF_K), "fusion.rrf.k");
            LearnedFusion learned = learnedFusion(ManifestReader.object(fusion, "learned", "fusion.learned"), files, checksums);
            String def = ManifestReader.string(fusion.getOrDefault("default", Fusions.DEFAULT), "fusion.default");
            long bytes = files.values().stream().mapToLong(b -> b.length).sum();
            return new LightModel(name, manifest, encoder, dim, weights, rrfK, learned, def, bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model [" + name + "]: " + e.getMessage(), e);
        }
    }

    /** Step 1: every listed file is present and matches its sha256, every sent file is listed; the tokenizer and table are listed. */
    private static Map<String, String> verifyFiles(Map<String, Object> manifest, Map<String, byte[]> files) {
        if (!(manifest.get("files") instanceof Map<?, ?> listed)) {
            throw new IllegalArgumentException("manifest has no \"files\" checksums");
        }
        Map<String, String> checksums = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : listed.entrySet()) {
            String path = String.valueOf(e.getKey());
            String expected = ManifestReader.string(e.getValue(), "files." + path);
            byte[] data = files.get(path);
            if (data == null) {
                throw new IllegalArgumentException("file " + path + " listed in the manifest is missing");
            }
            String actual = sha256(data);
            if (!actual.equalsIgnoreCase(expected)) {
                throw new IllegalArgumentException("file " + path + " has sha256 " + actual + ", manifest says " + expected);
            }
            checksums.put(path, expected);
        }
        for (String path : files.keySet()) {
            if (!checksums.containsKey(path)) { // the registry stores what it is sent: only what the model uses
                throw new IllegalArgumentException("file " + path + " is not listed in manifest.files");
            }
        }
        for (String required : List.of(TOKENIZER, TABLE)) {
            if (!checksums.containsKey(required)) {
                throw new IllegalArgumentException("manifest.files must list " + required + " with its sha256");
            }
        }
        return checksums;
    }

    /** Step 2: tokenizer + token table, consistent with dense_dim and with each other. */
    private static QueryEncoder buildEncoder(Map<String, Object> manifest, Map<String, byte[]> files) {
        HfTokenizer tokenizer = HfTokenizer.fromJson(parseJson(files.get(TOKENIZER), TOKENIZER));
        TokenTable table = TokenTable.fromSafetensors(files.get(TABLE));
        int dim = ManifestReader.integer(manifest.get("dense_dim"), "dense_dim");
        if (table.dim() != dim) {
            throw new IllegalArgumentException("token table has dimension " + table.dim() + " but manifest dense_dim is " + dim);
        }
        if (tokenizer.modelVocabSize() > table.rows()) {
            throw new IllegalArgumentException("tokenizer has " + tokenizer.modelVocabSize() + " ids but the token table only " + table.rows() + " rows");
        }
        Map<String, Object> query = ManifestReader.object(manifest, "query", "query");
        Map<String, Object> maxLength = ManifestReader.object(manifest, "max_length", "max_length");
        List<Integer> exclude = ManifestReader.integers(query.getOrDefault("exclude_ids", List.of()), "query.exclude_ids");
        Integer unk = query.get("unk_id") == null ? null : ManifestReader.integer(query.get("unk_id"), "query.unk_id");
        float[] sparseWeights = null;
        Object weighting = query.get("sparse_weights");
        if (weighting != null) {
            if (!SPARSE_WEIGHTING.equals(weighting)) {
                throw new IllegalArgumentException("manifest query.sparse_weights must be null or \"" + SPARSE_WEIGHTING + "\", got " + weighting);
            }
            sparseWeights = TokenTable.sparseWeightsFromSafetensors(files.get(TABLE), SPARSE_WEIGHTS_TENSOR, table.rows());
        }
        return new QueryEncoder(tokenizer, table, ManifestReader.integer(maxLength.getOrDefault("query", 64), "max_length.query"), unk, exclude,
            sparseWeights);
    }

    /** Step 3a: the linear weights (default: Fusions.defaultWeights(), the paper's). */
    private static LinkedHashMap<String, Double> linearWeights(Map<String, Object> fusion) {
        Map<String, Object> linear = ManifestReader.object(fusion, "linear", "fusion.linear");
        if (linear.get("weights") == null) {
            return Fusions.defaultWeights();
        }
        return ManifestReader.weights(ManifestReader.object(linear, "weights", "fusion.linear.weights"), "fusion.linear.weights");
    }

    /** Step 3b: the LightGBM model, or null when the bundle has none. */
    private static LearnedFusion learnedFusion(Map<String, Object> spec, Map<String, byte[]> files, Map<String, String> checksums) {
        if (spec.isEmpty()) {
            return null;
        }
        String file = ManifestReader.string(spec.get("model_file"), "fusion.learned.model_file");
        byte[] text = files.get(file);
        if (text == null || !checksums.containsKey(file)) {
            throw new IllegalArgumentException("fusion.learned.model_file " + file + " is missing or not listed in manifest.files");
        }
        List<String> systems = ManifestReader.strings(spec.get("systems"), "fusion.learned.systems");
        List<String> names = LearnedFusion.featureNames(systems);
        if (spec.get("features") != null && !names.equals(ManifestReader.strings(spec.get("features"), "fusion.learned.features"))) {
            throw new IllegalArgumentException("fusion.learned.features " + spec.get("features") + " != expected " + names);
        }
        return new LearnedFusion(LightGbmModel.parse(new String(text, StandardCharsets.UTF_8)), systems,
            ManifestReader.integer(spec.get("depth"), "fusion.learned.depth"));
    }

    /**
     * The fusion by name (null: the manifest default). `learned` without a trained model falls back to
     * `rrf` ({@link Fusions#DEFAULT}), as the Python side does. RRF and linear fuse over `systems` (the systems that ran).
     */
    public Fusion fusion(String requested, List<String> systems) {
        String fusionName = requested == null ? defaultFusion : requested;
        return switch (fusionName) {
            case "learned" -> learned != null ? learned : new RrfFusion(rrfK, systems);
            case "rrf" -> new RrfFusion(rrfK, systems);
            case "linear" -> new LinearFusion(linearWeights);
            default -> throw new IllegalArgumentException("unknown fusion [" + fusionName + "]; choose one of " + Fusions.NAMES);
        };
    }

    public String defaultFusion() {
        return defaultFusion;
    }

    public boolean hasLearned() {
        return learned != null;
    }

    public String name() {
        return name;
    }

    public Map<String, Object> manifest() {
        return manifest;
    }

    public QueryEncoder encoder() {
        return encoder;
    }

    public int dim() {
        return dim;
    }

    public long bytes() {
        return bytes;
    }

    static Map<String, Object> parseJson(byte[] data, String file) {
        if (data == null) {
            throw new IllegalArgumentException(file + " is missing");
        }
        try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
            DeprecationHandler.IGNORE_DEPRECATIONS, data)) {
            return parser.mapOrdered();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + e.getMessage());
        }
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

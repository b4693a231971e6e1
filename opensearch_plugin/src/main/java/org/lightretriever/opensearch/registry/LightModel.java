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
     * Verifies every file the manifest lists against its sha256 and builds the model.
     * @throws IllegalArgumentException naming the model, the file and the reason
     */
    @SuppressWarnings("unchecked")
    public static LightModel build(String name, Map<String, Object> manifest, Map<String, byte[]> files) {
        String where = "model [" + name + "]: ";
        try {
            Object listed = manifest.get("files");
            if (!(listed instanceof Map<?, ?> checksums)) {
                throw new IllegalArgumentException("manifest has no \"files\" checksums");
            }
            for (Map.Entry<?, ?> e : checksums.entrySet()) {
                byte[] data = files.get((String) e.getKey());
                if (data == null) {
                    throw new IllegalArgumentException("file " + e.getKey() + " listed in the manifest is missing");
                }
                String actual = sha256(data);
                if (!actual.equalsIgnoreCase(String.valueOf(e.getValue()))) {
                    throw new IllegalArgumentException("file " + e.getKey() + " has sha256 " + actual + ", manifest says " + e.getValue());
                }
            }
            for (String required : List.of(TOKENIZER, TABLE)) {
                if (!checksums.containsKey(required)) {
                    throw new IllegalArgumentException("manifest.files must list " + required + " with its sha256");
                }
            }
            HfTokenizer tokenizer = HfTokenizer.fromJson(parseJson(files.get(TOKENIZER), TOKENIZER));
            TokenTable table = TokenTable.fromSafetensors(files.get(TABLE));
            int dim = intValue(manifest.get("dense_dim"), "dense_dim");
            if (table.dim() != dim) {
                throw new IllegalArgumentException("token table has dimension " + table.dim() + " but manifest dense_dim is " + dim);
            }
            if (tokenizer.modelVocabSize() > table.rows()) {
                throw new IllegalArgumentException("tokenizer has " + tokenizer.modelVocabSize() + " ids but the token table only " + table.rows() + " rows");
            }
            Map<String, Object> query = (Map<String, Object>) manifest.getOrDefault("query", Map.of());
            Map<String, Object> maxLength = (Map<String, Object>) manifest.getOrDefault("max_length", Map.of());
            List<Integer> exclude = new ArrayList<>();
            for (Object id : (List<Object>) query.getOrDefault("exclude_ids", List.of())) {
                exclude.add(intValue(id, "query.exclude_ids"));
            }
            Integer unk = query.get("unk_id") == null ? null : intValue(query.get("unk_id"), "query.unk_id");
            QueryEncoder encoder = new QueryEncoder(tokenizer, table, intValue(maxLength.getOrDefault("query", 64), "max_length.query"), unk, exclude);

            Map<String, Object> fusion = (Map<String, Object>) manifest.getOrDefault("fusion", Map.of());
            Map<String, Object> linear = (Map<String, Object>) fusion.get("linear");
            Map<String, Object> rawWeights = linear == null ? null : (Map<String, Object>) linear.get("weights");
            LinkedHashMap<String, Double> weights = rawWeights == null ? Fusions.defaultWeights() : new LinkedHashMap<>();
            if (rawWeights != null) {
                rawWeights.forEach((k, v) -> weights.put(k, ((Number) v).doubleValue()));
            }
            Map<String, Object> rrf = (Map<String, Object>) fusion.get("rrf");
            int rrfK = rrf == null ? Fusions.DEFAULT_RRF_K : intValue(rrf.getOrDefault("k", Fusions.DEFAULT_RRF_K), "fusion.rrf.k");
            LearnedFusion learned = null;
            Map<String, Object> learnedSpec = (Map<String, Object>) fusion.get("learned");
            if (learnedSpec != null) {
                String file = String.valueOf(learnedSpec.get("model_file"));
                byte[] text = files.get(file);
                if (text == null || !checksums.containsKey(file)) {
                    throw new IllegalArgumentException("fusion.learned.model_file " + file + " is missing or not listed in manifest.files");
                }
                List<String> systems = (List<String>) learnedSpec.get("systems");
                List<String> names = LearnedFusion.featureNames(systems);
                if (learnedSpec.get("features") != null && !names.equals(learnedSpec.get("features"))) {
                    throw new IllegalArgumentException("fusion.learned.features " + learnedSpec.get("features") + " != expected " + names);
                }
                learned = new LearnedFusion(LightGbmModel.parse(new String(text, StandardCharsets.UTF_8)), systems,
                    intValue(learnedSpec.get("depth"), "fusion.learned.depth"));
            }
            String def = String.valueOf(fusion.getOrDefault("default", Fusions.DEFAULT));
            long bytes = files.values().stream().mapToLong(b -> b.length).sum();
            return new LightModel(name, manifest, encoder, dim, weights, rrfK, learned, def, bytes);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
    }

    /**
     * The fusion by name (null: the manifest default). `learned` without a trained model falls back to
     * `linear`, as the Python side does. RRF and linear fuse over `systems` (the systems that ran).
     */
    public Fusion fusion(String requested, List<String> systems) {
        String fusionName = requested == null ? defaultFusion : requested;
        return switch (fusionName) {
            case "learned" -> learned != null ? learned : new LinearFusion(linearWeights);
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

    private static int intValue(Object value, String key) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalArgumentException("manifest " + key + " must be a number, got " + value);
    }
}

package org.lightretriever.opensearch.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lightretriever.opensearch.Vectors;
import org.lightretriever.opensearch.fusion.LearnedFusion;
import org.lightretriever.opensearch.fusion.LinearFusion;
import org.lightretriever.opensearch.fusion.RrfFusion;

/** Bundle verification on load: checksums, table shape, fusion config; errors name the model and file. */
class LightModelTest {
    private static Map<String, byte[]> files() throws Exception {
        Map<String, byte[]> files = new HashMap<>();
        files.put(LightModel.TOKENIZER, Vectors.bytes("tokenizers/minilm.json"));
        files.put(LightModel.TABLE, Vectors.bytes("tables/minilm_d4.safetensors"));
        files.put("fusion/learned.txt", Vectors.bytes("fusion/learned.txt"));
        return files;
    }

    private static Map<String, Object> manifest(Map<String, byte[]> files, boolean learned) {
        Map<String, Object> checksums = new LinkedHashMap<>();
        files.forEach((path, data) -> checksums.put(path, LightModel.sha256(data)));
        Map<String, Object> fusion = new LinkedHashMap<>();
        fusion.put("default", "rrf");
        fusion.put("linear", Map.of("weights", Map.of("dense", 0.7)));
        fusion.put("rrf", Map.of("k", 10));
        List<String> systems = List.of("dense", "sparse", "bm25");
        fusion.put("learned", learned ? Map.of("model_file", "fusion/learned.txt", "systems", systems,
            "features", LearnedFusion.featureNames(systems), "depth", 50) : null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dense_dim", 4);
        m.put("max_length", Map.of("query", 64));
        m.put("query", Map.of("unk_id", 100, "exclude_ids", List.of(0, 100, 101, 102, 103)));
        m.put("fusion", fusion);
        m.put("files", checksums);
        return m;
    }

    @Test
    void buildsAVerifiedModel() throws Exception {
        Map<String, byte[]> files = files();
        LightModel model = LightModel.build("m", manifest(files, true), files);
        assertEquals(4, model.dim());
        assertEquals("rrf", model.defaultFusion());
        assertTrue(model.fusion("learned", LightModel.ALL_SYSTEMS) instanceof LearnedFusion);
        assertTrue(model.fusion("rrf", LightModel.ALL_SYSTEMS) instanceof RrfFusion);
        assertEquals(List.of("dense"), model.fusion("linear", LightModel.ALL_SYSTEMS).systems());
        assertEquals(4, model.encoder().encode("p53 in cancer").dense().length);
        LightModel plain = LightModel.build("p", manifest(files, false), files);
        assertTrue(plain.fusion("learned", LightModel.ALL_SYSTEMS) instanceof RrfFusion); // falls back to rrf, like Python
    }

    @Test
    void rejectsCorruptOrIncompleteBundles() throws Exception {
        Map<String, byte[]> files = files();
        Map<String, Object> manifest = manifest(files, true);
        Map<String, byte[]> corrupt = new HashMap<>(files);
        corrupt.put(LightModel.TABLE, new byte[] {1, 2, 3});
        String reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", manifest, corrupt)).getMessage();
        assertTrue(reason.startsWith("model [m]: file token_table.safetensors has sha256"), reason);
        Map<String, byte[]> missing = new HashMap<>(files);
        missing.remove("fusion/learned.txt");
        reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", manifest, missing)).getMessage();
        assertTrue(reason.contains("fusion/learned.txt listed in the manifest is missing"), reason);
        Map<String, Object> wrongDim = new LinkedHashMap<>(manifest);
        wrongDim.put("dense_dim", 8);
        reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", wrongDim, files)).getMessage();
        assertTrue(reason.contains("token table has dimension 4 but manifest dense_dim is 8"), reason);
        assertThrows(IllegalArgumentException.class, () -> ModelStore.checkName("Bad Name"));
    }

    @Test
    void sparseWeightsComeFromTheTableFileWhenTheManifestNamesThem() throws Exception {
        Map<String, byte[]> files = files();
        files.put(LightModel.TABLE, Vectors.bytes("tables/minilm_d2_idf.safetensors"));
        Map<String, Object> manifest = manifest(files, false);
        manifest.put("dense_dim", 2);
        LightModel counts = LightModel.build("c", manifest, files);
        assertEquals(Map.of(4456, 2.0), counts.encoder().encode("cancer cancer").sparse()); // no weighting named: counts
        Map<String, Object> weighted = new LinkedHashMap<>(manifest);
        weighted.put("query", Map.of("unk_id", 100, "exclude_ids", List.of(0, 100), "sparse_weights", "idf"));
        double weight = LightModel.build("w", weighted, files).encoder().encode("cancer cancer").sparse().get(4456);
        assertEquals(2.0 * org.lightretriever.opensearch.encode.TokenTable.sparseWeightsFromSafetensors(
            files.get(LightModel.TABLE), "sparse_weights", 30522)[4456], weight, 0.0);
        Map<String, byte[]> noTensor = files();  // minilm_d4: a table without weights
        Map<String, Object> missing = new LinkedHashMap<>(manifest(noTensor, false));
        missing.put("query", Map.of("unk_id", 100, "exclude_ids", List.of(0), "sparse_weights", "idf"));
        String reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", missing, noTensor)).getMessage();
        assertTrue(reason.contains("sparse weights \"sparse_weights\": no such tensor"), reason);
        Map<String, Object> unknown = new LinkedHashMap<>(manifest);
        unknown.put("query", Map.of("unk_id", 100, "exclude_ids", List.of(0), "sparse_weights", "bm42"));
        reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", unknown, files)).getMessage();
        assertTrue(reason.contains("manifest query.sparse_weights must be null or \"idf\", got bm42"), reason);
    }

    @Test
    void wrongTypesInTheManifestAreNamedBadInput() throws Exception {
        Map<String, byte[]> files = files();
        Map<String, Object> manifest = manifest(files, true);
        Map<String, Object> dim = new LinkedHashMap<>(manifest);
        dim.put("dense_dim", "four");
        String reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", dim, files)).getMessage();
        assertEquals("model [m]: manifest dense_dim must be a number, got four", reason);
        Map<String, Object> query = new LinkedHashMap<>(manifest);
        query.put("query", Map.of("exclude_ids", "0,100"));
        reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", query, files)).getMessage();
        assertTrue(reason.contains("manifest query.exclude_ids must be a list"), reason);
        Map<String, Object> fusion = new LinkedHashMap<>(manifest);
        fusion.put("fusion", Map.of("linear", Map.of("weights", Map.of("dense", "high"))));
        reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", fusion, files)).getMessage();
        assertTrue(reason.contains("manifest fusion.linear.weights.dense must be a number"), reason);
        Map<String, Object> learned = new LinkedHashMap<>(manifest);
        learned.put("fusion", Map.of("learned", Map.of("model_file", "fusion/learned.txt", "systems", "dense", "depth", 50)));
        reason = assertThrows(IllegalArgumentException.class, () -> LightModel.build("m", learned, files)).getMessage();
        assertTrue(reason.contains("manifest fusion.learned.systems must be a list"), reason);
    }
}

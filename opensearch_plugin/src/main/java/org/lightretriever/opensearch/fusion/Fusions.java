package org.lightretriever.opensearch.fusion;

import java.util.LinkedHashMap;
import java.util.List;

/**
 * The fusion names and their defaults, once for the plugin. The Python registry
 * (lightretriever.fuse.registry) writes the same facts to tests/vectors/fusion.json and
 * FusionVectorsTest checks these constants against that file.
 */
public final class Fusions {
    public static final List<String> NAMES = List.of("linear", "rrf", "learned");
    public static final String DEFAULT = "rrf";
    public static final int DEFAULT_RRF_K = 60;

    private Fusions() {}

    /** The paper's linear weights, in summation order (a fresh map: callers may fill it). */
    public static LinkedHashMap<String, Double> defaultWeights() {
        LinkedHashMap<String, Double> weights = new LinkedHashMap<>();
        weights.put("dense", 0.7);
        weights.put("sparse", 0.3);
        return weights;
    }
}

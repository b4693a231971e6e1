package org.lightretriever.opensearch.fusion;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Σ_s w_s · minmax_s(d), summed in the order of the weights (so float sums match Python bit for bit). */
public final class LinearFusion implements Fusion {
    private final LinkedHashMap<String, Double> weights;

    public LinearFusion(LinkedHashMap<String, Double> weights) {
        this.weights = weights;
    }

    @Override
    public List<Fused> fuse(Map<String, List<Hit>> hits, double queryLen, double oovShare) {
        Map<String, SystemStats> stats = new LinkedHashMap<>();
        for (String system : weights.keySet()) {
            if (hits.containsKey(system)) {
                stats.put(system, new SystemStats(hits.get(system)));
            }
        }
        List<String> ids = SystemStats.candidates(hits);
        double[] scores = new double[ids.size()];
        for (int i = 0; i < ids.size(); i++) {
            double total = 0.0;
            for (Map.Entry<String, Double> w : weights.entrySet()) {
                SystemStats s = stats.get(w.getKey());
                if (s != null) {
                    total += w.getValue() * s.minmax.getOrDefault(ids.get(i), 0.0);
                }
            }
            scores[i] = total;
        }
        return SystemStats.sorted(ids, scores);
    }

    @Override
    public List<String> systems() {
        List<String> out = new ArrayList<>();
        weights.forEach((system, weight) -> {
            if (weight != 0.0) {
                out.add(system);
            }
        });
        return out;
    }
}

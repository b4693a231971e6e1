package org.lightretriever.opensearch.fusion;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Σ_s 1 / (k + rank_s(d)), rank 1-based, summed over systems in the order of the hits map. */
public final class RrfFusion implements Fusion {
    private final int k;
    private final List<String> systems;

    public RrfFusion(int k, List<String> systems) {
        if (k < 0) {
            throw new IllegalArgumentException("rrf k must be >= 0, got " + k);
        }
        this.k = k;
        this.systems = systems;
    }

    @Override
    public List<Fused> fuse(Map<String, List<Hit>> hits, double queryLen, double oovShare) {
        List<SystemStats> stats = new ArrayList<>();
        for (List<Hit> ranked : hits.values()) {
            stats.add(new SystemStats(ranked));
        }
        List<String> ids = SystemStats.candidates(hits);
        double[] scores = new double[ids.size()];
        for (int i = 0; i < ids.size(); i++) {
            double total = 0.0;
            for (SystemStats s : stats) {
                Integer rank = s.rank.get(ids.get(i));
                if (rank != null) {
                    total += 1.0 / (k + rank);
                }
            }
            scores[i] = total;
        }
        return SystemStats.sorted(ids, scores);
    }

    @Override
    public List<String> systems() {
        return systems;
    }
}

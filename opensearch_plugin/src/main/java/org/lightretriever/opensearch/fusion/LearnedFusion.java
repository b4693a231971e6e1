package org.lightretriever.opensearch.fusion;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * LightGBM raw score over the design.md features, per system of `systems`: score, rank (missing depth+1),
 * minmax, z, present; then query_len and oov_share.
 */
public final class LearnedFusion implements Fusion {
    private final LightGbmModel model;
    private final List<String> systems;
    private final int depth;

    public LearnedFusion(LightGbmModel model, List<String> systems, int depth) {
        int expected = systems.size() * 5 + 2;
        if (model.numFeatures() != expected) {
            throw new IllegalArgumentException("learned fusion model has " + model.numFeatures() + " features, systems " + systems + " need " + expected);
        }
        this.model = model;
        this.systems = List.copyOf(systems);
        this.depth = depth;
    }

    public static List<String> featureNames(List<String> systems) {
        List<String> names = new ArrayList<>();
        for (String s : systems) {
            for (String f : new String[] {"score", "rank", "minmax", "z", "present"}) {
                names.add(s + "_" + f);
            }
        }
        names.add("query_len");
        names.add("oov_share");
        return names;
    }

    /** One feature row per candidate, candidates in ascending doc id order. */
    public static double[][] features(Map<String, List<Hit>> hits, List<String> ids, List<String> systems, int depth,
                                      double queryLen, double oovShare) {
        double[][] rows = new double[ids.size()][systems.size() * 5 + 2];
        int col = 0;
        for (String system : systems) {
            SystemStats s = new SystemStats(hits.getOrDefault(system, List.of()));
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                Double score = s.score.get(id);
                rows[i][col] = score == null ? 0.0 : score;
                rows[i][col + 1] = s.rank.getOrDefault(id, depth + 1);
                rows[i][col + 2] = s.minmax.getOrDefault(id, 0.0);
                rows[i][col + 3] = s.z.getOrDefault(id, 0.0);
                rows[i][col + 4] = score == null ? 0.0 : 1.0;
            }
            col += 5;
        }
        for (double[] row : rows) {
            row[col] = queryLen;
            row[col + 1] = oovShare;
        }
        return rows;
    }

    @Override
    public List<Fused> fuse(Map<String, List<Hit>> hits, double queryLen, double oovShare) {
        List<String> ids = SystemStats.candidates(hits);
        double[][] rows = features(hits, ids, systems, depth, queryLen, oovShare);
        double[] scores = new double[ids.size()];
        for (int i = 0; i < rows.length; i++) {
            scores[i] = model.predictRaw(rows[i]);
        }
        return SystemStats.sorted(ids, scores);
    }

    @Override
    public List<String> systems() {
        return systems;
    }

    public int depth() {
        return depth;
    }
}

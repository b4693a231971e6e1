package org.lightretriever.opensearch.query;

import java.util.List;
import org.lightretriever.opensearch.fusion.Fused;

/** Fused scores as the floats Lucene sorts by, keeping the fused order. */
final class FusedOrder {
    private FusedOrder() {}

    /**
     * The fused scores (best first) as strictly decreasing floats: ties (common with RRF) must keep the fused
     * order (doc id ascending), not the shard and Lucene doc order the search would break them by, so each tied
     * score steps down by one float ulp, far below the 1e-5 the scores are compared at.
     */
    static float[] strictlyDecreasing(List<Fused> fused) {
        float[] scores = new float[fused.size()];
        float previous = Float.POSITIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            float score = (float) fused.get(i).score();
            if (score >= previous) {
                score = Math.nextDown(previous);
            }
            scores[i] = score;
            previous = score;
        }
        return scores;
    }
}

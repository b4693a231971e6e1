package org.lightretriever.opensearch.query;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.search.Explanation;
import org.lightretriever.opensearch.fusion.Hit;

/**
 * What each system gave one fused document: its reported score and 1-based rank, or nothing when the
 * document was not in that system's top k. Shown per hit (fetch field `lightretriever`) and in `explain`.
 */
record SystemScores(List<String> systems, double[] scores, int[] ranks) {
    static final int ABSENT = 0;

    /** Per candidate key: the score and rank each of `systems` gave it. */
    static Map<String, SystemScores> byDoc(List<String> systems, Map<String, List<Hit>> hits) {
        Map<String, SystemScores> out = new HashMap<>();
        int n = systems.size();
        for (int s = 0; s < n; s++) {
            List<Hit> ranked = hits.getOrDefault(systems.get(s), List.of());
            for (int r = 0; r < ranked.size(); r++) {
                SystemScores row = out.computeIfAbsent(ranked.get(r).docId(), key -> new SystemScores(systems, new double[n], new int[n]));
                row.scores[s] = ranked.get(r).score();
                row.ranks[s] = r + 1;
            }
        }
        return out;
    }

    /** system -> score, for the systems that ranked the document (the hit field's value). */
    Map<String, Object> asMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < systems.size(); i++) {
            if (ranks[i] != ABSENT) {
                out.put(systems.get(i), scores[i]);
            }
        }
        return out;
    }

    Explanation explain(float fused, String description) {
        List<Explanation> details = new ArrayList<>(systems.size());
        for (int i = 0; i < systems.size(); i++) {
            details.add(ranks[i] == ABSENT
                ? Explanation.noMatch(systems.get(i) + ": not in its top k")
                : Explanation.match((float) scores[i], systems.get(i) + " score, rank " + ranks[i]));
        }
        return Explanation.match(fused, "lightretriever fused score (" + description + ")", details);
    }
}

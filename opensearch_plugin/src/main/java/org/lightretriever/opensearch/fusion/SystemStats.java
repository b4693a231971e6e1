package org.lightretriever.opensearch.fusion;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Per-system statistics shared by the fusion algorithms (docs/design.md "Fusion"). */
final class SystemStats {
    final Map<String, Double> score = new HashMap<>();
    final Map<String, Integer> rank = new HashMap<>();
    final Map<String, Double> minmax = new HashMap<>();
    final Map<String, Double> z = new HashMap<>();

    SystemStats(List<Hit> hits) {
        if (hits.isEmpty()) {
            return;
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double[] values = new double[hits.size()];
        for (int i = 0; i < hits.size(); i++) {
            Hit h = hits.get(i);
            if (score.containsKey(h.docId())) {
                throw new IllegalArgumentException("duplicate doc_id " + h.docId() + " in one system's hits");
            }
            score.put(h.docId(), h.score());
            rank.put(h.docId(), i + 1);
            values[i] = h.score();
            lo = Math.min(lo, h.score());
            hi = Math.max(hi, h.score());
        }
        double span = hi - lo;
        double mean = exactSum(values) / values.length;
        double[] sq = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            sq[i] = (values[i] - mean) * (values[i] - mean);
        }
        double std = Math.sqrt(exactSum(sq) / values.length);
        for (Hit h : hits) {
            minmax.put(h.docId(), hi == lo ? 1.0 : (h.score() - lo) / span);
            z.put(h.docId(), std == 0.0 ? 0.0 : (h.score() - mean) / std);
        }
    }

    /** Union of all systems' ids, ascending (Python's sorted() on str: code point order). */
    static List<String> candidates(Map<String, List<Hit>> hits) {
        TreeSet<String> ids = new TreeSet<>(DocIdOrder::compare);
        for (List<Hit> ranked : hits.values()) {
            for (Hit h : ranked) {
                ids.add(h.docId());
            }
        }
        return new ArrayList<>(ids);
    }

    /** Sorted by score descending, ties by doc id ascending. */
    static List<Fused> sorted(List<String> ids, double[] scores) {
        List<Fused> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            out.add(new Fused(ids.get(i), scores[i]));
        }
        out.sort((x, y) -> x.score() != y.score() ? Double.compare(y.score(), x.score()) : DocIdOrder.compare(x.docId(), y.docId()));
        return out;
    }

    /** Shewchuk's exact summation, rounded once at the end like Python's math.fsum. */
    static double exactSum(double[] values) {
        double[] partials = new double[32];
        int n = 0;
        for (double v : values) {
            double x = v;
            int i = 0;
            for (int j = 0; j < n; j++) {
                double y = partials[j];
                if (Math.abs(x) < Math.abs(y)) {
                    double t = x;
                    x = y;
                    y = t;
                }
                double hi = x + y;
                double lo = y - (hi - x);
                if (lo != 0.0) {
                    partials[i++] = lo;
                }
                x = hi;
            }
            if (i == partials.length) {
                partials = java.util.Arrays.copyOf(partials, i * 2);
            }
            partials[i] = x;
            n = i + 1;
        }
        if (n == 0) {
            return 0.0;
        }
        // Round-half-even correction of the final sum (as in CPython's math_fsum).
        double hi = partials[--n];
        double lo = 0.0;
        while (n > 0) {
            double x = hi;
            double y = partials[--n];
            hi = x + y;
            double yr = hi - x;
            lo = y - yr;
            if (lo != 0.0) {
                break;
            }
        }
        if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0))) {
            double y = lo * 2.0;
            double x = hi + y;
            double yr = x - hi;
            if (y == yr) {
                hi = x;
            }
        }
        return hi;
    }
}

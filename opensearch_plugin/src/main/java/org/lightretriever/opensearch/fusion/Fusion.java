package org.lightretriever.opensearch.fusion;

import java.util.List;
import java.util.Map;

/** A fusion algorithm: ranked hits per system (in system order) -> fused candidates, best first. */
public interface Fusion {
    List<Fused> fuse(Map<String, List<Hit>> hits, double queryLen, double oovShare);

    /** Systems whose hits this fusion needs (dense, sparse, bm25), in summation order. */
    List<String> systems();
}

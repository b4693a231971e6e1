package org.lightretriever.opensearch.encode;

import java.util.Map;

/**
 * docs/design.md "Light query encoding". `sparse` maps token id -> count of the kept ids (times the
 * token's weight when the bundle has sparse weights), in first-seen order.
 */
public record QueryEncoding(int[] ids, float[] dense, Map<Integer, Double> sparse, int nTokens, int nUnknown,
                            boolean truncated, double oovShare) {}

package org.lightretriever.opensearch.fusion;

/** One fused candidate. */
public record Fused(String docId, double score) {}

package org.lightretriever.opensearch.fusion;

/** One ranked hit of one system, with the score OpenSearch reports for it. */
public record Hit(String docId, double score) {}

package org.lightretriever.opensearch.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.Field;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.junit.jupiter.api.Test;

/** The fused query matches exactly the fused docs, across segments, with their scores in fused order. */
class FusedScoreQueryTest {
    private static DirectoryReader reader(ByteBuffersDirectory dir) throws Exception {
        try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
            for (int i = 0; i < 12; i++) {
                Document doc = new Document();
                doc.add(new StringField("id", "d" + i, Field.Store.YES));
                writer.addDocument(doc);
                if (i % 4 == 3) {
                    writer.commit(); // several segments: doc ids must be mapped per leaf
                }
            }
        }
        return DirectoryReader.open(dir);
    }

    /** Per fused doc i: the dense system ranked it i + 1... (only its explanation is looked at). */
    private static SystemScores[] given(int n) {
        SystemScores[] out = new SystemScores[n];
        for (int i = 0; i < n; i++) {
            out[i] = new SystemScores(List.of("dense"), new double[] {i == 0 ? 9.0 : i}, new int[] {i == 0 ? 9 : i});
        }
        return out;
    }

    @Test
    void matchesTheFusedDocsWithTheirScores() throws Exception {
        try (ByteBuffersDirectory dir = new ByteBuffersDirectory(); DirectoryReader reader = reader(dir)) {
            assertTrue(reader.leaves().size() >= 3);
            IndexSearcher searcher = new IndexSearcher(reader);
            // fused order: d9 (0.9), d2 (0.5), d5 (0.5 minus one ulp: a tie kept in fused order), d11 (0.1)
            FusedScoreQuery query = new FusedScoreQuery(reader, new int[] {9, 2, 5, 11},
                new float[] {0.9f, 0.5f, Math.nextDown(0.5f), 0.1f}, given(4), "test");
            TopDocs top = searcher.search(query, 10);
            assertEquals(4, top.scoreDocs.length);
            int[] docs = new int[4];
            float[] scores = new float[4];
            for (int i = 0; i < 4; i++) {
                ScoreDoc sd = top.scoreDocs[i];
                docs[i] = sd.doc;
                scores[i] = sd.score;
            }
            assertArrayEquals(new int[] {9, 2, 5, 11}, docs);
            assertArrayEquals(new float[] {0.9f, 0.5f, Math.nextDown(0.5f), 0.1f}, scores);
            assertEquals(2, searcher.count(new FusedScoreQuery(reader, new int[] {0, 11}, new float[] {1f, 2f}, given(2), "t")));
            assertTrue(searcher.explain(query, 9).isMatch());
            assertTrue(searcher.explain(query, 9).toString().contains("dense score, rank 9"), searcher.explain(query, 9).toString());
            assertEquals(Map.of("dense", 9.0), query.systemScores(9).asMap());
            assertFalse(searcher.explain(query, 3).isMatch());
            assertEquals(0, searcher.search(new FusedScoreQuery(reader, new int[0], new float[0], given(0), "empty"), 5).scoreDocs.length);
        }
    }

    @Test
    void refusesAnotherReader() throws Exception {
        try (ByteBuffersDirectory a = new ByteBuffersDirectory(); DirectoryReader readerA = reader(a);
             ByteBuffersDirectory b = new ByteBuffersDirectory(); DirectoryReader readerB = reader(b)) {
            FusedScoreQuery query = new FusedScoreQuery(readerA, new int[] {1}, new float[] {1f}, given(1), "t");
            assertThrows(IllegalStateException.class, () -> new IndexSearcher(readerB).search(query, 5));
        }
    }
}

package org.lightretriever.opensearch.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** Counts and times of the encodings that ran; a failed encoding is not counted. */
class EncodeStatsTest {
    @Test
    void timesEachEncodingAndSkipsFailures() {
        EncodeStats stats = new EncodeStats();
        assertEquals("ids", stats.time(() -> {
            LockSupport.parkNanos(2_000_000L); // 2 ms of wall time, almost no CPU time
            return "ids";
        }));
        assertEquals(1, stats.count());
        assertTrue(stats.wallNanos() >= 2_000_000L, "wall " + stats.wallNanos());
        assertTrue(stats.cpuNanos() == -1L || stats.cpuNanos() < stats.wallNanos(), "cpu " + stats.cpuNanos());

        long spin = stats.wallNanos();
        stats.time(() -> {
            long until = System.nanoTime() + 3_000_000L;
            long x = 0;
            while (System.nanoTime() < until) {
                x++;
            }
            return x;
        });
        assertEquals(2, stats.count());
        assertTrue(stats.wallNanos() - spin >= 3_000_000L);

        assertThrows(IllegalArgumentException.class, () -> stats.time(() -> {
            throw new IllegalArgumentException("query has no known tokens");
        }));
        assertEquals(2, stats.count());
    }
}

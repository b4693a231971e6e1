package org.lightretriever.opensearch.stats;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * This node's query-encoding counters since it started: encodings, and the time spent in them, both in wall
 * time and in the encoding thread's CPU time (wall time also counts waiting for a core). Read through
 * GET _plugins/lightretriever/stats; a benchmark takes the difference over its run.
 */
public final class EncodeStats {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final boolean CPU_TIME = THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();

    private final LongAdder count = new LongAdder();
    private final LongAdder wallNanos = new LongAdder();
    private final LongAdder cpuNanos = new LongAdder();

    /** Runs the encoding and adds its times; an encoding that throws is not counted. */
    public <T> T time(Supplier<T> encoding) {
        long cpu0 = CPU_TIME ? THREADS.getCurrentThreadCpuTime() : 0L;
        long wall0 = System.nanoTime();
        T result = encoding.get();
        long wall = System.nanoTime() - wall0;
        long cpu = CPU_TIME ? THREADS.getCurrentThreadCpuTime() - cpu0 : 0L;
        count.increment();
        wallNanos.add(wall);
        cpuNanos.add(cpu);
        return result;
    }

    public long count() {
        return count.sum();
    }

    public long wallNanos() {
        return wallNanos.sum();
    }

    /** -1 where the JVM cannot read a thread's CPU time. */
    public long cpuNanos() {
        return CPU_TIME ? cpuNanos.sum() : -1L;
    }
}

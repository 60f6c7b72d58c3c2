package io.xenops.xenstore.bench;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.server.XenStoreServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Round trips against the in-process server: one request at a time (latency) and 100 in flight
 * (pipelined throughput), in memory and over a unix socket.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PipelineBenchmark {

    static final int DEPTH = 100;

    @Param({"memory", "unix"})
    public String transport;

    private XenStoreServer server;
    private Closeable listener;
    private Path dir;
    private XenStoreClient client;
    private final String[] paths = new String[DEPTH];

    @Setup(Level.Trial)
    public void setup() throws Exception {
        server = new XenStoreServer();
        if (transport.equals("unix")) {
            dir = Files.createTempDirectory("xs-bench");
            listener = server.listen(dir.resolve("socket"));
            client = XenStoreClient.connect(dir.resolve("socket"));
        } else {
            client = XenStoreClient.open(server.connect());
        }
        for (int i = 0; i < DEPTH; i++) {
            paths[i] = "/local/domain/" + i + "/data/value";
            client.write(paths[i], "v" + i).get();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close();
        if (listener != null) {
            listener.close();
            Files.deleteIfExists(dir);
        }
        server.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public byte[] readRoundTrip() throws Exception {
        return client.read(paths[0]).get();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public Void writeRoundTrip() throws Exception {
        return client.write(paths[1], "x").get();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OperationsPerInvocation(DEPTH)
    public Object pipelinedReads() throws Exception {
        CompletableFuture<?>[] f = new CompletableFuture<?>[DEPTH];
        for (int i = 0; i < DEPTH; i++) {
            f[i] = client.read(paths[i]);
        }
        return CompletableFuture.allOf(f).get();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OperationsPerInvocation(DEPTH)
    public Object pipelinedWrites() throws Exception {
        CompletableFuture<?>[] f = new CompletableFuture<?>[DEPTH];
        for (int i = 0; i < DEPTH; i++) {
            f[i] = client.write(paths[i], "w");
        }
        return CompletableFuture.allOf(f).get();
    }
}

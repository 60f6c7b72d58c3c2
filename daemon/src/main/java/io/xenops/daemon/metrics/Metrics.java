package io.xenops.daemon.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The daemon's measurements, named once here. Latencies are histograms (Prometheus buckets) so that
 * p50/p99 can be computed across scrapes and hosts, with bucket edges around the SLOs that matter:
 * sub-millisecond warm resumes and ~10 ms readiness.
 */
public final class Metrics {
    private static final Duration[] SLOS = {
            Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
            Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(5)};

    private final MeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public Metrics(MeterRegistry registry) { this.registry = registry; }

    public static PrometheusMeterRegistry prometheus() { return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT); }

    /** One spawn, by path (warm|cold), wait (running|ready) and outcome (ok|problem type). */
    public void spawn(String path, String waitFor, String outcome, long nanos) {
        timer("xenops.spawn", "Spawn latency, from request to response", "path", path, "wait", waitFor, "outcome", outcome)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void invoke(String path, String outcome, long nanos) {
        timer("xenops.invoke", "Invocation latency, from request to the guest's output", "path", path, "outcome", outcome)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A driver call (create, unpause, pause, send, destroy). */
    public void driverOp(String op, String outcome, long nanos) {
        timer("xenops.driver.op", "Hypervisor driver operation latency", "op", op, "outcome", outcome)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A pool member built (or failed to build): the refill rate. */
    public void poolBuild(String image, String outcome) {
        counter("xenops.pool.builds", "Pool members built", "image", image, "outcome", outcome).increment();
    }

    /** A pooled VM that died when a spawn took it, before it answered: the spawn took the next one. */
    public void poolMemberLost(String image) {
        counter("xenops.pool.lost", "Pooled VMs that died as a spawn took them, before answering", "image", image).increment();
    }

    /** An error returned to a client, by problem type. */
    public void failure(String type) {
        counter("xenops.failures", "Errors returned to clients, by problem type", "type", type).increment();
    }

    /** How a webhook delivery ended (Delivered, GaveUp, Dropped). */
    public void webhook(String outcome) {
        counter("xenops.webhooks", "Webhook deliveries by outcome", "outcome", outcome).increment();
    }

    public void httpRequest(String operation, int status, long nanos) {
        timer("xenops.http.server", "HTTP request latency", "operation", operation, "status", Integer.toString(status))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A gauge that reads its value from {@code source} at scrape time. */
    public <T> void gauge(String name, String help, T source, ToDoubleFunction<T> value, String... tags) {
        Gauge.builder(name, source, value).description(help).tags(tags).register(registry);
    }

    public MeterRegistry registry() { return registry; }

    private Timer timer(String name, String help, String... tags) {
        return timers.computeIfAbsent(name + String.join(",", tags), k -> Timer.builder(name).description(help).tags(tags)
                .serviceLevelObjectives(SLOS).minimumExpectedValue(Duration.ofNanos(50_000))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry));
    }

    private Counter counter(String name, String help, String... tags) {
        return counters.computeIfAbsent(name + String.join(",", tags),
                k -> Counter.builder(name).description(help).tags(tags).register(registry));
    }
}

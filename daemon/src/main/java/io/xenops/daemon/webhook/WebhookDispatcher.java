package io.xenops.daemon.webhook;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Delivers webhook events (JSON, POST) to callback URLs: at least once per event while the receiver
 * answers within the retry budget, never blocking the caller.
 *
 * <p>All state lives on one Vert.x context: {@link #submit} only assigns the delivery id and hops onto
 * it, the HTTP client and the retry timers call back on it, so there are no locks. Memory is bounded:
 * at most {@code queueCapacity} deliveries wait (for a slot or a retry) and at most {@code maxInFlight}
 * are being posted; a new event that finds the queue full pushes out the oldest waiting one, because a
 * stale notification is worth less than a fresh one and a dead receiver must not pin memory.
 *
 * <p>An attempt succeeds on 2xx. Connection errors, timeouts, 408, 425, 429 and 5xx are retried with
 * {@link RetryPolicy} backoff (a {@code Retry-After} in seconds lengthens the wait, up to the policy's
 * maximum); other statuses mean the receiver refused the event for good. Redirects are not followed.
 *
 * <p>Request headers: {@code Content-Type: application/json}, {@code X-Xenops-Event},
 * {@code X-Xenops-Delivery} (same on every retry), {@code X-Xenops-Attempt} (1-based),
 * {@code X-Xenops-Timestamp} (Unix seconds of the attempt) and, with a secret, {@code X-Xenops-Signature}
 * (see {@link Signer}).
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("xenops.webhook");

    private final Vertx vertx;
    private final Context context;
    private final WebhookSettings settings;
    private final Optional<Signer> signer;
    private final Clock clock;
    private final RandomGenerator random;
    private final Consumer<Outcome> listener;
    private final HttpClientAgent client;

    // Confined to `context`. Keyed by submission order, so "oldest" is firstKey() of either map.
    private final TreeMap<Long, Delivery> ready = new TreeMap<>();
    private final TreeMap<Long, Delivery> waiting = new TreeMap<>();
    /** How to cut each POST in progress, so shutdown need not wait for slow receivers. */
    private final Map<Long, Runnable> cancels = new HashMap<>();
    private long nextSeq;
    private int inFlight;
    private boolean closed;

    // Written on the context, read from anywhere (metrics, tests).
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong gaveUp = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong timeouts = new AtomicLong();
    private volatile int queuedNow;
    private volatile int inFlightNow;

    /**
     * @param context  where the dispatcher's state lives (the daemon's control context is fine: nothing
     *                 here blocks)
     * @param signer   signs each attempt when a webhook secret is configured
     * @param random   jitter source (seeded in tests)
     * @param listener told how each delivery ended, on {@code context}; must not block
     */
    public WebhookDispatcher(Vertx vertx, Context context, WebhookSettings settings, Optional<Signer> signer, Clock clock,
                             RandomGenerator random, Consumer<Outcome> listener) {
        this.vertx = vertx;
        this.context = context;
        this.settings = settings;
        this.signer = signer;
        this.clock = clock;
        this.random = random;
        this.listener = listener;
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, settings.attemptTimeout().toMillis());
        this.client = vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setConnectTimeout(timeoutMs)
                        .setKeepAlive(true)
                        .setName("xenops-webhooks"))
                .with(new PoolOptions().setHttp1MaxSize(settings.maxInFlight()))
                // A receiver resetting its connection already fails the attempt (and is retried or logged
                // once when given up); without this handler Vert.x would also log every reset at SEVERE.
                .withConnectHandler(conn -> conn.exceptionHandler(e -> { }))
                .build();
    }

    /**
     * Queues {@code event} for {@code url} and returns its delivery id at once; the outcome goes to the
     * listener. Safe to call from any thread, including an event loop.
     */
    public String submit(CallbackUrl url, WebhookEvent event) {
        String id = UUID.randomUUID().toString();
        Buffer body = event.toJson(id).toBuffer();
        long deadline = System.nanoTime() + settings.retry().maxTotal().toNanos();
        submitted.incrementAndGet();
        onContext(() -> admit(new Delivery(nextSeq++, id, url, event.event(), body, deadline)));
        return id;
    }

    public WebhookStats stats() {
        return new WebhookStats(submitted.get(), delivered.get(), gaveUp.get(), dropped.get(), attempts.get(),
                retries.get(), timeouts.get(), queuedNow, inFlightNow);
    }

    /**
     * Stops at once: POSTs in flight are cut and, like the deliveries still waiting, reported as
     * {@link Outcome.Why#SHUTDOWN} before the returned future completes. Events are notifications, not a
     * journal: a receiver that must not miss one reconciles through the API (the event stream resumes by id).
     */
    public Future<Void> shutdown() {
        Promise<Void> done = Promise.promise();
        onContext(() -> {
            if (closed) {
                done.complete();
                return;
            }
            closed = true;
            for (Runnable cancel : List.copyOf(cancels.values())) cancel.run();
            while (!ready.isEmpty()) drop(ready.pollFirstEntry().getValue(), Outcome.Why.SHUTDOWN);
            while (!waiting.isEmpty()) {
                Delivery d = waiting.pollFirstEntry().getValue();
                vertx.cancelTimer(d.timerId);
                drop(d, Outcome.Why.SHUTDOWN);
            }
            publishSizes();
            // Nothing is left to finish gracefully: Vert.x's default would wait up to 30 s for connections.
            client.shutdown(0, TimeUnit.SECONDS).onComplete(done);
        });
        return done.future();
    }

    @Override
    public void close() { shutdown(); }

    private void onContext(Runnable r) {
        if (Vertx.currentContext() == context) r.run();
        else context.runOnContext(v -> r.run());
    }

    private void admit(Delivery d) {
        if (closed) {
            drop(d, Outcome.Why.SHUTDOWN);
            return;
        }
        ready.put(d.seq, d);
        enforceCapacity();
        pump();
    }

    /** Drops the oldest held deliveries until the queue fits; the one just added is never the oldest. */
    private void enforceCapacity() {
        while (ready.size() + waiting.size() > settings.queueCapacity()) {
            boolean fromReady = !ready.isEmpty() && (waiting.isEmpty() || ready.firstKey() < waiting.firstKey());
            Delivery oldest = fromReady ? ready.pollFirstEntry().getValue() : waiting.pollFirstEntry().getValue();
            if (oldest.timerId >= 0) vertx.cancelTimer(oldest.timerId);
            drop(oldest, Outcome.Why.QUEUE_FULL);
        }
        publishSizes();
    }

    private void pump() {
        while (!closed && inFlight < settings.maxInFlight() && !ready.isEmpty()) {
            attempt(ready.pollFirstEntry().getValue());
        }
        publishSizes();
    }

    private void attempt(Delivery d) {
        d.attempts++;
        inFlight++;
        attempts.incrementAndGet();
        if (d.attempts > 1) retries.incrementAndGet();
        long now = clock.instant().getEpochSecond();
        byte[] bytes = d.body.getBytes();
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(d.url.absolute())
                .setIdleTimeout(settings.attemptTimeout().toMillis())
                .putHeader("Content-Type", "application/json")
                .putHeader("User-Agent", "xenopsd")
                .putHeader("X-Xenops-Event", d.event)
                .putHeader("X-Xenops-Delivery", d.id)
                .putHeader("X-Xenops-Attempt", Integer.toString(d.attempts))
                .putHeader("X-Xenops-Timestamp", Long.toString(now));
        signer.ifPresent(s -> options.putHeader("X-Xenops-Signature", s.sign(now, bytes)));

        Promise<Answer> answer = Promise.promise();
        HttpClientRequest[] request = new HttpClientRequest[1];
        // One deadline for the whole attempt (connect, send, response headers): a receiver that accepts
        // the connection and then stalls must cost a timeout, not a connection held forever.
        long timer = vertx.setTimer(settings.attemptTimeout().toMillis(), t -> {
            if (answer.tryFail(new TimeoutException("no answer within " + settings.attemptTimeout().toMillis() + " ms"))) {
                timeouts.incrementAndGet();
                if (request[0] != null) request[0].reset();
            }
        });
        cancels.put(d.seq, () -> {
            if (answer.tryFail("shutting down") && request[0] != null) request[0].reset();
        });
        client.request(options)
                .compose(req -> {
                    if (answer.future().isComplete()) {
                        // Connected only after the deadline: sending now would race the retry.
                        req.reset();
                        return Future.failedFuture("attempt already timed out");
                    }
                    request[0] = req;
                    return req.send(d.body);
                })
                .onSuccess(resp -> {
                    discardBody(resp);
                    answer.tryComplete(new Answer(resp.statusCode(), retryAfter(resp)));
                })
                .onFailure(answer::tryFail);
        answer.future().onComplete(ar -> {
            vertx.cancelTimer(timer);
            cancels.remove(d.seq);
            inFlight--;
            if (ar.succeeded()) settled(d, ar.result());
            else failedAttempt(d, describe(ar.cause()), Duration.ZERO);
            pump();
        });
    }

    /** A receiver's answer: its status, and how long it asked us to wait before trying again. */
    private record Answer(int status, Duration retryAfter) {}

    /** Keeps the connection reusable without buffering whatever the receiver chose to answer. */
    private static void discardBody(HttpClientResponse resp) {
        resp.handler(b -> { });
        resp.exceptionHandler(e -> { });
    }

    private static Duration retryAfter(HttpClientResponse resp) {
        String h = resp.getHeader("Retry-After");
        if (h == null) return Duration.ZERO;
        try {
            long s = Long.parseLong(h.trim());
            return s > 0 ? Duration.ofSeconds(s) : Duration.ZERO;
        } catch (NumberFormatException e) {
            // An HTTP-date is allowed too; the backoff alone is a fine answer to it.
            return Duration.ZERO;
        }
    }

    private void settled(Delivery d, Answer a) {
        int code = a.status();
        if (code >= 200 && code < 300) {
            delivered.incrementAndGet();
            report(new Outcome.Delivered(d.id, d.url, d.event, d.attempts, code));
        } else if (code == 408 || code == 425 || code == 429 || code >= 500) {
            failedAttempt(d, "HTTP " + code, a.retryAfter());
        } else {
            giveUp(d, "receiver answered HTTP " + code);
        }
    }

    private void failedAttempt(Delivery d, String error, Duration retryAfter) {
        d.lastError = error;
        if (closed) {
            drop(d, Outcome.Why.SHUTDOWN);
            return;
        }
        RetryPolicy policy = settings.retry();
        if (d.attempts >= policy.maxAttempts()) {
            giveUp(d, d.attempts + " attempts failed, last: " + error);
            return;
        }
        Duration wait = policy.backoff(d.attempts, random);
        if (retryAfter.compareTo(wait) > 0) wait = retryAfter.compareTo(policy.maxBackoff()) > 0 ? policy.maxBackoff() : retryAfter;
        if (System.nanoTime() + wait.toNanos() > d.deadlineNanos) {
            giveUp(d, "no attempt left within " + policy.maxTotal().toMillis() + " ms after " + d.attempts
                    + " attempt(s), last: " + error);
            return;
        }
        d.timerId = vertx.setTimer(Math.max(1, wait.toMillis()), t -> {
            d.timerId = -1;
            if (waiting.remove(d.seq) != null) {
                ready.put(d.seq, d);
                pump();
            }
        });
        waiting.put(d.seq, d);
        enforceCapacity();
    }

    private void giveUp(Delivery d, String reason) {
        gaveUp.incrementAndGet();
        LOG.log(System.Logger.Level.WARNING, "webhook {0} ({1}) to {2} abandoned: {3}", d.id, d.event, d.url, reason);
        report(new Outcome.GaveUp(d.id, d.url, d.event, d.attempts, reason));
    }

    private void drop(Delivery d, Outcome.Why why) {
        long n = dropped.incrementAndGet();
        // A dead receiver behind a busy pool drops many; the first and every 100th say so, the count says all.
        if (why == Outcome.Why.QUEUE_FULL && (n == 1 || n % 100 == 0)) {
            LOG.log(System.Logger.Level.WARNING, "webhook queue full ({0}): dropped the oldest delivery ({1} so far)",
                    settings.queueCapacity(), n);
        }
        report(new Outcome.Dropped(d.id, d.url, d.event, d.attempts, why));
    }

    private void report(Outcome o) {
        try {
            listener.accept(o);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "webhook outcome listener failed", e);
        }
    }

    private void publishSizes() {
        queuedNow = ready.size() + waiting.size();
        inFlightNow = inFlight;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}

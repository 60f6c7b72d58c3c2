package io.xenops.image.oci;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * How the registry client talks.
 *
 * @param plainHttp      hosts spoken to over http:// instead of https:// (default: loopback only, as Docker does)
 * @param connectTimeout TCP connect
 * @param requestTimeout until the response headers arrive
 * @param idleTimeout    longest stall while a body streams in before the download is abandoned and resumed
 * @param maxAttempts    tries per request for 5xx, 429, timeouts and broken connections (a download that makes
 *                       progress starts counting again)
 * @param retryBackoff   first pause between tries; doubles each time
 * @param credentials    user and password per registry host[:port], for Basic auth or for the token endpoint
 */
public record RegistryOptions(Predicate<String> plainHttp, Duration connectTimeout, Duration requestTimeout,
                              Duration idleTimeout, int maxAttempts, Duration retryBackoff,
                              Function<String, Optional<Credentials>> credentials) {
    public record Credentials(String username, String password) {
        public Credentials {
            Objects.requireNonNull(username, "username");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String toString() { return "Credentials[" + username + ", ***]"; }
    }

    public RegistryOptions {
        Objects.requireNonNull(plainHttp, "plainHttp");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        Objects.requireNonNull(credentials, "credentials");
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be >= 1");
    }

    public static RegistryOptions defaults() {
        return new RegistryOptions(RegistryOptions::isLoopback, Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofSeconds(30), 4, Duration.ofMillis(250), host -> Optional.empty());
    }

    public RegistryOptions withTimeouts(Duration request, Duration idle) {
        return new RegistryOptions(plainHttp, connectTimeout, request, idle, maxAttempts, retryBackoff, credentials);
    }

    public RegistryOptions withRetries(int attempts, Duration backoff) {
        return new RegistryOptions(plainHttp, connectTimeout, requestTimeout, idleTimeout, attempts, backoff, credentials);
    }

    public RegistryOptions withCredentials(Function<String, Optional<Credentials>> c) {
        return new RegistryOptions(plainHttp, connectTimeout, requestTimeout, idleTimeout, maxAttempts, retryBackoff, c);
    }

    public RegistryOptions withPlainHttp(Predicate<String> p) {
        return new RegistryOptions(p, connectTimeout, requestTimeout, idleTimeout, maxAttempts, retryBackoff, credentials);
    }

    /** localhost, 127.0.0.0/8 and ::1, by literal only: no DNS lookup decides to drop TLS. */
    public static boolean isLoopback(String host) {
        if (host.equals("localhost")) return true;
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) return false;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}

package io.xenops.daemon.webhook;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A callback URL that passed the edge checks: absolute {@code http} or {@code https}, a host, no userinfo
 * (credentials in URLs end up in logs; use the signature header instead), no fragment, bounded length.
 *
 * <p>Which hosts a callback may target is the operator's responsibility: xenopsd posts to whatever a
 * client with the right token names, including loopback and private addresses, because orchestrators
 * commonly listen there. Where that matters, restrict egress outside the daemon (firewall, network
 * namespace) or only hand tokens to trusted clients.
 */
public record CallbackUrl(URI uri) {
    static final int MAX_LENGTH = 2048;

    public CallbackUrl {
        String problem = problemWith(uri);
        if (problem != null) throw new InvalidCallbackUrlException(problem);
    }

    /** Parses and validates {@code text}; the message of the exception is fit for a 400 problem detail. */
    public static CallbackUrl parse(String text) {
        if (text == null || text.isBlank()) throw new InvalidCallbackUrlException("callback_url is empty");
        if (text.length() > MAX_LENGTH) {
            throw new InvalidCallbackUrlException("callback_url is longer than " + MAX_LENGTH + " characters");
        }
        try {
            return new CallbackUrl(new URI(text));
        } catch (URISyntaxException e) {
            throw new InvalidCallbackUrlException("callback_url is not a valid URL: " + e.getReason());
        }
    }

    private static String problemWith(URI uri) {
        if (uri == null) return "callback_url is missing";
        if (!uri.isAbsolute()) return "callback_url must be an absolute http or https URL";
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "callback_url must use http or https, not " + uri.getScheme();
        }
        if (uri.getRawUserInfo() != null) return "callback_url must not carry credentials (user:password@)";
        // A registry-based authority (e.g. "a_b:x") parses with a null host; reject rather than guess.
        if (uri.getHost() == null || uri.getHost().isEmpty()) return "callback_url has no host";
        if (uri.getRawFragment() != null) return "callback_url must not have a #fragment";
        if (uri.getPort() == 0 || uri.getPort() > 65535) return "callback_url has an invalid port";
        if (uri.toString().length() > MAX_LENGTH) return "callback_url is longer than " + MAX_LENGTH + " characters";
        return null;
    }

    /** The absolute URI as sent on the wire. */
    String absolute() { return uri.toASCIIString(); }

    /** For logs: scheme, host, port and path, never the query (which may carry a receiver's token). */
    public String redacted() {
        String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return uri.getScheme() + "://" + uri.getHost() + port + path + (uri.getRawQuery() != null ? "?…" : "");
    }

    @Override
    public String toString() { return redacted(); }
}

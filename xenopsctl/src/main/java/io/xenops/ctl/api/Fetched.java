package io.xenops.ctl.api;

import java.util.function.Function;

/**
 * A successful JSON response: the body exactly as the daemon sent it (what --json prints) and its
 * typed value, decoded only when asked for. Decoding lazily keeps Jackson's data binding, the
 * slowest thing to load, out of the --json path.
 */
public final class Fetched<T> {
    private final String body;
    private final Function<String, T> decoder;

    public Fetched(String body, Function<String, T> decoder) {
        this.body = body;
        this.decoder = decoder;
    }

    public String body() {
        return body;
    }

    /** Decodes on each call; callers ask once. */
    public T value() {
        return decoder.apply(body);
    }
}

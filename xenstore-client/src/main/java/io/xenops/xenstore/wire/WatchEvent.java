package io.xenops.xenstore.wire;

/**
 * WATCH_EVENT {@code <epath>|<token>|}: unsolicited, req_id and tx_id 0. The path is what changed
 * (or the watched path itself for the first firing and for removals of a parent).
 */
public record WatchEvent(String path, String token) {
}

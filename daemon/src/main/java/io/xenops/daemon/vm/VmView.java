package io.xenops.daemon.vm;

import java.time.Instant;
import java.util.Map;

/** An immutable snapshot of a VM, for clients. */
public record VmView(String id, String image, Phase phase, Instant createdAt, String result, String exitReason,
                     Timings timings, Map<String, String> driver) {}

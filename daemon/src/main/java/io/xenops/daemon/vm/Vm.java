package io.xenops.daemon.vm;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.xenops.daemon.state.VmRecord;
import io.xenops.guest.GuestMessage;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * One VM as the daemon tracks it. Confined to the daemon's control context: no locks, no volatile.
 */
final class Vm {
    final String id;
    final String image;
    final Instant createdAt;
    Phase phase;
    Timings timings;
    String result;
    String exitReason;
    Map<String, String> driverDetails = Map.of();
    /** Who spawned it (a token's name), for quotas; null when the API is open. */
    String owner;
    /** Where to report ready/exited, or null. */
    String callbackUrl;
    /** Tail of this VM's operation queue: operations on one VM run one after another. */
    Future<?> queue = Future.succeededFuture();
    /** Whether it has answered a command since it left the pool (a PONG or a RESULT). */
    boolean answered;
    /** Guest replies awaited, by key: "READY", "PONG:<token>", "RESULT:<token>". */
    final Map<String, Promise<GuestMessage>> waiters = new HashMap<>();

    Vm(String id, String image, Instant createdAt, Phase phase) {
        this.id = id;
        this.image = image;
        this.createdAt = createdAt;
        this.phase = phase;
    }

    VmRecord record(VmRecord.Role role) {
        return new VmRecord(id, image, role, createdAt, timings == null ? null : timings.path(), result, exitReason,
                owner, callbackUrl);
    }

    VmView view() {
        return new VmView(id, image, phase, createdAt, result, exitReason, timings, driverDetails);
    }
}

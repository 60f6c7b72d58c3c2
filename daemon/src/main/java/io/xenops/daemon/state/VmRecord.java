package io.xenops.daemon.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * What the daemon writes down about one VM: enough to decide, after a crash, whether it owns a domain and
 * what the domain was for. The hypervisor remains the source of truth for whether it exists.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record VmRecord(
        @JsonProperty("id") String id,
        @JsonProperty("image") String image,
        @JsonProperty("role") Role role,
        @JsonProperty("created_at") Instant createdAt,
        @JsonProperty("path") String path,
        @JsonProperty("result") String result,
        @JsonProperty("exit_reason") String exitReason,
        @JsonProperty("owner") String owner,
        @JsonProperty("callback_url") String callbackUrl) {

    /**
     * BUILDING: recorded before the domain is created; a crash here means half-made, destroy it.
     * POOLED: paused at the edge of boot, owned by a pool.
     * RUNNING: handed to a client.
     * EXITED: the domain is gone; kept so clients can read how it ended, until they delete it.
     */
    public enum Role { BUILDING, POOLED, RUNNING, EXITED }

    public VmRecord with(Role r) { return new VmRecord(id, image, r, createdAt, path, result, exitReason, owner, callbackUrl); }
}

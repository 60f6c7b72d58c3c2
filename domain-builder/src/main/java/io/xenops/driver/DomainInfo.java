package io.xenops.driver;

import java.util.Map;

/**
 * A domain as the hypervisor reports it.
 *
 * @param details driver-specific facts worth showing an operator (pid, socket paths, domid)
 */
public record DomainInfo(String id, String image, DomainState state, Map<String, String> details) {
    public DomainInfo {
        details = Map.copyOf(details);
    }
}

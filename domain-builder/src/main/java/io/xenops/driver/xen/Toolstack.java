package io.xenops.driver.xen;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Xen's own toolstack, for the slow work off the request path: building a paused domain and
 * destroying one. {@link XlToolstack} runs {@code xl}; tests use a fake.
 */
public interface Toolstack {
    /** Builds the domain described by {@code config} paused; returns its domid. */
    int createPaused(Path config, String name) throws IOException;

    /** Destroys the named domain; a domain that does not exist is not an error. */
    void destroy(String name) throws IOException;

    /**
     * Where vCPU 0 of a domain that has stopped but is not yet destroyed was, for a crash's detail.
     * Empty when the toolstack cannot tell (no tool for it, a PV domain, or the domain is gone).
     */
    default java.util.Optional<CpuState> cpuState(int domid) {
        return java.util.Optional.empty();
    }
}

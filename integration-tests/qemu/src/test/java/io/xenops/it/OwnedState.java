package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One test's state directory: the daemons the test starts on it, what the directory says they own (records,
 * domain directories) and what really runs (QEMU processes naming the directory), for the fault tests'
 * "nothing leaked, nothing lost" checks. Closing it stops those daemons and kills any QEMU still naming the
 * directory, so one failed test does not poison the next.
 */
final class OwnedState implements AutoCloseable {
    private final Path state;
    private final ObjectMapper json = new ObjectMapper();
    private final List<DaemonProcess> daemons = new ArrayList<>();

    OwnedState(Path state) { this.state = state; }

    /**
     * A new directory under /tmp, not java.io.tmpdir: QEMU's unix sockets live below it, so the daemon takes a
     * state directory of at most 60 characters.
     */
    static OwnedState fresh(String prefix) throws IOException {
        return new OwnedState(Files.createTempDirectory(Path.of("/tmp"), prefix));
    }

    Path dir() { return state; }

    /** Starts a daemon on this directory, to be stopped when this closes. */
    DaemonProcess daemon(String... args) throws Exception {
        DaemonProcess d = new DaemonProcess(state, List.of(args));
        // Remembered before it starts: a start that times out still leaves a process to stop.
        daemons.add(d);
        return d.start();
    }

    @Override
    public void close() throws Exception {
        for (DaemonProcess d : daemons) d.stop();
        daemons.clear();
        Qemus.killAll(state.toString());
    }

    /** Record id to the record, from the state directory. */
    Map<String, JsonNode> records() {
        Map<String, JsonNode> out = new TreeMap<>();
        Path vms = state.resolve("vms");
        if (!Files.isDirectory(vms)) return out;
        try (Stream<Path> s = Files.list(vms)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".json")).toList()) {
                try {
                    JsonNode r = json.readTree(p.toFile());
                    out.put(r.get("id").asText(), r);
                } catch (java.io.IOException e) {
                    // removed while we read: not there
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Record id to its role (POOLED, RUNNING, BUILDING...). */
    Map<String, String> roles() {
        Map<String, String> out = new TreeMap<>();
        records().forEach((id, r) -> out.put(id, r.get("role").asText()));
        return out;
    }

    Set<String> withRole(String role) {
        return roles().entrySet().stream().filter(e -> e.getValue().equals(role))
                .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
    }

    Set<String> domainDirs() {
        Path d = state.resolve("domains");
        if (!Files.isDirectory(d)) return Set.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        } catch (java.io.IOException e) {
            return Set.of();
        }
    }

    Set<Long> qemuPids() {
        return Qemus.mentioning(state.toString()).stream().map(Qemus.Proc::pid).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every QEMU has a record and a domain directory, and every record one QEMU. */
    void assertOwnedMatchesRunning(Duration within) throws Exception {
        try {
            DaemonProcess.eventually(within, () -> qemuPids().size() == records().size() && records().keySet().equals(domainDirs()));
        } catch (AssertionError e) {
            throw new AssertionError("QEMUs " + qemuPids().size() + ", records " + records().keySet() + ", domain dirs "
                    + domainDirs() + ": " + e.getMessage());
        }
        for (String id : records().keySet()) assertThat(Qemus.mentioning(id)).as("QEMU of recorded VM %s", id).hasSize(1);
    }

    /**
     * The process goes first, then the driver's directory, then the daemon's record: waits for all three (a VM
     * destroyed after its answer, as an invocation's is, may still be going).
     */
    void assertNothingLeftFor(String id) throws Exception {
        DaemonProcess.eventually(Duration.ofSeconds(15), () -> Qemus.mentioning(id).isEmpty());
        DaemonProcess.eventually(Duration.ofSeconds(15), () -> DaemonProcess.recordFiles(state, id).isEmpty()
                && !Files.exists(state.resolve("domains").resolve(id)));
    }
}

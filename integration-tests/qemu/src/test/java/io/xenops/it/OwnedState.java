package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What a daemon's state directory says it owns (records, domain directories) and what really runs (QEMU
 * processes naming the directory), for the fault tests' "nothing leaked, nothing lost" checks.
 */
final class OwnedState {
    private final Path state;
    private final ObjectMapper json = new ObjectMapper();

    OwnedState(Path state) { this.state = state; }

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

    Set<String> withRole(String role) {
        return records().entrySet().stream().filter(e -> e.getValue().get("role").asText().equals(role))
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

    void assertNothingLeftFor(String id) throws Exception {
        DaemonProcess.eventually(Duration.ofSeconds(15), () -> Qemus.mentioning(id).isEmpty());
        DaemonProcess.eventually(Duration.ofSeconds(15), () -> DaemonProcess.recordFiles(state, id).isEmpty()
                && !Files.exists(state.resolve("domains").resolve(id)));
    }
}

package io.xenops.daemon.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {
    @TempDir Path state;
    private final ExecutorService io = Executors.newFixedThreadPool(2);
    private final List<StateStore> open = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (StateStore s : open) s.close();
        io.shutdownNow();
    }

    private StateStore store() throws IOException {
        StateStore s = new StateStore(state, io);
        open.add(s);
        return s;
    }

    private static VmRecord rec(String id, VmRecord.Role role, String result) {
        return new VmRecord(id, "hello", role, Instant.parse("2026-11-27T00:00:00Z"), "warm", result, null, null, null);
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(state.resolve("vms"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void eachUpdateIsANewGenerationAndTheOldOneGoes() throws Exception {
        StateStore s = store();
        s.put(rec("vm-a", VmRecord.Role.BUILDING, null), true).join();
        assertThat(files()).containsExactly("vm-a.0.json");
        s.put(rec("vm-a", VmRecord.Role.POOLED, null), false).join();
        s.put(rec("vm-a", VmRecord.Role.RUNNING, "r"), false).join();
        // The superseded generation is unlinked after the writer is answered: wait for the store to settle.
        s.put(rec("vm-b", VmRecord.Role.BUILDING, null), false).join();
        awaitFiles(List.of("vm-a.2.json", "vm-b.0.json"));
        assertThat(s.currentFile("vm-a")).contains(state.resolve("vms/vm-a.2.json"));
        s.close();
        open.clear();
        assertThat(store().loadAll()).containsExactlyInAnyOrder(rec("vm-a", VmRecord.Role.RUNNING, "r"),
                rec("vm-b", VmRecord.Role.BUILDING, null));
    }

    @Test
    void manyOrderedUpdatesEndWithTheLast() throws Exception {
        StateStore s = store();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) all.add(s.put(rec("vm-c", VmRecord.Role.RUNNING, "v" + i), false));
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        awaitFiles(List.of("vm-c.199.json"));
        s.close();
        open.clear();
        assertThat(store().loadAll()).containsExactly(rec("vm-c", VmRecord.Role.RUNNING, "v199"));
    }

    @Test
    void removeLeavesNothing() throws Exception {
        StateStore s = store();
        s.put(rec("vm-d", VmRecord.Role.POOLED, null), false).join();
        s.put(rec("vm-d", VmRecord.Role.RUNNING, null), false).join();
        s.remove("vm-d").join();
        awaitFiles(List.of());
        assertThat(s.currentFile("vm-d")).isEmpty();
    }

    @Test
    void aRemoveThatFailedCanBeRetried() throws Exception {
        StateStore s = store();
        s.put(rec("vm-r", VmRecord.Role.POOLED, null), false).join();
        s.put(rec("vm-r", VmRecord.Role.RUNNING, null), false).join();
        awaitFiles(List.of("vm-r.1.json"));
        // An unlink that fails (as on a read-only mount; root ignores permission bits, so a non-empty
        // directory under the record's name stands in for it).
        Path rec = state.resolve("vms/vm-r.1.json");
        Files.delete(rec);
        Files.createDirectories(rec.resolve("x"));
        assertThat(s.remove("vm-r").handle((v, e) -> e).join()).isInstanceOf(java.nio.file.DirectoryNotEmptyException.class);
        assertThat(s.currentFile("vm-r")).as("still known, so the remove can be retried").contains(rec);
        Files.delete(rec.resolve("x"));
        Files.delete(rec);
        Files.writeString(rec, "{}");
        s.remove("vm-r").join();
        assertThat(files()).isEmpty();
        assertThat(s.currentFile("vm-r")).isEmpty();
    }

    @Test
    void startKeepsTheNewestGenerationAfterACrashBetweenRenameAndUnlink() throws Exception {
        Path vms = Files.createDirectories(state.resolve("vms"));
        StateStore writer = store();
        writer.put(rec("vm-e", VmRecord.Role.POOLED, null), false).join();
        writer.close();
        open.clear();
        Files.copy(vms.resolve("vm-e.0.json"), vms.resolve("vm-e.3.json"));
        Files.writeString(vms.resolve("vm-e.3.json"), Files.readString(vms.resolve("vm-e.3.json")).replace("POOLED", "RUNNING"));
        Files.writeString(vms.resolve("vm-e.4.json.tmp"), "{\"half");
        StateStore s = store();
        assertThat(s.loadAll()).containsExactly(rec("vm-e", VmRecord.Role.RUNNING, null));
        assertThat(files()).containsExactly("vm-e.3.json");
        // The next write continues after the highest generation found.
        s.put(rec("vm-e", VmRecord.Role.EXITED, null), false).join();
        s.put(rec("vm-f", VmRecord.Role.BUILDING, null), false).join();
        awaitFiles(List.of("vm-e.4.json", "vm-f.0.json"));
    }

    @Test
    void aCorruptNewestGenerationIsKeptAsideAndTheOlderOneUsed() throws Exception {
        Path vms = Files.createDirectories(state.resolve("vms"));
        StateStore writer = store();
        writer.put(rec("vm-g", VmRecord.Role.POOLED, null), false).join();
        writer.close();
        open.clear();
        Files.writeString(vms.resolve("vm-g.1.json"), "{not json");
        assertThat(store().loadAll()).containsExactly(rec("vm-g", VmRecord.Role.POOLED, null));
        assertThat(files()).containsExactly("vm-g.0.json", "vm-g.1.json.corrupt");
    }

    @Test
    void aRecordFromBeforeGenerationsIsReadAndRenamed() throws Exception {
        Path vms = Files.createDirectories(state.resolve("vms"));
        StateStore writer = store();
        writer.put(rec("vm-h", VmRecord.Role.RUNNING, "x"), false).join();
        writer.close();
        open.clear();
        Files.move(vms.resolve("vm-h.0.json"), vms.resolve("vm-h.json"));
        StateStore s = store();
        assertThat(s.loadAll()).containsExactly(rec("vm-h", VmRecord.Role.RUNNING, "x"));
        assertThat(files()).containsExactly("vm-h.0.json");
        s.put(rec("vm-h", VmRecord.Role.EXITED, "x"), false).join();
        s.remove("vm-h").join();
        awaitFiles(List.of());
    }

    @Test
    void namesThatAreNotRecordsAreLeftAlone() {
        assertThat(StateStore.FileName.parse("vm-a.12.json")).contains(new StateStore.FileName("vm-a", 12));
        assertThat(StateStore.FileName.parse("vm-a.json")).contains(new StateStore.FileName("vm-a", -1));
        assertThat(StateStore.FileName.parse("vm-a.-1.json")).isEmpty();
        assertThat(StateStore.FileName.parse(".json")).isEmpty();
        assertThat(StateStore.FileName.parse(".3.json")).isEmpty();
        assertThat(StateStore.FileName.parse("vm-a.json.corrupt")).isEmpty();
        assertThat(StateStore.FileName.parse("vm-a.x.json")).isEmpty();
    }

    @Test
    void twoStoresCannotShareADirectory() throws Exception {
        store();
        assertThatThrownBy(() -> new StateStore(state, io)).isInstanceOf(IOException.class).hasMessageContaining("another xenopsd");
    }

    private void awaitFiles(List<String> expected) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!files().equals(expected) && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(files()).containsExactlyElementsOf(expected);
    }
}

package io.xenops.image.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xenops.image.ChildJvm;
import io.xenops.image.Digests;
import io.xenops.image.Image;
import io.xenops.image.TestElf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Other processes on the same store: killed mid-commit, and writing concurrently. */
class StoreProcessesTest {
    @TempDir Path tmp;

    private static List<Path> sessions(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("sessions"))) {
            return s.toList();
        }
    }

    /** SIGKILL at each step of an import: after a restart the store is consistent and the debris is gone. */
    @ParameterizedTest
    @EnumSource(value = StoreHooks.Step.class, names = {"STAGED", "BLOBS_COMMITTED", "INDEX_COMMITTED"})
    void aProcessKilledMidImportLeavesAConsistentStore(StoreHooks.Step step) throws Exception {
        Path root = tmp.resolve("store");
        Path kernel = TestElf.both().payload(256 * 1024).write(tmp.resolve("k.elf"));
        try (CasImageStore before = new CasImageStore(root)) {
            before.importImage(TestElf.both().seed(7).write(tmp.resolve("old.elf")),
                    TestElf.manifest("old", "1").getBytes(StandardCharsets.UTF_8), null);
        }
        try (ChildJvm child = ChildJvm.start("import", root.toString(), kernel.toString(), "crashy", step.name())) {
            child.await("AT " + step, 60);
            assertThat(sessions(root)).hasSize(1); // the child's, with its staged files
            child.kill();
        }
        try (CasImageStore store = new CasImageStore(root)) {
            assertThat(sessions(root)).as("the dead child's session was swept").hasSize(1);
            assertThat(store.fsck()).isEmpty();
            assertThat(store.find("old:1")).isPresent();
            boolean committed = step == StoreHooks.Step.INDEX_COMMITTED;
            assertThat(store.find("crashy:1").isPresent()).isEqualTo(committed);
            GcResult gc = store.gc(Long.MAX_VALUE);
            // Blobs published before the index named them are orphans, and only they go.
            assertThat(gc.blobsRemoved()).isEqualTo(step == StoreHooks.Step.BLOBS_COMMITTED ? 2 : 0);
            assertThat(store.blob(Digests.of(kernel)).isPresent()).isEqualTo(committed);
            assertThat(store.fsck()).isEmpty();
            // and the import simply works again
            Image again = store.importImage(kernel, TestElf.manifest("crashy", "1").getBytes(StandardCharsets.UTF_8), null);
            assertThat(again.digest()).isEqualTo(Digests.of(kernel));
        }
    }

    /** An exception thrown mid-commit (a disk error, say) leaves the store as consistent as a crash does. */
    @ParameterizedTest
    @EnumSource(value = StoreHooks.Step.class, names = {"STAGED", "BLOBS_COMMITTED"})
    void aFailureMidImportLeavesTheIndexUntouched(StoreHooks.Step step) throws IOException {
        Path root = tmp.resolve("store");
        StoreHooks failing = s -> {
            if (s == step) throw new IllegalStateException("injected at " + s);
        };
        Path kernel = TestElf.both().write(tmp.resolve("k.elf"));
        try (CasImageStore store = new CasImageStore(root, StoreOptions.defaults().withHooks(failing))) {
            assertThatThrownBy(() -> store.importImage(kernel, TestElf.manifest("x", "1").getBytes(StandardCharsets.UTF_8), null))
                    .hasMessageContaining("injected at " + step);
            assertThat(store.list()).isEmpty();
            assertThat(root.resolve("index.json")).doesNotExist();
            assertThat(store.fsck()).isEmpty();
            try (Stream<Path> s = Files.list(sessions(root).getFirst())) {
                assertThat(s.toList()).as("staging files are cleaned up on the way out").isEmpty();
            }
            // The store lock was released: the next change goes through.
        }
        try (CasImageStore store = new CasImageStore(root)) {
            store.importImage(kernel, TestElf.manifest("x", "1").getBytes(StandardCharsets.UTF_8), null);
            assertThat(store.list()).hasSize(1);
        }
    }

    /** Two processes and this one import, tag and gc on one root at once; nothing is lost or corrupted. */
    @Test
    void twoProcessesAndThisOneShareAStore() throws Exception {
        Path root = tmp.resolve("store");
        Files.createDirectories(root);
        int n = 12;
        try (CasImageStore mine = new CasImageStore(root);
             ChildJvm a = ChildJvm.start("import-many", root.toString(), tmp.toString(), "a", Integer.toString(n));
             ChildJvm b = ChildJvm.start("import-many", root.toString(), tmp.toString(), "b", Integer.toString(n))) {
            for (int i = 0; i < n; i++) {
                Path k = TestElf.both().seed(90_000 + i).write(tmp.resolve("c-" + i + ".elf"));
                mine.importImage(k, TestElf.manifest("c-" + i, "1").getBytes(StandardCharsets.UTF_8), null);
                mine.gc(Long.MAX_VALUE);
            }
            assertThat(a.waitFor(120)).as(a.output()).isZero();
            assertThat(b.waitFor(120)).as(b.output()).isZero();
            // each child: n images, n aliases, n tags of the shared kernel
            List<Image> all = mine.list();
            assertThat(all).hasSize(n + 2 * (2 * n + n));
            for (String p : List.of("a", "b")) {
                for (int i = 0; i < n; i++) {
                    assertThat(mine.find(p + "-" + i + ":1")).isPresent();
                    assertThat(mine.find(p + "-" + i + ":alias")).isPresent();
                    assertThat(mine.find("shared:" + p + "-" + i)).isPresent();
                }
            }
            assertThat(mine.fsck()).isEmpty();
            assertThat(mine.gc(Long.MAX_VALUE).blobsRemoved()).isZero();
            assertThat(sessions(root)).hasSize(1);
        }
    }
}

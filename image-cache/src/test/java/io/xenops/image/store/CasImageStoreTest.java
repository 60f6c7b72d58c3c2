package io.xenops.image.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.image.BootMode;
import io.xenops.image.Digests;
import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.ImageRef;
import io.xenops.image.TestElf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CasImageStoreTest {
    @TempDir Path tmp;
    private Path root;
    private CasImageStore store;

    @BeforeEach
    void open() {
        root = tmp.resolve("store");
        store = new CasImageStore(root, StoreOptions.defaults().withMaxImageBytes(1 << 20));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private Path kernel(String name, TestElf elf) {
        return elf.write(tmp.resolve("src").resolve(name + ".elf"));
    }

    private byte[] manifest(String name, String version) {
        return TestElf.manifest(name, version).getBytes(StandardCharsets.UTF_8);
    }

    private Image importSynthetic(String name, String version, long seed) {
        return store.importImage(kernel(name + "-" + version + "-" + seed, TestElf.both().seed(seed)), manifest(name, version), null);
    }

    /** Every file under the store except this session's directory, with its content: "unchanged" means equal. */
    private Map<String, String> snapshot() throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = root.relativize(p).toString();
                if (rel.startsWith("sessions/") || rel.equals("store.lock")) continue;
                files.put(rel, Digests.of(p));
            }
        }
        return files;
    }

    @Test
    void importStoresContentAddressedBlobsAndAnIndex() throws IOException {
        Path k = kernel("hello", TestElf.both());
        Image img = store.importImage(k, manifest("hello", "0.1.0"), null);

        String digest = Digests.of(k);
        assertThat(img.name()).isEqualTo("hello");
        assertThat(img.version()).isEqualTo("0.1.0");
        assertThat(img.digest()).isEqualTo(digest);
        assertThat(img.kernel()).isEqualTo(root.resolve("blobs/sha256/" + digest.substring(7)));
        assertThat(Digests.of(img.kernel())).isEqualTo(digest);
        assertThat(Files.getPosixFilePermissions(img.kernel())).isEqualTo(PosixFilePermissions.fromString("r--r--r--"));
        assertThat(img.bootModes()).containsExactly(BootMode.PVH, BootMode.PV);
        assertThat(img.memoryMiB()).isEqualTo(4);
        assertThat(img.sizeBytes()).isEqualTo(Files.size(k));

        JsonNode index = new ObjectMapper().readTree(root.resolve("index.json").toFile());
        assertThat(index.path("version").asInt()).isEqualTo(1);
        JsonNode e = index.path("images").path("hello:0.1.0");
        assertThat(e.path("kernel").asText()).isEqualTo(digest);
        // The manifest is stored canonically, with the boot modes read from the ELF filled in.
        byte[] config = Files.readAllBytes(store.blob(e.path("config").asText()).orElseThrow());
        assertThat(new String(config, StandardCharsets.UTF_8)).isEqualTo(
                "{\"name\":\"hello\",\"version\":\"0.1.0\",\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pvh\",\"pv\"],"
                        + "\"cmdline\":\"\",\"readiness\":\"console\"}");
        assertThat(Digests.of(config)).isEqualTo(e.path("config").asText());

        assertThat(store.list()).containsExactly(img);
        assertThat(store.find("hello")).contains(img);
        assertThat(store.find("hello:0.1.0")).contains(img);
        assertThat(store.find("hello:0.2.0")).isEmpty();
        assertThat(store.fsck()).isEmpty();
    }

    @Test
    void aSecondStoreOnTheSameRootSeesTheImage() {
        Image img = importSynthetic("hello", "1", 1);
        try (CasImageStore other = new CasImageStore(root)) {
            assertThat(other.find("hello:1")).contains(img);
            assertThat(other.inspect("hello").source()).startsWith("file:");
        }
    }

    @Test
    void reimportingTheSameContentDoesNotRewriteTheIndex() throws IOException {
        Path k = kernel("hello", TestElf.both());
        store.importImage(k, manifest("hello", "1"), null);
        Object inode = Files.readAttributes(root.resolve("index.json"), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        store.importImage(k, manifest("hello", "1"), null);
        assertThat(Files.readAttributes(root.resolve("index.json"), java.nio.file.attribute.BasicFileAttributes.class).fileKey())
                .isEqualTo(inode);
        assertThat(store.list()).hasSize(1);
    }

    @Test
    void differentContentMovesTheTagAndLeavesTheOldBlobForGc() {
        Image first = importSynthetic("hello", "1", 1);
        Image second = importSynthetic("hello", "1", 2);
        assertThat(second.digest()).isNotEqualTo(first.digest());
        assertThat(store.find("hello:1")).contains(second);
        assertThat(store.blob(first.digest())).isPresent();
        GcResult r = store.gc(Long.MAX_VALUE);
        assertThat(r.evicted()).isEmpty();
        assertThat(r.blobsRemoved()).isEqualTo(1);
        assertThat(store.blob(first.digest())).isEmpty();
        assertThat(store.blob(second.digest())).isPresent();
        assertThat(store.fsck()).isEmpty();
    }

    @Test
    void bootModesMayBeNarrowedButNotInvented() throws IOException {
        Path k = kernel("k", TestElf.both());
        Image pvhOnly = store.importImage(k, ("{\"name\":\"narrow\",\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pvh\"]}")
                .getBytes(StandardCharsets.UTF_8), null);
        assertThat(pvhOnly.bootModes()).containsExactly(BootMode.PVH);
        assertThat(pvhOnly.version()).isEqualTo("latest");

        Map<String, String> before = snapshot();
        Path pvh = kernel("pvh", TestElf.pvhOnly());
        assertThatThrownBy(() -> store.importImage(pvh, ("{\"name\":\"liar\",\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pv\"]}")
                .getBytes(StandardCharsets.UTF_8), null))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID))
                .hasMessageContaining("manifest claims boot mode 'pv' but the ELF notes only allow [pvh]");
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void everyRejectionLeavesTheStoreUnchanged() throws IOException {
        importSynthetic("hello", "1", 1);
        Map<String, String> before = snapshot();
        Path good = kernel("good", TestElf.both().seed(9));
        Path script = Files.writeString(tmp.resolve("script.sh"), "#!/bin/sh\necho hi\n");
        TestElf arm = TestElf.both();
        arm.machine = 183;
        TestElf c32 = TestElf.both();
        c32.elfClass = 1;
        TestElf noNotes = TestElf.pvhOnly();
        noNotes.pvhEntry = null;
        Path big = kernel("big", TestElf.both().payload(2 << 20));

        record Case(Path kernel, String manifest, Reason reason, String message) { }
        List<Case> cases = List.of(
                new Case(script, TestElf.manifest("x", "1"), Reason.INVALID, "not an ELF file"),
                new Case(kernel("arm", arm), TestElf.manifest("x", "1"), Reason.INVALID, "wrong architecture"),
                new Case(kernel("c32", c32), TestElf.manifest("x", "1"), Reason.INVALID, "a 32-bit ELF"),
                new Case(kernel("nonotes", noNotes), TestElf.manifest("x", "1"), Reason.INVALID, "no usable boot note"),
                new Case(big, TestElf.manifest("x", "1"), Reason.TOO_LARGE, "over the limit of 1048576 bytes"),
                new Case(good, TestElf.manifest("../../etc", "1"), Reason.INVALID, "'name'"),
                new Case(good, TestElf.manifest("a/b", "1"), Reason.INVALID, "'name'"),
                new Case(good, TestElf.manifest("Hello", "1"), Reason.INVALID, "'name'"),
                new Case(good, TestElf.manifest("x", "../1"), Reason.INVALID, "'version'"),
                new Case(good, TestElf.manifest("x", "a\\u0000b"), Reason.INVALID, "'version'"),
                new Case(good, "{\"name\":\"x\"}", Reason.INVALID, "'memory_mib' is required"),
                new Case(good, "not json", Reason.INVALID, "not valid JSON"),
                new Case(tmp.resolve("missing.elf"), TestElf.manifest("x", "1"), Reason.NOT_FOUND, "no such file"));
        for (Case c : cases) {
            assertThatThrownBy(() -> store.importImage(c.kernel(), c.manifest().getBytes(StandardCharsets.UTF_8), null))
                    .as(c.message())
                    .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(c.reason()))
                    .hasMessageContaining(c.message());
            assertThat(snapshot()).as("store after " + c.message()).isEqualTo(before);
        }
        assertThatThrownBy(() -> store.importImage(good, TestElf.manifest("x", "1").getBytes(StandardCharsets.UTF_8),
                ImageRef.parse("../evil:1"))).isInstanceOf(ImageException.class).hasMessageContaining("image name '../evil'");
        assertThat(snapshot()).isEqualTo(before);
        // and nothing was left in our staging directory either
        try (Stream<Path> s = Files.list(root.resolve("sessions"))) {
            for (Path session : s.toList()) {
                try (Stream<Path> files = Files.list(session)) {
                    assertThat(files.map(p -> p.getFileName().toString())).allMatch(n -> n.equals("pins.json"));
                }
            }
        }
    }

    @Test
    void importBundledReadsTheUnikernelBuildLayout() throws IOException {
        Path bundle = tmp.resolve("images");
        for (String app : List.of("hello", "sha256")) {
            TestElf.both().seed(app.hashCode()).write(bundle.resolve(app).resolve("kernel.elf"));
            Files.writeString(bundle.resolve(app).resolve("manifest.json"),
                    "{\"name\":\"" + app + "\",\"version\":\"0.1.0\",\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pvh\",\"pv\"],"
                            + "\"cmdline\":\"\",\"readiness\":\"console\"}\n");
        }
        Files.createDirectories(bundle.resolve("not-an-image"));
        List<Image> imported = store.importBundled(bundle);
        assertThat(imported).extracting(Image::name).containsExactly("hello", "sha256");
        assertThat(store.list()).extracting(i -> i.name() + ":" + i.version()).containsExactly("hello:0.1.0", "sha256:0.1.0");
        // a second start imports nothing new
        assertThat(store.importBundled(bundle)).isEqualTo(imported);
        assertThat(store.diskUsage()).isEqualTo(imported.stream().mapToLong(i -> i.sizeBytes()
                + store.manifestBytes(store.inspect(i.name()).configDigest()).length).sum());

        Files.delete(bundle.resolve("sha256").resolve("kernel.elf"));
        assertThatThrownBy(() -> store.importBundled(bundle)).isInstanceOf(ImageException.class)
                .hasMessageContaining("sha256 has no kernel.elf");
        assertThatThrownBy(() -> store.importBundled(tmp.resolve("nope")))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
    }

    @Test
    void theRealUnikernelImagesImportWhenBuilt() {
        Path images = TestElf.realImages();
        if (!Files.isDirectory(images)) {
            // Built after this module in a fresh reactor; the synthetic kernels above cover the same paths.
            assertThat(store.list()).isEmpty();
            return;
        }
        List<Image> imported = store.importBundled(images);
        assertThat(imported).isNotEmpty().allSatisfy(i -> assertThat(i.bootModes()).containsExactly(BootMode.PVH, BootMode.PV));
        assertThat(store.fsck()).isEmpty();
    }

    @Test
    void tagAndRemove() {
        Image v1 = importSynthetic("hello", "1", 1);
        Image v2 = importSynthetic("hello", "2", 2);
        // untagged name: newest tag when there is no latest
        assertThat(store.find("hello")).map(Image::version).contains("2");
        Image latest = store.tag("hello:1", "hello");
        assertThat(latest.version()).isEqualTo("latest");
        assertThat(latest.digest()).isEqualTo(v1.digest());
        assertThat(store.find("hello")).map(Image::digest).contains(v1.digest());
        store.tag("hello:2", "greeter:stable");
        assertThat(store.find("greeter:stable")).map(Image::digest).contains(v2.digest());

        store.remove("hello:latest");
        assertThat(store.find("hello")).map(Image::version).contains("2");
        assertThatThrownBy(() -> store.remove("hello:latest"))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
        assertThatThrownBy(() -> store.tag("nope", "x"))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
        assertThatThrownBy(() -> store.tag("hello:1", "Bad/Name")).isInstanceOf(ImageException.class);
        store.remove("hello:1");
        // the blob stays until gc, and is still named by nothing
        assertThat(store.blob(v1.digest())).isPresent();
        assertThat(store.gc(Long.MAX_VALUE).blobsRemoved()).isEqualTo(2); // kernel + manifest of v1
        assertThat(store.blob(v1.digest())).isEmpty();
        assertThat(store.list()).extracting(i -> i.name() + ":" + i.version()).containsExactly("greeter:stable", "hello:2");
    }

    @Test
    void gcEvictsLeastRecentlyUsedFirstDownToTheBudget() throws IOException {
        Image a = importSynthetic("a", "1", 1);
        Image b = importSynthetic("b", "1", 2);
        Image c = importSynthetic("c", "1", 3);
        age(a, 300);
        age(b, 200);
        age(c, 100);
        store.find("a"); // a is now the most recently used
        long each = store.inspect("a").image().sizeBytes() + store.manifestBytes(store.inspect("a").configDigest()).length;
        GcResult r = store.gc(2 * each);
        assertThat(r.evicted()).containsExactly("b:1");
        assertThat(r.withinBudget()).isTrue();
        assertThat(r.bytesUsed()).isLessThanOrEqualTo(2 * each);
        assertThat(store.list()).extracting(Image::name).containsExactly("a", "c");
        assertThat(store.blob(b.digest())).isEmpty();
        assertThat(store.fsck()).isEmpty();
    }

    @Test
    void gcNeverEvictsPinnedOrInUseImagesEvenOverBudget() throws IOException {
        Image a = importSynthetic("a", "1", 1);
        Image b = importSynthetic("b", "1", 2);
        Image c = importSynthetic("c", "1", 3);
        Set<String> running = new HashSet<>(Set.of(c.digest()));
        try (CasImageStore daemon = new CasImageStore(root, StoreOptions.defaults().withInUse(i -> running.contains(i.digest())))) {
            age(a, 300);
            age(b, 200);
            age(c, 100);
            try (CasImageStore.Pin pin = store.pin("a:1")) {
                assertThat(pin.image()).isEqualTo(a);
                // gc from a second store on the same root: it sees the first one's pin through its session
                GcResult r = daemon.gc(0);
                assertThat(r.evicted()).containsExactly("b:1");
                assertThat(r.withinBudget()).isFalse();
                assertThat(daemon.list()).extracting(Image::name).containsExactly("a", "c");
                assertThat(daemon.inspect("a").pinned()).isTrue();
                assertThatThrownBy(() -> daemon.remove("a:1"))
                        .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.CONFLICT));
                assertThatThrownBy(() -> daemon.remove("c:1"))
                        .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.CONFLICT));
            }
            running.clear();
            GcResult r = daemon.gc(0);
            assertThat(r.evicted()).containsExactlyInAnyOrder("a:1", "c:1");
            assertThat(r.withinBudget()).isTrue();
            assertThat(daemon.list()).isEmpty();
            assertThat(r.bytesUsed()).isZero();
        }
    }

    @Test
    void aPinHoldsTheKernelEvenAfterItsTagMovesToOtherContent() {
        Image old = importSynthetic("a", "1", 1);
        try (CasImageStore.Pin pin = store.pin("a:1")) {
            Image replaced = importSynthetic("a", "1", 2); // a rebuild: the tag moves, a VM still runs the old kernel
            assertThat(replaced.digest()).isNotEqualTo(old.digest());
            try (CasImageStore cli = new CasImageStore(root)) {
                GcResult r = cli.gc(0);
                assertThat(r.evicted()).isEmpty(); // a:1 is pinned by reference
                assertThat(r.blobsRemoved()).isZero(); // and the old blobs by digest
                assertThatThrownBy(() -> cli.remove("a:1")).isInstanceOf(ImageException.class);
            }
            assertThat(pin.image().kernel()).exists();
        }
        try (CasImageStore cli = new CasImageStore(root)) {
            assertThat(cli.gc(Long.MAX_VALUE).blobsRemoved()).isEqualTo(1); // the old kernel; the manifest is shared
            assertThat(store.blob(old.digest())).isEmpty();
        }
    }

    @Test
    void anotherTagOfAPinnedKernelMayBeRemoved() {
        importSynthetic("a", "1", 1);
        store.tag("a:1", "a:other");
        try (CasImageStore.Pin pin = store.pin("a:other")) {
            store.remove("a:1");
            assertThat(store.list()).extracting(Image::version).containsExactly("other");
        }
    }

    @Test
    void deadSessionsAreSweptOnOpenAndLiveOnesKept() throws IOException {
        Path dead = root.resolve("sessions").resolve("999999999-1-deadbeef");
        Files.createDirectories(dead);
        Files.writeString(dead.resolve("kernel-123"), "half an import");
        Files.writeString(dead.resolve("pins.json"), "{\"refs\":[\"a:1\"],\"digests\":[]}");
        Path junk = root.resolve("sessions").resolve("junk");
        Files.createDirectories(junk);
        try (CasImageStore reopened = new CasImageStore(root)) {
            assertThat(dead).doesNotExist();
            assertThat(junk).doesNotExist();
            try (Stream<Path> s = Files.list(root.resolve("sessions"))) {
                assertThat(s.count()).isEqualTo(2); // ours and the one of `store`
            }
        }
    }

    @Test
    void stalePartialDownloadsGoAtGcAfterTheirTtl() throws IOException {
        Path partial = root.resolve("partial/sha256").resolve("ab".repeat(32));
        Files.write(partial, new byte[100]);
        Path fresh = root.resolve("partial/sha256").resolve("cd".repeat(32));
        Files.write(fresh, new byte[100]);
        Files.setLastModifiedTime(partial, FileTime.from(Instant.now().minusSeconds(3 * 86400)));
        GcResult r = store.gc(Long.MAX_VALUE);
        assertThat(r.partialsRemoved()).isEqualTo(1);
        assertThat(partial).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void fsckFindsACorruptBlob() throws IOException {
        Image a = importSynthetic("a", "1", 1);
        assertThat(store.fsck()).isEmpty();
        a.kernel().toFile().setWritable(true);
        Files.write(a.kernel(), new byte[] {1, 2, 3});
        assertThat(store.fsck()).singleElement().asString().contains("blob " + a.digest() + " hashes to");
    }

    @Test
    void reimportRepairsABlobCorruptedInPlace() throws IOException {
        Path k = kernel("a", TestElf.both().seed(7));
        Image a = store.importImage(k, manifest("a", "1"), null);
        Map<String, String> good = snapshot();
        a.kernel().toFile().setWritable(true);
        Files.write(a.kernel(), new byte[] {1, 2, 3});
        assertThat(store.fsck()).isNotEmpty();

        Image again = store.importImage(k, manifest("a", "1"), null);
        assertThat(again.digest()).isEqualTo(a.digest());
        assertThat(store.fsck()).as("the verified copy replaced the corrupt blob").isEmpty();
        assertThat(Digests.of(again.kernel())).isEqualTo(a.digest());
        assertThat(snapshot()).as("the store is exactly as before the corruption").isEqualTo(good);
    }

    @Test
    void reimportRepairsACorruptManifestBlob() throws IOException {
        Path k = kernel("m", TestElf.both().seed(8));
        store.importImage(k, manifest("m", "1"), null);
        Map<String, String> good = snapshot();
        String config = store.inspect("m:1").configDigest();
        Path blob = store.blob(config).orElseThrow();
        blob.toFile().setWritable(true);
        Files.writeString(blob, "{}");
        assertThat(store.fsck()).isNotEmpty();

        store.importImage(k, manifest("m", "1"), null);
        assertThat(store.fsck()).isEmpty();
        assertThat(snapshot()).isEqualTo(good);
    }

    @Test
    void aPullOfACorruptBlobDownloadsItAgain() throws IOException {
        Image a = importSynthetic("p", "1", 9);
        assertThat(store.openPartial(a.digest(), a.sizeBytes())).as("an intact blob is not downloaded again").isEmpty();
        a.kernel().toFile().setWritable(true);
        Files.write(a.kernel(), new byte[] {1, 2, 3});
        Optional<PartialBlob> partial = store.openPartial(a.digest(), a.sizeBytes());
        try {
            assertThat(partial).as("a corrupt blob is downloaded again").isPresent();
        } finally {
            if (partial.isPresent()) partial.get().close();
        }
    }

    @Test
    void anEntryWhoseBlobsAnotherProcessCollectedIsSkippedNotFatal() throws IOException {
        Image a = importSynthetic("a", "1", 1);
        importSynthetic("b", "1", 2);
        // As if another process's gc had won the race between our index read and our manifest read.
        Path config = store.blob(store.inspect("a:1").configDigest()).orElseThrow();
        Files.delete(config);
        try (CasImageStore fresh = new CasImageStore(root)) {
            assertThat(fresh.list()).extracting(Image::name).containsExactly("b");
            assertThat(fresh.find("a:1")).isEmpty();
            assertThat(fresh.fsck()).singleElement().asString().contains("a:1 names missing blob");
        }
        assertThat(a.kernel()).exists();
    }

    @Test
    void aClosedStoreRefusesChangesAndItsPinsAreGone() {
        importSynthetic("a", "1", 1);
        CasImageStore.Pin pin = store.pin("a:1");
        store.close();
        pin.close(); // harmless after the store closed
        assertThatThrownBy(() -> importSynthetic("b", "1", 2))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.STORAGE))
                .hasMessageContaining("is closed");
        store = new CasImageStore(root);
        assertThat(store.gc(0).evicted()).containsExactly("a:1"); // the closed store's pin went with it
    }

    private void age(Image i, long secondsAgo) throws IOException {
        Files.setLastModifiedTime(i.kernel(), FileTime.from(Instant.now().minusSeconds(secondsAgo)));
    }
}

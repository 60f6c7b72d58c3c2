package io.xenops.image.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.image.BootMode;
import io.xenops.image.Digests;
import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.ImageRef;
import io.xenops.image.ImageStore;
import io.xenops.image.Manifest;
import io.xenops.image.elf.ElfInfo;
import io.xenops.image.elf.ElfInspector;
import io.xenops.image.manifest.ManifestValidator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The content-addressed image store. Layout under {@code root} (docs/images.md has the full story):
 * <pre>
 *   store.lock              exclusive lock for every change (FileChannel.lock): one writer at a time,
 *                           across processes
 *   index.json              name:tag -> {kernel digest, manifest digest}; replaced whole by rename
 *   blobs/sha256/&lt;hex&gt;     kernel ELFs and canonical manifests, read-only, named by their sha256
 *   partial/sha256/&lt;hex&gt;   unfinished downloads, each locked while written, resumed by the next pull
 *   sessions/&lt;pid&gt;-...      one per open store: staging files and pins; a dead process's is deleted
 * </pre>
 *
 * <p>Guarantees: a blob is visible under its digest only once complete and fsynced; the index only names
 * blobs that exist; every change to the index is one rename; a rejected import changes nothing; readers
 * never lock (they read whichever index was last renamed into place).
 */
public final class CasImageStore implements ImageStore, AutoCloseable {
    private static final String INDEX = "index.json";
    private static final int COPY_BUFFER = 256 * 1024;

    private final Path root;
    private final Path blobs;
    private final Path partials;
    private final Path sessions;
    private final Path indexFile;
    private final StoreOptions options;
    private final ElfInspector elf;
    private final ManifestValidator manifests = new ManifestValidator();
    private final Index.Codec codec = new Index.Codec();
    private final ObjectMapper json = new ObjectMapper();
    /** Threads of this instance queue here rather than spin on the file lock. */
    private final ReentrantLock localLock = new ReentrantLock();
    private final FileChannel lockChannel;
    private final Session session;
    /** Manifests are immutable blobs: parse each once. */
    private final Map<String, Manifest> manifestCache = new ConcurrentHashMap<>();
    /** This store's pins, one record per open pin. Guarded by {@code pins} itself. */
    private final List<PinRecord> pins = new ArrayList<>();
    private volatile CachedIndex cached;
    private volatile boolean closed;

    private record CachedIndex(Object fileKey, FileTime modified, long size, Index index) { }

    public CasImageStore(Path root, StoreOptions options) {
        this.root = root.toAbsolutePath().normalize();
        this.options = options;
        this.elf = new ElfInspector(options.maxImageBytes());
        this.blobs = this.root.resolve("blobs").resolve("sha256");
        this.partials = this.root.resolve("partial").resolve("sha256");
        this.sessions = this.root.resolve("sessions");
        this.indexFile = this.root.resolve(INDEX);
        try {
            Files.createDirectories(blobs);
            Files.createDirectories(partials);
            Files.createDirectories(sessions);
            lockChannel = FileChannel.open(this.root.resolve("store.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw storage("cannot open image store at " + this.root, e);
        }
        Session s;
        try (Held held = lock()) {
            sweepDeadSessions();
            s = Session.create(sessions);
        } catch (IOException e) {
            throw storage("cannot start a session in " + sessions, e);
        }
        this.session = s;
    }

    public CasImageStore(Path root) { this(root, StoreOptions.defaults()); }

    public Path root() { return root; }

    public StoreOptions options() { return options; }

    // ---------------------------------------------------------------- reading (no lock)

    @Override
    public List<Image> list() {
        Index index = index();
        List<Image> out = new ArrayList<>();
        for (Map.Entry<String, Index.Entry> e : index.images().entrySet()) {
            // Another process's gc may evict an entry between our index read and its manifest read: such an
            // entry is gone, not broken.
            imageIfPresent(e.getKey(), e.getValue()).ifPresent(out::add);
        }
        out.sort(Comparator.comparing(Image::name).thenComparing(Image::version));
        return out;
    }

    private Optional<Image> imageIfPresent(String ref, Index.Entry e) {
        try {
            return Optional.of(image(ref, e));
        } catch (ImageException x) {
            if (blob(e.config()).isEmpty()) return Optional.empty();
            throw x;
        }
    }

    /**
     * The image for {@code name} or {@code name:tag}. A bare name resolves to {@code name:latest}, or else the
     * newest tag of that name. Counts as a use for LRU eviction.
     */
    @Override
    public Optional<Image> find(String ref) {
        Optional<Map.Entry<String, Index.Entry>> e = resolve(index(), ImageRef.parse(ref));
        e.ifPresent(x -> touch(x.getValue().kernel()));
        return e.flatMap(x -> imageIfPresent(x.getKey(), x.getValue()));
    }

    /** Every reference with its details, sorted. */
    public List<ImageDetails> inspectAll() {
        Index index = index();
        Protection p = protection(index);
        return index.images().entrySet().stream().map(e -> details(e.getKey(), e.getValue(), p)).toList();
    }

    public ImageDetails inspect(String ref) {
        Index index = index();
        Map.Entry<String, Index.Entry> e = resolve(index, ImageRef.parse(ref)).orElseThrow(() -> notFound(ref));
        return details(e.getKey(), e.getValue(), protection(index));
    }

    /** Where the blob with this digest is, when the store has it. */
    public Optional<Path> blob(String digest) {
        Path p = blobs.resolve(Digests.hex(digest));
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** The stored manifest bytes (the config blob of an image), for push. */
    public byte[] manifestBytes(String configDigest) {
        try {
            return Files.readAllBytes(blob(configDigest).orElseThrow(() -> notFound(configDigest)));
        } catch (IOException e) {
            throw storage("cannot read manifest blob " + configDigest, e);
        }
    }

    /** Bytes of all blobs on disk (referenced or not). */
    public long diskUsage() {
        long total = 0;
        for (BlobFile b : blobFiles()) total += b.size();
        return total;
    }

    // ---------------------------------------------------------------- import

    /**
     * Imports a kernel ELF and its manifest, under {@code name:version} from the manifest ({@code latest}
     * without a version). Re-importing identical content is a no-op; different content moves the tag.
     */
    public Image importImage(Path kernel, Path manifestFile) {
        return importImage(kernel, readManifest(manifestFile), null);
    }

    /**
     * Imports a kernel ELF with the given manifest bytes, under {@code as} when given, else under the
     * manifest's name and version. Everything is checked before anything shared is touched, so a rejected
     * import leaves the store as it was.
     */
    public Image importImage(Path kernel, byte[] manifestJson, ImageRef as) {
        ensureOpen();
        String what = kernel.toString();
        Manifest m = manifests.parse(manifestJson, what + " manifest");
        ImageRef ref = as != null ? as.withDefaultTag() : refOf(m);
        if (!Files.isRegularFile(kernel)) throw new ImageException(Reason.NOT_FOUND, what + ": no such file");
        Path staged = session.tmp("kernel");
        try {
            String digest = stage(kernel, staged, what);
            ElfInfo info = elf.inspect(staged, what);
            return commit(ref, digest, staged, info, m, what, "file:" + kernel.toAbsolutePath());
        } catch (IOException e) {
            throw storage("cannot import " + what, e);
        } finally {
            deleteQuietly(staged);
        }
    }

    /**
     * Imports every image directory under {@code dir} ({@code <app>/kernel.elf} + {@code <app>/manifest.json},
     * as the unikernel build writes them). Each image is its own atomic import; a broken directory fails the
     * call with an {@link ImageException} naming it, after the ones before it were imported.
     */
    @Override
    public List<Image> importBundled(Path dir) {
        if (!Files.isDirectory(dir)) throw new ImageException(Reason.NOT_FOUND, "image directory " + dir + " does not exist");
        List<Path> apps;
        try (Stream<Path> children = Files.list(dir)) {
            apps = children.filter(c -> Files.isRegularFile(c.resolve("manifest.json"))).sorted().toList();
        } catch (IOException e) {
            throw storage("cannot list " + dir, e);
        }
        List<Image> imported = new ArrayList<>();
        for (Path app : apps) {
            Path kernel = app.resolve("kernel.elf");
            if (!Files.isRegularFile(kernel)) throw new ImageException(Reason.INVALID, app + " has no kernel.elf");
            imported.add(importImage(kernel, readManifest(app.resolve("manifest.json")), null));
        }
        return imported;
    }

    /** Copies into the session's staging file while hashing, refusing more than the size limit. Fsyncs. */
    private String stage(Path source, Path staged, String what) throws IOException {
        MessageDigest md = Digests.newSha256();
        long limit = options.maxImageBytes();
        try (InputStream in = Files.newInputStream(source);
             FileChannel out = FileChannel.open(staged, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[COPY_BUFFER];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > limit) {
                    throw new ImageException(Reason.TOO_LARGE, what + ": kernel is over the limit of " + limit + " bytes");
                }
                md.update(buf, 0, n);
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) out.write(b);
            }
            out.force(true);
        }
        return Digests.format(md.digest());
    }

    // ---------------------------------------------------------------- pull support (used by io.xenops.image.oci)

    /**
     * Opens the partial file for a blob about to be downloaded, waiting while another process (or another
     * store in this JVM) downloads the same blob. Empty when the blob is already in the store, which is what
     * the waiter usually finds.
     */
    public Optional<PartialBlob> openPartial(String digest, long expectedSize) {
        ensureOpen();
        String hex = Digests.hex(digest);
        if (expectedSize < 0 || expectedSize > options.maxImageBytes()) {
            throw new ImageException(Reason.TOO_LARGE, "blob " + digest + " is " + expectedSize
                    + " bytes, over the limit of " + options.maxImageBytes() + " bytes");
        }
        // A blob that no longer hashes to its name is downloaded again; publish then replaces it.
        if (blob(digest).filter(b -> intact(b, digest)).isPresent()) return Optional.empty();
        Path path = partials.resolve(hex);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = FileLocks.lock(ch);
            if (blob(digest).filter(b -> intact(b, digest)).isPresent()) {
                lock.release();
                ch.close();
                return Optional.empty();
            }
            return Optional.of(new PartialBlob(path, digest, expectedSize, ch, lock, options.hooks()));
        } catch (IOException e) {
            closeQuietly(ch);
            throw storage("cannot open partial download " + path, e);
        }
    }

    /**
     * Commits a pulled image: the kernel is either {@code downloaded} (verified) or already a blob. The same
     * checks as an import run first; a rejected kernel's bytes are deleted and the store is unchanged.
     */
    public Image commitPulled(ImageRef ref, String kernelDigest, PartialBlob downloaded, byte[] manifestJson,
                              String source) {
        String what = source;
        Manifest m = manifests.parse(manifestJson, what + " config");
        ImageRef target = ref != null ? ref.withDefaultTag() : refOf(m);
        Path kernel;
        if (downloaded != null) {
            if (!downloaded.verified() || !downloaded.digest().equals(kernelDigest)) {
                throw new IllegalStateException("commitPulled needs a verified download of " + kernelDigest);
            }
            kernel = downloaded.path();
        } else {
            kernel = blob(kernelDigest).orElseThrow(() -> notFound(kernelDigest));
        }
        ElfInfo info;
        try {
            info = elf.inspect(kernel, what);
        } catch (ImageException rejected) {
            if (downloaded != null) {
                try {
                    downloaded.discard();
                } catch (IOException e) {
                    rejected.addSuppressed(e);
                }
            }
            throw rejected;
        }
        try {
            return commit(target, kernelDigest, downloaded != null ? kernel : null, info, m, what, source);
        } catch (IOException e) {
            throw storage("cannot store " + what, e);
        }
    }

    /**
     * The shared tail of import and pull. {@code staged} is moved into blobs/ (null: the kernel blob is
     * already there). Before the lock: validation and staging the manifest. Under the lock: two renames and
     * the index rename.
     */
    private Image commit(ImageRef ref, String kernelDigest, Path staged, ElfInfo info, Manifest m, String what,
                         String source) throws IOException {
        Manifest canonical = reconcileBootModes(m, info, what);
        byte[] config = manifests.canonical(canonical);
        String configDigest = Digests.of(config);
        Path stagedConfig = session.tmp("config");
        try {
            writeSynced(stagedConfig, config);
            options.hooks().at(StoreHooks.Step.STAGED);
            try (Held held = lock()) {
                Index before = readIndexFile();
                Index.Entry old = before.images().get(ref.toString());
                Index.Entry entry = new Index.Entry(kernelDigest, info.sizeBytes(), configDigest, config.length,
                        Instant.now(options.clock()).toString(), source);
                if (staged == null && !Files.isRegularFile(blobs.resolve(Digests.hex(kernelDigest)))) {
                    // Checked again under the lock: a gc elsewhere may have taken an unreferenced blob since.
                    throw new ImageException(Reason.CONFLICT, what + ": kernel blob " + kernelDigest
                            + " was garbage-collected meanwhile; pull again");
                }
                boolean kernelMoved = staged != null && publish(staged, kernelDigest);
                boolean configMoved = publish(stagedConfig, configDigest);
                if (kernelMoved || configMoved) Durable.syncDir(blobs);
                options.hooks().at(StoreHooks.Step.BLOBS_COMMITTED);
                if (!entry.sameContent(old)) {
                    writeIndex(before.with(ref.toString(), entry));
                    options.hooks().at(StoreHooks.Step.INDEX_COMMITTED);
                }
                manifestCache.put(configDigest, canonical);
                touch(kernelDigest);
                return image(ref.toString(), entry.sameContent(old) ? old : entry);
            }
        } finally {
            deleteQuietly(stagedConfig);
        }
    }

    /**
     * Moves a staged, fsynced file into blobs/ unless an intact blob with that digest exists. A blob whose
     * bytes no longer hash to its name (changed in place, truncated) is replaced by the verified staged copy:
     * re-importing or re-pulling an image is how an operator repairs it. Caller holds the lock.
     */
    private boolean publish(Path staged, String digest) throws IOException {
        Path target = blobs.resolve(Digests.hex(digest));
        if (Files.exists(target) && intact(target, digest)) return false;
        Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString("r--r--r--"));
        // rename(2) replaces a corrupt target in one step; a QEMU that opened the old one keeps its inode.
        Files.move(staged, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    /** Whether {@code blob} still hashes to its name. Reads it whole: imports and pulls only, never a spawn. */
    private static boolean intact(Path blob, String digest) {
        try {
            return Digests.of(blob).equals(digest);
        } catch (IOException e) {
            return false;
        }
    }

    /** Boot modes come from the ELF. A manifest may narrow them; it may not claim one the ELF lacks. */
    private static Manifest reconcileBootModes(Manifest m, ElfInfo info, String what) {
        List<String> found = info.bootModes().stream().map(b -> b.name().toLowerCase(Locale.ROOT)).toList();
        List<String> modes = found;
        if (m.bootModes() != null) {
            for (String claimed : m.bootModes()) {
                if (!found.contains(claimed)) {
                    throw new ImageException(Reason.INVALID, what + ": manifest claims boot mode '" + claimed
                            + "' but the ELF notes only allow " + found);
                }
            }
            modes = found.stream().filter(m.bootModes()::contains).toList();
        }
        return new Manifest(m.name(), m.version(), m.memoryMiB(), m.vcpus(), modes, m.cmdline(),
                m.readiness() == null ? "console" : m.readiness(), m.annotations());
    }

    // ---------------------------------------------------------------- tag, remove, pin

    /** Points {@code target} ({@code name:tag}, {@code latest} when untagged) at the image {@code source} names. */
    public Image tag(String source, String target) {
        ImageRef to = ImageRef.parse(target).withDefaultTag();
        try (Held held = lock()) {
            Index index = readIndexFile();
            Map.Entry<String, Index.Entry> from = resolve(index, ImageRef.parse(source)).orElseThrow(() -> notFound(source));
            Index.Entry e = from.getValue();
            Index.Entry copy = new Index.Entry(e.kernel(), e.kernelSize(), e.config(), e.configSize(),
                    Instant.now(options.clock()).toString(), e.source());
            writeIndex(index.with(to.toString(), copy));
            return image(to.toString(), copy);
        } catch (IOException e) {
            throw storage("cannot tag " + source, e);
        }
    }

    /**
     * Removes one reference. Its blobs go at the next {@link #gc}, if nothing else names them. Refused with
     * {@link Reason#CONFLICT} while the reference is pinned, or while its kernel is in use and no other
     * reference keeps it.
     */
    public void remove(String ref) {
        try (Held held = lock()) {
            Index index = readIndexFile();
            Map.Entry<String, Index.Entry> e = resolve(index, ImageRef.parse(ref)).orElseThrow(() -> notFound(ref));
            Protection p = protection(index);
            boolean otherKeepsKernel = index.images().entrySet().stream()
                    .anyMatch(o -> !o.getKey().equals(e.getKey()) && o.getValue().kernel().equals(e.getValue().kernel()));
            if (p.refs().contains(e.getKey()) || (!otherKeepsKernel && p.protects(e.getKey(), e.getValue()))) {
                throw new ImageException(Reason.CONFLICT, "image " + e.getKey() + " is in use by a pool or a VM");
            }
            writeIndex(index.without(e.getKey()));
        } catch (IOException e) {
            throw storage("cannot remove " + ref, e);
        }
    }

    /** A hold on an image: while open, gc never evicts it and rm refuses it, in every process on this store. */
    public interface Pin extends AutoCloseable {
        Image image();

        @Override
        void close();
    }

    /** Pins the image {@code ref} resolves to now (and counts as a use). Close the pin to release it. */
    public Pin pin(String ref) {
        try (Held held = lock()) {
            Index index = readIndexFile();
            Map.Entry<String, Index.Entry> e = resolve(index, ImageRef.parse(ref)).orElseThrow(() -> notFound(ref));
            Image image = image(e.getKey(), e.getValue());
            // The digests are taken now: if the tag later moves to other content, this pin still holds the
            // kernel a VM may be running from.
            PinRecord record = new PinRecord(e.getKey(), e.getValue().kernel(), e.getValue().config());
            synchronized (pins) {
                pins.add(record);
                writePins();
            }
            touch(e.getValue().kernel());
            return new Pin() {
                private boolean released;

                @Override
                public Image image() { return image; }

                @Override
                public void close() {
                    synchronized (pins) {
                        if (released) return;
                        released = true;
                    }
                    unpin(record);
                }
            };
        } catch (IOException e) {
            throw storage("cannot pin " + ref, e);
        }
    }

    private record PinRecord(String ref, String kernel, String config) { }

    private void unpin(PinRecord record) {
        if (closed) return; // closing the store released every pin with its session
        try (Held held = lock()) {
            synchronized (pins) {
                pins.remove(record); // one occurrence: pins of the same image count
                writePins();
            }
        } catch (IOException e) {
            throw storage("cannot unpin " + record.ref(), e);
        }
    }

    /** Caller holds the lock and {@code pins}. Replaced by rename, so other processes never read half a file. */
    private void writePins() throws IOException {
        Set<String> refs = new java.util.TreeSet<>();
        Set<String> digests = new java.util.TreeSet<>();
        for (PinRecord r : pins) {
            refs.add(r.ref());
            digests.add(r.kernel());
            digests.add(r.config());
        }
        byte[] data = json.writeValueAsBytes(Map.of("refs", refs, "digests", digests));
        Durable.replace(session.pins(), data, session.tmp("pins"));
    }

    // ---------------------------------------------------------------- garbage collection

    /**
     * Deletes unreferenced blobs and stale partial downloads, then, while the referenced blobs exceed
     * {@code budgetBytes}, evicts references least recently used first. Never evicts a pinned or in-use
     * image, and never deletes a blob a live pin names.
     */
    public GcResult gc(long budgetBytes) {
        if (budgetBytes < 0) throw new IllegalArgumentException("budget must be >= 0");
        try (Held held = lock()) {
            sweepDeadSessions();
            Index index = readIndexFile();
            Protection p = protection(index);
            Map<String, Long> sizes = new HashMap<>();
            for (BlobFile b : blobFiles()) sizes.put(b.digest(), b.size());
            List<String> evicted = new ArrayList<>();
            Index kept = index;
            while (referencedBytes(kept, sizes) > budgetBytes) {
                Optional<String> victim = kept.images().entrySet().stream()
                        .filter(e -> !p.protects(e.getKey(), e.getValue()))
                        .sorted(Comparator.comparing((Map.Entry<String, Index.Entry> e) -> lastUsed(e.getValue().kernel()))
                                .thenComparing(e -> e.getValue().created())
                                .thenComparing(Map.Entry::getKey))
                        .map(Map.Entry::getKey)
                        .findFirst();
                if (victim.isEmpty()) break;
                evicted.add(victim.get());
                kept = kept.without(victim.get());
            }
            if (!evicted.isEmpty()) writeIndex(kept);
            // Blobs go only after the index that stops naming them is durable.
            Set<String> live = new HashSet<>(p.digests());
            for (Index.Entry e : kept.images().values()) {
                live.add(e.kernel());
                live.add(e.config());
            }
            int removed = 0;
            long freed = 0;
            for (Map.Entry<String, Long> b : sizes.entrySet()) {
                if (live.contains(b.getKey())) continue;
                if (Files.deleteIfExists(blobs.resolve(Digests.hex(b.getKey())))) {
                    removed++;
                    freed += b.getValue();
                }
            }
            if (removed > 0) Durable.syncDir(blobs);
            int partialsRemoved = sweepPartials();
            long used = referencedBytes(kept, sizes) + unreferencedPinnedBytes(kept, p, sizes);
            return new GcResult(evicted, removed, freed, used, budgetBytes, partialsRemoved, used <= budgetBytes);
        } catch (IOException e) {
            throw storage("garbage collection failed", e);
        }
    }

    private static long referencedBytes(Index index, Map<String, Long> sizes) {
        Set<String> d = new HashSet<>();
        for (Index.Entry e : index.images().values()) {
            d.add(e.kernel());
            d.add(e.config());
        }
        return d.stream().mapToLong(x -> sizes.getOrDefault(x, 0L)).sum();
    }

    private static long unreferencedPinnedBytes(Index index, Protection p, Map<String, Long> sizes) {
        Set<String> d = new HashSet<>(p.digests());
        for (Index.Entry e : index.images().values()) {
            d.remove(e.kernel());
            d.remove(e.config());
        }
        return d.stream().mapToLong(x -> sizes.getOrDefault(x, 0L)).sum();
    }

    /** Deletes unfinished downloads older than the TTL that nobody is writing. Caller holds the lock. */
    private int sweepPartials() throws IOException {
        int n = 0;
        Instant cutoff = Instant.now(options.clock()).minus(options.partialTtl());
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(partials)) {
            for (Path p : ds) {
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                if (a.lastModifiedTime().toInstant().isAfter(cutoff)) continue;
                // Only a partial we can lock is idle; one being written is left alone. (Its channel stays
                // open until the delete so closing it cannot drop a lock someone else took meanwhile.)
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    FileLock l = FileLocks.tryLock(ch);
                    if (l == null) continue;
                    Files.deleteIfExists(p);
                    n++;
                    l.release();
                } catch (NoSuchFileException gone) {
                    // finished and renamed meanwhile
                }
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- consistency

    /**
     * Checks the store: every reference's blobs exist and hash to their names, every manifest parses, no
     * blob is misnamed. Returns the problems found (empty when consistent). Reads every blob: for tests,
     * {@code xenopsctl image fsck} and after a crash, not for the request path.
     */
    public List<String> fsck() {
        List<String> problems = new ArrayList<>();
        Index index = index();
        for (BlobFile b : blobFiles()) {
            try {
                String actual = Digests.of(b.path());
                if (!actual.equals(b.digest())) problems.add("blob " + b.digest() + " hashes to " + actual);
            } catch (IOException e) {
                problems.add("blob " + b.digest() + " unreadable: " + e.getMessage());
            }
        }
        for (Map.Entry<String, Index.Entry> e : index.images().entrySet()) {
            for (String d : List.of(e.getValue().kernel(), e.getValue().config())) {
                if (blob(d).isEmpty()) problems.add(e.getKey() + " names missing blob " + d);
            }
            if (blob(e.getValue().config()).isPresent()) {
                try {
                    manifest(e.getValue().config());
                } catch (ImageException x) {
                    problems.add(e.getKey() + ": " + x.getMessage());
                }
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- internals

    private Image image(String ref, Index.Entry e) {
        Manifest m = manifest(e.config());
        ImageRef r = ImageRef.parse(ref);
        List<BootMode> modes = m.bootModes() == null ? List.of()
                : m.bootModes().stream().map(s -> BootMode.valueOf(s.toUpperCase(Locale.ROOT))).toList();
        return new Image(r.name(), r.tag(), e.kernel(), blobs.resolve(Digests.hex(e.kernel())), m.memoryMiB(), m.vcpus(),
                modes, m.cmdline(), e.kernelSize());
    }

    private Manifest manifest(String configDigest) {
        return manifestCache.computeIfAbsent(configDigest, d -> {
            Path p = blobs.resolve(Digests.hex(d));
            try {
                return manifests.parse(Files.readAllBytes(p), "manifest blob " + d);
            } catch (IOException e) {
                throw storage("cannot read manifest blob " + d, e);
            }
        });
    }

    private ImageDetails details(String ref, Index.Entry e, Protection p) {
        return new ImageDetails(ref, image(ref, e), manifest(e.config()), e.config(), Instant.parse(e.created()),
                lastUsed(e.kernel()), p.protects(ref, e), e.source());
    }

    private static ImageRef refOf(Manifest m) {
        return new ImageRef(m.name(), m.version() == null ? ImageRef.LATEST : m.version());
    }

    private static Optional<Map.Entry<String, Index.Entry>> resolve(Index index, ImageRef ref) {
        Map<String, Index.Entry> images = index.images();
        if (ref.tag() != null) {
            Index.Entry e = images.get(ref.toString());
            return e == null ? Optional.empty() : Optional.of(Map.entry(ref.toString(), e));
        }
        Index.Entry latest = images.get(ref.name() + ":" + ImageRef.LATEST);
        if (latest != null) return Optional.of(Map.entry(ref.name() + ":" + ImageRef.LATEST, latest));
        String prefix = ref.name() + ":";
        return images.entrySet().stream()
                .filter(x -> x.getKey().startsWith(prefix))
                .max(Comparator.comparing((Map.Entry<String, Index.Entry> x) -> x.getValue().created())
                        .thenComparing(Map.Entry::getKey));
    }

    /** The last use of an image: its kernel blob's mtime, which import sets and find/pin bump. */
    private Instant lastUsed(String kernelDigest) {
        try {
            return Files.getLastModifiedTime(blobs.resolve(Digests.hex(kernelDigest))).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    /** LRU bookkeeping costs one utimensat, no lock and no fsync: a lost update only ages an image early. */
    private void touch(String kernelDigest) {
        try {
            Files.setLastModifiedTime(blobs.resolve(Digests.hex(kernelDigest)), FileTime.from(Instant.now(options.clock())));
        } catch (IOException ignored) {
            // The blob is read-only for others, or gone after a concurrent gc: neither matters to the caller.
        }
    }

    /** What gc and rm must not touch: pins of every live session, and the daemon's in-use predicate. */
    private record Protection(Set<String> refs, Set<String> digests, java.util.function.Predicate<Image> inUse,
                              java.util.function.BiFunction<String, Index.Entry, Image> toImage) {
        boolean protects(String ref, Index.Entry e) {
            return refs.contains(ref) || digests.contains(e.kernel()) || inUse.test(toImage.apply(ref, e));
        }
    }

    private Protection protection(Index index) {
        Set<String> refs = new HashSet<>();
        Set<String> digests = new HashSet<>();
        synchronized (pins) {
            for (PinRecord r : pins) {
                refs.add(r.ref());
                digests.add(r.kernel());
                digests.add(r.config());
            }
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(sessions)) {
            for (Path s : ds) {
                if (s.equals(session.dir()) || !Session.alive(s.getFileName().toString())) continue;
                Path pinFile = s.resolve(Session.PINS);
                if (!Files.isRegularFile(pinFile)) continue;
                try {
                    var node = json.readTree(Files.readAllBytes(pinFile));
                    node.path("refs").forEach(n -> refs.add(n.asText()));
                    node.path("digests").forEach(n -> digests.add(n.asText()));
                } catch (IOException e) {
                    // Replaced by rename, so never half-written; unreadable means the session just ended.
                }
            }
        } catch (IOException e) {
            throw storage("cannot read pins in " + sessions, e);
        }
        return new Protection(refs, digests, options.inUse(), this::image);
    }

    /** Deletes the session directories of processes that are gone, with their staging files. Caller holds the lock. */
    private void sweepDeadSessions() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(sessions)) {
            for (Path s : ds) {
                if (session != null && s.equals(session.dir())) continue;
                if (!Session.alive(s.getFileName().toString())) Durable.deleteTree(s);
            }
        }
    }

    /** The index as last renamed into place, re-read only when the file changed. */
    private Index index() {
        try {
            BasicFileAttributes a = Files.readAttributes(indexFile, BasicFileAttributes.class);
            CachedIndex c = cached;
            if (c != null && java.util.Objects.equals(c.fileKey(), a.fileKey()) && c.modified().equals(a.lastModifiedTime())
                    && c.size() == a.size()) {
                return c.index();
            }
            Index i = codec.read(Files.readAllBytes(indexFile), indexFile.toString());
            cached = new CachedIndex(a.fileKey(), a.lastModifiedTime(), a.size(), i);
            return i;
        } catch (NoSuchFileException e) {
            return Index.EMPTY;
        } catch (IOException e) {
            throw storage("cannot read " + indexFile, e);
        }
    }

    /** Under the lock: the index on disk now, never the cache. */
    private Index readIndexFile() throws IOException {
        try {
            return codec.read(Files.readAllBytes(indexFile), indexFile.toString());
        } catch (NoSuchFileException e) {
            return Index.EMPTY;
        }
    }

    private void writeIndex(Index i) throws IOException {
        Durable.replace(indexFile, codec.write(i), session.tmp("index"));
        cached = null;
    }

    private byte[] readManifest(Path file) {
        try {
            if (Files.size(file) > ManifestValidator.MAX_BYTES) {
                throw new ImageException(Reason.INVALID, file + ": manifest is over " + ManifestValidator.MAX_BYTES + " bytes");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(Reason.NOT_FOUND, file + ": no such file", e);
        } catch (IOException e) {
            throw storage("cannot read " + file, e);
        }
    }

    private record BlobFile(String digest, Path path, long size) { }

    private List<BlobFile> blobFiles() {
        List<BlobFile> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(blobs)) {
            for (Path p : ds) {
                String d = "sha256:" + p.getFileName();
                if (!Digests.isSha256(d)) continue; // not ours: leave it alone
                try {
                    out.add(new BlobFile(d, p, Files.size(p)));
                } catch (NoSuchFileException gone) {
                    // removed by a concurrent gc
                }
            }
        } catch (IOException e) {
            throw storage("cannot list " + blobs, e);
        }
        return out;
    }

    private static void writeSynced(Path p, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    /** The store lock, held: this instance's threads queue on a ReentrantLock, processes on the file lock. */
    private final class Held implements AutoCloseable {
        private final FileLock fileLock;

        Held() throws IOException {
            if (closed) throw new ImageException(Reason.STORAGE, "image store " + root + " is closed");
            localLock.lock();
            try {
                fileLock = localLock.getHoldCount() > 1 ? null : FileLocks.lock(lockChannel);
            } catch (IOException | RuntimeException e) {
                localLock.unlock();
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                if (fileLock != null) fileLock.release();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                localLock.unlock();
            }
        }
    }

    private Held lock() throws IOException { return new Held(); }

    private void ensureOpen() {
        if (closed) throw new ImageException(Reason.STORAGE, "image store " + root + " is closed");
    }

    /** Ends the session: its pins are released and its directory deleted. */
    @Override
    public void close() {
        localLock.lock();
        try {
            if (closed) return;
            closed = true;
            // Closing a channel drops every lock this JVM holds on the file (POSIX semantics), including one
            // another store instance in this JVM might hold. So close it while WE hold the lock: then nobody
            // else in this JVM can, and the close releases exactly our own.
            FileLocks.lock(lockChannel);
            Durable.deleteTree(session.dir());
        } catch (IOException e) {
            throw storage("cannot close image store " + root, e);
        } finally {
            closeQuietly(lockChannel);
            localLock.unlock();
        }
    }

    private static ImageException notFound(String ref) {
        return new ImageException(Reason.NOT_FOUND, "no image " + ImageRef.quote(ref));
    }

    private static ImageException storage(String what, IOException e) {
        return new ImageException(Reason.STORAGE, what + ": " + e, e);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // staging file in our session dir: the next restart's sweep deletes it
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception ignored) {
            // nothing useful to do
        }
    }

}

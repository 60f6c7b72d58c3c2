package io.xenops.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The simplest store: images read from directories in place, held in memory. Enough to run the bundled
 * images; the content-addressed store replaces it for anything operators import or pull.
 */
public final class DirectoryImageStore implements ImageStore {
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private final Map<String, Image> images = new ConcurrentSkipListMap<>();
    private final ObjectMapper json = new ObjectMapper();

    @Override
    public List<Image> list() {
        return List.copyOf(images.values());
    }

    @Override
    public Optional<Image> find(String name) {
        return Optional.ofNullable(images.get(name));
    }

    @Override
    public List<Image> importBundled(Path dir) {
        if (!Files.isDirectory(dir)) throw new ImageException("image directory " + dir + " does not exist");
        List<Image> imported = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : children.sorted().toList()) {
                if (Files.isRegularFile(child.resolve("manifest.json"))) {
                    Image image = load(child);
                    images.put(image.name(), image);
                    imported.add(image);
                }
            }
        } catch (IOException e) {
            throw new ImageException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return imported;
    }

    Image load(Path dir) {
        Path manifestFile = dir.resolve("manifest.json");
        Path kernel = dir.resolve("kernel.elf");
        Manifest m;
        try {
            m = json.readValue(manifestFile.toFile(), Manifest.class);
        } catch (IOException e) {
            throw new ImageException(manifestFile + " is not a valid manifest: " + e.getMessage(), e);
        }
        if (m.name() == null || !NAME.matcher(m.name()).matches()) {
            throw new ImageException(manifestFile + ": name must match " + NAME.pattern());
        }
        if (m.memoryMiB() < 1 || m.vcpus() < 1) {
            throw new ImageException(manifestFile + ": memory_mib and vcpus must be positive");
        }
        if (!Files.isRegularFile(kernel)) throw new ImageException(dir + " has no kernel.elf");
        List<BootMode> modes = (m.bootModes() == null ? List.<String>of() : m.bootModes()).stream()
                .map(s -> BootMode.valueOf(s.toUpperCase(Locale.ROOT))).toList();
        try {
            return new Image(m.name(), m.version(), sha256(kernel), kernel, m.memoryMiB(), m.vcpus(), modes,
                    m.cmdline(), Files.size(kernel));
        } catch (IOException e) {
            throw new ImageException("cannot read " + kernel + ": " + e.getMessage(), e);
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return "sha256:" + HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}

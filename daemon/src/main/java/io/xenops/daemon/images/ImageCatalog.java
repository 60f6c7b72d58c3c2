package io.xenops.daemon.images;

import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageStore;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The images the daemon can spawn, in memory. The on-disk store reads its index file on every lookup; a
 * spawn must not touch the disk, so the VM service looks images up here, and {@link ImageService} replaces
 * the snapshot after every change to the store.
 */
public final class ImageCatalog implements ImageStore {
    private volatile Map<String, Image> byName = Map.of();

    /** Replaces the snapshot. For a name with several tags, the one the store resolves a bare name to wins. */
    void replace(Collection<Image> latest) {
        Map<String, Image> m = new ConcurrentSkipListMap<>();
        for (Image i : latest) m.put(i.name(), i);
        byName = m;
    }

    @Override
    public List<Image> list() { return List.copyOf(byName.values()); }

    @Override
    public Optional<Image> find(String name) { return Optional.ofNullable(byName.get(name)); }

    @Override
    public List<Image> importBundled(Path dir) {
        throw new ImageException("the catalog is read-only: import through the image service");
    }
}

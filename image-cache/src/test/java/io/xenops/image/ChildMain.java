package io.xenops.image;

import io.xenops.image.oci.ImageTransfer;
import io.xenops.image.oci.RegistryClient;
import io.xenops.image.oci.RegistryOptions;
import io.xenops.image.store.CasImageStore;
import io.xenops.image.store.StoreHooks;
import io.xenops.image.store.StoreOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a child JVM does in the crash and concurrency tests. It prints what it reached, so the parent knows
 * when to kill it.
 */
public final class ChildMain {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            // import <root> <kernel> <name> <step-to-hang-at|none>
            case "import" -> {
                StoreHooks hooks = hangAt(args[4]);
                try (CasImageStore store = new CasImageStore(Path.of(args[1]), StoreOptions.defaults().withHooks(hooks))) {
                    store.importImage(Path.of(args[2]), TestElf.manifest(args[3], "1").getBytes(StandardCharsets.UTF_8), null);
                    System.out.println("DONE");
                }
            }
            // import-many <root> <workdir> <prefix> <count>: distinct images, tags, a shared kernel, and gc
            case "import-many" -> {
                Path work = Path.of(args[2]);
                String prefix = args[3];
                int count = Integer.parseInt(args[4]);
                try (CasImageStore store = new CasImageStore(Path.of(args[1]))) {
                    Path shared = TestElf.both().seed(4242).write(work.resolve(prefix + "-shared.elf"));
                    for (int i = 0; i < count; i++) {
                        Path k = TestElf.both().seed(prefix.hashCode() * 1000L + i).write(work.resolve(prefix + "-" + i + ".elf"));
                        store.importImage(k, TestElf.manifest(prefix + "-" + i, "1").getBytes(StandardCharsets.UTF_8), null);
                        store.importImage(shared, TestElf.manifest("shared", prefix + "-" + i).getBytes(StandardCharsets.UTF_8), null);
                        store.tag(prefix + "-" + i + ":1", prefix + "-" + i + ":alias");
                        if (i % 5 == 4) store.gc(Long.MAX_VALUE);
                    }
                    System.out.println("DONE " + store.list().size());
                }
            }
            // pull <root> <ref> <chunks-before-hanging>
            case "pull" -> {
                StoreHooks hooks = hangAfterChunks(Integer.parseInt(args[3]));
                try (CasImageStore store = new CasImageStore(Path.of(args[1]), StoreOptions.defaults().withHooks(hooks));
                     RegistryClient client = new RegistryClient(RegistryOptions.defaults());
                     ImageTransfer transfer = new ImageTransfer(store, client)) {
                    transfer.pull(args[2], io.xenops.image.oci.ProgressListener.NONE).join();
                    System.out.println("DONE");
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static StoreHooks hangAt(String step) {
        if (step.equals("none")) return StoreHooks.NONE;
        StoreHooks.Step target = StoreHooks.Step.valueOf(step);
        return s -> {
            if (s == target) hang("AT " + s);
        };
    }

    private static StoreHooks hangAfterChunks(int n) {
        AtomicInteger chunks = new AtomicInteger();
        return s -> {
            if (s == StoreHooks.Step.DOWNLOAD_CHUNK && chunks.incrementAndGet() == n) hang("AT CHUNK " + n);
        };
    }

    private static void hang(String said) {
        System.out.println(said);
        System.out.flush();
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ChildMain() { }
}

package io.xenops.daemon.images;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.xenops.daemon.error.XenopsException;
import io.xenops.daemon.events.EventLog;
import io.xenops.daemon.tasks.Task;
import io.xenops.daemon.tasks.TaskRegistry;
import io.xenops.daemon.tasks.TaskView;
import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageRef;
import io.xenops.image.oci.ImageTransfer;
import io.xenops.image.store.CasImageStore;
import io.xenops.image.store.GcResult;
import io.xenops.image.store.ImageDetails;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Images for the API: the content-addressed store's operations, run off the event loop, with pulls and
 * pushes as tasks. After every change the {@link ImageCatalog} snapshot is refreshed and the VM service is
 * told which images now exist (it keeps one pool per image).
 */
public final class ImageService {
    private static final System.Logger LOG = System.getLogger("xenops.images");

    private final Vertx vertx;
    private final Context ctx;
    private final CasImageStore store;
    private final ImageTransfer transfer;
    private final ImageCatalog catalog;
    private final TaskRegistry tasks;
    private final EventLog events;
    private final Consumer<List<Image>> onChange;
    private final java.util.function.Predicate<String> nameInUse;

    /** @param onChange told (on the control context) the images that exist after a change */
    /**
     * @param nameInUse whether a pool or a VM uses an image name; the store only protects kernel blobs, and
     *                  a name can go while another name keeps the same kernel
     */
    public ImageService(Vertx vertx, Context ctx, CasImageStore store, ImageTransfer transfer, ImageCatalog catalog,
                        TaskRegistry tasks, EventLog events, Consumer<List<Image>> onChange,
                        java.util.function.Predicate<String> nameInUse) {
        this.nameInUse = nameInUse;
        this.vertx = vertx;
        this.ctx = ctx;
        this.store = store;
        this.transfer = transfer;
        this.catalog = catalog;
        this.tasks = tasks;
        this.events = events;
        this.onChange = onChange;
    }

    /** Imports the bundled images and fills the catalog; called once at start, before serving. */
    public void startBlocking(List<Path> bundledDirs) {
        for (Path dir : bundledDirs) {
            List<Image> got = store.importBundled(dir);
            LOG.log(System.Logger.Level.INFO, "imported {0} bundled image(s) from {1}: {2}", got.size(), dir,
                    got.stream().map(Image::name).toList());
        }
        catalog.replace(latestPerName());
    }

    public Future<List<ImageDetails>> list() { return blocking(store::inspectAll); }

    public Future<ImageDetails> inspect(String name) { return blocking(() -> store.inspect(name)); }

    public Future<Image> importFiles(Path kernel, Path manifest) {
        return changing(() -> store.importImage(kernel, manifest));
    }

    public Future<Void> remove(String name) {
        if (nameInUse.test(name)) {
            return Future.failedFuture(new XenopsException.Conflict("image " + name
                    + " is in use by a pool or a VM: set its pool target to 0 and destroy its VMs first"));
        }
        return changing(() -> {
            store.remove(name);
            return null;
        });
    }

    public Future<GcResult> gc(long budgetBytes) { return changing(() -> store.gc(budgetBytes)); }

    /** Pulls an OCI artifact as a task: progress is bytes done over bytes to fetch; the result is the image. */
    public TaskView pull(String reference, String as) {
        ImageRef asRef;
        try {
            asRef = as == null ? null : ImageRef.parse(as);
        } catch (ImageException e) {
            throw new XenopsException.InvalidRequest("name: " + e.getMessage());
        }
        CompletableFuture<Image>[] running = new CompletableFuture[1];
        Task task = tasks.start("image-pull", reference, () -> {
            if (running[0] != null) running[0].cancel(true);
        });
        running[0] = transfer.pull(reference, asRef, (done, total) -> ctx.runOnContext(v ->
                tasks.progress(task, total <= 0 ? 0 : (double) done / total)));
        Future.fromCompletionStage(running[0], ctx).onComplete(ar -> {
            if (ar.succeeded()) {
                refresh().onComplete(x -> tasks.succeed(task, ar.result()));
            } else {
                tasks.fail(task, map(ar.cause()));
            }
        });
        return task.view();
    }

    /** Pushes a local image to a registry reference as a task. */
    public TaskView push(String image, String reference) {
        Task task = tasks.start("image-push", image, () -> { });
        Future.fromCompletionStage(transfer.push(image, reference, (done, total) -> ctx.runOnContext(v ->
                tasks.progress(task, total <= 0 ? 0 : (double) done / total))), ctx).onComplete(ar -> {
            if (ar.succeeded()) tasks.succeed(task, ar.result());
            else tasks.fail(task, map(ar.cause()));
        });
        return task.view();
    }

    private <T> Future<T> changing(Callable<T> op) {
        return blocking(op).compose(r -> refresh().map(r));
    }

    private Future<Void> refresh() {
        return blocking(this::latestPerName).map(latest -> {
            catalog.replace(latest);
            onChange.accept(latest);
            events.publish("images.changed", "images");
            return null;
        });
    }

    /** One image per name: the one a bare name resolves to. */
    private List<Image> latestPerName() {
        List<Image> out = new ArrayList<>();
        for (String name : store.list().stream().map(Image::name).distinct().toList()) {
            store.find(name).ifPresent(out::add);
        }
        return out;
    }

    private <T> Future<T> blocking(Callable<T> op) {
        return vertx.<T>executeBlocking(op, false).recover(e -> Future.failedFuture(map(e)));
    }

    static XenopsException map(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
                && c.getCause() != null) c = c.getCause();
        if (c instanceof XenopsException x) return x;
        if (c instanceof ImageException e) {
            return switch (e.reason()) {
                case INVALID -> new XenopsException.InvalidRequest(e.getMessage());
                case TOO_LARGE -> new XenopsException.PayloadTooLarge(e.getMessage());
                case NOT_FOUND -> new XenopsException.NotFound(e.getMessage());
                case CONFLICT -> new XenopsException.Conflict(e.getMessage());
                case UNAUTHORIZED, REGISTRY -> new XenopsException.DriverFailure("registry: " + e.getMessage(), e);
                case STORAGE -> new XenopsException.DriverFailure("image store: " + e.getMessage(), e);
            };
        }
        if (c instanceof java.util.concurrent.CancellationException) return new XenopsException.Conflict("cancelled");
        return new XenopsException.DriverFailure(String.valueOf(c.getMessage()), c);
    }
}

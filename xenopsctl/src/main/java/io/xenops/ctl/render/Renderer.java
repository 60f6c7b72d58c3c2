package io.xenops.ctl.render;

import io.xenops.ctl.api.ApiException;
import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.GcResult;
import io.xenops.ctl.api.Health;
import io.xenops.ctl.api.Image;
import io.xenops.ctl.api.ImageDetails;
import io.xenops.ctl.api.ImageList;
import io.xenops.ctl.api.Invocation;
import io.xenops.ctl.api.Pool;
import io.xenops.ctl.api.PoolList;
import io.xenops.ctl.api.Task;
import io.xenops.ctl.api.Vm;
import io.xenops.ctl.api.VmList;

/** What each command shows on stdout; one implementation for people, one for scripts. */
public interface Renderer {
    void spawned(Fetched<Vm> vm);

    void vm(Fetched<Vm> vm);

    void vms(Fetched<VmList> vms);

    void destroyed(String id);

    void pools(Fetched<PoolList> pools);

    void pool(Fetched<Pool> pool);

    void images(Fetched<ImageList> images);

    void invoked(Fetched<Invocation> invocation);

    void image(Fetched<ImageDetails> image);

    void imported(Fetched<Image> image);

    /** A pull or push task that succeeded. */
    void taskDone(Fetched<Task> task);

    void imageRemoved(String name);

    void gc(Fetched<GcResult> result);

    void health(Fetched<Health> health);

    /** @param daemon null when only the client's version was asked for */
    void version(String client, Fetched<Health> daemon);

    /** Called for an API error after its one-line message went to stderr. */
    void problem(ApiException e);
}

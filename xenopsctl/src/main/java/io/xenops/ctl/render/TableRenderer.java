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
import io.xenops.ctl.api.TaskResult;
import io.xenops.ctl.api.Vm;
import io.xenops.ctl.api.VmList;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;

/** Output for people: aligned tables and short sentences. */
public final class TableRenderer implements Renderer {
    private final PrintWriter out;
    private final Clock clock;

    public TableRenderer(PrintWriter out, Clock clock) {
        this.out = out;
        this.clock = clock;
    }

    @Override
    public void spawned(Fetched<Vm> fetched) {
        Vm vm = fetched.value();
        // First line "id state" so `read id state` works on it.
        out.println(Text.cell(vm.id()) + " " + Text.cell(vm.state()));
        if (vm.timings() != null) {
            out.println(Text.cell(Formats.spawnSummary(vm.timings())));
        }
        if (vm.result() != null) {
            out.println("result: " + Text.cell(vm.result()));
        }
        if (vm.exitReason() != null) {
            out.println("exit: " + Text.cell(vm.exitReason()));
        }
        out.flush();
    }

    @Override
    public void vm(Fetched<Vm> fetched) {
        Vm vm = fetched.value();
        Table t = new Table("FIELD", "VALUE").noHeader();
        t.row("id", vm.id());
        t.row("image", vm.image());
        t.row("state", vm.state());
        String age = Formats.age(vm.createdAt(), clock);
        t.row("created", vm.createdAt() + (age == null ? "" : " (" + age + " ago)"));
        if (vm.result() != null) {
            t.row("result", vm.result());
        }
        if (vm.exitReason() != null) {
            t.row("exit reason", vm.exitReason());
        }
        if (vm.timings() != null) {
            t.row("spawn path", vm.timings().path());
            if (vm.timings().receivedAt() != null) {
                t.row("received", vm.timings().receivedAt());
            }
            t.row("timings", Formats.steps(vm.timings(), true));
        }
        if (vm.driver() != null) {
            for (Map.Entry<String, String> e : new TreeMap<>(vm.driver()).entrySet()) {
                t.row("driver." + e.getKey(), e.getValue());
            }
        }
        t.print(out);
    }

    @Override
    public void vms(Fetched<VmList> fetched) {
        VmList list = fetched.value();
        if (list.vms().isEmpty()) {
            out.println("No VMs. Spawn one with: xenopsctl spawn <image>");
            out.flush();
            return;
        }
        Table t = new Table("ID", "IMAGE", "STATE", "AGE", "PATH");
        t.alignRight(3);
        for (Vm vm : list.vms()) {
            t.row(vm.id(), vm.image(), vm.state(), Formats.age(vm.createdAt(), clock),
                    vm.timings() == null ? null : vm.timings().path());
        }
        t.print(out);
    }

    @Override
    public void destroyed(String id) {
        out.println("destroyed " + Text.cell(id));
        out.flush();
    }

    @Override
    public void pools(Fetched<PoolList> fetched) {
        PoolList list = fetched.value();
        if (list.pools().isEmpty()) {
            out.println("No pools.");
            out.flush();
            return;
        }
        Table t = new Table("IMAGE", "TARGET", "READY", "BUILDING", "WARM", "COLD", "FAILURES", "LAST ERROR");
        t.alignRight(1, 2, 3, 4, 5, 6);
        for (Pool p : list.pools()) {
            t.row(p.image(), str(p.target()), str(p.ready()), str(p.building()), str(p.spawnedWarm()),
                    str(p.spawnedCold()), str(p.buildFailures()), p.lastError());
        }
        t.print(out);
    }

    @Override
    public void pool(Fetched<Pool> fetched) {
        Pool p = fetched.value();
        out.println("pool " + Text.cell(p.image()) + ": target " + p.target() + ", ready " + p.ready()
                + ", building " + p.building());
        if (p.lastError() != null) {
            out.println("last error: " + Text.cell(p.lastError()));
        }
        out.flush();
    }

    @Override
    public void images(Fetched<ImageList> fetched) {
        ImageList list = fetched.value();
        if (list.images().isEmpty()) {
            out.println("No images.");
            out.flush();
            return;
        }
        Table t = new Table("NAME", "VERSION", "VCPUS", "MEMORY", "BOOT", "SIZE", "DIGEST");
        t.alignRight(2, 3, 5);
        for (Image i : list.images()) {
            t.row(i.name(), i.version(), str(i.vcpus()), i.memoryMib() + " MiB", String.join(",", i.bootModes()),
                    Formats.bytes(i.sizeBytes()), Formats.shortDigest(i.digest()));
        }
        t.print(out);
    }

    @Override
    public void invoked(Fetched<Invocation> fetched) {
        // The output alone, so `xenopsctl invoke hello --input x` composes in a pipeline.
        out.println(Text.cell(fetched.value().output()));
        out.flush();
    }

    @Override
    public void image(Fetched<ImageDetails> fetched) {
        ImageDetails i = fetched.value();
        Table t = new Table("FIELD", "VALUE").noHeader();
        t.row("name", i.name());
        optional(t, "ref", i.ref());
        optional(t, "version", i.version());
        t.row("digest", i.digest());
        optional(t, "config digest", i.configDigest());
        optional(t, "vcpus", i.vcpus() == null ? null : i.vcpus().toString());
        optional(t, "memory", i.memoryMib() == null ? null : i.memoryMib() + " MiB");
        optional(t, "boot", i.bootModes().isEmpty() ? null : String.join(",", i.bootModes()));
        optional(t, "cmdline", i.cmdline());
        optional(t, "size", i.sizeBytes() == null ? null : Formats.bytes(i.sizeBytes()) + " (" + i.sizeBytes() + " bytes)");
        optional(t, "created", i.created());
        t.row("last used", i.lastUsed() == null ? "never" : i.lastUsed());
        optional(t, "pinned", i.pinned() == null ? null : i.pinned().toString());
        t.row("source", i.source() == null ? "local import" : i.source());
        t.print(out);
    }

    @Override
    public void imported(Fetched<Image> fetched) {
        Image i = fetched.value();
        out.println("imported " + Text.cell(i.name()) + (i.version() == null ? "" : " " + Text.cell(i.version()))
                + " " + Text.cell(i.digest()));
        out.flush();
    }

    @Override
    public void taskDone(Fetched<Task> fetched) {
        Task task = fetched.value();
        TaskResult r = task.result();
        if (r != null && r.name() != null) {
            out.println("pulled " + Text.cell(r.name()) + " " + Text.cell(r.digest()));
        } else if (r != null && r.reference() != null) {
            out.println("pushed " + Text.cell(task.subject()) + " to " + Text.cell(r.reference()) + " "
                    + Text.cell(r.manifestDigest())
                    + (r.bytesUploaded() == null ? "" : " (" + Formats.bytes(r.bytesUploaded()) + " uploaded)"));
        } else {
            out.println(Text.cell(task.kind()) + " " + Text.cell(task.subject()) + " " + Text.cell(task.state()));
        }
        out.flush();
    }

    @Override
    public void imageRemoved(String name) {
        out.println("removed " + Text.cell(name));
        out.flush();
    }

    @Override
    public void gc(Fetched<GcResult> fetched) {
        GcResult g = fetched.value();
        out.println(g.evicted().isEmpty() ? "evicted nothing"
                : "evicted " + g.evicted().size() + (g.evicted().size() == 1 ? " image: " : " images: ")
                + Text.cell(String.join(", ", g.evicted())));
        StringBuilder line = new StringBuilder("freed ").append(Formats.bytes(g.bytesFreed()))
                .append(", store now ").append(Formats.bytes(g.bytesUsed()));
        if (g.budgetBytes() != null) {
            line.append(" of a ").append(Formats.bytes(g.budgetBytes())).append(" budget");
        }
        if (Boolean.FALSE.equals(g.withinBudget())) {
            line.append(" (still over budget: the rest is in use)");
        }
        out.println(line);
        out.flush();
    }

    @Override
    public void health(Fetched<Health> fetched) {
        Health h = fetched.value();
        out.println("xenopsd " + Text.cell(h.status()) + ": " + daemonFacts(h)
                + (h.version() == null ? "" : ", version " + Text.cell(h.version())));
        out.flush();
    }

    @Override
    public void version(String client, Fetched<Health> daemon) {
        out.println("xenopsctl " + client);
        if (daemon != null) {
            Health h = daemon.value();
            out.println("xenopsd   " + (h.version() == null ? "(version not reported)" : Text.cell(h.version()))
                    + " (" + daemonFacts(h) + ")");
        }
        out.flush();
    }

    @Override
    public void problem(ApiException e) {
        // The one-line message on stderr says it all for people.
    }

    private static String daemonFacts(Health h) {
        StringBuilder sb = new StringBuilder("driver ").append(h.driver() == null ? "?" : Text.cell(h.driver()));
        if (h.accel() != null) {
            sb.append(", accel ").append(Text.cell(h.accel()));
        }
        return sb.toString();
    }

    private static void optional(Table t, String field, String value) {
        if (value != null) {
            t.row(field, value);
        }
    }

    private static String str(Integer n) {
        return n == null ? null : n.toString();
    }
}

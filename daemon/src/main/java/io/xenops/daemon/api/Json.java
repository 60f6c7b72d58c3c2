package io.xenops.daemon.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xenops.daemon.events.Event;
import io.xenops.daemon.events.EventLog;
import io.xenops.daemon.pool.PoolView;
import io.xenops.daemon.tasks.TaskView;
import io.xenops.daemon.vm.InvocationView;
import io.xenops.daemon.vm.Timings;
import io.xenops.daemon.vm.VmView;
import io.xenops.image.BootMode;
import io.xenops.image.Image;
import java.util.List;
import java.util.Locale;

/** Renders the daemon's views as the contract's JSON shapes (snake_case, as api-spec/openapi.yaml says). */
final class Json {
    private final ObjectMapper mapper;

    Json(ObjectMapper mapper) { this.mapper = mapper; }

    ObjectMapper mapper() { return mapper; }

    ObjectNode vm(VmView v) {
        ObjectNode n = mapper.createObjectNode();
        n.put("id", v.id());
        n.put("image", v.image());
        n.put("state", v.phase().name().toLowerCase(Locale.ROOT));
        n.put("created_at", v.createdAt().toString());
        n.put("result", v.result());
        n.put("exit_reason", v.exitReason());
        if (v.timings() != null) n.set("timings", timings(v.timings()));
        ObjectNode d = n.putObject("driver");
        v.driver().forEach(d::put);
        return n;
    }

    private ObjectNode timings(Timings t) {
        ObjectNode n = mapper.createObjectNode();
        n.put("path", t.path());
        if (t.receivedAt() != null) n.put("received_at", t.receivedAt().toString());
        putIf(n, "taken_us", t.takenUs());
        putIf(n, "resumed_us", t.resumedUs());
        putIf(n, "ready_us", t.readyUs());
        putIf(n, "result_us", t.resultUs());
        putIf(n, "responded_us", t.respondedUs());
        return n;
    }

    private static void putIf(ObjectNode n, String k, long v) {
        if (v >= 0) n.put(k, v);
    }

    /** The contract's list shape: one object holding one array of rendered items. */
    private <T> ObjectNode list(String key, List<T> items, java.util.function.Function<T, ObjectNode> render) {
        ObjectNode n = mapper.createObjectNode();
        ArrayNode a = n.putArray(key);
        items.forEach(i -> a.add(render.apply(i)));
        return n;
    }

    ObjectNode vms(List<VmView> vs) { return list("vms", vs, this::vm); }

    ObjectNode pool(PoolView p) {
        ObjectNode n = mapper.createObjectNode();
        n.put("image", p.image());
        n.put("target", p.target());
        n.put("ready", p.ready());
        n.put("building", p.building());
        n.put("spawned_warm", p.spawnedWarm());
        n.put("spawned_cold", p.spawnedCold());
        n.put("build_failures", p.buildFailures());
        n.put("last_error", p.lastError());
        return n;
    }

    ObjectNode pool(PoolView p, String task) {
        ObjectNode n = pool(p);
        n.put("task", task);
        return n;
    }

    ObjectNode event(Event e) {
        ObjectNode n = mapper.createObjectNode();
        n.put("id", e.id());
        n.put("kind", e.kind());
        n.put("subject", e.subject());
        n.put("at", e.at().toString());
        return n;
    }

    ObjectNode page(EventLog.Page p) {
        ObjectNode n = mapper.createObjectNode();
        ArrayNode a = n.putArray("events");
        p.events().forEach(e -> a.add(event(e)));
        n.put("next", p.next());
        n.put("truncated", p.truncated());
        return n;
    }

    ObjectNode task(TaskView t, java.util.function.Function<io.xenops.daemon.error.XenopsException, ObjectNode> problem) {
        ObjectNode n = mapper.createObjectNode();
        n.put("id", t.id());
        n.put("kind", t.kind());
        n.put("subject", t.subject());
        n.put("state", t.state().name().toLowerCase(Locale.ROOT));
        n.put("progress", t.progress());
        switch (t.result()) {
            case VmView v -> n.set("result", vm(v));
            case PoolView p -> n.set("result", pool(p));
            case Image i -> n.set("result", image(i));
            case io.xenops.image.oci.ImageTransfer.PushResult r -> n.set("result", mapper.createObjectNode()
                    .put("reference", r.reference()).put("manifest_digest", r.manifestDigest())
                    .put("bytes_uploaded", r.bytesUploaded()));
            case null, default -> { }
        }
        if (t.error() != null) n.set("error", problem.apply(t.error()));
        n.put("created_at", t.createdAt().toString());
        n.put("finished_at", t.finishedAt() == null ? null : t.finishedAt().toString());
        return n;
    }

    ObjectNode tasks(List<TaskView> ts, java.util.function.Function<io.xenops.daemon.error.XenopsException, ObjectNode> problem) {
        return list("tasks", ts, t -> task(t, problem));
    }

    ObjectNode invocation(InvocationView i) {
        ObjectNode n = mapper.createObjectNode();
        n.put("image", i.image());
        n.put("vm", i.vm());
        n.put("output", i.output());
        n.set("timings", timings(i.timings()));
        return n;
    }

    ObjectNode pools(List<PoolView> ps) { return list("pools", ps, this::pool); }

    ObjectNode image(Image i) {
        ObjectNode o = mapper.createObjectNode();
        o.put("name", i.name());
        o.put("version", i.version());
        o.put("digest", i.digest());
        o.put("memory_mib", i.memoryMiB());
        o.put("vcpus", i.vcpus());
        ArrayNode m = o.putArray("boot_modes");
        for (BootMode b : i.bootModes()) m.add(b.name().toLowerCase(Locale.ROOT));
        o.put("size_bytes", i.sizeBytes());
        return o;
    }

    ObjectNode imageDetails(io.xenops.image.store.ImageDetails d) {
        ObjectNode o = image(d.image());
        o.put("ref", d.ref());
        o.put("config_digest", d.configDigest());
        o.put("cmdline", d.image().cmdline());
        o.put("created", d.created() == null ? null : d.created().toString());
        o.put("last_used", d.lastUsed() == null ? null : d.lastUsed().toString());
        o.put("pinned", d.pinned());
        o.put("source", d.source());
        return o;
    }

    ObjectNode gc(io.xenops.image.store.GcResult g) {
        ObjectNode o = mapper.createObjectNode();
        ArrayNode e = o.putArray("evicted");
        g.evicted().forEach(e::add);
        o.put("blobs_removed", g.blobsRemoved());
        o.put("bytes_freed", g.bytesFreed());
        o.put("bytes_used", g.bytesUsed());
        o.put("budget_bytes", g.budgetBytes());
        o.put("within_budget", g.withinBudget());
        return o;
    }

    ObjectNode images(List<Image> is) { return list("images", is, this::image); }
}

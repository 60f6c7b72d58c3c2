package io.xenops.driver.xen;

import io.xenops.hypercall.FakeXen;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.wire.Permissions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What xl and xenconsoled do, in memory: a domain in {@link FakeXen}, its XenStore home with name and
 * console/tty, @introduceDomain; destroy undoes all of it and fires @releaseDomain.
 */
final class FakeToolstack implements Toolstack {
    final FakeXen xen;
    final XenStoreServer server;
    final XenStoreClient dom0;
    final FakeConsoles consoles;
    final AtomicInteger nextDomid = new AtomicInteger(1);
    final Map<String, Integer> byName = new ConcurrentHashMap<>();
    final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<String> configs = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Types ("pvh", "pv") whose build fails, as PVH does on a host without HAP. */
    final Set<String> failingTypes = new HashSet<>();
    /** Whether the record existed when each create ran (the record-before-create invariant). */
    final List<Boolean> recordExistedAtCreate = new ArrayList<>();

    /** What {@link #cpuState} answers, by domid (xen-hvmctx on a real host). */
    final Map<Integer, CpuState> cpuStates = new ConcurrentHashMap<>();

    @Override
    public java.util.Optional<CpuState> cpuState(int domid) {
        calls.add("cpu-state " + domid);
        return java.util.Optional.ofNullable(cpuStates.get(domid));
    }

    FakeToolstack(FakeXen xen, XenStoreServer server, XenStoreClient dom0, FakeConsoles consoles) {
        this.xen = xen;
        this.server = server;
        this.dom0 = dom0;
        this.consoles = consoles;
    }

    @Override
    public synchronized int createPaused(Path config, String name) throws IOException {
        calls.add("create " + name);
        String cfg = Files.readString(config);
        configs.add(cfg);
        recordExistedAtCreate.add(Files.isRegularFile(config.resolveSibling(RecordStore.RECORD)));
        String type = cfg.lines().filter(l -> l.startsWith("type = ")).findFirst().orElseThrow().split("\"")[1];
        if (failingTypes.contains(type)) throw new IOException("xl create: " + type + " is not supported here");
        String uuid = cfg.lines().filter(l -> l.startsWith("uuid = ")).findFirst().map(l -> l.split("\"")[1]).orElse(null);
        return build(name, uuid);
    }

    /** A domain named {@code name}, as if xl made it (also used to plant a half-made domain). */
    synchronized int build(String name) {
        return build(name, null);
    }

    /** As {@link #build(String)}, with the handle given as a UUID (xl.cfg's {@code uuid}), or random when null. */
    synchronized int build(String name, String uuid) {
        int domid = nextDomid.getAndIncrement();
        byte[] handle = new byte[16];
        if (uuid != null) handle = java.util.HexFormat.of().parseHex(uuid.replace("-", ""));
        else ThreadLocalRandom.current().nextBytes(handle);
        xen.put(FakeXen.paused(domid, handle));
        String home = "/local/domain/" + domid;
        var b = dom0.blocking();
        b.write(home + "/name", name);
        b.setPermissions(home, Permissions.parse("n0 r" + domid));
        String tty = "/dev/pts/fake" + domid;
        consoles.register(tty);
        b.write(home + "/console/tty", tty);
        server.introduceDomain(domid);
        byName.put(name, domid);
        return domid;
    }

    @Override
    public synchronized void destroy(String name) {
        calls.add("destroy " + name);
        Integer domid = byName.remove(name);
        if (domid == null && name.chars().allMatch(Character::isDigit) && xen.get(Integer.parseInt(name)) != null) {
            // xl destroy <domid>: works without a name in XenStore
            domid = Integer.parseInt(name);
            byName.values().remove(domid);
        }
        if (domid == null) return;
        gone(domid);
    }

    /** The domain disappears from Xen and XenStore; @releaseDomain fires. */
    void gone(int domid) {
        xen.remove(domid);
        dom0.blocking().rm("/local/domain/" + domid);
        consoles.hangUp("/dev/pts/fake" + domid);
        try {
            server.releaseDomain(domid);
        } catch (RuntimeException e) {
            // already released: the test fired @releaseDomain itself for a shutdown before "xl destroy"
        }
    }

    long creates() {
        return calls.stream().filter(c -> c.startsWith("create")).count();
    }
}

package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo.DomainState;
import org.libvirt.LibvirtException;

/**
 * The driver against libvirt's in-process test driver ({@code test:///default}): no daemon, no guest
 * runs, but libvirt's own domain objects, metadata and lifecycle events are real. A second connection
 * (the "operator") plays everybody else on the host; it also keeps the shared test-driver state alive
 * between the driver instances a test opens and closes.
 */
class LibvirtDriverTestUriTest {
    private static final String URI = "test:///default";
    private static LibvirtEventLoop loop;
    private static Connect operator;

    @TempDir
    Path state;

    private final List<LibvirtDriver> drivers = new ArrayList<>();
    private final BlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();

    @BeforeAll
    static void startLibvirt() throws LibvirtException {
        loop = new LibvirtEventLoop();
        operator = new Connect(URI);
    }

    @AfterAll
    static void stopLibvirt() throws LibvirtException {
        if (operator != null) operator.close();
        if (loop != null) loop.close();
    }

    @BeforeEach
    void noEvents() {
        events.clear();
    }

    @AfterEach
    void closeDriversAndDropTheirDomains() throws LibvirtException {
        for (LibvirtDriver d : drivers) d.close();
        // Everything a test made carries a unique name prefix; the operator removes what is left.
        for (Domain d : operator.listAllDomains(0)) {
            if (d.getName().startsWith("t-")) d.destroy();
        }
    }

    private LibvirtDriver driver(Path stateDir) {
        LibvirtDriver d = new LibvirtDriver(LibvirtConfig.defaults(URI, stateDir).withNamePrefix("t-"), loop);
        d.setListener(events::add);
        drivers.add(d);
        return d;
    }

    private static String newId() {
        return "vm-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12);
    }

    private static DomainSpec spec(String id) {
        return new DomainSpec(id, "hello", Path.of("/images/hello/kernel.elf"), 4, 1, "xenops.id=" + id);
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static DomainState libvirtState(String name) throws LibvirtException {
        return operator.domainLookupByName(name).getInfo().state;
    }

    private static boolean exists(String name) throws LibvirtException {
        for (Domain d : operator.listAllDomains(0)) if (d.getName().equals(name)) return true;
        return false;
    }

    @Test
    void createsAPausedDomainFromGeneratedXmlTaggedWithItsOwner() throws Exception {
        LibvirtDriver driver = driver(state);
        String id = newId();

        DomainInfo info = await(driver.create(spec(id)));

        assertThat(info.state()).isEqualTo(io.xenops.driver.DomainState.PAUSED);
        assertThat(info.details()).containsEntry("name", "t-" + id).containsEntry("hypervisor", "test");
        Domain dom = operator.domainLookupByName("t-" + id);
        assertThat(dom.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
        assertThat(dom.getUUIDString()).isEqualTo(info.details().get("uuid"));
        String xml = dom.getXMLDesc(0);
        assertThat(xml).contains("<cmdline>xenops.id=" + id + "</cmdline>").contains("<kernel>/images/hello/kernel.elf</kernel>");
        OwnerTag tag = OwnerTag.parse(dom.getMetadata(Domain.MetadataType.ELEMENT, OwnerTag.NAMESPACE, 0)).orElseThrow();
        assertThat(tag.id()).isEqualTo(id);
        assertThat(tag.ownedBy(state)).isTrue();
        // The record exists and is confirmed.
        var rec = new ObjectMapper().readTree(state.resolve("domains").resolve(id).resolve("domain.json").toFile());
        assertThat(rec.get("confirmed").asBoolean()).isTrue();
        assertThat(rec.get("uuid").asText()).isEqualTo(dom.getUUIDString());
        assertThat(driver.list()).extracting(DomainInfo::id).containsExactly(id);
    }

    @Test
    void unpauseAndPauseDriveLibvirt() throws Exception {
        LibvirtDriver driver = driver(state);
        String id = newId();
        await(driver.create(spec(id)));

        await(driver.unpause(id));

        assertThat(libvirtState("t-" + id)).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
        assertThat(driver.list().getFirst().state()).isEqualTo(io.xenops.driver.DomainState.RUNNING);
        await(driver.unpause(id)); // resuming a running domain is not an error to the daemon

        await(driver.pause(id));
        assertThat(libvirtState("t-" + id)).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
        assertThat(driver.list().getFirst().state()).isEqualTo(io.xenops.driver.DomainState.PAUSED);
        await(driver.pause(id));
    }

    @Test
    void libvirtCallsRunOnTheDriversWorkersNeverOnTheCaller() throws Exception {
        // One worker, held busy by a listener that blocks: a call made meanwhile must return a pending
        // future at once and run later on the worker. Were it run on the caller, it would be done already.
        LibvirtDriver driver = new LibvirtDriver(LibvirtConfig.defaults(URI, state).withNamePrefix("t-").withWorkers(1), loop);
        drivers.add(driver);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch blocked = new java.util.concurrent.CountDownLatch(1);
        driver.setListener(e -> {
            blocked.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
        String victim = newId();
        String id = newId();
        await(driver.create(spec(victim)));
        await(driver.create(spec(id)));
        operator.domainLookupByName("t-" + victim).destroy(); // its Exited is reported on the worker, which blocks
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();

        long t0 = System.nanoTime();
        var unpaused = driver.unpause(id);
        long callNanos = System.nanoTime() - t0;
        var thread = unpaused.thenApply(v -> Thread.currentThread().getName());

        assertThat(unpaused).isNotDone();
        assertThat(callNanos).isLessThan(Duration.ofMillis(100).toNanos());
        assertThat(libvirtState("t-" + id)).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
        release.countDown();
        assertThat(await(thread)).startsWith("libvirt-worker-");
        assertThat(libvirtState("t-" + id)).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
    }

    @Test
    void destroyRemovesTheDomainAndItsRecordAndReportsNothing() throws Exception {
        LibvirtDriver driver = driver(state);
        String id = newId();
        await(driver.create(spec(id)));

        await(driver.destroy(id));

        assertThat(exists("t-" + id)).isFalse();
        assertThat(state.resolve("domains").resolve(id)).doesNotExist();
        assertThat(driver.list()).isEmpty();
        assertThat(events.poll(300, TimeUnit.MILLISECONDS)).isNull(); // the end was ours: no Exited
        await(driver.destroy(id)); // unknown ids complete normally
    }

    @Test
    void aDomainDestroyedBehindTheDriversBackIsReportedKilledFromLibvirtsEvent() throws Exception {
        LibvirtDriver driver = driver(state);
        String id = newId();
        await(driver.create(spec(id)));
        await(driver.unpause(id));

        long before = System.nanoTime();
        operator.domainLookupByName("t-" + id).destroy();

        DomainEvent e = events.poll(5, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(DomainEvent.Exited.class);
        DomainEvent.Exited x = (DomainEvent.Exited) e;
        assertThat(x.id()).isEqualTo(id);
        assertThat(x.reason()).isEqualTo(DomainEvent.ExitReason.KILLED);
        assertThat(x.detail()).contains("DESTROYED");
        assertThat(x.nanoTime()).isGreaterThanOrEqualTo(before);
        eventually(() -> driver.list().isEmpty() && !Files.exists(state.resolve("domains").resolve(id)));
        assertThat(events.poll(200, TimeUnit.MILLISECONDS)).isNull(); // exactly one end
    }

    @Test
    void operationsOnUnknownDomainsFailAsNoSuchDomain() throws Exception {
        LibvirtDriver driver = driver(state);
        for (var f : List.of(driver.unpause("vm-nope"), driver.pause("vm-nope"), driver.send("vm-nope", new GuestCommand.Ping("t")))) {
            assertThatThrownBy(() -> await(f)).isInstanceOf(ExecutionException.class).cause().isInstanceOf(DriverException.NoSuchDomain.class);
        }
        assertThatThrownBy(() -> driver.console("vm-nope")).isInstanceOf(DriverException.NoSuchDomain.class);
    }

    @Test
    void aDuplicateIdAndAnUnsafeIdAreRefused() throws Exception {
        LibvirtDriver driver = driver(state);
        String id = newId();
        await(driver.create(spec(id)));
        assertThatThrownBy(() -> await(driver.create(spec(id)))).cause().isInstanceOf(DriverException.class).hasMessageContaining("exists");
        assertThatThrownBy(() -> await(driver.create(spec("../etc")))).cause().isInstanceOf(DriverException.class);
        assertThat(driver.list()).hasSize(1);
    }

    @Test
    void theTestHypervisorHasNoConsoleAndSendSaysSo() throws Exception {
        LibvirtDriver driver = driver(state);
        String id = newId();
        await(driver.create(spec(id)));
        assertThatThrownBy(() -> await(driver.send(id, new GuestCommand.Ping("t1")))).cause()
                .isInstanceOf(DriverException.class).hasMessageContaining("no console");
        assertThat(driver.console(id)).isEmpty();
    }

    @Test
    void adoptTakesBackItsOwnDomainsAndNeverTouchesAnyoneElses() throws Exception {
        LibvirtDriver first = driver(state);
        String pooled = newId();
        String running = newId();
        await(first.create(spec(pooled)));
        await(first.create(spec(running)));
        await(first.unpause(running));
        first.close(); // a daemon restart: the domains stay

        // Someone else's domain that merely looks like ours, and one that another xenopsd owns.
        String lookalike = newId();
        operator.domainCreateXML(testXml("t-" + lookalike, UUID.randomUUID(), null), 0);
        String otherDaemons = newId();
        operator.domainCreateXML(testXml("t-" + otherDaemons, UUID.randomUUID(),
                new OwnerTag(otherDaemons, "hello", state.resolveSibling("other-state").toString())), 0);
        // Ours but half-made: recorded, created, never confirmed.
        String halfMade = newId();
        UUID halfUuid = UUID.randomUUID();
        writeRecord(halfMade, halfUuid, false);
        operator.domainCreateXML(testXml("t-" + halfMade, halfUuid, new OwnerTag(halfMade, "hello", state.toString())), 0);
        // Ours but unaccounted for: tagged with our state directory, no record.
        String orphan = newId();
        operator.domainCreateXML(testXml("t-" + orphan, UUID.randomUUID(), new OwnerTag(orphan, "hello", state.toString())), 0);
        // A record whose domain is gone.
        String gone = newId();
        writeRecord(gone, UUID.randomUUID(), true);

        LibvirtDriver second = driver(state);
        List<DomainInfo> adopted = await(second.adopt());

        assertThat(adopted).extracting(DomainInfo::id).containsExactlyInAnyOrder(pooled, running);
        assertThat(adopted).filteredOn(i -> i.id().equals(pooled)).first().extracting(DomainInfo::state)
                .isEqualTo(io.xenops.driver.DomainState.PAUSED);
        assertThat(adopted).filteredOn(i -> i.id().equals(running)).first().extracting(DomainInfo::state)
                .isEqualTo(io.xenops.driver.DomainState.RUNNING);
        assertThat(adopted).allSatisfy(i -> assertThat(i.details()).containsEntry("adopted", "true"));
        assertThat(second.list()).extracting(DomainInfo::id).containsExactlyInAnyOrder(pooled, running);
        assertThat(exists("t-" + lookalike)).as("a look-alike name is not ownership").isTrue();
        assertThat(exists("t-" + otherDaemons)).as("another state directory's domain").isTrue();
        assertThat(exists("test")).as("libvirt's own sample domain").isTrue();
        assertThat(exists("t-" + halfMade)).as("half-made is destroyed").isFalse();
        assertThat(exists("t-" + orphan)).as("a tagged orphan is destroyed").isFalse();
        assertThat(state.resolve("domains").resolve(halfMade)).doesNotExist();
        assertThat(state.resolve("domains").resolve(gone)).doesNotExist();

        // Adopted domains are fully driven: resume, and their end is reported.
        await(second.unpause(pooled));
        assertThat(libvirtState("t-" + pooled)).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
        operator.domainLookupByName("t-" + running).destroy();
        DomainEvent e = events.poll(5, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(DomainEvent.Exited.class).extracting(DomainEvent::id).isEqualTo(running);
        // A second adopt finds nothing new, and leaves what the driver holds alone.
        assertThat(await(second.adopt())).isEmpty();
        assertThat(exists("t-" + pooled)).isTrue();
        assertThat(second.list()).extracting(DomainInfo::id).containsExactly(pooled);
    }

    @Test
    void destroyOfARecordedButUnheldIdDestroysOnlyATaggedDomain() throws Exception {
        // The daemon may discard a VM it has a record of before adopt ever held it.
        LibvirtDriver driver = driver(state);
        String ours = newId();
        UUID oursUuid = UUID.randomUUID();
        writeRecord(ours, oursUuid, true);
        operator.domainCreateXML(testXml("t-" + ours, oursUuid, new OwnerTag(ours, "hello", state.toString())), 0);
        // A record that (by corruption or malice) names someone else's domain.
        String forged = newId();
        UUID foreignUuid = UUID.randomUUID();
        writeRecord(forged, foreignUuid, true);
        operator.domainCreateXML(testXml("t-foreign-" + forged, foreignUuid, null), 0);

        await(driver.destroy(ours));
        await(driver.destroy(forged));

        assertThat(exists("t-" + ours)).isFalse();
        assertThat(exists("t-foreign-" + forged)).isTrue();
        assertThat(state.resolve("domains").resolve(ours)).doesNotExist();
        assertThat(state.resolve("domains").resolve(forged)).doesNotExist();
    }

    @Test
    void oneStateDirectoryServesOneDriverAtATime() throws Exception {
        LibvirtDriver first = driver(state);
        assertThatThrownBy(() -> driver(state)).isInstanceOf(DriverException.class).hasMessageContaining("another libvirt driver");
        first.close();
        LibvirtDriver second = driver(state); // the lock goes with the driver
        assertThat(await(second.adopt())).isEmpty();
    }

    @Test
    void theDriverFailsClearlyWhenLibvirtCannotBeReached() {
        assertThatThrownBy(() -> new LibvirtDriver(LibvirtConfig.defaults("qemu+unix:///system?socket=/nonexistent/sock", state), loop))
                .isInstanceOf(DriverException.class).hasMessageContaining("/nonexistent/sock");
    }

    // ---------------------------------------------------------------- helpers

    private void writeRecord(String id, UUID uuid, boolean confirmed) throws Exception {
        Path dir = state.resolve("domains").resolve(id);
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("domain.json").toFile(), new DomainRecord(DomainRecord.VERSION, id, "hello",
                "t-" + id, uuid.toString(), URI, "/images/hello/kernel.elf", 4, 1, "xenops.id=" + id, System.currentTimeMillis(), confirmed));
    }

    private static String testXml(String name, UUID uuid, OwnerTag tag) {
        return "<domain type='test'><name>" + name + "</name><uuid>" + uuid + "</uuid>"
                + (tag == null ? "" : "<metadata>" + tag.toXml() + "</metadata>")
                + "<memory unit='MiB'>4</memory><os><type>hvm</type></os></domain>";
    }

    private static void eventually(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 5 s");
            Thread.sleep(10);
        }
    }
}

package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainListener;
import io.xenops.guest.GuestMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Shared by the tests that run real QEMU: the kernel, a recording listener, and the QEMU reaper. */
final class QemuTestSupport {
    private QemuTestSupport() {}

    /** The unikernel ELF; a missing one fails the test with what to do, it never skips it. */
    static Path kernel() {
        return image("xenops.kernel");
    }

    /** The runtime's crash fixture: {@code ARGS t panic} makes it print PANIC and reset. */
    static Path crashKernel() {
        return image("xenops.crashKernel");
    }

    private static AccelChoice accel;

    /**
     * The accelerator this machine supports, probed once per test JVM (each probe boots a VM) so that
     * most tests can configure it explicitly; the probe itself has its own test.
     */
    static synchronized QemuConfig config(Path state) {
        if (accel == null) {
            try (QemuDriver probe = new QemuDriver(QemuConfig.defaults(state.resolve("probe-once")).withProbeKernel(kernel()))) {
                accel = probe.accel();
            }
        }
        return QemuConfig.defaults(state)
                .withAccel(accel.isKvm() ? QemuConfig.Accel.KVM : QemuConfig.Accel.TCG)
                .withCpu(accel.cpu());
    }

    private static Path image(String property) {
        String prop = System.getProperty(property);
        if (prop == null) fail("system property " + property + " is not set (domain-builder/pom.xml sets it for Surefire)");
        Path k = Path.of(prop).toAbsolutePath().normalize();
        if (!Files.isReadable(k)) {
            fail("unikernel image " + k + " is missing: build the unikernel first: mvn -B -ntp -q -pl unikernel package");
        }
        return k;
    }

    /** Kills every QEMU whose command line points into {@code stateDir}: no test leaves one behind. */
    static int killAll(Path stateDir) throws InterruptedException {
        ProcTable proc = new ProcTable(Path.of("/proc"));
        String needle = stateDir.toAbsolutePath().normalize().toString();
        int killed = 0;
        try (var s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                long pid = Long.parseLong(name);
                List<String> argv = proc.argv(pid).orElse(List.of());
                if (argv.stream().anyMatch(a -> a.contains(needle)) && argv.getFirst().contains("qemu")) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    killed++;
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return killed;
    }

    /** QEMU processes (live, not zombies) whose command line points into {@code stateDir}. */
    static List<Long> liveQemus(Path stateDir) {
        ProcTable proc = new ProcTable(Path.of("/proc"));
        String needle = stateDir.toAbsolutePath().normalize().toString();
        try (var s = Files.list(Path.of("/proc"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(proc::isLive)
                    .filter(pid -> proc.argv(pid).orElse(List.of()).stream().anyMatch(a -> a.contains(needle)))
                    .toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Records events; tests wait for the ones they expect. */
    static final class Events implements DomainListener {
        final BlockingQueue<DomainEvent> queue = new LinkedBlockingQueue<>();
        final List<DomainEvent> all = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void onEvent(DomainEvent event) {
            all.add(event);
            queue.add(event);
        }

        DomainEvent await(Predicate<DomainEvent> p, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                DomainEvent e = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
                if (e == null) {
                    throw new AssertionError("no matching event within " + timeout + "; saw " + all);
                }
                if (p.test(e)) return e;
            }
        }

        GuestMessage awaitGuest(String id, Class<? extends GuestMessage> type, Duration timeout) throws InterruptedException {
            DomainEvent e = await(ev -> ev instanceof DomainEvent.GuestSaid g && g.id().equals(id)
                    && type.isInstance(g.message()), timeout);
            return ((DomainEvent.GuestSaid) e).message();
        }

        DomainEvent.Exited awaitExit(String id, Duration timeout) throws InterruptedException {
            return (DomainEvent.Exited) await(ev -> ev instanceof DomainEvent.Exited x && x.id().equals(id), timeout);
        }
    }

    static void assertNoTrace(Path stateDir, String id) {
        assertThat(stateDir.resolve("domains").resolve(id)).doesNotExist();
        assertThat(liveQemus(stateDir)).as("QEMU processes of %s", stateDir).isEmpty();
    }
}

package io.xenops.testbed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One running nested Xen: QEMU (TCG) with Xen 4.17 and a dom0 whose agent runs commands for the host.
 *
 * <p>Commands travel through a writable 9p share (the "job share", see testbed/agent.sh for the
 * protocol): the host writes a script, dom0 runs it and writes back its output and exit status. The
 * serial console (Xen and dom0 both) goes to {@link #consoleLog()} and is watched for the agent's
 * markers and for panics, so a broken boot fails in seconds rather than at the timeout.
 *
 * <p>QEMU never outlives its owner: it runs under setsid in its own process group behind
 * run-qemu.sh, a watchdog that stops it when this JVM dies or a hard deadline passes; {@link #close()}
 * powers dom0 off, then kills the group; a JVM shutdown hook kills the group too.
 */
public final class NestedXen implements AutoCloseable {

    private static final Duration POWER_OFF_GRACE = Duration.ofSeconds(20);
    private static final Duration JOB_SLACK = Duration.ofSeconds(60);
    private static final int CONSOLE_TAIL_LINES = 60;

    private final TestbedConfig config;
    private final Path bootDir;
    private final Path consoleLog;
    private final Process process;
    private final Thread consoleReader;
    private final Thread shutdownHook;
    private final Deque<String> consoleTail = new ArrayDeque<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final long startedNanos;
    private volatile String fatal;
    private volatile boolean ready;
    private BootTimings timings;
    private int jobCounter;

    private NestedXen(TestbedConfig config, Path bootDir, Process process) {
        this.config = config;
        this.bootDir = bootDir;
        this.consoleLog = bootDir.resolve("console.log");
        this.process = process;
        this.startedNanos = System.nanoTime();
        this.consoleReader = Thread.ofPlatform().daemon().name("nested-xen-console").unstarted(this::pumpConsole);
        this.shutdownHook = Thread.ofPlatform().name("nested-xen-kill").unstarted(this::killGroupNow);
    }

    /**
     * Starts QEMU and waits until dom0's agent reports xenstored and xenconsoled up. On any failure
     * QEMU is stopped before the exception leaves.
     */
    public static NestedXen boot(Dom0Image image, TestbedConfig config) {
        Path bootDir;
        try {
            Files.createDirectories(config.workDir());
            bootDir = Files.createTempDirectory(config.workDir(), "boot-");
            prepareJobShare(bootDir, config);
        } catch (IOException e) {
            throw new TestbedException("cannot prepare the job share under " + config.workDir(), e);
        }
        List<String> command = new ArrayList<>(List.of("setsid", "-w", "bash",
                config.recipeDir().resolve("run-qemu.sh").toString(),
                Long.toString(ProcessHandle.current().pid()),
                Long.toString(config.hardDeadline().toSeconds())));
        command.addAll(qemuCommand(image, config, bootDir.resolve("share")));
        Process process;
        try {
            Files.writeString(bootDir.resolve("qemu-command.txt"), String.join(" ", command) + "\n");
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
        } catch (IOException e) {
            throw new TestbedException("cannot start QEMU (" + config.qemuBinary() + "): install qemu-system-x86", e);
        }
        NestedXen xen = new NestedXen(config, bootDir, process);
        Runtime.getRuntime().addShutdownHook(xen.shutdownHook);
        xen.consoleReader.start();
        try {
            xen.awaitReady();
        } catch (RuntimeException e) {
            try {
                xen.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return xen;
    }

    static List<String> qemuCommand(Dom0Image image, TestbedConfig config, Path jobShare) {
        List<Path> paths = new ArrayList<>(List.of(image.xen(), image.vmlinuz(), image.initrd(), jobShare));
        config.shares().forEach(share -> paths.add(share.dir()));
        for (Path path : paths) {
            // QEMU splits -initrd and -virtfs values on commas.
            if (path.toString().contains(",")) {
                throw new TestbedException("QEMU cannot take a path with a comma: " + path);
            }
        }
        List<String> args = new ArrayList<>(List.of(
                config.qemuBinary(),
                // Xen boots nested only under TCG here (kvm-pvm has no SVM/VMX); +npt for PVH guests,
                // as Debian's Xen has no shadow paging.
                "-accel", "tcg,thread=multi",
                "-M", "pc",
                "-cpu", "qemu64,+svm,+npt",
                "-m", config.memoryMiB() + "M",
                "-smp", Integer.toString(config.cpus()),
                // -nodefaults: no NIC, no VGA; test traffic must never leave the machine.
                "-nodefaults", "-no-user-config", "-nic", "none",
                "-display", "none", "-monitor", "none", "-serial", "stdio",
                "-no-reboot",
                "-kernel", image.xen().toString(),
                "-append", "console=com1 com1=115200,8n1 dom0_mem=" + config.dom0MemoryMiB() + "M,max:"
                        + config.dom0MemoryMiB() + "M bootscrub=0 loglvl=all guest_loglvl=all",
                // Multiboot modules: the dom0 kernel with its command line, then its initramfs.
                "-initrd", image.vmlinuz() + " console=hvc0 earlyprintk=xen rdinit=/init," + image.initrd(),
                "-virtfs", "local,path=" + jobShare + ",mount_tag=xenops-job,security_model=none,id=job"));
        List<Share> shares = mountOrder(config.shares());
        for (int i = 0; i < shares.size(); i++) {
            args.add("-virtfs");
            args.add("local,path=" + shares.get(i).dir() + ",mount_tag=ro" + i + ",security_model=none,readonly=on,id=ro" + i);
        }
        return args;
    }

    private static void prepareJobShare(Path bootDir, TestbedConfig config) throws IOException {
        Path share = bootDir.resolve("share");
        Files.createDirectories(share.resolve("jobs"));
        Files.createDirectories(share.resolve("state"));
        Files.copy(config.recipeDir().resolve("agent.sh"), share.resolve("agent.sh"), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(share.resolve("boot.conf"), "XENSTORED=" + config.xenstored().binary()
                + "\nSHARES=\"" + sharesForAgent(config.shares()) + "\"\n");
    }

    /** Parents before children, so a share inside another one is mounted over it, not under it. */
    static List<Share> mountOrder(List<Share> shares) {
        return shares.stream().sorted(java.util.Comparator.comparingInt((Share s) -> s.dir().getNameCount())).toList();
    }

    /** "ro0:loose:/a ro1:none:/b" for boot.conf: tag, 9p cache mode, mount point (= host path). */
    static String sharesForAgent(List<Share> shares) {
        List<Share> ordered = mountOrder(shares);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ordered.size(); i++) {
            out.append(i == 0 ? "" : " ").append("ro").append(i).append(':')
                    .append(ordered.get(i).immutable() ? "loose" : "none").append(':').append(ordered.get(i).dir());
        }
        return out.toString();
    }

    /** The serial console of the whole machine: Xen's lines start with (XEN), dom0's follow. */
    public Path consoleLog() {
        return consoleLog;
    }

    /** This boot's directory: console log, QEMU command line, job share with every job's files. */
    public Path bootDir() {
        return bootDir;
    }

    public TestbedConfig config() {
        return config;
    }

    public BootTimings timings() {
        return timings;
    }

    /** The last lines of the console, for failure messages. */
    public String consoleTail() {
        synchronized (consoleTail) {
            return String.join("\n", consoleTail);
        }
    }

    /**
     * Runs a bash script in dom0 (as root, cwd = the job's directory in the share) and waits for it.
     * dom0 kills the script after {@code timeout} (exit status 124). Throws when the testbed itself
     * fails (QEMU died, dom0 panicked, no answer), never for the script's own failure.
     */
    public synchronized CommandResult run(String script, Duration timeout) {
        checkUsable();
        String id = Integer.toString(++jobCounter);
        Path jobs = bootDir.resolve("share").resolve("jobs");
        Path staged = jobs.resolve("." + id + ".tmp");
        Path job = jobs.resolve(id);
        long started = System.nanoTime();
        try {
            Files.createDirectories(staged);
            Files.writeString(staged.resolve("timeout"), Long.toString(Math.max(1, timeout.toSeconds())) + "\n");
            Files.writeString(staged.resolve("command"), script.endsWith("\n") ? script : script + "\n");
            // The agent scans jobs/*/ : the rename makes the job appear complete or not at all.
            Files.move(staged, job, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new TestbedException("the job share does not support atomic rename: " + jobs, e);
        } catch (IOException e) {
            throw new TestbedException("cannot write job " + id + " into " + jobs, e);
        }
        long deadline = started + timeout.plus(JOB_SLACK).toNanos();
        Path exit = job.resolve("exit");
        try {
            while (!Files.exists(exit)) {
                if (System.nanoTime() > deadline) {
                    throw new TestbedException("dom0 did not finish job " + id + " within " + timeout.plus(JOB_SLACK)
                            + " (its own timeout is " + timeout + "); partial stdout:\n" + readOrEmpty(job.resolve("stdout"))
                            + "\nconsole tail:\n" + consoleTail());
                }
                checkUsable();
                Thread.sleep(50);
            }
            int code = Integer.parseInt(Files.readString(exit).strip());
            return new CommandResult(code, readOrEmpty(job.resolve("stdout")), readOrEmpty(job.resolve("stderr")),
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (IOException | NumberFormatException e) {
            throw new TestbedException("cannot read the result of job " + id + " in " + job, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestbedException("interrupted while waiting for job " + id, e);
        }
    }

    /** Where {@link #run} puts job {@code n}'s files, so tests can leave reports there. */
    public Path jobDir(int n) {
        return bootDir.resolve("share").resolve("jobs").resolve(Integer.toString(n));
    }

    /** The number the next {@link #run} will use, whose directory is {@link #jobDir(int)}. */
    public synchronized int nextJobNumber() {
        return jobCounter + 1;
    }

    /** True while QEMU runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** QEMU's process (the watchdog's, whose only child is QEMU). */
    public ProcessHandle processHandle() {
        return process.toHandle();
    }

    /**
     * Powers dom0 off (Xen then powers the machine off and QEMU exits), and if that does not end QEMU
     * in time, kills QEMU's process group. Throws if any of its processes survive.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
        try {
            if (process.isAlive()) {
                Files.writeString(bootDir.resolve("share").resolve("shutdown"), "host\n");
                if (!process.waitFor(POWER_OFF_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    appendConsoleNote("testbed: dom0 did not power off within " + POWER_OFF_GRACE + ", killing QEMU");
                    signalGroup("TERM");
                    if (!process.waitFor(5, TimeUnit.SECONDS)) {
                        killGroupNow();
                        process.waitFor(5, TimeUnit.SECONDS);
                    }
                }
            }
        } catch (IOException e) {
            killGroupNow();
        } catch (InterruptedException e) {
            killGroupNow();
            Thread.currentThread().interrupt();
        } finally {
            family.forEach(ProcessHandle::destroyForcibly);
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is running or will: nothing to undo.
            }
            try {
                consoleReader.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Long> survivors = new ArrayList<>();
        if (process.isAlive()) {
            survivors.add(process.pid());
        }
        for (ProcessHandle p : family) {
            if (awaitGone(p)) {
                continue;
            }
            survivors.add(p.pid());
        }
        if (!survivors.isEmpty()) {
            throw new TestbedException("testbed processes survived close(): " + survivors);
        }
    }

    private static boolean awaitGone(ProcessHandle p) {
        try {
            p.onExit().get(5, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return !p.isAlive();
        }
    }

    private void awaitReady() {
        Path readyFile = bootDir.resolve("share").resolve("state").resolve("ready");
        long deadline = startedNanos + config.bootTimeout().toNanos();
        try {
            while (!ready || !Files.exists(readyFile)) {
                checkUsable();
                if (System.nanoTime() > deadline) {
                    throw new TestbedException("nested Xen did not become ready within " + config.bootTimeout()
                            + "; console (" + consoleLog + ") ends with:\n" + consoleTail());
                }
                Thread.sleep(50);
            }
            Duration toReady = Duration.ofNanos(System.nanoTime() - startedNanos);
            double uptime = Double.parseDouble(Files.readString(readyFile).strip());
            timings = new BootTimings(toReady, Duration.ofMillis(Math.round(uptime * 1000)));
        } catch (IOException | NumberFormatException e) {
            throw new TestbedException("cannot read dom0's ready marker " + readyFile, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestbedException("interrupted while booting nested Xen", e);
        }
    }

    private void checkUsable() {
        if (fatal != null) {
            throw new TestbedException("nested Xen failed: " + fatal + "\nconsole (" + consoleLog + ") ends with:\n"
                    + consoleTail());
        }
        if (!process.isAlive()) {
            // Let the reader drain what QEMU printed last: it usually says why.
            try {
                consoleReader.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new TestbedException("QEMU exited (status " + process.exitValue() + ")" + (closed.get() ? " after close()" : "")
                    + "; console (" + consoleLog + ") ends with:\n" + consoleTail());
        }
    }

    private void pumpConsole() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer log = Files.newBufferedWriter(consoleLog, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                log.write(line);
                log.write('\n');
                log.flush();
                if (line.isBlank()) {
                    continue; // Xen's console doubles line ends; blank lines only dilute the tail
                }
                synchronized (consoleTail) {
                    consoleTail.addLast(line);
                    if (consoleTail.size() > CONSOLE_TAIL_LINES) {
                        consoleTail.removeFirst();
                    }
                }
                watch(line);
            }
        } catch (IOException e) {
            if (fatal == null && !closed.get()) {
                fatal = "lost QEMU's console: " + e;
            }
        }
    }

    private void watch(String line) {
        if (line.contains("XENOPS-TESTBED-READY")) {
            ready = true;
        } else if (line.contains("XENOPS-TESTBED-FATAL")) {
            fatal = "dom0 agent:" + line.substring(line.indexOf("XENOPS-TESTBED-FATAL") + "XENOPS-TESTBED-FATAL".length());
        } else if (line.contains("Panic on CPU") || line.contains("Kernel panic")) {
            // Xen prints "Panic on CPU n:", Linux "Kernel panic - not syncing"; the lines after it
            // say more, and the console log keeps them.
            if (fatal == null) {
                fatal = "panic: " + line;
            }
        }
    }

    private void appendConsoleNote(String note) {
        synchronized (consoleTail) {
            consoleTail.addLast(note);
        }
    }

    /** Shutdown hook and last resort: SIGKILL to QEMU's whole process group, no waiting. */
    private void killGroupNow() {
        List<ProcessHandle> family = process.descendants().toList();
        signalGroup("KILL");
        family.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /**
     * Signals the process group that setsid made for the watchdog, but only after checking that the
     * group is really the watchdog's own (pgid == pid): never the JVM's group.
     */
    private void signalGroup(String signal) {
        long pid = process.pid();
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long pgid = Long.parseLong(fields[2]);
            if (pgid != pid) {
                process.destroy();
                return;
            }
            Process kill = new ProcessBuilder("kill", "-s", signal, "--", "-" + pgid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            kill.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException | RuntimeException e) {
            // The process is already gone (no /proc entry): nothing to signal.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String readOrEmpty(Path file) {
        try {
            // Output may be any bytes: decode leniently rather than fail on malformed UTF-8.
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }

}

package io.xenops.driver.xen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link Toolstack} through the {@code xl} command. Called only from the driver's build threads.
 *
 * <p>{@code xl create -p -e}: {@code -p} leaves the domain paused before its first instruction;
 * {@code -e} skips the monitoring process xl otherwise forks per domain (a pool of 100 domains would
 * mean 100 idle xl processes), because the daemon watches {@code @releaseDomain} itself.
 */
public final class XlToolstack implements Toolstack {
    private final Path xl;
    private final Duration timeout;

    public XlToolstack(Path xl, Duration timeout) {
        this.xl = xl;
        this.timeout = timeout;
    }

    @Override
    public int createPaused(Path config, String name) throws IOException {
        run("create", "-p", "-e", config.toString());
        String out = run("domid", name).trim();
        try {
            return Integer.parseInt(out);
        } catch (NumberFormatException e) {
            throw new IOException("xl domid " + name + " printed '" + out + "'");
        }
    }

    @Override
    public void destroy(String name) throws IOException {
        try {
            run("destroy", name);
        } catch (XlFailed e) {
            // xl says "invalid domain identifier" for a name it does not know: already gone is success.
            if (!e.getMessage().contains("invalid domain identifier")) throw e;
        }
    }

    /**
     * {@code xen-hvmctx} (Xen's tools, beside xl's helpers) reads a PVH or HVM domain's saved vCPU state.
     * Only ever run for a domain that has already died, off the request path.
     */
    @Override
    public java.util.Optional<CpuState> cpuState(int domid) {
        java.util.Optional<Path> tool = hvmctx();
        if (tool.isEmpty()) return java.util.Optional.empty();
        try {
            String text = exec(List.of(tool.get().toString(), Integer.toString(domid)));
            java.util.Optional<CpuState> state = CpuState.parseHvmContext(text);
            // The whole record goes to the log: a triple fault is rare, and every register may matter.
            System.getLogger(XlToolstack.class.getName()).log(System.Logger.Level.INFO, "xen-hvmctx " + domid + ":\n"
                    + (text.length() > 8192 ? text.substring(0, 8192) + "..." : text));
            return state;
        } catch (IOException e) {
            return java.util.Optional.empty(); // a PV domain, or gone already: the detail says less, nothing fails
        }
    }

    private static java.util.Optional<Path> hvmctx() {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/libexec/xen/bin/xen-hvmctx"), Path.of("/usr/lib/xen/bin/xen-hvmctx")));
        // Debian installs Xen's helpers under a versioned directory: /usr/lib/xen-4.17/bin.
        try (var dirs = java.nio.file.Files.newDirectoryStream(Path.of("/usr/lib"), "xen-*")) {
            for (Path d : dirs) candidates.add(d.resolve("bin/xen-hvmctx"));
        } catch (IOException e) {
            // no /usr/lib: the fixed places only
        }
        return candidates.stream().filter(java.nio.file.Files::isExecutable).findFirst();
    }

    /** xl exited non-zero. */
    static final class XlFailed extends IOException {
        private static final long serialVersionUID = 1L;

        XlFailed(String message) { super(message); }
    }

    private String run(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(xl.toString());
        cmd.addAll(List.of(args));
        return exec(cmd);
    }

    private String exec(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out;
        try {
            // xl prints little; reading to EOF before waiting cannot deadlock on a full pipe.
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish within " + timeout);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + " interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new XlFailed(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out.strip());
        }
        return out;
    }
}

package io.xenops.testbed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;

/**
 * Runs testbed/build-image.sh, which returns the cached image for the current recipe or builds it
 * (debootstrap from the Debian mirror). The script owns caching and atomicity; this class only runs it
 * with a timeout and turns its failure into a {@link TestbedException} that carries the script's
 * explanation (an unreachable mirror says so).
 */
public final class ImageBuilder {

    /** The result of {@link #obtain()}: the image, and whether this call built it. */
    public record Outcome(Dom0Image image, Duration elapsed, boolean built) {
    }

    private static final Duration TIMEOUT = Duration.ofMinutes(20);

    private final Path recipeDir;
    private final Path logFile;

    public ImageBuilder(Path recipeDir, Path logFile) {
        this.recipeDir = recipeDir;
        this.logFile = logFile;
    }

    public Outcome obtain() {
        long started = System.nanoTime();
        Path script = recipeDir.resolve("build-image.sh");
        if (!Files.isRegularFile(script)) {
            throw new TestbedException("no image recipe at " + script);
        }
        try {
            Files.createDirectories(logFile.getParent());
            Process process = new ProcessBuilder("bash", script.toString())
                    .redirectOutput(ProcessBuilder.Redirect.PIPE)
                    .redirectError(ProcessBuilder.Redirect.PIPE)
                    .start();
            process.getOutputStream().close();
            Deque<String> errTail = new ArrayDeque<>();
            boolean[] built = {false};
            Thread errPump = Thread.ofPlatform().daemon().name("image-build-log").start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
                     Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
                    for (String line; (line = in.readLine()) != null; ) {
                        log.write(line);
                        log.write('\n');
                        log.flush();
                        synchronized (errTail) {
                            errTail.addLast(line);
                            if (errTail.size() > 40) {
                                errTail.removeFirst();
                            }
                            if (line.startsWith("build-image: debootstrap")) {
                                built[0] = true;
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                throw new TestbedException("building the nested Xen image took longer than " + TIMEOUT + "; log: " + logFile);
            }
            errPump.join(Duration.ofSeconds(5));
            String tail;
            boolean didBuild;
            synchronized (errTail) {
                tail = String.join("\n", errTail);
                didBuild = built[0];
            }
            if (process.exitValue() != 0) {
                throw new TestbedException("building the nested Xen image failed (build-image.sh exit "
                        + process.exitValue() + "):\n" + tail + "\nfull log: " + logFile);
            }
            String[] lines = stdout.strip().split("\n");
            Dom0Image image = Dom0Image.load(Path.of(lines[lines.length - 1].strip()));
            return new Outcome(image, Duration.ofNanos(System.nanoTime() - started), didBuild);
        } catch (IOException e) {
            throw new TestbedException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestbedException("interrupted while building the nested Xen image", e);
        }
    }
}

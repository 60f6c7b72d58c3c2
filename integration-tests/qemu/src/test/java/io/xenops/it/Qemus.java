package io.xenops.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finds QEMU processes by what their command line points at, straight from /proc. */
final class Qemus {
    private Qemus() {}

    record Proc(long pid, String cmdline) {}

    /** Live (non-zombie) processes whose command line mentions {@code needle}. */
    static List<Proc> mentioning(String needle) {
        List<Proc> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (!cmd.contains("qemu-system") || !cmd.contains(needle)) continue;
                    String stat = Files.readString(p.resolve("stat"));
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    if (state == 'Z' || state == 'X') continue; // exited, waiting for PID 1 to reap it
                    out.add(new Proc(Long.parseLong(name), cmd));
                } catch (IOException | RuntimeException e) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot list /proc", e);
        }
        return out;
    }

    /** Kills whatever a failed test left behind, so one failure does not poison the next test. */
    static void killAll(String needle) {
        for (Proc p : mentioning(needle)) ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
    }
}

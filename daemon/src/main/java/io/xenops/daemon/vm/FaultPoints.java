package io.xenops.daemon.vm;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A fault-injection seam for crash tests: named steps of a spawn where the daemon can be told to SIGKILL
 * itself, so a test can prove that a crash at exactly that step leaks and loses nothing. Off unless the
 * operator sets {@code fault} ({@code --fault STEP:kill}, {@code XENOPSD_FAULT}); never set it in production.
 *
 * <p>The steps, in the order a spawn reaches them (docs/reliability.md describes each):
 * warm path {@code spawn.warm.taken}, {@code spawn.warm.mid-unpause}, {@code spawn.warm.resumed},
 * {@code spawn.warm.before-response}; cold path {@code spawn.cold.before-build}, {@code spawn.cold.recorded},
 * {@code spawn.cold.created}, {@code spawn.cold.mid-unpause}, {@code spawn.cold.after-build},
 * {@code spawn.cold.before-response}. Pool builds reach the same build steps as {@code pool.build.*}.
 */
public final class FaultPoints {
    /** Every step name the daemon reaches; a spec naming anything else is refused at start. */
    public static final Set<String> STEPS = Set.of(
            "spawn.warm.taken", "spawn.warm.mid-unpause", "spawn.warm.resumed", "spawn.warm.before-response",
            "spawn.cold.before-build", "spawn.cold.recorded", "spawn.cold.created", "spawn.cold.mid-unpause",
            "spawn.cold.after-build", "spawn.cold.before-response",
            "pool.build.recorded", "pool.build.created", "pool.build.mid-unpause", "pool.build.after-build");

    /** What to do at a step. Only a kill for now: a pause would hold the whole control context. */
    public enum Action { KILL }

    private static final FaultPoints NONE = new FaultPoints(Map.of(), () -> { });

    private final Map<String, Action> armed;
    private final Runnable killer;

    FaultPoints(Map<String, Action> armed, Runnable killer) {
        this.armed = Map.copyOf(armed);
        this.killer = killer;
    }

    public static FaultPoints none() { return NONE; }

    /**
     * Parses {@code STEP:ACTION[,STEP:ACTION...]}; blank means none.
     *
     * @throws IllegalArgumentException naming the bad part
     */
    public static FaultPoints parse(String spec) {
        if (spec == null || spec.isBlank()) return NONE;
        Map<String, Action> armed = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            int colon = part.lastIndexOf(':');
            String step = (colon < 0 ? part : part.substring(0, colon)).trim();
            String action = colon < 0 ? "kill" : part.substring(colon + 1).trim();
            if (!STEPS.contains(step)) throw new IllegalArgumentException("unknown fault step '" + step + "'; known: " + new java.util.TreeSet<>(STEPS));
            try {
                armed.put(step, Action.valueOf(action.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown fault action '" + action + "' (kill)");
            }
        }
        return new FaultPoints(armed, FaultPoints::sigkillSelf);
    }

    public boolean armed() { return !armed.isEmpty(); }

    /** Called at each named step; returns at once unless that step is armed. */
    public void reach(String step) {
        if (armed.isEmpty()) return;
        Action a = armed.get(step);
        if (a == null) return;
        // Straight to stderr and flushed: the log handler is asynchronous and would die with us.
        System.err.println("xenopsd: FAULT INJECTION: SIGKILL at " + step);
        System.err.flush();
        killer.run();
    }

    /**
     * A real SIGKILL, not {@code Runtime.halt}: the test is of the crash an operator's {@code kill -9} or the OOM
     * killer causes. Blocking the event loop here is fine, the process is about to end.
     */
    private static void sigkillSelf() {
        try {
            new ProcessBuilder("kill", "-KILL", Long.toString(ProcessHandle.current().pid())).start().waitFor();
            Thread.sleep(5_000);
        } catch (Exception e) {
            // fall through
        }
        Runtime.getRuntime().halt(137);
    }
}

package io.xenops.ctl;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/** Runs xenopsctl in-process, the way Main does, with captured stdout/stderr and a fixed clock. */
public final class CliRun {
    /** "Now" for every test: VM ages in tables are computed against this. */
    public static final Instant NOW = Instant.parse("2026-11-26T23:30:00Z");

    private final Map<String, String> env = new HashMap<>();

    private CliRun(String url) {
        if (url != null) {
            env.put("XENOPS_URL", url);
        }
    }

    /** A CLI pointed at {@code url} through XENOPS_URL, as an operator's shell would. */
    public static CliRun against(String url) {
        return new CliRun(url);
    }

    public static CliRun withoutEnv() {
        return new CliRun(null);
    }

    public CliRun env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        XenopsCtl root = new XenopsCtl(env, Clock.fixed(NOW, ZoneOffset.UTC));
        int code = Cli.run(root, new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }
}

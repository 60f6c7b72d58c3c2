package io.xenops.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds a {@link DaemonConfig} from, in rising precedence: defaults, a JSON config file
 * ({@code --config}), environment variables ({@code XENOPSD_*}) and command-line flags.
 * Every setting has one name, spelled as in the file ({@code state_dir}), the environment
 * ({@code XENOPSD_STATE_DIR}) and the flags ({@code --state-dir}).
 */
public final class ConfigLoader {
    static final List<String> KEYS = List.of("listen", "state_dir", "images_dir", "driver", "accel", "qemu",
            "pool", "max_vms", "cold_spawn", "build_concurrency", "boot_timeout_ms", "ready_timeout_ms",
            "max_body_bytes", "tokens_file", "unix_socket", "webhook_secret_file", "libvirt_uri",
            "host_memory_reserve_mib", "fault");

    private final Map<String, String> env;

    public ConfigLoader(Map<String, String> env) { this.env = env; }

    public static String usage() {
        return """
                usage: xenopsd [--config FILE] [--listen HOST:PORT] [--state-dir DIR] [--images-dir DIR]...
                               [--driver auto|xen|qemu|libvirt|sim] [--libvirt-uri URI] [--accel auto|kvm|tcg] [--qemu PATH]
                               [--pool IMAGE=N[,IMAGE=N...]] [--max-vms N] [--cold-spawn true|false]
                               [--build-concurrency N] [--boot-timeout-ms N] [--ready-timeout-ms N]
                               [--max-body-bytes N] [--tokens-file FILE] [--unix-socket PATH]
                               [--webhook-secret-file FILE] [--host-memory-reserve-mib N]
                Every flag can also be set in the JSON config file (state_dir, ...) or as XENOPSD_STATE_DIR, ...
                """;
    }

    public DaemonConfig load(String[] args) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        String configFile = null;
        Map<String, List<String>> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new ConfigException("unexpected argument '" + a + "'\n" + usage());
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.length) throw new ConfigException("--" + name + " needs a value");
                value = args[++i];
            }
            String key = name.replace('-', '_');
            if (key.equals("config")) { configFile = value; continue; }
            if (!KEYS.contains(key)) throw new ConfigException("unknown option --" + name + "\n" + usage());
            flags.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        if (configFile == null) configFile = env.get("XENOPSD_CONFIG");
        if (configFile != null) readFile(Path.of(configFile), values);
        for (String key : KEYS) {
            String v = env.get("XENOPSD_" + key.toUpperCase(java.util.Locale.ROOT));
            if (v != null) values.put(key, List.of(v.split(key.equals("images_dir") ? ":" : "\n")));
        }
        values.putAll(flags);
        return build(values);
    }

    private static void readFile(Path file, Map<String, List<String>> values) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new ConfigException(file + ": the config must be a JSON object");
        for (var it = root.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!KEYS.contains(e.getKey())) throw new ConfigException(file + ": unknown setting '" + e.getKey() + "'");
            List<String> vs = new ArrayList<>();
            if (e.getValue().isArray()) e.getValue().forEach(n -> vs.add(n.asText()));
            else if (e.getValue().isObject()) { // "pool": {"hello": 4}
                List<String> parts = new ArrayList<>();
                e.getValue().properties().forEach(p -> parts.add(p.getKey() + "=" + p.getValue().asText()));
                vs.add(String.join(",", parts));
            } else vs.add(e.getValue().asText());
            values.put(e.getKey(), vs);
        }
    }

    private static DaemonConfig build(Map<String, List<String>> v) {
        String listen = last(v, "listen", "127.0.0.1:8470");
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) throw new ConfigException("listen must be HOST:PORT, got '" + listen + "'");
        String host = listen.substring(0, colon);
        int port = integer("listen port", listen.substring(colon + 1), 0, 65535);
        boolean root = "root".equals(System.getProperty("user.name"));
        String defaultState = root ? "/var/lib/xenopsd"
                : System.getProperty("user.home") + "/.local/state/xenopsd";
        Path stateDir = Path.of(last(v, "state_dir", defaultState)).toAbsolutePath();
        List<Path> imageDirs = v.getOrDefault("images_dir", List.of()).stream().filter(s -> !s.isBlank())
                .map(s -> Path.of(s).toAbsolutePath()).toList();
        String driver = oneOf("driver", last(v, "driver", "auto"), List.of("auto", "qemu", "xen", "libvirt", "sim"));
        String accel = oneOf("accel", last(v, "accel", "auto"), List.of("auto", "kvm", "tcg"));
        String qemu = last(v, "qemu", "qemu-system-x86_64");
        Map<String, Integer> pools = new LinkedHashMap<>();
        for (String spec : v.getOrDefault("pool", List.of("*=2"))) {
            for (String part : spec.split(",")) {
                if (part.isBlank()) continue;
                int eq = part.indexOf('=');
                if (eq <= 0) throw new ConfigException("pool must be IMAGE=N, got '" + part + "'");
                pools.put(part.substring(0, eq).trim(), integer("pool " + part.substring(0, eq), part.substring(eq + 1).trim(), 0, 10_000));
            }
        }
        int maxVms = integer("max_vms", last(v, "max_vms", "256"), 1, 100_000);
        boolean cold = bool("cold_spawn", last(v, "cold_spawn", "true"));
        int conc = integer("build_concurrency", last(v, "build_concurrency", "2"), 1, 64);
        Duration boot = Duration.ofMillis(integer("boot_timeout_ms", last(v, "boot_timeout_ms", "30000"), 1, 600_000));
        Duration ready = Duration.ofMillis(integer("ready_timeout_ms", last(v, "ready_timeout_ms", "10000"), 1, 600_000));
        int body = integer("max_body_bytes", last(v, "max_body_bytes", "65536"), 1024, 64 << 20);
        if (stateDir.toString().length() > 60) {
            // QEMU's unix sockets live under it and sun_path holds 108 bytes.
            throw new ConfigException("state_dir '" + stateDir + "' is too long (" + stateDir.toString().length()
                    + " characters, at most 60): socket paths under it would not fit in a unix address");
        }
        String tokens = last(v, "tokens_file", "");
        String unix = last(v, "unix_socket", "");
        boolean loopback = host.equals("127.0.0.1") || host.equals("::1") || host.equals("localhost");
        if (tokens.isEmpty() && !loopback) {
            throw new ConfigException("listen " + listen + " is not a loopback address: set tokens_file, "
                    + "so the API is not open to the network");
        }
        long reserve = integer("host_memory_reserve_mib", last(v, "host_memory_reserve_mib",
                Long.toString(DaemonConfig.DEFAULT_HOST_MEMORY_RESERVE_MIB)), 0, 1 << 24);
        String fault = last(v, "fault", "");
        try {
            io.xenops.daemon.vm.FaultPoints.parse(fault);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("fault: " + e.getMessage());
        }
        return new DaemonConfig(host, port, stateDir, imageDirs, driver, accel, qemu, pools, maxVms, cold, conc, boot,
                ready, body, tokens.isEmpty() ? null : Path.of(tokens).toAbsolutePath(),
                unix.isEmpty() ? null : Path.of(unix).toAbsolutePath(),
                last(v, "webhook_secret_file", "").isEmpty() ? null : Path.of(last(v, "webhook_secret_file", "")).toAbsolutePath(),
                last(v, "libvirt_uri", "qemu:///system"), reserve, fault);
    }

    private static String last(Map<String, List<String>> v, String key, String dflt) {
        List<String> l = v.get(key);
        return l == null || l.isEmpty() ? dflt : l.getLast();
    }

    private static String oneOf(String key, String value, List<String> allowed) {
        if (!allowed.contains(value)) throw new ConfigException(key + " must be one of " + allowed + ", got '" + value + "'");
        return value;
    }

    private static int integer(String key, String value, int min, int max) {
        Function<String, ConfigException> bad = s -> new ConfigException(key + " must be an integer in [" + min + ", " + max + "], got '" + s + "'");
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw bad.apply(value);
        }
        if (n < min || n > max) throw bad.apply(value);
        return n;
    }

    private static boolean bool(String key, String value) {
        return switch (value.trim()) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new ConfigException(key + " must be true or false, got '" + value + "'");
        };
    }
}

package io.xenops.daemon.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.daemon.config.ConfigException;
import io.xenops.daemon.error.XenopsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Bearer tokens from a JSON file, kept only as SHA-256 digests in memory:
 * <pre>
 * {"tokens": [{"name": "orchestrator", "sha256": "&lt;hex&gt;" | "token": "&lt;plain&gt;",
 *              "scope": "read|spawn|admin", "max_vms": 100, "rate_per_second": 200, "burst": 400}]}
 * </pre>
 */
public final class Tokens {
    private final Map<String, Principal> byDigest;

    private Tokens(Map<String, Principal> byDigest) { this.byDigest = byDigest; }

    public static Tokens load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                throw new ConfigException("tokens_file " + file + " is readable by everyone; chmod o-r it");
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read tokens_file " + file + ": " + e.getMessage());
        }
        if (root == null || !root.path("tokens").isArray()) throw new ConfigException(file + ": expected {\"tokens\": [...]}");
        Map<String, Principal> map = new HashMap<>();
        for (JsonNode t : root.get("tokens")) {
            String name = t.path("name").asText("");
            if (!name.matches("[A-Za-z0-9._-]{1,64}")) throw new ConfigException(file + ": token name '" + name + "' must match [A-Za-z0-9._-]{1,64}");
            String digest;
            if (t.hasNonNull("sha256")) digest = t.get("sha256").asText().toLowerCase(Locale.ROOT);
            else if (t.hasNonNull("token")) digest = sha256(t.get("token").asText());
            else throw new ConfigException(file + ": token '" + name + "' needs sha256 or token");
            if (!digest.matches("[0-9a-f]{64}")) throw new ConfigException(file + ": token '" + name + "': sha256 must be 64 hex digits");
            Scope scope;
            try {
                scope = Scope.valueOf(t.path("scope").asText("read").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file + ": token '" + name + "': scope must be read, spawn or admin");
            }
            map.put(digest, new Principal(name, scope, t.path("max_vms").asInt(0), t.path("rate_per_second").asDouble(0),
                    t.path("burst").asInt(Math.max(1, (int) Math.ceil(t.path("rate_per_second").asDouble(0))))));
        }
        if (map.isEmpty()) throw new ConfigException(file + ": no tokens");
        return new Tokens(map);
    }

    /** The principal for an {@code Authorization} header value. */
    public Principal authenticate(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new XenopsException.Unauthorized("send Authorization: Bearer <token>");
        }
        Principal p = byDigest.get(sha256(authorization.substring(7).trim()));
        if (p == null) throw new XenopsException.Unauthorized("unknown token");
        return p;
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

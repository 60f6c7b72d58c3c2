package io.xenops.daemon.webhook;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs deliveries so a receiver can tell they come from this daemon and were not replayed long after:
 * {@code X-Xenops-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>} where
 * {@code <timestamp>} is the {@code X-Xenops-Timestamp} header (Unix seconds of this attempt). The body
 * carries the delivery id, so the signature covers it too.
 */
public final class Signer {
    static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    public Signer(byte[] secret) {
        if (secret.length < 16) throw new IllegalArgumentException("the webhook secret must be at least 16 bytes");
        key = new SecretKeySpec(secret.clone(), ALGORITHM);
    }

    /** Reads the secret from a file (trailing newline ignored), the way secrets are handed to services. */
    public static Signer fromFile(Path file) throws IOException {
        String s = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (s.isEmpty()) throw new IOException("webhook secret file " + file + " is empty");
        return new Signer(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The header value for one attempt. */
    public String sign(long timestampSeconds, byte[] body) {
        try {
            // Mac instances are not thread-safe and cheap to make; one per signature keeps this class stateless.
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update((timestampSeconds + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}

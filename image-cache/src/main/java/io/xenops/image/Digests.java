package io.xenops.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** sha256 content digests in the OCI form {@code sha256:<64 hex>}. Pure functions. */
public final class Digests {
    public static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");

    private Digests() { }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }

    public static String of(byte[] data) { return format(newSha256().digest(data)); }

    public static String of(Path file) throws IOException {
        MessageDigest md = newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return format(md.digest());
    }

    public static String format(byte[] sha256) { return "sha256:" + HexFormat.of().formatHex(sha256); }

    /** The hex part; rejects anything that is not a well-formed sha256 digest (it becomes a file name). */
    public static String hex(String digest) {
        if (digest == null || !SHA256.matcher(digest).matches()) {
            throw new ImageException("not a sha256 digest: " + ImageRef.quote(digest));
        }
        return digest.substring(7);
    }

    public static boolean isSha256(String digest) { return digest != null && SHA256.matcher(digest).matches(); }
}

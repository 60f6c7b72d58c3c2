package io.xenops.image;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A local image reference: {@code name} or {@code name:tag}. Names and tags are index keys, never paths,
 * but they are still held to strict patterns so that nothing odd (slashes, dots first, control characters)
 * reaches logs, the API or a registry.
 *
 * @param tag null when the reference names no tag: {@link ImageStore#find} then picks {@code latest}, or
 *            else the newest tag of that name
 */
public record ImageRef(String name, String tag) {
    /** Same rule as ImageName in api-spec/openapi.yaml. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    /** The OCI distribution spec's tag rule. */
    public static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    public static final String LATEST = "latest";

    public ImageRef {
        checkName(name);
        if (tag != null) checkTag(tag);
    }

    public static ImageRef parse(String ref) {
        if (ref == null || ref.isEmpty()) throw new ImageException("image reference is empty");
        int colon = ref.indexOf(':');
        return colon < 0 ? new ImageRef(ref, null) : new ImageRef(ref.substring(0, colon), ref.substring(colon + 1));
    }

    public static ImageRef of(String name, String tag) { return new ImageRef(name, tag); }

    public Optional<String> tagIfAny() { return Optional.ofNullable(tag); }

    /** This reference with its tag, {@code latest} when it has none. */
    public ImageRef withDefaultTag() { return tag != null ? this : new ImageRef(name, LATEST); }

    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ImageException("image name " + quote(name) + " is not allowed: it must match " + NAME.pattern()
                    + " (lower-case letters, digits, '.', '_', '-'; no '/', no leading '.')");
        }
    }

    public static void checkTag(String tag) {
        if (tag == null || !TAG.matcher(tag).matches()) {
            throw new ImageException("image tag " + quote(tag) + " is not allowed: it must match " + TAG.pattern());
        }
    }

    /** Quotes a user-supplied string for an error message, escaping anything unprintable. */
    public static String quote(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("'");
        s.codePoints().limit(80).forEach(c -> {
            if (c >= 0x20 && c < 0x7f && c != '\'') b.appendCodePoint(c);
            else b.append(String.format("\\u%04x", c));
        });
        if (s.length() > 80) b.append("...");
        return b.append('\'').toString();
    }

    @Override
    public String toString() { return tag == null ? name : name + ":" + tag; }
}

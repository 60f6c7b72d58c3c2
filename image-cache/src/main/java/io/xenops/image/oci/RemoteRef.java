package io.xenops.image.oci;

import io.xenops.image.Digests;
import io.xenops.image.ImageException;
import io.xenops.image.ImageRef;
import java.util.regex.Pattern;

/**
 * A registry reference: {@code host[:port]/repository[:tag][@sha256:...]}. The host is required: there is no
 * default registry (and none would be reachable from a test machine).
 *
 * @param tag    null when only a digest is given
 * @param digest null unless pinned by digest; then the manifest fetched must hash to it
 */
public record RemoteRef(String registry, String repository, String tag, String digest) {
    private static final Pattern HOST = Pattern.compile("(localhost|\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
            + "(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?");
    private static final Pattern REPO = Pattern.compile("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*");

    public RemoteRef {
        if (registry == null || !HOST.matcher(registry).matches()) throw bad(registry + "/" + repository, "registry host");
        if (repository == null || repository.length() > 255 || !REPO.matcher(repository).matches()) {
            throw bad(registry + "/" + repository, "repository (lower-case path components)");
        }
        if (tag != null) ImageRef.checkTag(tag);
        if (digest != null) Digests.hex(digest);
        if (tag == null && digest == null) tag = ImageRef.LATEST;
    }

    public static RemoteRef parse(String ref) {
        if (ref == null || ref.isBlank()) throw new ImageException("registry reference is empty");
        int slash = ref.indexOf('/');
        if (slash <= 0) throw bad(ref, "registry host (a reference must start with host[:port]/)");
        String registry = ref.substring(0, slash);
        if (!registry.contains(".") && !registry.contains(":") && !registry.equals("localhost")) {
            throw bad(ref, "registry host (a reference must start with host[:port]/)");
        }
        String rest = ref.substring(slash + 1);
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        return new RemoteRef(registry, rest, tag, digest);
    }

    /** What goes after /manifests/: the digest when pinned, else the tag. */
    public String reference() { return digest != null ? digest : tag; }

    public RemoteRef withTag(String t) { return new RemoteRef(registry, repository, t, null); }

    public RemoteRef withDigest(String d) { return new RemoteRef(registry, repository, null, d); }

    /** The host without the port, for the plain-HTTP decision. */
    public String host() {
        if (registry.startsWith("[")) return registry.substring(1, registry.indexOf(']'));
        int c = registry.lastIndexOf(':');
        return c < 0 ? registry : registry.substring(0, c);
    }

    private static ImageException bad(String ref, String what) {
        return new ImageException("registry reference " + ImageRef.quote(ref) + " has a bad " + what);
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}

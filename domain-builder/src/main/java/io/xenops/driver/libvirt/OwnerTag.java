package io.xenops.driver.libvirt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.w3c.dom.Element;

/**
 * The mark the driver leaves in every domain it creates, inside libvirt's {@code <metadata>}: the proof
 * of ownership that {@code adopt} relies on. A domain is ours only when it carries this element and its
 * state directory is ours; a name that merely looks like ours proves nothing.
 *
 * @param id       the daemon's id for the VM
 * @param image    image name, for operators reading {@code virsh dumpxml}
 * @param stateDir the state directory of the daemon that owns it
 */
record OwnerTag(String id, String image, String stateDir) {
    /** The metadata namespace. Versioned: a future format gets a new URI, and old daemons ignore it. */
    static final String NAMESPACE = "https://xenops.io/xmlns/libvirt-driver/1";
    /** The element's prefix in the domain XML (libvirt needs one to store the element). */
    static final String PREFIX = "xenops";
    static final String ELEMENT = "owner";

    OwnerTag {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(stateDir, "stateDir");
    }

    /** The element as it goes into {@code <metadata>}. */
    String toXml() {
        return "<" + PREFIX + ":" + ELEMENT + " xmlns:" + PREFIX + "='" + NAMESPACE + "' id='" + Xml.escape(id)
                + "' image='" + Xml.escape(image) + "' state-dir='" + Xml.escape(stateDir) + "'/>";
    }

    boolean ownedBy(Path dir) {
        return stateDir.equals(dir.toAbsolutePath().normalize().toString());
    }

    /**
     * Reads the element as {@code virDomainGetMetadata} returns it (libvirt strips the prefix and the
     * namespace declaration). Empty when it is not a well-formed owner element.
     */
    static Optional<OwnerTag> parse(String xml) {
        if (xml == null || xml.isBlank()) return Optional.empty();
        try {
            Element e = Xml.parse(xml).getDocumentElement();
            String name = e.getLocalName() != null ? e.getLocalName() : e.getTagName();
            if (!ELEMENT.equals(name)) return Optional.empty();
            String id = e.getAttribute("id");
            String stateDir = e.getAttribute("state-dir");
            if (id.isEmpty() || stateDir.isEmpty()) return Optional.empty();
            return Optional.of(new OwnerTag(id, e.getAttribute("image"), stateDir));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}

package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class OwnerTagTest {
    @Test
    void readsTheElementAsLibvirtReturnsIt() {
        // virDomainGetMetadata strips the prefix and the namespace declaration.
        assertThat(OwnerTag.parse("<owner id=\"vm-1\" image=\"hello\" state-dir=\"/var/lib/x&amp;y\"/>"))
                .contains(new OwnerTag("vm-1", "hello", "/var/lib/x&y"));
    }

    @Test
    void roundTripsThroughItsOwnXml() {
        OwnerTag t = new OwnerTag("vm-1", "he'llo", "/tmp/a<b");
        assertThat(OwnerTag.parse(t.toXml())).contains(t);
    }

    @Test
    void anythingElseIsNotAnOwnerTag() {
        assertThat(OwnerTag.parse(null)).isEmpty();
        assertThat(OwnerTag.parse("")).isEmpty();
        assertThat(OwnerTag.parse("<owner image='x'/>")).isEmpty(); // no id, no state dir
        assertThat(OwnerTag.parse("<other id='a' state-dir='/s'/>")).isEmpty();
        assertThat(OwnerTag.parse("<owner id='a' state-dir='/s'")).isEmpty(); // not well-formed
        assertThat(OwnerTag.parse("<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><owner id='&e;' state-dir='/s'/>")).isEmpty();
    }

    @Test
    void ownershipIsByNormalisedStateDirectory() {
        OwnerTag t = new OwnerTag("vm-1", "hello", "/var/lib/xenops");
        assertThat(t.ownedBy(Path.of("/var/lib/xenops"))).isTrue();
        assertThat(t.ownedBy(Path.of("/var/lib/../lib/xenops/"))).isTrue();
        assertThat(t.ownedBy(Path.of("/var/lib/xenops2"))).isFalse();
    }
}

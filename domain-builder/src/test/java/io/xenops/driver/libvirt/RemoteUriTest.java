package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RemoteUriTest {
    @Test
    void onlyUrisNamingAnotherHostAreRemote() {
        assertThat(LibvirtDriver.isRemote("qemu:///system")).isFalse();
        assertThat(LibvirtDriver.isRemote("qemu+unix:///system?socket=/run/libvirt/libvirt-sock")).isFalse();
        assertThat(LibvirtDriver.isRemote("test:///default")).isFalse();
        assertThat(LibvirtDriver.isRemote("qemu+ssh://root@localhost/system")).isFalse();
        assertThat(LibvirtDriver.isRemote("qemu+ssh://root@kvm7.example.com/system")).isTrue();
        assertThat(LibvirtDriver.isRemote("xen+tls://10.0.0.7/system")).isTrue();
    }
}

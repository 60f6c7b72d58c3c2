package io.xenops.driver.libvirt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * What the driver writes to {@code <stateDir>/domains/<id>/domain.json} before it asks libvirt to create
 * the domain. The UUID is chosen here, so the record names the domain exactly even if the daemon dies
 * between writing it and hearing back from libvirt.
 *
 * @param version   format version, for the day the fields change
 * @param name      libvirt domain name
 * @param uuid      libvirt domain UUID
 * @param uri       the connection URI it was created through (informative: adopt uses the configured one)
 * @param confirmed false until libvirt created the domain and the console was connected; adopt destroys
 *                  unconfirmed domains as half-made
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record DomainRecord(
        int version,
        String id,
        String image,
        String name,
        String uuid,
        String uri,
        String kernel,
        int memoryMiB,
        int vcpus,
        String cmdline,
        long createdEpochMillis,
        boolean confirmed) {

    static final int VERSION = 1;

    DomainRecord confirm() {
        return new DomainRecord(version, id, image, name, uuid, uri, kernel, memoryMiB, vcpus, cmdline, createdEpochMillis, true);
    }
}

package io.xenops.driver.xen;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * {@code <stateDir>/domains/<id>/domain.json}, written before {@code xl create} runs.
 *
 * @param name   the Xen domain name, {@code xenops-<id>}: how a half-made domain is found again
 * @param type   "pvh" or "pv" once built; null before
 * @param domid  null until xl created the domain and the driver attached to it; adopt destroys a
 *               recorded domain without domid as half-made
 * @param uuid   the domain handle once built: a domid reused by another domain is told apart by it
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record XenDomainRecord(int version, String id, String image, String name, String kernel, int memoryMiB,
                              int vcpus, String cmdline, String type, long createdEpochMillis, Integer domid,
                              String uuid) {
    public static final int VERSION = 1;

    public XenDomainRecord built(String type, int domid, String uuid) {
        return new XenDomainRecord(version, id, image, name, kernel, memoryMiB, vcpus, cmdline, type, createdEpochMillis,
                domid, uuid);
    }
}

package io.xenops.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * The manifest.json that sits beside each kernel.elf, and the config blob of an image in a registry.
 * Schema: api-spec/schemas/image-manifest.schema.json; {@code io.xenops.image.manifest.ManifestValidator}
 * checks the same rules.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "version", "memory_mib", "vcpus", "boot_modes", "cmdline", "readiness", "annotations"})
public record Manifest(
        @JsonProperty("name") String name,
        @JsonProperty("version") String version,
        @JsonProperty("memory_mib") int memoryMiB,
        @JsonProperty("vcpus") int vcpus,
        @JsonProperty("boot_modes") List<String> bootModes,
        @JsonProperty("cmdline") String cmdline,
        @JsonProperty("readiness") String readiness,
        @JsonProperty("annotations") Map<String, String> annotations) {

    /** The manifest as the unikernel build writes it, without annotations. */
    public Manifest(String name, String version, int memoryMiB, int vcpus, List<String> bootModes, String cmdline,
                    String readiness) {
        this(name, version, memoryMiB, vcpus, bootModes, cmdline, readiness, null);
    }
}

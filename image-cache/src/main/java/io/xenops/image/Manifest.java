package io.xenops.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The manifest.json that sits beside each kernel.elf. Schema: api-spec/schemas/image-manifest.schema.json. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(
        @JsonProperty("name") String name,
        @JsonProperty("version") String version,
        @JsonProperty("memory_mib") int memoryMiB,
        @JsonProperty("vcpus") int vcpus,
        @JsonProperty("boot_modes") List<String> bootModes,
        @JsonProperty("cmdline") String cmdline,
        @JsonProperty("readiness") String readiness) {
}

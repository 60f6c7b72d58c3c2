package io.xenops.image.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/** The subset of the OCI image manifest we write and read. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"schemaVersion", "mediaType", "artifactType", "config", "layers", "annotations"})
public record OciManifest(@JsonProperty("schemaVersion") int schemaVersion,
                          @JsonProperty("mediaType") String mediaType,
                          @JsonProperty("artifactType") String artifactType,
                          @JsonProperty("config") Descriptor config,
                          @JsonProperty("layers") List<Descriptor> layers,
                          @JsonProperty("annotations") Map<String, String> annotations) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"mediaType", "digest", "size", "annotations"})
    public record Descriptor(@JsonProperty("mediaType") String mediaType, @JsonProperty("digest") String digest,
                             @JsonProperty("size") long size,
                             @JsonProperty("annotations") Map<String, String> annotations) {
    }
}
